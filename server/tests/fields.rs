//! Shaping the card: custom fields of every type, folders, moving fields, and contact types — as
//! an admin does it in Settings, and as the card then stores values. SQLite and PostgreSQL.

mod common;

use app::{
    audit::{AuditPage, ContactHistory},
    contacts::{standard::Field, Contact, CreateContact, GetContact, UpdateContact},
    error::{AppError, Problem},
    fields::{
        CardField, CardLayout, CreateContactType, CreateField, CreateFolder, DeleteContactType,
        DeleteField, DeleteFolder, FieldRef, FieldType, FieldUsage, Layout, MoveContactType,
        MoveField, MoveFolder, RenameContactType, RenameFolder, UpdateField,
    },
    i18n::Locale,
};
use common::{app_error, browser, TestApp};
use reqwest::Client;
use serde_json::json;
use uuid::Uuid;

fn folder_id(layout: &Layout, label: &str) -> Uuid {
    layout
        .folders
        .iter()
        .find(|f| f.label(Locale::En) == label)
        .unwrap_or_else(|| panic!("no folder {label}"))
        .id
}

fn field_id(layout: &Layout, label: &str) -> Uuid {
    layout
        .fields()
        .find(|f| f.field.label(Locale::En) == label)
        .unwrap_or_else(|| panic!("no field {label}"))
        .id
}

fn labels(layout: &Layout, folder: &str) -> Vec<String> {
    layout
        .folders
        .iter()
        .find(|f| f.label(Locale::En) == folder)
        .map(|f| f.fields.iter().map(|f| f.field.label(Locale::En)).collect())
        .unwrap_or_default()
}

async fn new_contact(app: &TestApp, tab: &Client) -> Contact {
    let id: Uuid = app
        .ok::<CreateContact, _>(tab, json!({ "kind": "person", "first_name": "Lia" }))
        .await;
    app.ok::<GetContact, _>(tab, json!({ "id": id })).await
}

async fn save(
    app: &TestApp,
    tab: &Client,
    c: &Contact,
    changes: serde_json::Value,
) -> reqwest::Response {
    app.call_value::<UpdateContact>(
        tab,
        json!({ "edit": { "id": c.id, "version": c.version, "changes": changes } }),
    )
    .await
}

