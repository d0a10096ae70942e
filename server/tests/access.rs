//! Who may see a contact, its owner and followers, Do Not Disturb, tags, and the history that
//! records every change — as the browser's calls exercise them, on SQLite and PostgreSQL.

mod common;

use app::{
    audit::{AuditPage, ContactHistory},
    contacts::{
        header::ContactPeople, AddFollower, CardContext, Contact, ContactListPage, ContactView,
        CreateContact, Dnd, GetContact, ListContacts, LoadCardContext, OpenContact, RemoveFollower,
        SetDnd, SetOwner, SetVisibility, UpdateContact,
    },
    error::{AppError, Problem},
    tags::{
        AddContactTag, ContactTag, CreateTag, DeleteTag, ListTags, RemoveContactTag, Tag, TagUsage,
        UpdateTag,
    },
    with_db,
};
use common::{app_error, browser, TestApp};
use reqwest::Client;
use serde_json::json;
use uuid::Uuid;

async fn create_person(app: &TestApp, tab: &Client, first: &str, last: &str) -> Uuid {
    app.ok::<CreateContact, Uuid>(
        tab,
        json!({ "kind": "person", "first_name": first, "last_name": last }),
    )
    .await
}

async fn names(app: &TestApp, tab: &Client, args: serde_json::Value) -> Vec<String> {
    let page: ContactListPage = app.ok::<ListContacts, _>(tab, args).await;
    page.items.into_iter().map(|c| c.display_name).collect()
}

async fn history(app: &TestApp, tab: &Client, id: Uuid) -> AuditPage {
    app.ok::<ContactHistory, _>(tab, json!({ "contact_id": id }))
        .await
}

async fn me(app: &TestApp, tab: &Client) -> Uuid {
    let context: CardContext = app.ok::<LoadCardContext, _>(tab, json!({})).await;
    context.me
}

