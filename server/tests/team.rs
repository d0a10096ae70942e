//! The team: invitations by email (or a link to hand over), choosing a password from a link that
//! works once and expires, roles, disabling people, password resets. SMTP is a real server on
//! 127.0.0.1; SQLite and PostgreSQL.

mod common;

use app::{
    auth::Me,
    error::{AppError, Problem},
    team::{
        InviteMember, LinkHolder, LinkPurpose, LinkSent, Member, MemberStatus, PasswordLink,
        RequestPasswordReset, SendPasswordLink, SetMemberDisabled, SetMemberRole, SetPassword,
        TeamMembers,
    },
    with_db,
};
use common::{app_error, browser, TestApp, ADMIN_EMAIL};
use reqwest::Client;
use serde_json::json;

const NEW_PASSWORD: &str = "my own password 2026";

/// The token at the end of a password link.
fn token(link: &str) -> String {
    link.rsplit('/').next().unwrap_or_default().to_string()
}

async fn member(app: &TestApp, admin: &Client, email: &str) -> Member {
    let team: Vec<Member> = app.ok::<TeamMembers, _>(admin, json!({})).await;
    team.into_iter()
        .find(|m| m.email == email)
        .unwrap_or_else(|| panic!("no member {email}"))
}

/// Chooses a password from a link on a fresh browser, which is then signed in.
async fn use_link(app: &TestApp, token: &str, password: &str) -> (Client, reqwest::Response) {
    let tab = browser();
    let response = app
        .call::<SetPassword>(&tab, &[("token", token), ("password", password)])
        .await;
    (tab, response)
}

app_test!(
    without_email_an_invitation_is_a_link_to_hand_over_that_works_once,
    |app| {
        let admin = browser();
        app.set_up_admin(&admin).await;
        let sent: LinkSent = app
            .ok::<InviteMember, _>(
                &admin,
                json!({ "name": "Bruno Rossi", "email": "Bruno@Example.it", "role": "member" }),
            )
            .await;
        assert!(!sent.emailed, "nothing pretends to have been sent");
        let link = sent.link.expect("the link to copy");
        assert!(
            link.starts_with(&format!("{}/password-reset/", app.base)),
            "{link}"
        );
        let bruno = member(&app, &admin, "bruno@example.it").await;
        assert_eq!(bruno.status, MemberStatus::Invited);
        assert!(!bruno.is_admin);

        // Invited, not yet in: no password signs them in, not even an empty one.
        for guess in ["", "decoy password for unknown emails"] {
            let refused = app.sign_in(&browser(), "bruno@example.it", guess).await;
            assert_eq!(refused.status(), 401);
        }
        // The link says whose it is; a short password is explained.
        let holder: LinkHolder = app
            .ok::<PasswordLink, _>(&browser(), json!({ "token": token(&link) }))
            .await;
        assert_eq!(holder.name, "Bruno Rossi");
        assert_eq!(holder.purpose, LinkPurpose::Invite);
        let (_, short) = use_link(&app, &token(&link), "short").await;
        assert_eq!(
            app_error(short).await.field_problem("password"),
            Some(Problem::PasswordTooShort { min: 10 })
        );
        let (tab, chosen) = use_link(&app, &token(&link), NEW_PASSWORD).await;
        assert_eq!(chosen.status(), 200);
        assert_eq!(chosen.headers()["location"], "/contacts");
        assert_eq!(
            app.call_json::<Me>(&tab, &[]).await.status(),
            200,
            "signed in"
        );
        assert_eq!(
            app.sign_in(&browser(), "bruno@example.it", NEW_PASSWORD)
                .await
                .status(),
            200
        );
        assert_eq!(
            member(&app, &admin, "bruno@example.it").await.status,
            MemberStatus::Active
        );

        // Once.
        let (_, again) = use_link(&app, &token(&link), "another password here").await;
        assert_eq!(
            app_error(again).await.field_problem("token"),
            Some(Problem::LinkExpired)
        );
        let gone = app
            .call_value::<PasswordLink>(&browser(), json!({ "token": token(&link) }))
            .await;
        assert_eq!(gone.status(), 422);

        // The same email can't be invited twice.
        let twice = app
            .call_value::<InviteMember>(
                &admin,
                json!({ "name": "Bruno", "email": "bruno@example.it", "role": "admin" }),
            )
            .await;
        assert_eq!(
            app_error(twice).await.field_problem("email"),
            Some(Problem::EmailTaken)
        );
        app.stop().await;
    }
);

