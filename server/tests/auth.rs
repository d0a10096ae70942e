//! Signing in and out, first-run setup, sessions, and who may reach what — as a browser sees it.

mod common;

use app::{
    auth::{Login, Logout, Me, Setup},
    contacts::{
        CreateContact, GetContact, ListContacts, OpenContact, RememberHideEmptyFields,
        UpdateContact,
    },
    error::AppError,
    state::AuthSettings,
    with_db,
};
use common::{app_error, browser, Backend, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};
use futures::future::join_all;
use leptos::server_fn::ServerFn;
use reqwest::header;

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("rubrica_session="))
        .map(str::to_string)
}

fn token_of(set_cookie: &str) -> String {
    set_cookie
        .trim_start_matches("rubrica_session=")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string()
}

app_test!(
    a_new_workspace_starts_at_setup_and_setup_happens_once,
    |app| {
        let anna = browser();
        let to_setup = app.get(&anna, "/login").await;
        assert_eq!(to_setup.status(), 303);
        assert_eq!(to_setup.headers()[header::LOCATION], "/setup");
        assert_eq!(app.get(&anna, "/setup").await.status(), 200);

        app.set_up_admin(&anna).await;
        assert_eq!(
            app.get(&anna, "/contacts").await.status(),
            200,
            "the admin is signed in"
        );

        let intruder = browser();
        let again = app
            .call::<Setup>(
                &intruder,
                &[
                    ("name", "Mallory"),
                    ("email", "mallory@example.com"),
                    ("password", "0123456789abc"),
                ],
            )
            .await;
        assert_eq!(again.status(), 409);
        assert!(matches!(app_error(again).await, AppError::AlreadySetUp));
        let to_login = app.get(&intruder, "/setup").await;
        assert_eq!(to_login.status(), 303);
        assert_eq!(to_login.headers()[header::LOCATION], "/login");
        app.stop().await;
    }
);

app_test!(setup_explains_every_bad_field, |app| {
    let response = app
        .call::<Setup>(
            &browser(),
            &[("name", ""), ("email", "anna@"), ("password", "short")],
        )
        .await;
    assert_eq!(response.status(), 422);
    let error = app_error(response).await;
    for field in ["name", "email", "password"] {
        assert!(
            error.field_problem(field).is_some(),
            "{field} should have a message"
        );
    }
    app.stop().await;
});

app_test!(
    a_wrong_email_and_a_wrong_password_get_the_same_answer,
    |app| {
        app.set_up_admin(&browser()).await;
        let unknown = app
            .sign_in(&browser(), "nobody@example.it", ADMIN_PASSWORD)
            .await;
        let wrong = app
            .sign_in(&browser(), ADMIN_EMAIL, "not the password")
            .await;
        assert_eq!(unknown.status(), 401);
        assert_eq!(wrong.status(), 401);
        assert!(session_cookie(&unknown).is_none() && session_cookie(&wrong).is_none());
        assert_eq!(unknown.text().await.unwrap(), wrong.text().await.unwrap());
        app.stop().await;
    }
);

app_test!(
    signing_in_is_a_plain_html_form_that_works_without_the_apps_code,
    |app| {
        app.set_up_admin(&browser()).await;
        let anna = browser();
        let page = app
            .get(&anna, "/login?next=/contacts")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("data-static"),
            "marked as a page no code takes over"
        );
        assert!(
            !page.contains("/pkg/rubrica.js"),
            "no wasm app on the sign-in page"
        );
        assert!(page.contains(&format!("action=\"{}\"", Login::PATH)));
        let post = |password: &'static str| {
            anna.post(app.url(Login::PATH))
                .header(header::ACCEPT, "text/html")
                .header(header::ORIGIN, &app.base)
                .header(header::REFERER, app.url("/login?next=/contacts"))
                .form(&[
                    ("next", "/contacts"),
                    ("email", ADMIN_EMAIL),
                    ("password", password),
                ])
                .send()
        };

        // A refusal goes back to the form, which shows why, keeping where to go next.
        let refused = post("not the password").await.unwrap();
        assert_eq!(refused.status(), 303);
        assert!(session_cookie(&refused).is_none());
        let back = refused.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            back.starts_with(&app.url("/login?next=/contacts")) && back.contains("__err="),
            "{back}"
        );
        let shown = anna
            .get(&back)
            .header(header::ACCEPT, "text/html")
            .send()
            .await
            .unwrap();
        assert!(shown
            .text()
            .await
            .unwrap()
            .contains("Wrong email or password."));

        let signed_in = post(ADMIN_PASSWORD).await.unwrap();
        assert!(signed_in.status().is_redirection());
        assert_eq!(signed_in.headers()[header::LOCATION], "/contacts");
        assert!(session_cookie(&signed_in).is_some());
        let list = app.get(&anna, "/contacts").await.text().await.unwrap();
        assert!(
            list.contains("/pkg/rubrica.js"),
            "the app's code comes with the list"
        );
        app.stop().await;
    }
);