app_test!(
    a_private_contact_is_not_found_by_a_member_without_access,
    |app| {
        let admin = browser();
        app.set_up_admin(&admin).await;
        let bruno = app
            .signed_in_user("Bruno Membro", "bruno@example.it", false)
            .await;
        let carla = app
            .signed_in_user("Carla Membro", "carla@example.it", false)
            .await;
        let carla_id = me(&app, &carla).await;

        // Bruno creates three contacts (he owns them); the middle one he makes private.
        let first = create_person(&app, &bruno, "Alda", "Zeta").await;
        let secret = create_person(&app, &bruno, "Bice", "Zeta").await;
        let last = create_person(&app, &bruno, "Cora", "Zeta").await;
        let people: ContactPeople = app
            .ok::<SetVisibility, _>(
                &bruno,
                json!({ "contact_id": secret, "visibility": "private" }),
            )
            .await;
        assert_eq!(people.owner_id, Some(me(&app, &bruno).await));

        // Carla sees two of them, in the list, the search and the count…
        let search = json!({ "q": "zeta" });
        assert_eq!(
            names(&app, &carla, search.clone()).await,
            ["Alda Zeta", "Cora Zeta"]
        );
        let page: ContactListPage = app.ok::<ListContacts, _>(&carla, json!({})).await;
        assert_eq!(page.total, 2);
        let page: ContactListPage = app.ok::<ListContacts, _>(&bruno, search.clone()).await;
        assert_eq!(page.total, 3, "the owner sees it");
        let page: ContactListPage = app.ok::<ListContacts, _>(&admin, search.clone()).await;
        assert_eq!(page.total, 3, "admins see every contact");

        // …and previous/next step over the private one.
        let view: ContactView = app
            .ok::<OpenContact, _>(&carla, json!({ "id": first, "place": "q=zeta" }))
            .await;
        assert_eq!(view.nav.next, Some(last));
        let view: ContactView = app
            .ok::<OpenContact, _>(&bruno, json!({ "id": first, "place": "q=zeta" }))
            .await;
        assert_eq!(view.nav.next, Some(secret));
        // So do they in the whole list, with or without the place in it.
        for place in ["", "pos=1&of=2"] {
            let view: ContactView = app
                .ok::<OpenContact, _>(&carla, json!({ "id": last, "place": place }))
                .await;
            assert_eq!((view.nav.previous, view.nav.next), (Some(first), None));
            assert_eq!(view.nav.place.of.map(|of| of.count), Some(2));
        }

        // Every server function that takes a contact id answers "not found", as for a contact
        // that does not exist.
        let edit = json!({ "edit": { "id": secret, "version": 1, "changes": [[{ "Standard": "City" }, "Roma"]] } });
        let calls: Vec<(&str, reqwest::Response)> = vec![
            (
                "get",
                app.call_value::<GetContact>(&carla, json!({ "id": secret }))
                    .await,
            ),
            (
                "open",
                app.call_value::<OpenContact>(&carla, json!({ "id": secret, "place": "" }))
                    .await,
            ),
            (
                "update",
                app.call_value::<UpdateContact>(&carla, edit).await,
            ),
            (
                "history",
                app.call_value::<ContactHistory>(&carla, json!({ "contact_id": secret }))
                    .await,
            ),
            (
                "tag",
                app.call_value::<AddContactTag>(
                    &carla,
                    json!({ "contact_id": secret, "name": "VIP" }),
                )
                .await,
            ),
            (
                "untag",
                app.call_value::<RemoveContactTag>(
                    &carla,
                    json!({ "contact_id": secret, "tag_id": Uuid::nil() }),
                )
                .await,
            ),
            (
                "dnd",
                app.call_value::<SetDnd>(
                    &carla,
                    json!({ "contact_id": secret, "channel": "email", "on": true }),
                )
                .await,
            ),
            (
                "owner",
                app.call_value::<SetOwner>(
                    &carla,
                    json!({ "contact_id": secret, "owner_id": carla_id }),
                )
                .await,
            ),
            (
                "follow",
                app.call_value::<AddFollower>(
                    &carla,
                    json!({ "contact_id": secret, "user_id": carla_id }),
                )
                .await,
            ),
            (
                "unfollow",
                app.call_value::<RemoveFollower>(
                    &carla,
                    json!({ "contact_id": secret, "user_id": carla_id }),
                )
                .await,
            ),
            (
                "visibility",
                app.call_value::<SetVisibility>(
                    &carla,
                    json!({ "contact_id": secret, "visibility": "team" }),
                )
                .await,
            ),
        ];
        for (what, response) in calls {
            assert_eq!(response.status(), 404, "{what}");
            assert_eq!(app_error(response).await, AppError::NotFound, "{what}");
        }
        let page = app.get(&carla, &format!("/contacts/{secret}")).await;
        let html = page.text().await.unwrap();
        assert!(!html.contains("Bice"), "the page shows nothing of it");

        // Made a follower by the owner, Carla sees it.
        let _: ContactPeople = app
            .ok::<AddFollower, _>(&bruno, json!({ "contact_id": secret, "user_id": carla_id }))
            .await;
        assert_eq!(names(&app, &carla, search).await.len(), 3);
        let seen: Contact = app
            .ok::<GetContact, _>(&carla, json!({ "id": secret }))
            .await;
        assert_eq!(seen.display_name, "Bice Zeta");
        app.stop().await;
    }
);

