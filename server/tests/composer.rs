//! The composer's helpers on the server: snippets (the user's own, or the team's) and files
//! attached to emails — kept in the database, sent with the email, downloadable only by who may
//! see the contact — on SQLite and PostgreSQL.

mod common;

use app::{
    contacts::{Contact, CreateContact, GetContact, UpdateContact},
    conversations::{attachments::Attachment, store, Message, SendMessage},
    error::{AppError, Problem},
    snippets::{DeleteSnippet, ListSnippets, SaveSnippet, Snippet},
};
use common::{app_error, browser, TestApp};
use reqwest::Client;
use serde_json::json;
use uuid::Uuid;

async fn person(app: &TestApp, tab: &Client, first: &str, email: &str) -> Uuid {
    let id: Uuid = app
        .ok::<CreateContact, _>(
            tab,
            json!({ "kind": "person", "first_name": first, "last_name": "Neri" }),
        )
        .await;
    let contact: Contact = app.ok::<GetContact, _>(tab, json!({ "id": id })).await;
    let _: Contact = app
        .ok::<UpdateContact, _>(
            tab,
            json!({ "edit": { "id": id, "version": contact.version, "changes": [[{ "Standard": "Email" }, email]] } }),
        )
        .await;
    id
}

fn snippet(name: &str, body: &str, team: bool) -> serde_json::Value {
    json!({ "id": null, "draft": { "name": name, "subject": "", "body": body, "team": team } })
}

app_test!(
    snippets_are_the_user_s_own_or_the_team_s_and_only_their_makers_change_them,
    |app| {
        let admin = browser();
        app.set_up_admin(&admin).await;
        let team: Snippet = app
            .ok::<SaveSnippet, _>(
                &admin,
                snippet(
                    " Benvenuto ",
                    "Ciao {{contact.first_name}}, benvenuto!",
                    true,
                ),
            )
            .await;
        assert_eq!(team.name, "Benvenuto");
        assert!(team.team && team.editable);
        let _: Snippet = app
            .ok::<SaveSnippet, _>(&admin, snippet("Mio", "Solo per me", false))
            .await;
        let member = app.signed_in_user("Bruno", "bruno@example.it", false).await;
        let mine: Snippet = app
            .ok::<SaveSnippet, _>(&member, snippet("Richiamo", "La richiamo domani.", false))
            .await;

        let seen: Vec<Snippet> = app.ok::<ListSnippets, _>(&member, json!({})).await;
        let names: Vec<(&str, bool)> = seen.iter().map(|s| (s.name.as_str(), s.editable)).collect();
        assert_eq!(
            names,
            [("Benvenuto", false), ("Richiamo", true)],
            "the team's and his own"
        );
        let seen: Vec<Snippet> = app.ok::<ListSnippets, _>(&admin, json!({})).await;
        let names: Vec<&str> = seen.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Benvenuto", "Mio"], "not Bruno's own");

        // Bruno reads the team's snippet but may not change or delete it; Anna's own is not
        // there for him at all.
        let change = json!({ "id": team.id, "draft": { "name": "Cambiato", "subject": "", "body": "x", "team": true } });
        let refused = app.call_value::<SaveSnippet>(&member, change.clone()).await;
        assert_eq!(app_error(refused).await, AppError::Forbidden);
        let refused = app
            .call_value::<DeleteSnippet>(&member, json!({ "id": team.id }))
            .await;
        assert_eq!(app_error(refused).await, AppError::Forbidden);
        let hidden = seen.iter().find(|s| s.name == "Mio").unwrap().id;
        let refused = app
            .call_value::<DeleteSnippet>(&member, json!({ "id": hidden }))
            .await;
        assert_eq!(app_error(refused).await, AppError::NotFound);

        let changed: Snippet = app.ok::<SaveSnippet, _>(&admin, change).await;
        assert_eq!(changed.name, "Cambiato");
        let _: () = app
            .ok::<DeleteSnippet, _>(&member, json!({ "id": mine.id }))
            .await;
        let seen: Vec<Snippet> = app.ok::<ListSnippets, _>(&member, json!({})).await;
        assert_eq!(seen.len(), 1);

        let bad = app
            .call_value::<SaveSnippet>(&member, snippet("  ", "", false))
            .await;
        let bad = app_error(bad).await;
        assert_eq!(bad.field_problem("name"), Some(Problem::NameRequired));
        assert_eq!(bad.field_problem("body"), Some(Problem::MessageEmpty));
        app.stop().await;
    }
);