mail_test!(an_invitation_is_emailed_with_its_link, |app| {
    let admin = browser();
    app.set_up_admin(&admin).await;
    let sent: LinkSent = app
        .ok::<InviteMember, _>(
            &admin,
            json!({ "name": "Carla Bianchi", "email": "carla@example.it", "role": "admin" }),
        )
        .await;
    assert!(sent.emailed);
    assert_eq!(sent.link, None);
    let mail = app
        .inbox
        .as_ref()
        .unwrap()
        .wait_for("carla@example.it")
        .await;
    assert!(
        mail.data
            .contains("Subject: Anna Admin invited you to Rubrica"),
        "{}",
        mail.data
    );
    assert!(mail.data.contains("From: Rubrica <crm@example.it>"));
    assert!(mail.data.contains("text/plain") && mail.data.contains("text/html"));
    let link = mail
        .link("https://crm.example.it/password-reset/")
        .expect("a link in the email");
    let (tab, chosen) = use_link(&app, &token(&link), NEW_PASSWORD).await;
    assert_eq!(chosen.status(), 200);
    let me: app::auth::CurrentUser = app.call_json::<Me>(&tab, &[]).await.json().await.unwrap();
    assert!(me.is_admin, "invited as an admin");
    app.stop().await;
});

app_test!(an_expired_link_no_longer_works, |app| {
    let admin = browser();
    app.set_up_admin(&admin).await;
    let sent: LinkSent = app
        .ok::<InviteMember, _>(
            &admin,
            json!({ "name": "Dario", "email": "dario@example.it", "role": "member" }),
        )
        .await;
    let token = token(&sent.link.unwrap());
    // The invitation was good for a week; eight days pass.
    let lifetime: (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) = with_db!(&app.db, pool => sqlx::query_as("SELECT created_at, expires_at FROM password_tokens")
        .fetch_one(pool)
        .await)
    .unwrap();
    assert_eq!(lifetime.1 - lifetime.0, chrono::Duration::days(7));
    let past = app::db::now() - chrono::Duration::days(1);
    with_db!(&app.db, pool => sqlx::query("UPDATE password_tokens SET expires_at = $1")
        .bind(past)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    let (_, late) = use_link(&app, &token, NEW_PASSWORD).await;
    assert_eq!(
        app_error(late).await.field_problem("token"),
        Some(Problem::LinkExpired)
    );
    // A new link replaces it.
    let dario = member(&app, &admin, "dario@example.it").await;
    let again: LinkSent = app
        .ok::<SendPasswordLink, _>(&admin, json!({ "user_id": dario.id }))
        .await;
    let (_, chosen) = use_link(&app, &self::token(&again.link.unwrap()), NEW_PASSWORD).await;
    assert_eq!(chosen.status(), 200);
    app.stop().await;
});

mail_test!(
    a_reset_link_lasts_six_hours_and_ends_every_other_session,
    |app| {
        let admin = browser();
        app.set_up_admin(&admin).await;
        let bruno = app
            .signed_in_user("Bruno Rossi", "bruno@example.it", false)
            .await;
        let bruno_id = member(&app, &admin, "bruno@example.it").await.id;
        let sent: LinkSent = app
            .ok::<SendPasswordLink, _>(&admin, json!({ "user_id": bruno_id }))
            .await;
        assert!(sent.emailed);
        let mail = app
            .inbox
            .as_ref()
            .unwrap()
            .wait_for("bruno@example.it")
            .await;
        assert!(mail.data.contains("6 hours"), "{}", mail.data);
        let link = mail.link("https://crm.example.it/password-reset/").unwrap();
        let lifetime: (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) = with_db!(&app.db, pool => sqlx::query_as("SELECT created_at, expires_at FROM password_tokens WHERE purpose = 'reset'")
            .fetch_one(pool)
            .await)
        .unwrap();
        assert_eq!(lifetime.1 - lifetime.0, chrono::Duration::hours(6));
        let holder: LinkHolder = app
            .ok::<PasswordLink, _>(&browser(), json!({ "token": token(&link) }))
            .await;
        assert_eq!(holder.purpose, LinkPurpose::Reset);

        let (tab, chosen) = use_link(&app, &token(&link), NEW_PASSWORD).await;
        assert_eq!(chosen.status(), 200);
        assert_eq!(app.call_json::<Me>(&tab, &[]).await.status(), 200);
        assert_eq!(
            app.call_json::<Me>(&bruno, &[]).await.status(),
            401,
            "the old session is over"
        );
        assert_eq!(
            app.sign_in(&browser(), "bruno@example.it", "a long enough password")
                .await
                .status(),
            401,
            "the old password is gone"
        );
        app.stop().await;
    }
);

mail_test!(
    anyone_can_ask_for_a_reset_and_learns_nothing_about_who_has_an_account,
    |app| {
        let admin = browser();
        app.set_up_admin(&admin).await;
        let stranger = browser();
        let known = app
            .call::<RequestPasswordReset>(&stranger, &[("email", ADMIN_EMAIL)])
            .await;
        let unknown = app
            .call::<RequestPasswordReset>(&stranger, &[("email", "nobody@example.it")])
            .await;
        assert_eq!(known.status(), 200);
        assert_eq!(unknown.status(), 200);
        assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap());
        let mail = app.inbox.as_ref().unwrap().wait_for(ADMIN_EMAIL).await;
        assert!(mail
            .link("https://crm.example.it/password-reset/")
            .is_some());
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(
            app.inbox.as_ref().unwrap().all().len(),
            1,
            "nothing for nobody"
        );
        let bad = app
            .call::<RequestPasswordReset>(&stranger, &[("email", "not an email")])
            .await;
        assert_eq!(bad.status(), 422);
        app.stop().await;
    }
);