app_test!(
    only_the_owner_or_an_admin_reassigns_or_hides_a_contact,
    |app| {
        let admin = browser();
        app.set_up_admin(&admin).await;
        let bruno = app.signed_in_user("Bruno", "bruno@example.it", false).await;
        let carla = app.signed_in_user("Carla", "carla@example.it", false).await;
        let carla_id = me(&app, &carla).await;
        let id = create_person(&app, &bruno, "Dora", "Neri").await;
        for response in [
            app.call_value::<SetOwner>(&carla, json!({ "contact_id": id, "owner_id": carla_id }))
                .await,
            app.call_value::<SetVisibility>(
                &carla,
                json!({ "contact_id": id, "visibility": "private" }),
            )
            .await,
        ] {
            assert_eq!(response.status(), 403);
        }
        // The admin hands it to Carla, who may then hide it.
        let people: ContactPeople = app
            .ok::<SetOwner, _>(&admin, json!({ "contact_id": id, "owner_id": carla_id }))
            .await;
        assert_eq!(people.owner_id, Some(carla_id));
        let people: ContactPeople = app
            .ok::<SetVisibility, _>(&carla, json!({ "contact_id": id, "visibility": "private" }))
            .await;
        assert_eq!(people.visibility, app::contacts::Visibility::Private);
        assert_eq!(
            app.call_value::<GetContact>(&bruno, json!({ "id": id }))
                .await
                .status(),
            404,
            "its creator no longer owns it"
        );
        app.stop().await;
    }
);

mail_test!(
    a_follower_cannot_be_the_owner_and_a_new_owner_is_told_by_email,
    |app| {
        let admin = browser();
        app.set_up_admin(&admin).await;
        let bruno = app
            .signed_in_user("Bruno Verdi", "bruno@example.it", false)
            .await;
        let bruno_id = me(&app, &bruno).await;
        let admin_id = me(&app, &admin).await;
        let id = create_person(&app, &admin, "Elsa", "Blu").await;

        // The admin owns it: they can't also follow it.
        let refused = app
            .call_value::<AddFollower>(&admin, json!({ "contact_id": id, "user_id": admin_id }))
            .await;
        assert_eq!(refused.status(), 422);
        assert_eq!(
            app_error(refused).await.field_problem("follower"),
            Some(Problem::FollowerIsOwner)
        );
        // Bruno follows it, so he can't become its owner…
        let _: ContactPeople = app
            .ok::<AddFollower, _>(&admin, json!({ "contact_id": id, "user_id": bruno_id }))
            .await;
        let refused = app
            .call_value::<SetOwner>(&admin, json!({ "contact_id": id, "owner_id": bruno_id }))
            .await;
        assert_eq!(
            app_error(refused).await.field_problem("owner"),
            Some(Problem::FollowerIsOwner)
        );
        // …until he stops following it.
        let people: ContactPeople = app
            .ok::<RemoveFollower, _>(&admin, json!({ "contact_id": id, "user_id": bruno_id }))
            .await;
        assert!(people.followers.is_empty());
        let people: ContactPeople = app
            .ok::<SetOwner, _>(&admin, json!({ "contact_id": id, "owner_id": bruno_id }))
            .await;
        assert_eq!(people.owner_id, Some(bruno_id));

        let inbox = app.inbox.clone().unwrap();
        let mail = inbox.wait_for("bruno@example.it").await;
        assert!(mail.data.contains("Elsa Blu"), "{}", mail.data);
        assert_eq!(
            mail.link("https://crm.example.it/contacts/"),
            Some(format!("https://crm.example.it/contacts/{id}"))
        );
        // Nobody is told of owning what they took themselves.
        let _: ContactPeople = app
            .ok::<SetOwner, _>(&admin, json!({ "contact_id": id, "owner_id": admin_id }))
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(inbox.all().len(), 1);

        let unknown = app
            .call_value::<SetOwner>(&admin, json!({ "contact_id": id, "owner_id": Uuid::nil() }))
            .await;
        assert_eq!(
            app_error(unknown).await.field_problem("user"),
            Some(Problem::UserUnknown)
        );
        app.stop().await;
    }
);