app_test!(guessing_passwords_is_slowed_down_per_email, |app| {
    app.set_up_admin(&browser()).await;
    let guesser = browser();
    for attempt in 1..=10 {
        let response = app
            .sign_in(&guesser, ADMIN_EMAIL, &format!("guess number {attempt}"))
            .await;
        assert_eq!(response.status(), 401, "attempt {attempt} is simply wrong");
    }
    let refused = app.sign_in(&guesser, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(refused.status(), 429, "even the right password waits now");
    assert_eq!(app_error(refused).await, AppError::TooManyAttempts);
    let unknown = app
        .sign_in(&guesser, "someone.else@example.it", "whatever it is")
        .await;
    assert_eq!(unknown.status(), 401, "other emails are not affected");
    app.stop().await;
});

app_test!(guesses_sent_all_at_once_get_the_same_allowance, |app| {
    app.set_up_admin(&browser()).await;
    let guesser = browser();
    let guesses = (1..=16).map(|n| {
        let (app, guesser) = (&app, &guesser);
        async move {
            app.sign_in(guesser, ADMIN_EMAIL, &format!("parallel guess {n}"))
                .await
                .status()
                .as_u16()
        }
    });
    let answers = join_all(guesses).await;
    let wrong = answers.iter().filter(|s| **s == 401).count();
    let refused = answers.iter().filter(|s| **s == 429).count();
    assert_eq!((wrong, refused), (10, 6), "answers: {answers:?}");
    app.stop().await;
});

app_test!(signing_out_of_an_ended_session_lands_on_sign_in, |app| {
    app.set_up_admin(&browser()).await;
    // A tab whose session already ended (signed out in another tab): its Sign out form still works.
    let response = browser()
        .post(app.url(<Logout as ServerFn>::PATH))
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .form(&[("", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()[header::LOCATION], "/login");
    app.stop().await;
});

app_test!(
    signing_in_often_with_the_right_password_is_never_slowed,
    |app| {
        app.set_up_admin(&browser()).await;
        let wrong = app.sign_in(&browser(), ADMIN_EMAIL, "a typo").await;
        assert_eq!(wrong.status(), 401);
        // Phones, laptops and tabs: more sign-ins than the guessing allowance, all of them right.
        for attempt in 1..=15 {
            let response = app.sign_in(&browser(), ADMIN_EMAIL, ADMIN_PASSWORD).await;
            assert!(
                session_cookie(&response).is_some(),
                "sign-in number {attempt} gets a session"
            );
        }
        // A success clears the failures: ten more guesses are wrong, not refused.
        for attempt in 1..=10 {
            let response = app
                .sign_in(&browser(), ADMIN_EMAIL, &format!("guess number {attempt}"))
                .await;
            assert_eq!(response.status(), 401, "guess {attempt} is simply wrong");
        }
        let refused = app.sign_in(&browser(), ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(refused.status(), 429, "the eleventh failure in a row waits");
        app.stop().await;
    }
);

app_test!(
    every_server_function_but_sign_in_and_password_links_refuses_a_caller_without_a_session,
    |app| {
        app.set_up_admin(&browser()).await;
        let anonymous = browser();
        // Signing in, first-run setup, and the "forgot your password" pages (a link stands in for
        // the session there).
        let public = [
            <Login as ServerFn>::PATH,
            <Setup as ServerFn>::PATH,
            <app::team::RequestPasswordReset as ServerFn>::PATH,
            <app::team::PasswordLink as ServerFn>::PATH,
            <app::team::SetPassword as ServerFn>::PATH,
        ];
        let all: Vec<_> = leptos::server_fn::axum::server_fn_paths().collect();
        for known in [
            <Logout as ServerFn>::PATH,
            <Me as ServerFn>::PATH,
            <ListContacts as ServerFn>::PATH,
            <GetContact as ServerFn>::PATH,
            <CreateContact as ServerFn>::PATH,
            <OpenContact as ServerFn>::PATH,
            <UpdateContact as ServerFn>::PATH,
            <RememberHideEmptyFields as ServerFn>::PATH,
        ] {
            assert!(
                all.iter().any(|(path, _)| *path == known),
                "{known} is registered"
            );
        }
        for (path, _) in all.iter().filter(|(path, _)| !public.contains(path)) {
            let response = anonymous
                .post(app.url(path))
                .header(header::ACCEPT, "application/json")
                .form(&[
                    ("id", "0191f0a0-0000-7000-8000-000000000000"),
                    ("kind", "person"),
                    ("first_name", "X"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                401,
                "{path} must refuse an anonymous caller"
            );
            assert_eq!(app_error(response).await, AppError::Unauthorized);
        }
        let page = app.get(&anonymous, "/contacts?q=rossi").await;
        assert_eq!(page.status(), 303);
        assert_eq!(
            page.headers()[header::LOCATION],
            "/login?next=%2Fcontacts%3Fq%3Drossi"
        );
        app.stop().await;
    }
);

app_test!(
    the_session_cookie_is_http_only_lax_and_renewed_at_each_sign_in,
    |app| {
        app.set_up_admin(&browser()).await;
        let tab = browser();
        let first = app.sign_in(&tab, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(first.status(), 200);
        assert_eq!(first.headers()[header::LOCATION], "/contacts");
        let first_cookie = session_cookie(&first).expect("a session cookie");
        assert!(first_cookie.contains("HttpOnly"));
        assert!(first_cookie.contains("SameSite=Lax"));
        assert!(first_cookie.contains("Path=/"));
        assert!(!first_cookie.contains("Secure"), "plain http by default");

        let second = app.sign_in(&tab, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let second_cookie = session_cookie(&second).expect("a new session cookie");
        assert_ne!(
            token_of(&first_cookie),
            token_of(&second_cookie),
            "the id rotates"
        );

        let stale = browser()
            .post(app.url(<Me as ServerFn>::PATH))
            .header(header::ACCEPT, "application/json")
            .header(
                header::COOKIE,
                format!("rubrica_session={}", token_of(&first_cookie)),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status(), 401, "the replaced session is over");
        assert_eq!(app.call_json::<Me>(&tab, &[]).await.status(), 200);
        app.stop().await;
    }
);

app_test!(signing_out_ends_the_session_on_the_server, |app| {
    let tab = browser();
    app.set_up_admin(&tab).await;
    let me = app.call_json::<Me>(&tab, &[]).await;
    assert_eq!(me.status(), 200);
    let user: app::auth::CurrentUser = me.json().await.unwrap();
    assert_eq!(user.email, ADMIN_EMAIL);
    assert!(user.is_admin);

    let out = app.call::<Logout>(&tab, &[]).await;
    assert_eq!(out.status(), 200);
    assert_eq!(out.headers()[header::LOCATION], "/login");
    assert!(session_cookie(&out).unwrap().contains("Max-Age=0"));
    let sessions: i64 = with_db!(&app.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(pool).await).unwrap();
    assert_eq!(sessions, 0);
    assert_eq!(app.call_json::<Me>(&tab, &[]).await.status(), 401);
    app.stop().await;
});

app_test!(a_session_left_idle_too_long_is_over, |app| {
    let tab = browser();
    app.set_up_admin(&tab).await;
    let long_ago = app::db::now() - chrono::Duration::days(8);
    with_db!(&app.db, pool => sqlx::query("UPDATE sessions SET last_seen_at = $1").bind(long_ago).execute(pool).await.map(|r| r.rows_affected())).unwrap();
    assert_eq!(app.call_json::<Me>(&tab, &[]).await.status(), 401);
    let page = app.get(&tab, "/contacts").await;
    assert_eq!(page.status(), 303);
    app.stop().await;
});

#[tokio::test]
async fn cookies_are_secure_when_served_over_https() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        AuthSettings {
            secure_cookies: true,
            ..AuthSettings::default()
        },
    )
    .await;
    let response = app
        .call::<Setup>(
            &browser(),
            &[
                ("name", "Anna"),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert!(session_cookie(&response).unwrap().contains("Secure"));
    app.stop().await;
}

#[tokio::test]
async fn another_site_cannot_make_a_signed_in_browser_act() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let tab = browser();
    app.set_up_admin(&tab).await;
    let forged = tab
        .post(app.url(<CreateContact as ServerFn>::PATH))
        .header(header::ACCEPT, "application/json")
        .header("sec-fetch-site", "cross-site")
        .form(&[("kind", "person"), ("first_name", "Forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let forged_origin = tab
        .post(app.url(<CreateContact as ServerFn>::PATH))
        .header(header::ACCEPT, "application/json")
        .header(header::ORIGIN, "https://evil.example")
        .form(&[("kind", "person"), ("first_name", "Forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged_origin.status(), 403);
    app.stop().await;
}

app_test!(healthz_says_the_database_answers, |app| {
    let response = app.get(&browser(), "/healthz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], app.db.backend().name());
    app.stop().await;
});

/// `Me` as `tab` sees it on the instance at `base`: the user, or the refusal's status.
async fn me_on(tab: &reqwest::Client, base: &str) -> Result<app::auth::CurrentUser, u16> {
    let response = tab
        .post(format!("{base}{}", <Me as ServerFn>::PATH))
        .header(header::ACCEPT, "application/json")
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("the server answers");
    match response.status().as_u16() {
        200 => Ok(response.json().await.expect("a user")),
        status => Err(status),
    }
}

/// Polls `me_on` until `done` holds, for up to five seconds: what one instance remembers of a
/// session must follow a change made through another within the moment a notification takes
/// (unfollowed, it would last until the session is next written, a minute on).
async fn eventually(
    tab: &reqwest::Client,
    base: &str,
    done: impl Fn(&Result<app::auth::CurrentUser, u16>) -> bool,
) -> Result<app::auth::CurrentUser, u16> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let seen = me_on(tab, base).await;
        if done(&seen) || std::time::Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn instances_on_one_postgres_follow_each_others_changes_to_users_and_sessions() {
    use app::team::SetMemberDisabled;

    let one = TestApp::spawn(Backend::Postgres).await;
    let two = one.another_instance().await;
    for state in [&one.state, &two.state] {
        let listening = std::time::Instant::now();
        while !state.sessions.is_usable() {
            assert!(listening.elapsed().as_secs() < 10, "the instance listens");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    let admin = browser();
    one.set_up_admin(&admin).await;
    let bruno = one.signed_in_user("Bruno", "bruno@example.it", false).await;
    let bruno_id = me_on(&bruno, &one.base).await.unwrap().id;
    // Both instances now remember Bruno's session, without his choice of empty fields.
    for base in [&one.base, &two.base] {
        assert_eq!(me_on(&bruno, base).await.unwrap().hide_empty_fields, None);
    }

    // Bruno hides empty fields on one instance; the next page from the other knows it.
    let _: () = one
        .ok::<RememberHideEmptyFields, _>(&bruno, serde_json::json!({ "hide": true }))
        .await;
    assert_eq!(
        me_on(&bruno, &one.base).await.unwrap().hide_empty_fields,
        Some(true)
    );
    let seen = eventually(&bruno, &two.base, |me| {
        me.as_ref()
            .is_ok_and(|me| me.hide_empty_fields == Some(true))
    })
    .await;
    assert_eq!(seen.unwrap().hide_empty_fields, Some(true));

    // Anna signs out of a second tab on one instance: that cookie stops working on the other.
    let second_tab = browser();
    let signed_in = one.sign_in(&second_tab, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let token = token_of(&session_cookie(&signed_in).unwrap());
    let stolen = reqwest::Client::builder()
        .default_headers(
            [(
                header::COOKIE,
                format!("rubrica_session={token}").parse().unwrap(),
            )]
            .into_iter()
            .collect(),
        )
        .build()
        .unwrap();
    assert!(me_on(&stolen, &two.base).await.is_ok());
    let out = one.call::<Logout>(&second_tab, &[]).await;
    assert!(out.status().is_success() || out.status().is_redirection());
    assert_eq!(
        eventually(&stolen, &two.base, Result::is_err).await,
        Err(401)
    );

    // Anna disables Bruno on one instance: the other refuses him at once.
    let _: serde_json::Value = one
        .ok::<SetMemberDisabled, _>(
            &admin,
            serde_json::json!({ "user_id": bruno_id, "disabled": true }),
        )
        .await;
    assert_eq!(me_on(&bruno, &one.base).await, Err(401));
    assert_eq!(
        eventually(&bruno, &two.base, Result::is_err).await,
        Err(401)
    );
    assert!(
        me_on(&admin, &two.base).await.is_ok(),
        "Anna is still signed in"
    );

    // The instances' listening connections are cut (a database restart, a failover): they listen
    // again, and go on following each other's changes.
    let listening = |db: app::db::Db| async move {
        with_db!(&db, pool => sqlx::query_scalar::<_, i32>(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1",
        )
        .bind(app::auth::cache::LISTENER_NAME)
        .fetch_all(pool)
        .await)
        .unwrap()
    };
    let before = listening(one.db.clone()).await;
    assert_eq!(before.len(), 2, "both instances listen");
    for pid in &before {
        with_db!(&one.db, pool => sqlx::query("SELECT pg_terminate_backend($1)").bind(pid).execute(pool).await.map(|r| r.rows_affected())).unwrap();
    }
    let cut = std::time::Instant::now();
    loop {
        let now = listening(one.db.clone()).await;
        if now.len() == 2 && now.iter().all(|pid| !before.contains(pid)) {
            break;
        }
        assert!(cut.elapsed().as_secs() < 10, "the instances listen again");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        me_on(&admin, &two.base).await.unwrap().hide_empty_fields,
        None
    );
    let _: () = one
        .ok::<RememberHideEmptyFields, _>(&admin, serde_json::json!({ "hide": false }))
        .await;
    let seen = eventually(&admin, &two.base, |me| {
        me.as_ref()
            .is_ok_and(|me| me.hide_empty_fields == Some(false))
    })
    .await;
    assert_eq!(seen.unwrap().hide_empty_fields, Some(false));

    two.stop().await;
    one.stop().await;
}
