//! Messages to contacts: sent now or scheduled, each sent once at its time by the dispatcher, or
//! failed with the reason — over a real SMTP server on 127.0.0.1, on SQLite and PostgreSQL.
//! Most tests drive the dispatcher themselves (`run_due` at a chosen time); one lets the server's
//! own dispatcher work.

mod common;

use app::{
    contacts::{Contact, CreateContact, GetContact, SetDnd, UpdateContact},
    conversations::{
        dispatcher::{Dispatcher, RunReport, LEASE, RETRY_FOR},
        store, BlockedBecause, CancelScheduled, Conversation, EditScheduled, Message,
        MessageStatus, PreviewSchedule, ScheduleMessage, SchedulePreview, SendMessage,
        SendScheduledNow, Thread,
    },
    error::{AppError, Problem},
    with_db,
};
use chrono::{DateTime, Duration, Utc};
use common::{app_error, browser, Answer, TestApp};
use reqwest::Client;
use serde_json::json;
use uuid::Uuid;

/// A person with an email address; returns their id.
async fn person(app: &TestApp, tab: &Client, first: &str, email: Option<&str>) -> Uuid {
    let id: Uuid = app
        .ok::<CreateContact, _>(
            tab,
            json!({ "kind": "person", "first_name": first, "last_name": "Rossi" }),
        )
        .await;
    if let Some(email) = email {
        let contact: Contact = app.ok::<GetContact, _>(tab, json!({ "id": id })).await;
        let _: Contact = app
            .ok::<UpdateContact, _>(
                tab,
                json!({ "edit": { "id": id, "version": contact.version, "changes": [[{ "Standard": "Email" }, email]] } }),
            )
            .await;
    }
    id
}

fn email(subject: &str, body: &str) -> serde_json::Value {
    json!({ "channel": "email", "subject": subject, "body": body })
}