app_test!(do_not_disturb_is_per_channel_or_all_at_once, |app| {
    let tab = browser();
    app.set_up_admin(&tab).await;
    let id = create_person(&app, &tab, "Fabio", "Gialli").await;
    let dnd: Dnd = app
        .ok::<SetDnd, _>(
            &tab,
            json!({ "contact_id": id, "channel": "sms", "on": true }),
        )
        .await;
    assert!(dnd.sms && !dnd.email && !dnd.all);
    use app::contacts::DndChannel;
    assert!(dnd.blocks(DndChannel::Sms));
    assert!(!dnd.blocks(DndChannel::Email));
    let dnd: Dnd = app
        .ok::<SetDnd, _>(
            &tab,
            json!({ "contact_id": id, "channel": "all", "on": true }),
        )
        .await;
    assert!(dnd.blocks(DndChannel::Email) && dnd.blocks(DndChannel::WhatsApp));
    assert_eq!(dnd.blocked(), [DndChannel::All]);
    let view: ContactView = app
        .ok::<OpenContact, _>(&tab, json!({ "id": id, "place": "" }))
        .await;
    assert!(view.contact.dnd.all && view.contact.dnd.sms, "kept");
    let refused = app
        .call_value::<SetDnd>(
            &tab,
            json!({ "contact_id": id, "channel": "fax", "on": true }),
        )
        .await;
    assert_eq!(refused.status(), 422);
    let entries = history(&app, &tab, id).await.entries;
    let fields: Vec<&str> = entries.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["dnd:all", "dnd:sms", "created"]);
    assert_eq!(entries[0].old_value.as_deref(), Some("off"));
    assert_eq!(entries[0].new_value.as_deref(), Some("on"));
    app.stop().await;
});

app_test!(
    tags_are_added_on_the_fly_and_filter_the_list_and_its_previous_next,
    |app| {
        let tab = browser();
        app.set_up_admin(&tab).await;
        let mut ids = Vec::new();
        for first in ["Anna", "Bea", "Ciro", "Dino", "Ezio"] {
            ids.push(create_person(&app, &tab, first, "Tagged").await);
        }
        let tag = |i: usize, name: &'static str| {
            let (app, tab, id) = (&app, &tab, ids[i]);
            async move {
                app.ok::<AddContactTag, Vec<ContactTag>>(
                    tab,
                    json!({ "contact_id": id, "name": name }),
                )
                .await
            }
        };
        // "vip" and "VIP" are one tag.
        let on_anna = tag(0, "VIP").await;
        assert_eq!(on_anna.len(), 1);
        assert!(!on_anna[0].automatic);
        tag(2, "vip").await;
        tag(3, "  VIP ").await;
        tag(2, "Newsletter").await;
        tag(4, "Newsletter").await;
        let tags: Vec<TagUsage> = app.ok::<ListTags, _>(&tab, json!({})).await;
        let count_of = |name: &str| tags.iter().find(|t| t.tag.name == name).map(|t| t.contacts);
        assert_eq!(count_of("VIP"), Some(3));
        assert_eq!(count_of("Newsletter"), Some(2));
        let vip = tags.iter().find(|t| t.tag.name == "VIP").unwrap().tag.id;
        let news = tags
            .iter()
            .find(|t| t.tag.name == "Newsletter")
            .unwrap()
            .tag
            .id;

        // Is, is not, and both at once.
        let q = "tagged";
        assert_eq!(
            names(&app, &tab, json!({ "q": q, "tags": [vip] })).await,
            ["Anna Tagged", "Ciro Tagged", "Dino Tagged"]
        );
        assert_eq!(
            names(&app, &tab, json!({ "q": q, "not_tags": [vip] })).await,
            ["Bea Tagged", "Ezio Tagged"]
        );
        assert_eq!(
            names(&app, &tab, json!({ "tags": [vip], "not_tags": [news] })).await,
            ["Anna Tagged", "Dino Tagged"]
        );
        let page: ContactListPage = app
            .ok::<ListContacts, _>(&tab, json!({ "tags": [vip], "not_tags": [news] }))
            .await;
        assert_eq!(page.total, 2);
        assert_eq!(page.filter_tags.len(), 2, "the filters come back named");

        // Previous/next walk the filtered list: Anna → Dino, skipping Ciro (a newsletter).
        let place = format!("tag={vip}&not_tag={news}&pos=1&of=2");
        let view: ContactView = app
            .ok::<OpenContact, _>(&tab, json!({ "id": ids[0], "place": place }))
            .await;
        assert_eq!(view.nav.next, Some(ids[3]));
        assert_eq!(view.tags[0].tag.name, "VIP");

        // Taken off again; an automatic tag is marked so.
        let left: Vec<ContactTag> = app
            .ok::<RemoveContactTag, _>(&tab, json!({ "contact_id": ids[0], "tag_id": vip }))
            .await;
        assert!(left.is_empty());
        app::tags::store::add_automatic(&app.db, ids[1], "Acquisto: Corso base", "Purchase")
            .await
            .unwrap();
        let view: ContactView = app
            .ok::<OpenContact, _>(&tab, json!({ "id": ids[1], "place": "" }))
            .await;
        assert!(view.tags[0].automatic);
        assert_eq!(view.tags[0].source.as_deref(), Some("Purchase"));
        let entries = history(&app, &tab, ids[1]).await.entries;
        assert_eq!(entries[0].actor_name, None, "Rubrica did it");
        assert_eq!(
            entries[0].new_value.as_deref(),
            Some("Acquisto: Corso base")
        );
        app.stop().await;
    }
);

