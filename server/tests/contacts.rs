//! Creating, finding and opening contacts through the server functions the browser calls.

mod common;

use app::{
    contacts::{Contact, ContactListPage, CreateContact, GetContact, ListContacts},
    error::{AppError, Problem},
};
use common::{app_error, browser};

app_test!(a_new_person_is_created_opened_and_found_by_search, |app| {
    let tab = browser();
    app.set_up_admin(&tab).await;
    let created = app
        .call_json::<CreateContact>(
            &tab,
            &[
                ("kind", "person"),
                ("first_name", " Giulia "),
                ("last_name", "Bianchi"),
                ("business_name", ""),
            ],
        )
        .await;
    assert_eq!(created.status(), 200);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let id: uuid::Uuid = created.json().await.unwrap();
    assert_eq!(
        location,
        format!("/contacts/{id}"),
        "it opens the new contact's page"
    );

    let opened = app
        .call_json::<GetContact>(&tab, &[("id", &id.to_string())])
        .await;
    let timing = opened.headers()["server-timing"].to_str().unwrap();
    let ms: f64 = timing
        .strip_prefix("app;dur=")
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("the server says how long it took: {timing}"));
    assert!(ms > 0.0, "{timing}");
    let contact: Contact = opened.json().await.unwrap();
    assert_eq!(contact.display_name, "Giulia Bianchi");
    assert_eq!(contact.first_name.as_deref(), Some("Giulia"));
    assert_eq!(contact.created_at, contact.updated_at);

    let page = app.get(&tab, &location).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Giulia Bianchi"),
        "the card is rendered on the server"
    );

    let found: ContactListPage = app
        .call_json::<ListContacts>(&tab, &[("q", "bianchi")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.items[0].id, id);
    app.stop().await;
});

app_test!(
    a_company_needs_its_business_name_and_keeps_nothing_half_done,
    |app| {
        let tab = browser();
        app.set_up_admin(&tab).await;
        let refused = app
            .call_json::<CreateContact>(&tab, &[("kind", "company"), ("business_name", "   ")])
            .await;
        assert_eq!(refused.status(), 422);
        assert_eq!(
            app_error(refused).await.field_problem("business_name"),
            Some(Problem::CompanyWithoutName)
        );
        let list: ContactListPage = app
            .call_json::<ListContacts>(&tab, &[])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list.total, 0);

        let created = app
            .call_json::<CreateContact>(
                &tab,
                &[
                    ("kind", "company"),
                    ("business_name", "Ferramenta Rossi S.r.l."),
                ],
            )
            .await;
        assert_eq!(created.status(), 200);
        app.stop().await;
    }
);

app_test!(an_unknown_contact_is_not_found, |app| {
    let tab = browser();
    app.set_up_admin(&tab).await;
    let missing = app
        .call_json::<GetContact>(&tab, &[("id", &uuid::Uuid::now_v7().to_string())])
        .await;
    assert_eq!(missing.status(), 404);
    assert_eq!(app_error(missing).await, AppError::NotFound);
    let page = app
        .get(&tab, &format!("/contacts/{}", uuid::Uuid::now_v7()))
        .await;
    assert!(page.text().await.unwrap().contains("Contact not found"));
    app.stop().await;
});

app_test!(
    answers_are_compressed_when_compressing_saves_a_packet,
    |app| {
        use leptos::server_fn::ServerFn;
        let tab = browser();
        app.set_up_admin(&tab).await;
        let mut id = None;
        for i in 0..40 {
            let created = app
                .call_json::<CreateContact>(
                    &tab,
                    &[
                        ("kind", "person"),
                        ("first_name", &format!("Giulia {i}")),
                        ("last_name", "Bianchi"),
                    ],
                )
                .await;
            id = Some(created.json::<uuid::Uuid>().await.unwrap());
        }
        let call = |path: &'static str, body: serde_json::Value| {
            tab.post(app.url(path))
                .header("Accept", "application/json")
                .header("Accept-Encoding", "br, gzip")
                .json(&body)
                .send()
        };
        let encoding = |answer: &reqwest::Response| {
            answer
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_string())
        };
        // A page of the list (40 contacts, several kilobytes): brotli.
        let list = call(ListContacts::PATH, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(list.status(), 200);
        assert_eq!(encoding(&list).as_deref(), Some("br"));
        // One contact (well under a packet): as it is, rather than CPU spent for nothing.
        let contact = call(GetContact::PATH, serde_json::json!({ "id": id.unwrap() }))
            .await
            .unwrap();
        assert_eq!(contact.status(), 200);
        assert_eq!(encoding(&contact), None);
        let contact: Contact = contact.json().await.unwrap();
        assert_eq!(contact.display_name, "Giulia 39 Bianchi");
        app.stop().await;
    }
);