/// `at` as the wall clock of `zone` shows it, for the Schedule dialog.
fn local(at: DateTime<Utc>, zone: &str) -> String {
    let tz: chrono_tz::Tz = zone.parse().unwrap();
    at.with_timezone(&tz)
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

async fn thread(app: &TestApp, tab: &Client, contact: Uuid) -> Vec<Message> {
    app.ok::<Conversation, Thread>(tab, json!({ "contact_id": contact }))
        .await
        .messages
}

async fn status(app: &TestApp, id: Uuid) -> (MessageStatus, Option<String>) {
    let m = store::message(&app.db, id).await.unwrap();
    (m.status, m.failure)
}

fn now() -> DateTime<Utc> {
    app::db::now()
}

dispatch_test!(
    a_message_sent_now_goes_once_with_its_own_message_id,
    |app| {
        let tab = browser();
        app.set_up_admin(&tab).await;
        let giulia = person(&app, &tab, "Giulia", Some("giulia@example.it")).await;
        let sent: Message = app
        .ok::<SendMessage, _>(
            &tab,
            json!({ "contact_id": giulia, "draft": email(" Preventivo   cucina ", "Buongiorno Giulia,\necco il preventivo.") }),
        )
        .await;
        assert_eq!(sent.status, MessageStatus::Sending, "queued, not yet sent");
        assert_eq!(sent.subject.as_deref(), Some("Preventivo cucina"));
        assert_eq!(sent.author_name.as_deref(), Some("Anna Admin"));

        let report = app.dispatcher().run_due(now()).await.unwrap();
        assert_eq!(
            report,
            RunReport {
                sent: 1,
                failed: 0,
                retried: 0
            }
        );
        let inbox = app.inbox.clone().unwrap();
        let mail = inbox.wait_for("giulia@example.it").await;
        assert!(
            mail.data.contains("Subject: Preventivo cucina"),
            "{}",
            mail.data
        );
        assert!(mail.data.contains("From: Rubrica <crm@example.it>"));
        assert!(
            mail.data
                .contains("Reply-To: \"Anna Admin\" <anna.admin@example.it>")
                || mail
                    .data
                    .contains("Reply-To: Anna Admin <anna.admin@example.it>"),
            "{}",
            mail.data
        );
        assert!(mail.data.contains("text/plain") && mail.data.contains("text/html"));
        let key: String =
            with_db!(&app.db, pool => sqlx::query_scalar("SELECT message_key FROM messages")
        .fetch_one(pool)
        .await)
            .unwrap();
        assert!(
            mail.data
                .to_lowercase()
                .contains(&format!("message-id: <{key}@example.it>")),
            "{}",
            mail.data
        );

        // Sent, once: running again sends nothing more.
        assert_eq!(status(&app, sent.id).await.0, MessageStatus::Sent);
        assert_eq!(
            app.dispatcher().run_due(now()).await.unwrap(),
            RunReport::default()
        );
        assert_eq!(inbox.all().len(), 1);
        let thread = thread(&app, &tab, giulia).await;
        assert_eq!(thread.len(), 1);
        assert!(thread[0].sent_at.is_some());
    }
);

dispatch_test!(a_scheduled_email_waits_for_its_time_in_its_zone, |app| {
    let tab = browser();
    app.set_up_admin(&tab).await;
    let marco = person(&app, &tab, "Marco", Some("marco@example.it")).await;
    let at = (now() + Duration::hours(3)).with_timezone(&Utc);
    let at = at - Duration::nanoseconds(at.timestamp_subsec_nanos() as i64);
    let scheduled: Message = app
        .ok::<ScheduleMessage, _>(
            &tab,
            json!({ "contact_id": marco, "draft": email("Promemoria", "A domani."), "local": local(at, "America/New_York"), "zone": "America/New_York" }),
        )
        .await;
    assert_eq!(scheduled.status, MessageStatus::Scheduled);
    assert_eq!(
        scheduled.send_at,
        Some(at),
        "New York's wall clock, the same instant"
    );
    assert_eq!(scheduled.send_zone.as_deref(), Some("America/New_York"));

    let dispatcher = app.dispatcher();
    assert_eq!(dispatcher.run_due(now()).await.unwrap().sent, 0);
    assert_eq!(
        dispatcher
            .run_due(at - Duration::seconds(1))
            .await
            .unwrap()
            .sent,
        0
    );
    assert_eq!(
        store::next_due(&app.db).await.unwrap(),
        Some(at),
        "what the dispatcher sleeps until"
    );
    assert_eq!(dispatcher.run_due(at).await.unwrap().sent, 1);
    app.inbox
        .as_ref()
        .unwrap()
        .wait_for("marco@example.it")
        .await;
    assert_eq!(status(&app, scheduled.id).await.0, MessageStatus::Sent);
});

dispatch_test!(
    a_scheduled_message_can_be_edited_sent_now_or_cancelled_until_it_is_claimed,
    |app| {
        let tab = browser();
        app.set_up_admin(&tab).await;
        let lia = person(&app, &tab, "Lia", Some("lia@example.it")).await;
        let later = local(now() + Duration::days(2), "Europe/Rome");
        let schedule = |subject: &str| json!({ "contact_id": lia, "draft": email(subject, "Testo"), "local": later, "zone": "Europe/Rome" });
        let first: Message = app.ok::<ScheduleMessage, _>(&tab, schedule("Prima")).await;
        let second: Message = app
            .ok::<ScheduleMessage, _>(&tab, schedule("Seconda"))
            .await;
        let third: Message = app.ok::<ScheduleMessage, _>(&tab, schedule("Terza")).await;

        // Edited: new words, new time.
        let sooner = now() + Duration::hours(1);
        let edited: Message = app
            .ok::<EditScheduled, _>(
                &tab,
                json!({ "id": first.id, "draft": email("Prima, corretta", "Testo nuovo"), "local": local(sooner, "UTC"), "zone": "UTC" }),
            )
            .await;
        assert_eq!(edited.subject.as_deref(), Some("Prima, corretta"));
        assert_eq!(edited.status, MessageStatus::Scheduled);
        assert_eq!(edited.send_zone.as_deref(), Some("UTC"));

        // Cancelled: never goes.
        let cancelled: Message = app
            .ok::<CancelScheduled, _>(&tab, json!({ "id": second.id }))
            .await;
        assert_eq!(cancelled.status, MessageStatus::Cancelled);

        // Sent now: goes at the next run, not in two days.
        let now_going: Message = app
            .ok::<SendScheduledNow, _>(&tab, json!({ "id": third.id }))
            .await;
        assert_eq!(now_going.status, MessageStatus::Sending);
        assert_eq!(app.dispatcher().run_due(now()).await.unwrap().sent, 1);
        let inbox = app.inbox.clone().unwrap();
        assert!(inbox
            .wait_for("lia@example.it")
            .await
            .data
            .contains("Subject: Terza"));

        // Once claimed for sending, it is too late to change or cancel it.
        let claimed = store::claim_due(&app.db, sooner, sooner + LEASE, 10)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        for response in [
            app.call_value::<CancelScheduled>(&tab, json!({ "id": first.id })).await,
            app.call_value::<SendScheduledNow>(&tab, json!({ "id": first.id })).await,
            app.call_value::<EditScheduled>(&tab, json!({ "id": first.id, "draft": email("X", "Y"), "local": later, "zone": "Europe/Rome" })).await,
        ] {
            assert_eq!(app_error(response).await.field_problem("message"), Some(Problem::AlreadySending));
        }
        // Days later, the claimed one has gone (its claim ran out; it was sent by the next
        // run) and the cancelled one never did.
        let later_on = app
            .dispatcher()
            .run_due(now() + Duration::days(3))
            .await
            .unwrap();
        assert_eq!(later_on.sent, 1);
        assert_eq!(status(&app, first.id).await.0, MessageStatus::Sent);
        assert_eq!(status(&app, second.id).await.0, MessageStatus::Cancelled);
    }
);

dispatch_test!(
    at_send_time_dnd_unsubscribing_deletion_and_a_missing_address_stop_a_message,
    |app| {
        let tab = browser();
        app.set_up_admin(&tab).await;
        let later = local(now() + Duration::hours(1), "Europe/Rome");
        let schedule = |contact: Uuid, channel: &str| json!({ "contact_id": contact, "draft": { "channel": channel, "subject": "Ciao", "body": "Ciao!" }, "local": later, "zone": "Europe/Rome" });
        let quiet = person(&app, &tab, "Quieta", Some("quieta@example.it")).await;
        let gone = person(&app, &tab, "Partita", Some("partita@example.it")).await;
        let away = person(&app, &tab, "Disiscritta", Some("away@example.it")).await;
        let nowhere = person(&app, &tab, "Senza", Some("senza@example.it")).await;
        let to_quiet: Message = app
            .ok::<ScheduleMessage, _>(&tab, schedule(quiet, "email"))
            .await;
        let to_gone: Message = app
            .ok::<ScheduleMessage, _>(&tab, schedule(gone, "email"))
            .await;
        let to_away: Message = app
            .ok::<ScheduleMessage, _>(&tab, schedule(away, "email"))
            .await;
        let to_nowhere: Message = app
            .ok::<ScheduleMessage, _>(&tab, schedule(nowhere, "email"))
            .await;

        // After scheduling: Quieta asks not to be emailed, Partita is deleted, Disiscritta
        // unsubscribes, Senza's address is taken off her card.
        let _: app::contacts::Dnd = app
            .ok::<SetDnd, _>(
                &tab,
                json!({ "contact_id": quiet, "channel": "email", "on": true }),
            )
            .await;
        with_db!(&app.db, pool => sqlx::query("DELETE FROM contacts WHERE id = $1").bind(gone).execute(pool).await.map(|r| r.rows_affected())).unwrap();
        with_db!(&app.db, pool => sqlx::query("UPDATE contacts SET email_subscription = 'unsubscribed' WHERE id = $1").bind(away).execute(pool).await.map(|r| r.rows_affected())).unwrap();
        let senza: Contact = app
            .ok::<GetContact, _>(&tab, json!({ "id": nowhere }))
            .await;
        let _: Contact = app
            .ok::<UpdateContact, _>(
                &tab,
                json!({ "edit": { "id": nowhere, "version": senza.version, "changes": [[{ "Standard": "Email" }, ""]] } }),
            )
            .await;

        let report = app
            .dispatcher()
            .run_due(now() + Duration::hours(2))
            .await
            .unwrap();
        assert_eq!(
            report,
            RunReport {
                sent: 0,
                failed: 3,
                retried: 0
            }
        );
        assert!(
            app.inbox.as_ref().unwrap().all().is_empty(),
            "nothing went out"
        );
        let reason = |(status, failure): (MessageStatus, Option<String>)| {
            assert_eq!(status, MessageStatus::Failed);
            failure.as_deref().and_then(BlockedBecause::from_key)
        };
        assert_eq!(
            reason(status(&app, to_quiet.id).await),
            Some(BlockedBecause::DoNotDisturb)
        );
        assert_eq!(
            reason(status(&app, to_away.id).await),
            Some(BlockedBecause::Unsubscribed)
        );
        assert_eq!(
            reason(status(&app, to_nowhere.id).await),
            Some(BlockedBecause::NoAddress)
        );
        assert!(
            store::message(&app.db, to_gone.id).await.is_err(),
            "a deleted contact takes its messages with it"
        );
        let failed = thread(&app, &tab, quiet).await;
        assert_eq!(
            failed[0].failure_text(app::i18n::Locale::En).as_deref(),
            Some("Do Not Disturb is on for this channel.")
        );

        // A channel without a provider is refused when written, not "sent": so is one under
        // Do Not Disturb, and one the contact has no address for.
        let texted = person(&app, &tab, "Sms", None).await;
        let refused = app
            .call_value::<ScheduleMessage>(&tab, schedule(texted, "sms"))
            .await;
        assert_eq!(
            app_error(refused).await.field_problem("channel"),
            Some(Problem::ChannelNotSetUp)
        );
        let refused = app
            .call_value::<SendMessage>(
                &tab,
                json!({ "contact_id": texted, "draft": email("Ciao", "Ciao!") }),
            )
            .await;
        assert_eq!(
            app_error(refused).await.field_problem("channel"),
            Some(Problem::NoAddress)
        );
        let refused = app
            .call_value::<SendMessage>(
                &tab,
                json!({ "contact_id": quiet, "draft": email("Ciao", "Ciao!") }),
            )
            .await;
        assert_eq!(
            app_error(refused).await.field_problem("channel"),
            Some(Problem::DoNotDisturb)
        );
        // And a draft is checked as typed.
        let empty = app
            .call_value::<SendMessage>(&tab, json!({ "contact_id": away, "draft": email("", " ") }))
            .await;
        let error = app_error(empty).await;
        assert_eq!(
            error.field_problem("subject"),
            Some(Problem::SubjectMissing)
        );
        assert_eq!(error.field_problem("body"), Some(Problem::MessageEmpty));
    }
);

dispatch_test!(
    transient_failures_are_retried_then_given_up_and_permanent_ones_fail_at_once,
    |app| {
        let tab = browser();
        app.set_up_admin(&tab).await;
        let inbox = app.inbox.clone().unwrap();
        let busy = person(&app, &tab, "Occupata", Some("busy@example.it")).await;
        let sent: Message = app
            .ok::<SendMessage, _>(
                &tab,
                json!({ "contact_id": busy, "draft": email("Uno", "Testo") }),
            )
            .await;
        let due = store::message(&app.db, sent.id)
            .await
            .unwrap()
            .send_at
            .unwrap();

        // 452: tried again 30 s later, then 60 s after that.
        inbox.answer(Answer::Busy);
        let dispatcher = app.dispatcher();
        assert_eq!(dispatcher.run_due(due).await.unwrap().retried, 1);
        let m = store::message(&app.db, sent.id).await.unwrap();
        assert_eq!(m.status, MessageStatus::Sending, "still on its way");
        assert!(
            m.failure.as_deref().unwrap_or_default().contains("452"),
            "{:?}",
            m.failure
        );
        assert_eq!(
            dispatcher
                .run_due(due + Duration::seconds(29))
                .await
                .unwrap(),
            RunReport::default()
        );
        assert_eq!(
            dispatcher
                .run_due(due + Duration::seconds(30))
                .await
                .unwrap()
                .retried,
            1
        );
        assert_eq!(
            dispatcher
                .run_due(due + Duration::seconds(89))
                .await
                .unwrap(),
            RunReport::default()
        );

        // The server recovers: the next try goes through.
        inbox.answer(Answer::Accept);
        assert_eq!(
            dispatcher
                .run_due(due + Duration::seconds(90))
                .await
                .unwrap()
                .sent,
            1
        );
        assert_eq!(status(&app, sent.id).await.0, MessageStatus::Sent);
        assert_eq!(inbox.all().len(), 1);

        // Busy for longer than the retries last: it fails, saying so.
        inbox.answer(Answer::Busy);
        let second: Message = app
            .ok::<SendMessage, _>(
                &tab,
                json!({ "contact_id": busy, "draft": email("Due", "Testo") }),
            )
            .await;
        let due = store::message(&app.db, second.id)
            .await
            .unwrap()
            .send_at
            .unwrap();
        let mut at = due;
        let mut tries = 0;
        while status(&app, second.id).await.0 == MessageStatus::Sending {
            dispatcher.run_due(at).await.unwrap();
            tries += 1;
            at += Duration::minutes(15);
            assert!(
                at - due < RETRY_FOR + Duration::hours(1),
                "it gives up in time"
            );
        }
        let (final_status, failure) = status(&app, second.id).await;
        assert_eq!(final_status, MessageStatus::Failed);
        assert_eq!(
            failure.as_deref().and_then(BlockedBecause::from_key),
            Some(BlockedBecause::GaveUp)
        );
        assert!(tries > 3, "{tries}");

        // 550: failed at once, in the server's words.
        inbox.answer(Answer::NoMailbox);
        let third: Message = app
            .ok::<SendMessage, _>(
                &tab,
                json!({ "contact_id": busy, "draft": email("Tre", "Testo") }),
            )
            .await;
        assert_eq!(dispatcher.run_due(now()).await.unwrap().failed, 1);
        let (final_status, failure) = status(&app, third.id).await;
        assert_eq!(final_status, MessageStatus::Failed);
        assert!(failure.unwrap().contains("550"));
    }
);

dispatch_test!(
    a_message_left_mid_send_by_a_crashed_server_goes_after_its_lease_with_the_same_message_id,
    |app| {
        let tab = browser();
        app.set_up_admin(&tab).await;
        let ada = person(&app, &tab, "Ada", Some("ada@example.it")).await;
        let sent: Message = app
            .ok::<SendMessage, _>(
                &tab,
                json!({ "contact_id": ada, "draft": email("Dopo il crash", "Testo") }),
            )
            .await;
        // A server claims it, then dies before finishing.
        let t0 = now();
        let claimed = store::claim_due(&app.db, t0, t0 + LEASE, 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        // Within the lease nobody else takes it…
        assert_eq!(
            app.dispatcher()
                .run_due(t0 + LEASE - Duration::seconds(1))
                .await
                .unwrap(),
            RunReport::default()
        );
        // …after it, it goes, once.
        assert_eq!(app.dispatcher().run_due(t0 + LEASE).await.unwrap().sent, 1);
        let mail = app.inbox.as_ref().unwrap().wait_for("ada@example.it").await;
        assert!(mail.data.to_lowercase().contains(&format!(
            "message-id: <{}@example.it>",
            claimed[0].message_key
        )));
        // The dead server's late finish changes nothing: the lease is no longer its own.
        let late = store::finish(
            &app.db,
            &claimed[0],
            &store::Outcome::Failed {
                reason: "late".into(),
            },
            now(),
        )
        .await
        .unwrap();
        assert!(!late);
        assert_eq!(status(&app, sent.id).await.0, MessageStatus::Sent);
    }
);

dispatch_test!(
    two_dispatchers_on_one_database_never_send_a_message_twice,
    |app| {
        let tab = browser();
        app.set_up_admin(&tab).await;
        let mut contacts = Vec::new();
        for i in 0..5 {
            contacts.push(
                person(
                    &app,
                    &tab,
                    &format!("P{i}"),
                    Some(&format!("p{i}@example.it")),
                )
                .await,
            );
        }
        for n in 0..60 {
            let _: Message = app
            .ok::<SendMessage, _>(&tab, json!({ "contact_id": contacts[n % 5], "draft": email(&format!("Messaggio {n}"), "Testo") }))
            .await;
        }
        // Two servers' dispatchers, at the same moment, on the same database.
        let (one, two): (Dispatcher, Dispatcher) = (app.dispatcher(), app.dispatcher());
        let at = now();
        let (a, b) = tokio::join!(one.run_due(at), two.run_due(at));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.sent + b.sent, 60);
        let inbox = app.inbox.clone().unwrap();
        for _ in 0..100 {
            if inbox.all().len() >= 60 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let mut subjects: Vec<String> = inbox
            .all()
            .iter()
            .filter_map(|m| {
                m.data
                    .lines()
                    .find(|l| l.starts_with("Subject: "))
                    .map(str::to_string)
            })
            .collect();
        assert_eq!(subjects.len(), 60);
        subjects.sort();
        subjects.dedup();
        assert_eq!(subjects.len(), 60, "each exactly once");
    }
);

app_test!(times_are_checked_and_daylight_saving_is_explicit, |app| {
    let tab = browser();
    app.set_up_admin(&tab).await;
    let next_year = (now() + Duration::days(366)).format("%Y").to_string();
    // The clocks skip 02:00–03:00 in Rome on the last Sunday of March.
    let year: i32 = next_year.parse().unwrap();
    let last_sunday = |month: u32| {
        let mut day =
            chrono::NaiveDate::from_ymd_opt(year, month + 1, 1).unwrap() - Duration::days(1);
        while chrono::Datelike::weekday(&day) != chrono::Weekday::Sun {
            day -= Duration::days(1);
        }
        day
    };
    let skipped = format!("{}T02:30", last_sunday(3));
    let refused = app
        .call_value::<PreviewSchedule>(
            &tab,
            json!({ "local": skipped, "zone": "Europe/Rome", "user_zone": "Europe/Rome" }),
        )
        .await;
    assert_eq!(
        app_error(refused).await.field_problem("send_at"),
        Some(Problem::TimeSkipped {
            time: "02:30".into(),
            zone: "Europe/Rome".into()
        })
    );
    // 02:30 on the last Sunday of October happens twice: the first is used, and said.
    let twice = format!("{}T02:30", last_sunday(10));
    let preview: SchedulePreview = app
        .ok::<PreviewSchedule, _>(
            &tab,
            json!({ "local": twice, "zone": "Europe/Rome", "user_zone": "America/New_York" }),
        )
        .await;
    assert!(preview.first_of_two);
    assert_eq!(preview.at.format("%H:%M").to_string(), "00:30");
    let past = app
        .call_value::<PreviewSchedule>(&tab, json!({ "local": "2020-01-01T10:00", "zone": "Europe/Rome", "user_zone": "Europe/Rome" }))
        .await;
    assert_eq!(
        app_error(past).await.field_problem("send_at"),
        Some(Problem::TimeInPast)
    );
    app.stop().await;
});

mail_test!(
    the_server_s_own_dispatcher_sends_without_anyone_asking,
    |app| {
        let tab = browser();
        app.set_up_admin(&tab).await;
        let bea = person(&app, &tab, "Bea", Some("bea@example.it")).await;
        // Sent now: the dispatcher is woken at once.
        let _: Message = app
            .ok::<SendMessage, _>(
                &tab,
                json!({ "contact_id": bea, "draft": email("Subito", "Ora") }),
            )
            .await;
        let inbox = app.inbox.clone().unwrap();
        inbox.wait_for("bea@example.it").await;
        // Scheduled two seconds ahead: the dispatcher sleeps until then, and sends it.
        let at = now() + Duration::seconds(2);
        let scheduled: Message = app
        .ok::<ScheduleMessage, _>(&tab, json!({ "contact_id": bea, "draft": email("Tra poco", "Fra due secondi"), "local": local(at, "UTC"), "zone": "UTC" }))
        .await;
        for _ in 0..200 {
            if inbox.all().len() == 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(inbox.all().len(), 2, "both arrived");
        assert!(now() >= scheduled.send_at.unwrap(), "not before its time");
        app.stop().await;
    }
);

mail_test!(
    a_member_without_access_gets_not_found_for_its_conversation,
    |app| {
        let admin = browser();
        app.set_up_admin(&admin).await;
        let secret = person(&app, &admin, "Segreta", Some("s@example.it")).await;
        let _: app::contacts::header::ContactPeople = app
            .ok::<app::contacts::SetVisibility, _>(
                &admin,
                json!({ "contact_id": secret, "visibility": "private" }),
            )
            .await;
        let later = local(now() + Duration::hours(1), "UTC");
        let scheduled: Message = app
        .ok::<ScheduleMessage, _>(&admin, json!({ "contact_id": secret, "draft": email("X", "Y"), "local": later, "zone": "UTC" }))
        .await;
        let member = app.signed_in_user("Bruno", "bruno@example.it", false).await;
        for response in [
        app.call_value::<Conversation>(&member, json!({ "contact_id": secret })).await,
        app.call_value::<SendMessage>(&member, json!({ "contact_id": secret, "draft": email("X", "Y") })).await,
        app.call_value::<ScheduleMessage>(&member, json!({ "contact_id": secret, "draft": email("X", "Y"), "local": later, "zone": "UTC" })).await,
        app.call_value::<EditScheduled>(&member, json!({ "id": scheduled.id, "draft": email("X", "Y"), "local": later, "zone": "UTC" })).await,
        app.call_value::<SendScheduledNow>(&member, json!({ "id": scheduled.id })).await,
        app.call_value::<CancelScheduled>(&member, json!({ "id": scheduled.id })).await,
        app.call_value::<app::conversations::MarkConversation>(&member, json!({ "contact_id": secret, "read": true })).await,
    ] {
        assert_eq!(response.status(), 404);
        assert_eq!(app_error(response).await, AppError::NotFound);
    }
        app.stop().await;
    }
);

dispatch_test!(
    merge_fields_are_filled_with_the_contact_s_data_of_the_moment_it_is_sent,
    |app| {
        let tab = browser();
        app.set_up_admin(&tab).await;
        let giulia = person(&app, &tab, "Giulia", Some("giulia@example.it")).await;
        let at = now() + Duration::hours(1);
        let scheduled: Message = app
            .ok::<ScheduleMessage, _>(
                &tab,
                json!({
                    "contact_id": giulia,
                    "draft": email("Per {{contact.first_name}}", "Ciao {{ contact.first_name }} di {{contact.city}}{{contact.role}}.\n{{user.name}}, {{workspace.name}}"),
                    "local": local(at, "UTC"),
                    "zone": "UTC",
                }),
            )
            .await;
        // Written with "Giulia"; by the time it goes she is "Giulietta", from Torino.
        let contact: Contact = app.ok::<GetContact, _>(&tab, json!({ "id": giulia })).await;
        let _: Contact = app
            .ok::<UpdateContact, _>(
                &tab,
                json!({ "edit": { "id": giulia, "version": contact.version, "changes": [
                    [{ "Standard": "FirstName" }, "Giulietta"],
                    [{ "Standard": "City" }, "Torino"],
                ] } }),
            )
            .await;
        assert_eq!(app.dispatcher().run_due(at).await.unwrap().sent, 1);
        let mail = app
            .inbox
            .as_ref()
            .unwrap()
            .wait_for("giulia@example.it")
            .await;
        assert!(
            mail.data.contains("Subject: Per Giulietta"),
            "{}",
            mail.data
        );
        assert!(
            mail.data
                .contains("Ciao Giulietta di Torino.\r\nAnna Admin, Rubrica"),
            "an empty field (role) becomes nothing: {}",
            mail.data
        );
        // The thread shows what was sent.
        let sent = store::message(&app.db, scheduled.id).await.unwrap();
        assert_eq!(sent.subject.as_deref(), Some("Per Giulietta"));
        assert!(sent.body.starts_with("Ciao Giulietta di Torino."));
    }
);

dispatch_test!(
    an_email_can_be_unsubscribed_from_in_one_click_and_nothing_more_is_sent,
    |app| {
        let tab = browser();
        app.set_up_admin(&tab).await;
        let sara = person(&app, &tab, "Sara", Some("sara@example.it")).await;
        let first: Message = app
            .ok::<SendMessage, _>(
                &tab,
                json!({ "contact_id": sara, "draft": email("Novità", "Ecco le novità.") }),
            )
            .await;
        let later = now() + Duration::hours(1);
        let queued: Message = app
            .ok::<ScheduleMessage, _>(
                &tab,
                json!({ "contact_id": sara, "draft": email("Ancora", "Altre novità."), "local": local(later, "UTC"), "zone": "UTC" }),
            )
            .await;
        app.dispatcher().run_due(now()).await.unwrap();
        let mail = app
            .inbox
            .as_ref()
            .unwrap()
            .wait_for("sara@example.it")
            .await;
        let key: String = with_db!(&app.db, pool => sqlx::query_scalar(
            "SELECT message_key FROM messages WHERE id = $1",
        )
        .bind(first.id)
        .fetch_one(pool)
        .await)
        .unwrap();
        let link = format!("https://crm.example.it/unsubscribe/{key}");
        assert!(
            mail.data.contains(&format!("List-Unsubscribe: <{link}>")),
            "{}",
            mail.data
        );
        assert!(mail
            .data
            .contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(mail.data.contains(&link), "the footer links it too");

        // Opening the link only asks: mail scanners follow links.
        let page = reqwest::Client::new()
            .get(app.url(&format!("/unsubscribe/{key}")))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("Stop emails from Rubrica to s•••@example.it?"),
            "{html}"
        );
        let contact: Contact = app.ok::<GetContact, _>(&tab, json!({ "id": sara })).await;
        assert_eq!(contact.email_subscription, "subscribed");

        // A mail program's one-click unsubscribe: a cross-site post, no session.
        let done = reqwest::Client::new()
            .post(app.url(&format!("/unsubscribe/{key}")))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", "https://mail.example.com")
            .header("sec-fetch-site", "cross-site")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), 200);
        let contact: Contact = app.ok::<GetContact, _>(&tab, json!({ "id": sara })).await;
        assert_eq!(contact.email_subscription, "unsubscribed");
        assert!(contact.dnd.email);
        let history: app::audit::AuditPage = app
            .ok::<app::audit::ContactHistory, _>(&tab, json!({ "contact_id": sara }))
            .await;
        let fields: Vec<&str> = history.entries.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"email_subscription") && fields.contains(&"dnd:email"));

        // The message still queued for her fails with the reason, and nothing more arrives.
        app.dispatcher().run_due(later).await.unwrap();
        let (final_status, failure) = status(&app, queued.id).await;
        assert_eq!(final_status, MessageStatus::Failed);
        assert_eq!(
            failure.as_deref().and_then(BlockedBecause::from_key),
            Some(BlockedBecause::DoNotDisturb)
        );
        assert_eq!(app.inbox.as_ref().unwrap().all().len(), 1);

        let unknown = reqwest::Client::new()
            .post(app.url("/unsubscribe/not-a-key"))
            .send()
            .await
            .unwrap();
        assert_eq!(unknown.status(), 404);
    }
);