app_test!(
    admins_rename_recolour_and_delete_tags_and_contacts_keep_the_history,
    |app| {
        let admin = browser();
        app.set_up_admin(&admin).await;
        let member = app.signed_in_user("Bruno", "bruno@example.it", false).await;
        let id = create_person(&app, &member, "Gina", "Rosa").await;
        let tags: Vec<ContactTag> = app
            .ok::<AddContactTag, _>(&member, json!({ "contact_id": id, "name": "Fiera 2026" }))
            .await;
        let tag = tags[0].tag.id;
        for response in [
            app.call_value::<UpdateTag>(&member, json!({ "id": tag, "name": "X", "color": "red" }))
                .await,
            app.call_value::<DeleteTag>(&member, json!({ "id": tag }))
                .await,
        ] {
            assert_eq!(response.status(), 403, "members don't manage tags");
        }
        let bad = app
            .call_value::<UpdateTag>(
                &admin,
                json!({ "id": tag, "name": "Fiera", "color": "ultraviolet" }),
            )
            .await;
        assert_eq!(
            app_error(bad).await.field_problem("color"),
            Some(Problem::ColorUnknown)
        );
        let _: app::tags::Tag = app
            .ok::<UpdateTag, _>(
                &admin,
                json!({ "id": tag, "name": "Fiera di Milano", "color": "green" }),
            )
            .await;
        let view: ContactView = app
            .ok::<OpenContact, _>(&member, json!({ "id": id, "place": "" }))
            .await;
        assert_eq!(view.tags[0].tag.name, "Fiera di Milano");
        assert_eq!(view.tags[0].tag.color, app::tags::TagColor::Green);

        let _: () = app.ok::<DeleteTag, _>(&admin, json!({ "id": tag })).await;
        let view: ContactView = app
            .ok::<OpenContact, _>(&member, json!({ "id": id, "place": "" }))
            .await;
        assert!(view.tags.is_empty());
        let entries = history(&app, &member, id).await.entries;
        assert_eq!(entries[0].field, "tag");
        assert_eq!(entries[0].old_value.as_deref(), Some("Fiera di Milano"));
        assert_eq!(entries[0].actor_name.as_deref(), Some("Anna Admin"));
        app.stop().await;
    }
);