async fn upload(
    app: &TestApp,
    tab: &Client,
    contact: Uuid,
    name: &str,
    data: &[u8],
) -> reqwest::Response {
    tab.post(app.url(&format!(
        "/attachments?contact={contact}&name={}",
        urlencoding::encode(name)
    )))
    .header("accept", "application/json")
    .body(data.to_vec())
    .send()
    .await
    .unwrap()
}

dispatch_test!(
    a_file_attached_to_an_email_is_checked_sent_with_it_and_downloadable_by_who_may_see_the_contact,
    |app| {
        let tab = browser();
        app.set_up_admin(&tab).await;
        let vera = person(&app, &tab, "Vera", "vera@example.it").await;
        let pdf = b"%PDF-1.4\n% offerta\n1 0 obj << >> endobj\n%%EOF\n";
        let response = upload(&app, &tab, vera, "C:\\Documenti\\offerta 2027.pdf", pdf).await;
        assert_eq!(response.status(), 200);
        let file: Attachment = response.json().await.unwrap();
        assert_eq!(file.file_name, "offerta 2027.pdf");
        assert_eq!(file.content_type, "application/pdf");
        assert_eq!(file.size, pdf.len() as i64);

        // A program with a document's name is refused, whatever the name says.
        let refused = upload(
            &app,
            &tab,
            vera,
            "fattura.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00",
        )
        .await;
        assert_eq!(refused.status(), 422);
        assert_eq!(
            app_error(refused).await.field_problem("attachments"),
            Some(Problem::FileTypeRefused)
        );
        // Files go by email only.
        let draft = |channel: &str| json!({ "channel": channel, "subject": "Offerta", "body": "In allegato l'offerta.", "attachments": [file] });
        let by_sms = app
            .call_value::<SendMessage>(&tab, json!({ "contact_id": vera, "draft": draft("sms") }))
            .await;
        assert_eq!(
            app_error(by_sms).await.field_problem("attachments"),
            Some(Problem::AttachmentsEmailOnly)
        );

        let sent: Message = app
            .ok::<SendMessage, _>(&tab, json!({ "contact_id": vera, "draft": draft("email") }))
            .await;
        assert_eq!(sent.attachments, std::slice::from_ref(&file));
        assert_eq!(
            app.dispatcher().run_due(app::db::now()).await.unwrap().sent,
            1
        );
        let mail = app
            .inbox
            .as_ref()
            .unwrap()
            .wait_for("vera@example.it")
            .await;
        assert!(mail.data.contains("multipart/mixed"), "{}", mail.data);
        assert!(
            mail.data.contains("Content-Type: application/pdf"),
            "{}",
            mail.data
        );
        assert!(
            mail.data.contains("filename=\"offerta 2027.pdf\""),
            "{}",
            mail.data
        );
        // The file itself (lettre sends this small text-only PDF as it is, without base64).
        assert!(
            mail.data.contains("% offerta") && mail.data.contains("1 0 obj << >> endobj"),
            "{}",
            mail.data
        );
        assert_eq!(
            store::message(&app.db, sent.id).await.unwrap().attachments,
            std::slice::from_ref(&file)
        );

        // A file goes with one message: sending it again needs a new upload.
        let again = app
            .call_value::<SendMessage>(&tab, json!({ "contact_id": vera, "draft": draft("email") }))
            .await;
        assert_eq!(
            app_error(again).await.field_problem("attachments"),
            Some(Problem::FileGone)
        );

        // Downloadable from the thread, always as a download.
        let download = tab.get(app.url(&file.href())).send().await.unwrap();
        assert_eq!(download.status(), 200);
        let headers = download.headers().clone();
        assert_eq!(headers["content-type"], "application/pdf");
        assert!(headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;"));
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(download.bytes().await.unwrap().as_ref(), pdf);

        // Not for someone who may not see the contact, nor for someone signed out.
        let _: app::contacts::header::ContactPeople = app
            .ok::<app::contacts::SetVisibility, _>(
                &tab,
                json!({ "contact_id": vera, "visibility": "private" }),
            )
            .await;
        let member = app.signed_in_user("Bruno", "bruno@example.it", false).await;
        let hidden = member.get(app.url(&file.href())).send().await.unwrap();
        assert_eq!(hidden.status(), 404);
        let upload_hidden = upload(&app, &member, vera, "nota.txt", b"ciao").await;
        assert_eq!(upload_hidden.status(), 404);
        let anonymous = browser().get(app.url(&file.href())).send().await.unwrap();
        assert!(anonymous.status().is_redirection(), "to sign in");
    }
);