app_test!(
    an_admin_adds_a_field_of_each_type_and_values_are_checked_by_type,
    |app| {
        let admin = browser();
        app.set_up_admin(&admin).await;
        let layout: Layout = app.ok::<CardLayout, _>(&admin, json!({})).await;
        let extra = folder_id(&layout, "Additional Info");
        let fields = [
            ("Dog's name", "text", "", "Fido", Some("Fido")),
            (
                "Notes on visit",
                "long_text",
                "",
                "Line one\nline two",
                Some("Line one\nline two"),
            ),
            ("Employees", "number", "", "1.250", Some("1250")),
            ("Budget", "decimal", "", "1.250,50", Some("1250.50")),
            ("Renewal", "date", "", "31/12/2027", Some("2027-12-31")),
            (
                "Call back at",
                "date_time",
                "",
                "2026-12-01T09:30",
                Some("2026-12-01T09:30"),
            ),
            ("Newsletter consent", "checkbox", "", "true", Some("true")),
            (
                "Plan",
                "single_select",
                "Gold\nSilver",
                "silver",
                Some("Silver"),
            ),
            (
                "Interests",
                "multi_select",
                "Pizza\nPasta\nGelato",
                "Gelato\nPizza",
                Some(r#"["Pizza","Gelato"]"#),
            ),
            (
                "Work email",
                "email",
                "",
                "Lia@Work.IT",
                Some("lia@work.it"),
            ),
            ("Mobile", "phone", "", "333 1234567", Some("+393331234567")),
            (
                "Portfolio",
                "url",
                "",
                "lia.example.it",
                Some("https://lia.example.it"),
            ),
        ];
        let mut layout = layout;
        for (name, field_type, options, _, _) in fields {
            layout = app
                .ok::<CreateField, _>(
                    &admin,
                    json!({ "name": name, "field_type": field_type, "options": options, "folder_id": extra }),
                )
                .await;
        }
        assert_eq!(layout.fields().count(), 21 + 12);
        assert!(labels(&layout, "Additional Info").ends_with(&["Portfolio".to_string()]));

        let contact = new_contact(&app, &admin).await;
        let changes: Vec<serde_json::Value> = fields
            .iter()
            .map(|(name, _, _, typed, _)| json!([{ "Custom": field_id(&layout, name) }, typed]))
            .collect();
        let response = save(&app, &admin, &contact, json!(changes)).await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        let saved: Contact = app
            .ok::<GetContact, _>(&admin, json!({ "id": contact.id }))
            .await;
        for (name, _, _, _, stored) in fields {
            let id = field_id(&layout, name);
            assert_eq!(saved.custom.get(&id).map(String::as_str), stored, "{name}");
        }

        // Wrong values are refused field by field, and nothing is saved.
        let bad = [
            ("Employees", "twelve", Problem::NumberInvalid),
            ("Budget", "abc", Problem::DecimalInvalid),
            (
                "Renewal",
                "31/02/2027",
                Problem::NotOnCalendar {
                    day: 31,
                    month: 2,
                    year: 2027,
                },
            ),
            ("Call back at", "tomorrow", Problem::DateTimeInvalid),
            ("Plan", "Bronze", Problem::NotInList),
            ("Interests", "Sushi", Problem::NotInList),
            ("Work email", "lia@", Problem::EmailInvalid),
            ("Mobile", "abc", Problem::PhoneInvalid),
            ("Portfolio", "ftp://lia.example.it", Problem::WebsiteScheme),
            ("Newsletter consent", "perhaps", Problem::CheckboxInvalid),
        ];
        let changes: Vec<serde_json::Value> = bad
            .iter()
            .map(|(name, typed, _)| json!([{ "Custom": field_id(&layout, name) }, typed]))
            .collect();
        let refused = save(&app, &admin, &saved, json!(changes)).await;
        assert_eq!(refused.status(), 422);
        let error = app_error(refused).await;
        for (name, _, problem) in bad {
            let key = FieldRef::Custom(field_id(&layout, name)).key();
            assert_eq!(error.field_problem(&key), Some(problem), "{name}");
        }

        // Clearing a value removes it.
        let cleared = save(
            &app,
            &admin,
            &saved,
            json!([[{ "Custom": field_id(&layout, "Plan") }, ""], [{ "Custom": field_id(&layout, "Newsletter consent") }, ""]]),
        )
        .await;
        let cleared: Contact = cleared.json().await.unwrap();
        assert!(!cleared.custom.contains_key(&field_id(&layout, "Plan")));
        assert!(!cleared
            .custom
            .contains_key(&field_id(&layout, "Newsletter consent")));

        // A member can't shape the card, and an invalid definition is explained.
        let member = app.signed_in_user("Bruno", "bruno@example.it", false).await;
        let forbidden = app
            .call_value::<CreateField>(
                &member,
                json!({ "name": "X", "field_type": "text", "options": "", "folder_id": extra }),
            )
            .await;
        assert_eq!(forbidden.status(), 403);
        let invalid = app
            .call_value::<CreateField>(
                &admin,
                json!({ "name": "dog's NAME", "field_type": "single_select", "options": " \n", "folder_id": extra }),
            )
            .await;
        let error = app_error(invalid).await;
        assert_eq!(
            error.field_problem("options"),
            Some(Problem::OptionsMissing)
        );
        let taken = app
            .call_value::<CreateField>(
                &admin,
                json!({ "name": "dog's NAME", "field_type": "text", "options": "", "folder_id": extra }),
            )
            .await;
        assert_eq!(
            app_error(taken).await.field_problem("name"),
            Some(Problem::NameTaken)
        );
        app.stop().await;
    }
);

app_test!(
    retyping_keeps_every_value_or_changes_nothing_and_deleting_says_what_is_lost,
    |app| {
        let admin = browser();
        app.set_up_admin(&admin).await;
        let layout: Layout = app.ok::<CardLayout, _>(&admin, json!({})).await;
        let extra = folder_id(&layout, "Additional Info");
        let layout: Layout = app
            .ok::<CreateField, _>(
                &admin,
                json!({ "name": "Seats", "field_type": "text", "options": "", "folder_id": extra }),
            )
            .await;
        let seats = field_id(&layout, "Seats");
        let a = new_contact(&app, &admin).await;
        let b = new_contact(&app, &admin).await;
        assert_eq!(
            save(&app, &admin, &a, json!([[{ "Custom": seats }, "12"]]))
                .await
                .status(),
            200
        );
        assert_eq!(
            save(&app, &admin, &b, json!([[{ "Custom": seats }, "a dozen"]]))
                .await
                .status(),
            200
        );

        // "a dozen" is no number: refused with the count, nothing changed.
        let refused = app
            .call_value::<UpdateField>(
                &admin,
                json!({ "id": seats, "name": "Seats", "field_type": "number", "options": "" }),
            )
            .await;
        assert_eq!(
            app_error(refused).await.field_problem("field_type"),
            Some(Problem::ValuesWontConvert { count: 1 })
        );
        let b_now: Contact = app.ok::<GetContact, _>(&admin, json!({ "id": b.id })).await;
        assert_eq!(
            b_now.custom.get(&seats).map(String::as_str),
            Some("a dozen")
        );

        // Fixed, it converts; renamed at the same time.
        assert_eq!(
            save(
                &app,
                &admin,
                &b_now,
                json!([[{ "Custom": seats }, "1.200"]])
            )
            .await
            .status(),
            200
        );
        let layout: Layout = app
            .ok::<UpdateField, _>(
                &admin,
                json!({ "id": seats, "name": "Seats booked", "field_type": "number", "options": "" }),
            )
            .await;
        match &layout.field(FieldRef::Custom(seats)).unwrap().field {
            CardField::Custom(c) => {
                assert_eq!(
                    (c.name.as_str(), c.field_type),
                    ("Seats booked", FieldType::Number)
                )
            }
            other => panic!("{other:?}"),
        }
        let b_now: Contact = app.ok::<GetContact, _>(&admin, json!({ "id": b.id })).await;
        assert_eq!(
            b_now.custom.get(&seats).map(String::as_str),
            Some("1200"),
            "the text became the number it reads as"
        );
        // Number → decimal is always fine.
        let _: Layout = app
            .ok::<UpdateField, _>(
                &admin,
                json!({ "id": seats, "name": "Seats booked", "field_type": "decimal", "options": "" }),
            )
            .await;
        let b_now: Contact = app.ok::<GetContact, _>(&admin, json!({ "id": b.id })).await;
        assert_eq!(b_now.custom.get(&seats).map(String::as_str), Some("1200"));
        let history: AuditPage = app
            .ok::<ContactHistory, _>(&admin, json!({ "contact_id": b.id }))
            .await;
        assert_eq!(history.entries[0].old_value.as_deref(), Some("1.200"));
        assert_eq!(history.entries[0].new_value.as_deref(), Some("1200"));

        // Deleting: first how many lose a value, then the values go into the history.
        let usage: u64 = app
            .ok::<FieldUsage, _>(&admin, json!({ "id": seats }))
            .await;
        assert_eq!(usage, 2);
        let layout: Layout = app
            .ok::<DeleteField, _>(&admin, json!({ "id": seats }))
            .await;
        assert!(layout.field(FieldRef::Custom(seats)).is_none());
        let a_now: Contact = app.ok::<GetContact, _>(&admin, json!({ "id": a.id })).await;
        assert!(a_now.custom.is_empty());
        let history: AuditPage = app
            .ok::<ContactHistory, _>(&admin, json!({ "contact_id": a.id }))
            .await;
        assert_eq!(history.entries[0].label.as_deref(), Some("Seats booked"));
        assert_eq!(history.entries[0].old_value.as_deref(), Some("12"));
        assert_eq!(history.entries[0].new_value, None);

        // An option in use can't be taken away; one nobody chose can.
        let layout: Layout = app
            .ok::<CreateField, _>(
                &admin,
                json!({ "name": "Plan", "field_type": "single_select", "options": "Gold\nSilver\nBronze", "folder_id": extra }),
            )
            .await;
        let plan = field_id(&layout, "Plan");
        let a_now: Contact = app.ok::<GetContact, _>(&admin, json!({ "id": a.id })).await;
        assert_eq!(
            save(&app, &admin, &a_now, json!([[{ "Custom": plan }, "Gold"]]))
                .await
                .status(),
            200
        );
        let refused = app
            .call_value::<UpdateField>(
                &admin,
                json!({ "id": plan, "name": "Plan", "field_type": "single_select", "options": "Silver\nBronze" }),
            )
            .await;
        assert_eq!(
            app_error(refused).await.field_problem("options"),
            Some(Problem::ValuesWontConvert { count: 1 })
        );
        let _: Layout = app
            .ok::<UpdateField, _>(
                &admin,
                json!({ "id": plan, "name": "Plan", "field_type": "single_select", "options": "Gold\nSilver" }),
            )
            .await;

        // Standard fields can't be retyped or deleted.
        let first_name = field_id(&layout, "First name");
        let refused = app
            .call_value::<DeleteField>(&admin, json!({ "id": first_name }))
            .await;
        assert_eq!(
            app_error(refused).await.field_problem("name"),
            Some(Problem::StandardFixed)
        );
        app.stop().await;
    }
);

app_test!(
    folders_are_made_renamed_reordered_and_deleted_without_losing_a_field,
    |app| {
        let admin = browser();
        app.set_up_admin(&admin).await;
        let layout: Layout = app.ok::<CardLayout, _>(&admin, json!({})).await;
        let folders: Vec<String> = layout.folders.iter().map(|f| f.label(Locale::En)).collect();
        assert_eq!(folders, ["Contact", "General Info", "Additional Info"]);

        // The standard folders stay as they are.
        let contact_folder = folder_id(&layout, "Contact");
        for response in [
            app.call_value::<RenameFolder>(
                &admin,
                json!({ "id": contact_folder, "name": "People" }),
            )
            .await,
            app.call_value::<DeleteFolder>(&admin, json!({ "id": contact_folder }))
                .await,
        ] {
            assert_eq!(
                app_error(response).await.field_problem("name"),
                Some(Problem::StandardFixed)
            );
        }

        let layout: Layout = app
            .ok::<CreateFolder, _>(&admin, json!({ "name": "Pets" }))
            .await;
        let pets = folder_id(&layout, "Pets");
        let taken = app
            .call_value::<CreateFolder>(&admin, json!({ "name": "contact" }))
            .await;
        assert_eq!(
            app_error(taken).await.field_problem("name"),
            Some(Problem::NameTaken)
        );
        let layout: Layout = app
            .ok::<CreateField, _>(
                &admin,
                json!({ "name": "Dog", "field_type": "text", "options": "", "folder_id": pets }),
            )
            .await;
        let dog = field_id(&layout, "Dog");

        // A standard field moves into it, first; then one place down.
        let city = field_id(&layout, "City");
        let layout: Layout = app
            .ok::<MoveField, _>(
                &admin,
                json!({ "id": city, "folder_id": pets, "position": 0 }),
            )
            .await;
        assert_eq!(labels(&layout, "Pets"), ["City", "Dog"]);
        assert!(!labels(&layout, "General Info").contains(&"City".to_string()));
        let layout: Layout = app
            .ok::<MoveField, _>(
                &admin,
                json!({ "id": city, "folder_id": pets, "position": 1 }),
            )
            .await;
        assert_eq!(labels(&layout, "Pets"), ["Dog", "City"]);
        // Within a standard folder too.
        let email = field_id(&layout, "Email");
        let layout: Layout = app
            .ok::<MoveField, _>(
                &admin,
                json!({ "id": email, "folder_id": contact_folder, "position": 0 }),
            )
            .await;
        assert_eq!(
            labels(&layout, "Contact")[..2],
            ["Email".to_string(), "First name".to_string()]
        );

        // Renamed and moved first among the folders.
        let _: Layout = app
            .ok::<RenameFolder, _>(&admin, json!({ "id": pets, "name": "Animali" }))
            .await;
        let layout: Layout = app
            .ok::<MoveFolder, _>(&admin, json!({ "id": pets, "position": 0 }))
            .await;
        assert_eq!(layout.folders[0].label(Locale::En), "Animali");

        // Deleted: its fields go to the end of Additional Info, values intact.
        let contact = new_contact(&app, &admin).await;
        assert_eq!(
            save(
                &app,
                &admin,
                &contact,
                json!([[{ "Custom": dog }, "Fido"], [{ "Standard": "City" }, "Pisa"]])
            )
            .await
            .status(),
            200
        );
        let layout: Layout = app
            .ok::<DeleteFolder, _>(&admin, json!({ "id": pets }))
            .await;
        assert_eq!(layout.folders.len(), 3);
        let extra = labels(&layout, "Additional Info");
        assert_eq!(
            extra[extra.len() - 2..],
            ["Dog".to_string(), "City".to_string()]
        );
        assert_eq!(
            layout.fields().count(),
            22,
            "every field is still on the card"
        );
        let saved: Contact = app
            .ok::<GetContact, _>(&admin, json!({ "id": contact.id }))
            .await;
        assert_eq!(saved.custom.get(&dog).map(String::as_str), Some("Fido"));
        assert_eq!(saved.city.as_deref(), Some("Pisa"));
        app.stop().await;
    }
);

app_test!(
    contact_types_are_the_team_s_own_list_and_a_contact_may_have_none,
    |app| {
        let admin = browser();
        app.set_up_admin(&admin).await;
        let layout: Layout = app.ok::<CardLayout, _>(&admin, json!({})).await;
        let names = |layout: &Layout, l: Locale| -> Vec<String> {
            layout.contact_types.iter().map(|t| t.label(l)).collect()
        };
        assert_eq!(
            names(&layout, Locale::En),
            ["Lead", "Customer", "Supplier", "Partner"]
        );
        assert_eq!(
            names(&layout, Locale::It),
            ["Lead", "Cliente", "Fornitore", "Partner"]
        );
        let customer = layout.contact_types[1].id;

        let contact = new_contact(&app, &admin).await;
        let response = save(
            &app,
            &admin,
            &contact,
            json!([[{ "Standard": "ContactType" }, customer.to_string()]]),
        )
        .await;
        let typed: Contact = response.json().await.unwrap();
        assert_eq!(typed.contact_type_id, Some(customer));
        let unknown = save(
            &app,
            &admin,
            &typed,
            json!([[{ "Standard": "ContactType" }, Uuid::nil().to_string()]]),
        )
        .await;
        assert_eq!(
            app_error(unknown)
                .await
                .field_problem(Field::ContactType.key()),
            Some(Problem::NotInList)
        );
        // Left without a type again, by choosing none on the card.
        let untyped: Contact = save(
            &app,
            &admin,
            &typed,
            json!([[{ "Standard": "ContactType" }, ""]]),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(untyped.contact_type_id, None);
        let typed: Contact = save(
            &app,
            &admin,
            &untyped,
            json!([[{ "Standard": "ContactType" }, customer.to_string()]]),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(typed.contact_type_id, Some(customer));

        let layout: Layout = app
            .ok::<CreateContactType, _>(&admin, json!({ "name": "Distributore" }))
            .await;
        assert_eq!(layout.contact_types.len(), 5);
        let taken = app
            .call_value::<CreateContactType>(&admin, json!({ "name": "cliente" }))
            .await;
        assert_eq!(
            app_error(taken).await.field_problem("name"),
            Some(Problem::NameTaken)
        );
        let layout: Layout = app
            .ok::<RenameContactType, _>(
                &admin,
                json!({ "id": customer, "name": "Cliente abituale" }),
            )
            .await;
        assert_eq!(
            layout.contact_types[1].label(Locale::En),
            "Cliente abituale"
        );
        let layout: Layout = app
            .ok::<MoveContactType, _>(&admin, json!({ "id": customer, "position": 0 }))
            .await;
        assert_eq!(layout.contact_types[0].id, customer);

        // Deleted: the contact is left without a type, and its history says which it was.
        let layout: Layout = app
            .ok::<DeleteContactType, _>(&admin, json!({ "id": customer }))
            .await;
        assert_eq!(layout.contact_types.len(), 4);
        let now: Contact = app
            .ok::<GetContact, _>(&admin, json!({ "id": contact.id }))
            .await;
        assert_eq!(now.contact_type_id, None);
        assert!(
            now.version > typed.version,
            "an open card with the old type can't write it back"
        );
        let history: AuditPage = app
            .ok::<ContactHistory, _>(&admin, json!({ "contact_id": contact.id }))
            .await;
        assert_eq!(history.entries[0].field, "contact_type");
        assert_eq!(
            history.entries[0].old_value.as_deref(),
            Some("Cliente abituale")
        );
        let layout: Layout = app.ok::<CardLayout, _>(&admin, json!({})).await;
        assert_eq!(
            history.entries[1].value(
                history.entries[1].new_value.as_deref().unwrap(),
                Locale::It,
                &layout
            ),
            "Cliente",
            "a default type reads in the reader's language"
        );
        let member = app.signed_in_user("Bruno", "bruno@example.it", false).await;
        let forbidden = app
            .call_value::<CreateContactType>(&member, json!({ "name": "X" }))
            .await;
        assert_eq!(forbidden.status(), 403);
        assert_eq!(app_error(forbidden).await, AppError::Forbidden);
        app.stop().await;
    }
);