app_test!(
    every_change_is_in_the_history_newest_first_and_can_never_be_edited,
    |app| {
        let tab = browser();
        app.set_up_admin(&tab).await;
        let id = create_person(&app, &tab, "Ugo", "Viola").await;
        let contact: Contact = app.ok::<GetContact, _>(&tab, json!({ "id": id })).await;
        let saved: Contact = app
            .ok::<UpdateContact, _>(
                &tab,
                json!({ "edit": { "id": id, "version": contact.version, "changes": [
                    [{ "Standard": "City" }, "Bologna"],
                    [{ "Standard": "Phone" }, "347 123 4567"],
                ] } }),
            )
            .await;
        // A stale save changes nothing, so it records nothing.
        let stale = app
            .call_value::<UpdateContact>(
                &tab,
                json!({ "edit": { "id": id, "version": contact.version, "changes": [
                    [{ "Standard": "City" }, "Torino"],
                ] } }),
            )
            .await;
        assert_eq!(stale.status(), 409);
        let _: Contact = app
            .ok::<UpdateContact, _>(
                &tab,
                json!({ "edit": { "id": id, "version": saved.version, "changes": [
                    [{ "Standard": "City" }, ""],
                ] } }),
            )
            .await;
        let page = history(&app, &tab, id).await;
        let summary: Vec<(String, Option<String>, Option<String>)> = page
            .entries
            .iter()
            .map(|e| (e.field.clone(), e.old_value.clone(), e.new_value.clone()))
            .collect();
        assert_eq!(
            summary,
            [
                ("city".to_string(), Some("Bologna".to_string()), None),
                ("city".to_string(), None, Some("Bologna".to_string())),
                ("phone".to_string(), None, Some("+393471234567".to_string())),
                ("created".to_string(), None, Some("Ugo Viola".to_string())),
            ]
        );
        assert!(page
            .entries
            .iter()
            .all(|e| e.actor_name.as_deref() == Some("Anna Admin")));
        assert!(page.entries.windows(2).all(|w| w[0].at >= w[1].at));

        // Paging: 25 more changes; the first page holds 20, the next the rest, nothing twice.
        let mut version = app
            .ok::<GetContact, Contact>(&tab, json!({ "id": id }))
            .await
            .version;
        for n in 0..25 {
            let saved: Contact = app
                .ok::<UpdateContact, _>(
                    &tab,
                    json!({ "edit": { "id": id, "version": version, "changes": [
                        [{ "Standard": "Role" }, format!("Ruolo {n}")],
                    ] } }),
                )
                .await;
            version = saved.version;
        }
        let first = history(&app, &tab, id).await;
        assert_eq!(first.entries.len(), 20);
        assert_eq!(first.entries[0].new_value.as_deref(), Some("Ruolo 24"));
        let second: AuditPage = app
            .ok::<ContactHistory, _>(&tab, json!({ "contact_id": id, "before": first.older }))
            .await;
        assert_eq!(second.entries.len(), 29 - 20);
        assert!(second.older.is_none());
        assert!(second.entries[0].id < first.entries[19].id);

        // The database itself refuses to change or remove an entry.
        let edit: Result<_, sqlx::Error> = with_db!(&app.db, pool => sqlx::query("UPDATE audit_log SET new_value = 'forged'")
            .execute(pool)
            .await
            .map(|r| r.rows_affected()));
        assert!(edit.is_err(), "{edit:?}");
        let delete: Result<_, sqlx::Error> = with_db!(&app.db, pool => sqlx::query("DELETE FROM audit_log")
            .execute(pool)
            .await
            .map(|r| r.rows_affected()));
        assert!(delete.is_err(), "{delete:?}");
        assert_eq!(history(&app, &tab, id).await.entries.len(), 20);
        app.stop().await;
    }
);