dispatch_test!(
    a_long_thread_shows_the_newest_and_earlier_ones_on_request,
    |app| {
        let tab = browser();
        app.set_up_admin(&tab).await;
        let ada = person(&app, &tab, "Ada", Some("ada@example.it")).await;
        let at = (now() + Duration::days(2)).with_timezone(&Utc);
        for n in 1..=5 {
            let _: Message = app
            .ok::<ScheduleMessage, _>(
                &tab,
                json!({ "contact_id": ada, "draft": email(&format!("Nota {n}"), "…"), "local": local(at, "Europe/Rome"), "zone": "Europe/Rome" }),
            )
            .await;
        }
        let subjects = |thread: &Thread| -> Vec<String> {
            thread
                .messages
                .iter()
                .map(|m| m.subject.clone().unwrap_or_default())
                .collect()
        };
        // The newest two, oldest first, and word that there are more.
        let newest: Thread = app
            .ok::<Conversation, _>(&tab, json!({ "contact_id": ada, "shown": 2 }))
            .await;
        assert_eq!(subjects(&newest), ["Nota 4", "Nota 5"]);
        assert!(newest.earlier);
        // Asking for more shows them, down to the first.
        let more: Thread = app
            .ok::<Conversation, _>(&tab, json!({ "contact_id": ada, "shown": 4 }))
            .await;
        assert_eq!(subjects(&more), ["Nota 2", "Nota 3", "Nota 4", "Nota 5"]);
        assert!(more.earlier);
        let all: Thread = app
            .ok::<Conversation, _>(&tab, json!({ "contact_id": ada, "shown": 5 }))
            .await;
        assert_eq!(all.messages.len(), 5);
        assert!(!all.earlier, "nothing older than the first");
        // Without a length, the first 200.
        let default: Thread = app
            .ok::<Conversation, _>(&tab, json!({ "contact_id": ada }))
            .await;
        assert_eq!(default, all);
    }
);