app_test!(
    a_disabled_user_is_signed_out_at_once_and_admins_keep_the_workspace,
    |app| {
        let admin = browser();
        app.set_up_admin(&admin).await;
        let bruno = app.signed_in_user("Bruno", "bruno@example.it", false).await;
        let bruno_id = member(&app, &admin, "bruno@example.it").await.id;
        let anna_id = member(&app, &admin, ADMIN_EMAIL).await.id;

        // Members don't manage the team.
        for response in [
            app.call_value::<InviteMember>(
                &bruno,
                json!({ "name": "X", "email": "x@example.it", "role": "member" }),
            )
            .await,
            app.call_value::<SetMemberDisabled>(
                &bruno,
                json!({ "user_id": anna_id, "disabled": true }),
            )
            .await,
            app.call_value::<SetMemberRole>(&bruno, json!({ "user_id": bruno_id, "admin": true }))
                .await,
            app.call_value::<SendPasswordLink>(&bruno, json!({ "user_id": anna_id }))
                .await,
        ] {
            assert_eq!(response.status(), 403);
        }

        let team: Vec<Member> = app
            .ok::<SetMemberDisabled, _>(&admin, json!({ "user_id": bruno_id, "disabled": true }))
            .await;
        assert!(team
            .iter()
            .any(|m| m.id == bruno_id && m.status == MemberStatus::Disabled));
        assert_eq!(
            app.call_json::<Me>(&bruno, &[]).await.status(),
            401,
            "at once"
        );
        assert_eq!(
            app.sign_in(&browser(), "bruno@example.it", "a long enough password")
                .await
                .status(),
            401
        );
        let _: Vec<Member> = app
            .ok::<SetMemberDisabled, _>(&admin, json!({ "user_id": bruno_id, "disabled": false }))
            .await;
        assert_eq!(
            app.sign_in(&browser(), "bruno@example.it", "a long enough password")
                .await
                .status(),
            200
        );

        // Nobody demotes or disables themselves, and the last admin stays an admin.
        let own = app
            .call_value::<SetMemberRole>(&admin, json!({ "user_id": anna_id, "admin": false }))
            .await;
        assert_eq!(
            app_error(own).await.field_problem("role"),
            Some(Problem::NotYourself)
        );
        let own = app
            .call_value::<SetMemberDisabled>(
                &admin,
                json!({ "user_id": anna_id, "disabled": true }),
            )
            .await;
        assert_eq!(
            app_error(own).await.field_problem("status"),
            Some(Problem::NotYourself)
        );
        let team: Vec<Member> = app
            .ok::<SetMemberRole, _>(&admin, json!({ "user_id": bruno_id, "admin": true }))
            .await;
        assert!(team.iter().any(|m| m.id == bruno_id && m.is_admin));
        let bruno = app
            .sign_in(&browser(), "bruno@example.it", "a long enough password")
            .await;
        assert_eq!(bruno.status(), 200);
        let bruno_tab = browser();
        app.sign_in(&bruno_tab, "bruno@example.it", "a long enough password")
            .await;
        let _: Vec<Member> = app
            .ok::<SetMemberDisabled, _>(&bruno_tab, json!({ "user_id": anna_id, "disabled": true }))
            .await;
        let last = app
            .call_value::<SetMemberRole>(&bruno_tab, json!({ "user_id": bruno_id, "admin": false }))
            .await;
        assert_eq!(
            app_error(last).await.field_problem("role"),
            Some(Problem::NotYourself)
        );
        let forbidden = app.call_json::<Me>(&admin, &[]).await;
        assert_eq!(forbidden.status(), 401, "Anna was disabled");
        assert_eq!(app_error(forbidden).await, AppError::Unauthorized);
        app.stop().await;
    }
);