app_test!(
    tag_counts_leave_out_the_contacts_a_member_may_not_see,
    |app| {
        let admin = browser();
        app.set_up_admin(&admin).await;
        let shared = create_person(&app, &admin, "Aperta", "Conta").await;
        let secret = create_person(&app, &admin, "Chiusa", "Conta").await;
        for id in [shared, secret] {
            let _: Vec<ContactTag> = app
                .ok::<AddContactTag, _>(&admin, json!({ "contact_id": id, "name": "Fornitori" }))
                .await;
        }
        let _: Vec<ContactTag> = app
            .ok::<AddContactTag, _>(&admin, json!({ "contact_id": secret, "name": "Riservato" }))
            .await;
        let _: ContactPeople = app
            .ok::<SetVisibility, _>(
                &admin,
                json!({ "contact_id": secret, "visibility": "private" }),
            )
            .await;
        let member = app.signed_in_user("Bruno", "bruno@example.it", false).await;
        let counts = |tags: Vec<TagUsage>| {
            tags.into_iter()
                .map(|t| (t.tag.name, t.contacts))
                .collect::<Vec<_>>()
        };
        let seen: Vec<TagUsage> = app.ok::<ListTags, _>(&member, json!({})).await;
        assert_eq!(
            counts(seen),
            [("Fornitori".to_string(), 1), ("Riservato".to_string(), 0)],
            "the private contact is not counted for him"
        );
        let seen: Vec<TagUsage> = app.ok::<ListTags, _>(&admin, json!({})).await;
        assert_eq!(
            counts(seen),
            [("Fornitori".to_string(), 2), ("Riservato".to_string(), 1)]
        );
        app.stop().await;
    }
);

app_test!(
    owner_follower_and_visibility_changes_are_in_the_history_with_who_and_what,
    |app| {
        let admin = browser();
        app.set_up_admin(&admin).await;
        let bruno = app
            .signed_in_user("Bruno Verdi", "bruno@example.it", false)
            .await;
        let bruno_id = me(&app, &bruno).await;
        let id = create_person(&app, &admin, "Ida", "Storia").await;
        let _: ContactPeople = app
            .ok::<SetOwner, _>(&admin, json!({ "contact_id": id, "owner_id": bruno_id }))
            .await;
        let admin_id = me(&app, &admin).await;
        let _: ContactPeople = app
            .ok::<AddFollower, _>(&admin, json!({ "contact_id": id, "user_id": admin_id }))
            .await;
        let _: ContactPeople = app
            .ok::<SetVisibility, _>(&bruno, json!({ "contact_id": id, "visibility": "private" }))
            .await;
        let entries = history(&app, &admin, id).await.entries;
        // What changed, who changed it, from and to.
        type Seen<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);
        let seen: Vec<Seen> = entries
            .iter()
            .take(3)
            .map(|e| {
                (
                    e.field.as_str(),
                    e.actor_name.as_deref(),
                    e.old_value.as_deref(),
                    e.new_value.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "visibility",
                    Some("Bruno Verdi"),
                    Some("team"),
                    Some("private")
                ),
                ("follower", Some("Anna Admin"), None, Some("Anna Admin")),
                (
                    "owner",
                    Some("Anna Admin"),
                    Some("Anna Admin"),
                    Some("Bruno Verdi")
                ),
            ],
            "newest first"
        );
        app.stop().await;
    }
);

app_test!(
    a_tag_made_in_settings_has_its_colour_and_a_name_of_its_own,
    |app| {
        let admin = browser();
        app.set_up_admin(&admin).await;
        let tag: Tag = app
            .ok::<CreateTag, _>(
                &admin,
                json!({ "name": " Clienti  storici ", "color": "teal" }),
            )
            .await;
        assert_eq!(tag.name, "Clienti storici");
        assert_eq!(tag.color.as_str(), "teal");
        let taken = app
            .call_value::<CreateTag>(&admin, json!({ "name": "clienti STORICI", "color": "red" }))
            .await;
        assert_eq!(
            app_error(taken).await.field_problem("name"),
            Some(Problem::NameTaken)
        );
        let colour = app
            .call_value::<CreateTag>(&admin, json!({ "name": "Altro", "color": "beige" }))
            .await;
        assert_eq!(
            app_error(colour).await.field_problem("color"),
            Some(Problem::ColorUnknown)
        );
        let empty = app
            .call_value::<CreateTag>(&admin, json!({ "name": "  ", "color": "red" }))
            .await;
        assert_eq!(
            app_error(empty).await.field_problem("name"),
            Some(Problem::NameRequired)
        );
        app.stop().await;
    }
);

app_test!(
    owner_and_follower_changes_made_at_once_never_make_a_follower_the_owner,
    |app| {
        let admin = browser();
        app.set_up_admin(&admin).await;
        let bruno = app.signed_in_user("Bruno", "bruno@example.it", false).await;
        let bruno_id = me(&app, &bruno).await;
        for round in 0..8 {
            let id = create_person(&app, &admin, "Gara", &format!("N{round}")).await;
            // Two colleagues at the same moment: one makes Bruno the owner, one a follower.
            let (_, _) = tokio::join!(
                app.call_value::<SetOwner>(
                    &admin,
                    json!({ "contact_id": id, "owner_id": bruno_id })
                ),
                app.call_value::<AddFollower>(
                    &admin,
                    json!({ "contact_id": id, "user_id": bruno_id })
                ),
            );
            let view: ContactView = app
                .ok::<OpenContact, _>(&admin, json!({ "id": id, "place": "" }))
                .await;
            let owner = view.contact.owner_id == Some(bruno_id);
            let follower = view.followers.contains(&bruno_id);
            assert!(
                owner != follower,
                "round {round}: one of the two, never both"
            );
        }
        app.stop().await;
    }
);

app_test!(
    the_csv_export_is_the_list_as_searched_and_only_what_the_user_may_see,
    |app| {
        let admin = browser();
        app.set_up_admin(&admin).await;
        let shared = create_person(&app, &admin, "Anna", "Esporta").await;
        let secret = create_person(&app, &admin, "Bice", "Esporta").await;
        let _ = create_person(&app, &admin, "Carlo", "Altro").await;
        let formula = create_person(&app, &admin, "=HYPERLINK(\"http://x\")", "Esporta").await;
        let _: ContactPeople = app
            .ok::<SetVisibility, _>(
                &admin,
                json!({ "contact_id": secret, "visibility": "private" }),
            )
            .await;
        let contact: Contact = app
            .ok::<GetContact, _>(&admin, json!({ "id": shared }))
            .await;
        let _: Contact = app
            .ok::<UpdateContact, _>(
                &admin,
                json!({ "edit": { "id": shared, "version": contact.version, "changes": [
                    [{ "Standard": "City" }, "Forlì"],
                    [{ "Standard": "LeadStatus" }, "hot"],
                ] } }),
            )
            .await;
        let export = |tab: Client, query: &'static str| {
            let url = app.url(&format!("/contacts/export.csv{query}"));
            async move {
                let response = tab.get(url).send().await.unwrap();
                assert_eq!(response.status(), 200);
                assert!(response.headers()["content-disposition"]
                    .to_str()
                    .unwrap()
                    .starts_with("attachment; filename=\"contacts-"));
                response.text().await.unwrap()
            }
        };
        let member = app.signed_in_user("Bruno", "bruno@example.it", false).await;
        let csv = export(member, "?q=esporta&sort=name").await;
        let lines: Vec<&str> = csv.lines().collect();
        assert!(
            lines[0].starts_with("\u{feff}First name,Last name,Email,Phone"),
            "{}",
            lines[0]
        );
        assert_eq!(
            lines.len(),
            3,
            "the header, Anna and the formula one — not Bice: {csv}"
        );
        assert!(
            lines[1].starts_with("\"'=HYPERLINK(\"\"http://x\"\")\",Esporta"),
            "{}",
            lines[1]
        );
        assert!(lines[2].starts_with("Anna,Esporta,"), "{}", lines[2]);
        assert!(
            lines[2].contains(",Forlì,") && lines[2].contains(",Hot,"),
            "{}",
            lines[2]
        );
        let _ = formula;

        let all = export(admin, "").await;
        assert_eq!(all.lines().count(), 5, "an admin sees every contact: {all}");
        let signed_out = browser()
            .get(app.url("/contacts/export.csv"))
            .send()
            .await
            .unwrap();
        assert!(signed_out.status().is_redirection());
        app.stop().await;
    }
);
