//! SMS and WhatsApp: messages go through a Twilio-compatible API and the WhatsApp Cloud API
//! (played here by a local server that speaks their formats and can be told to fail), and the
//! providers' signed webhooks move them to Delivered or Failed and bring the contacts' replies
//! into the thread — on SQLite and PostgreSQL.

mod common;

use app::{
    contacts::{Contact, CreateContact, GetContact, UpdateContact},
    conversations::{
        providers::{twilio_signature, whatsapp_signature},
        store, Conversation, Direction, Message, MessageStatus, SendMessage, Thread,
    },
    with_db,
};
use chrono::Duration;
use common::{browser, TestApp, TWILIO_TOKEN, WHATSAPP_SECRET};
use reqwest::Client;
use serde_json::json;
use uuid::Uuid;

/// A person with a mobile number; returns their id.
async fn person(app: &TestApp, tab: &Client, first: &str, phone: &str) -> Uuid {
    let id: Uuid = app
        .ok::<CreateContact, _>(
            tab,
            json!({ "kind": "person", "first_name": first, "last_name": "Verdi" }),
        )
        .await;
    let contact: Contact = app.ok::<GetContact, _>(tab, json!({ "id": id })).await;
    let _: Contact = app
        .ok::<UpdateContact, _>(
            tab,
            json!({ "edit": { "id": id, "version": contact.version, "changes": [[{ "Standard": "Phone" }, phone]] } }),
        )
        .await;
    id
}

fn text(channel: &str, body: &str) -> serde_json::Value {
    json!({ "channel": channel, "subject": "", "body": body })
}

async fn thread(app: &TestApp, tab: &Client, contact: Uuid) -> Vec<Message> {
    app.ok::<Conversation, Thread>(tab, json!({ "contact_id": contact }))
        .await
        .messages
}

async fn key_of(app: &TestApp, id: Uuid) -> String {
    with_db!(&app.db, pool => sqlx::query_scalar("SELECT message_key FROM messages WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await)
    .unwrap()
}

/// Posts `fields` to a Twilio webhook as Twilio does: form-encoded, signed for the public URL.
async fn twilio_webhook(
    app: &TestApp,
    path_and_query: &str,
    fields: &[(&str, &str)],
    sign: bool,
) -> reqwest::Response {
    let owned: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let signature = if sign {
        twilio_signature(
            TWILIO_TOKEN,
            &format!("https://crm.example.it{path_and_query}"),
            &owned,
        )
    } else {
        "d3Jvbmc=".to_string()
    };
    Client::new()
        .post(app.url(path_and_query))
        .header("x-twilio-signature", signature)
        .header("sec-fetch-site", "cross-site")
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// Posts a WhatsApp Cloud API notification, signed with the app secret (or not).
async fn whatsapp_webhook(
    app: &TestApp,
    notification: serde_json::Value,
    sign: bool,
) -> reqwest::Response {
    let body = notification.to_string();
    let signature = if sign {
        whatsapp_signature(WHATSAPP_SECRET, body.as_bytes())
    } else {
        whatsapp_signature("another secret", body.as_bytes())
    };
    Client::new()
        .post(app.url("/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(body)
        .send()
        .await
        .unwrap()
}

fn whatsapp_value(value: serde_json::Value) -> serde_json::Value {
    json!({ "object": "whatsapp_business_account", "entry": [{ "id": "WABA", "changes": [{ "field": "messages", "value": value }] }] })
}

provider_test!(
    an_sms_goes_through_the_provider_and_its_signed_delivery_report_comes_back,
    |app| {
        let tab = browser();
        app.set_up_admin(&tab).await;
        let giulia = person(&app, &tab, "Giulia", "333 123 4567").await;
        let sent: Message = app
            .ok::<SendMessage, _>(&tab, json!({ "contact_id": giulia, "draft": text("sms", "Ciao {{contact.first_name}}, a domani!") }))
            .await;
        assert_eq!(
            app.dispatcher().run_due(app::db::now()).await.unwrap().sent,
            1
        );

        let provider = app.provider.clone().unwrap();
        let asked = provider.requests();
        assert_eq!(asked.len(), 1);
        let request = &asked[0];
        assert_eq!(request.path, "/2010-04-01/Accounts/AC0123/Messages.json");
        // Basic auth: the account SID and the auth token.
        assert_eq!(
            request.authorization,
            "Basic QUMwMTIzOnR3aWxpby1hdXRoLXRva2Vu"
        );
        assert_eq!(request.field("To").as_deref(), Some("+393331234567"));
        assert_eq!(request.field("From").as_deref(), Some("+390212345678"));
        assert_eq!(
            request.field("Body").as_deref(),
            Some("Ciao Giulia, a domani!")
        );
        let key = key_of(&app, sent.id).await;
        assert_eq!(request.idempotency_key.as_deref(), Some(key.as_str()));
        let callback = format!("https://crm.example.it/webhooks/twilio/status?key={key}");
        assert_eq!(request.field("StatusCallback"), Some(callback));
        let message = store::message(&app.db, sent.id).await.unwrap();
        assert_eq!(message.status, MessageStatus::Sent);

        // A report without Twilio's signature changes nothing.
        let path = format!("/webhooks/twilio/status?key={key}");
        let sid = format!("SM{:032}", 1);
        let delivered = [("MessageSid", sid.as_str()), ("MessageStatus", "delivered")];
        let forged = twilio_webhook(&app, &path, &delivered, false).await;
        assert_eq!(forged.status(), 403);
        assert_eq!(
            store::message(&app.db, sent.id).await.unwrap().status,
            MessageStatus::Sent
        );
        let signed = twilio_webhook(&app, &path, &delivered, true).await;
        assert_eq!(signed.status(), 204);
        let shown = thread(&app, &tab, giulia).await;
        assert_eq!(shown[0].status, MessageStatus::Delivered);
        assert_eq!(shown[0].body, "Ciao Giulia, a domani!");

        // One the carrier could not deliver fails, in the provider's words.
        let second: Message = app
            .ok::<SendMessage, _>(
                &tab,
                json!({ "contact_id": giulia, "draft": text("sms", "Secondo") }),
            )
            .await;
        app.dispatcher().run_due(app::db::now()).await.unwrap();
        let key = key_of(&app, second.id).await;
        let undelivered = twilio_webhook(
            &app,
            &format!("/webhooks/twilio/status?key={key}"),
            &[
                ("MessageSid", "SMx"),
                ("MessageStatus", "undelivered"),
                ("ErrorCode", "30003"),
            ],
            true,
        )
        .await;
        assert_eq!(undelivered.status(), 204);
        let failed = store::message(&app.db, second.id).await.unwrap();
        assert_eq!(failed.status, MessageStatus::Failed);
        assert_eq!(failed.failure.as_deref(), Some("undelivered (error 30003)"));
    }
);

provider_test!(
    a_busy_provider_is_tried_again_later_and_a_refusal_fails_with_its_words,
    |app| {
        let tab = browser();
        app.set_up_admin(&tab).await;
        let marco = person(&app, &tab, "Marco", "+39 347 765 4321").await;
        let provider = app.provider.clone().unwrap();
        provider.answer_next(
            429,
            r#"{"code":20429,"message":"Too Many Requests","status":429}"#,
        );
        provider.answer_next(503, "Service Unavailable");
        let busy: Message = app
            .ok::<SendMessage, _>(
                &tab,
                json!({ "contact_id": marco, "draft": text("sms", "Prova") }),
            )
            .await;
        let t0 = app::db::now();
        let first = app.dispatcher().run_due(t0).await.unwrap();
        assert_eq!((first.sent, first.retried), (0, 1), "429: later");
        let message = store::message(&app.db, busy.id).await.unwrap();
        assert_eq!(message.status, MessageStatus::Sending, "still on its way");
        assert!(message.failure.unwrap().contains("Too Many Requests"));
        assert_eq!(
            app.dispatcher()
                .run_due(t0 + Duration::seconds(31))
                .await
                .unwrap()
                .retried,
            1,
            "503: later"
        );
        assert_eq!(
            app.dispatcher()
                .run_due(t0 + Duration::seconds(100))
                .await
                .unwrap()
                .sent,
            1
        );
        // The same key every time: the provider can tell a retry from a new message.
        let keys: Vec<Option<String>> = provider
            .requests()
            .into_iter()
            .map(|r| r.idempotency_key)
            .collect();
        assert_eq!(keys.len(), 3);
        assert!(keys.windows(2).all(|w| w[0] == w[1]));

        provider.answer_next(
            400,
            r#"{"code":21211,"message":"The 'To' number +393477654321 is not a valid phone number.","status":400}"#,
        );
        let refused: Message = app
            .ok::<SendMessage, _>(
                &tab,
                json!({ "contact_id": marco, "draft": text("sms", "Ancora") }),
            )
            .await;
        assert_eq!(
            app.dispatcher()
                .run_due(app::db::now())
                .await
                .unwrap()
                .failed,
            1
        );
        let failed = store::message(&app.db, refused.id).await.unwrap();
        assert_eq!(failed.status, MessageStatus::Failed);
        assert_eq!(
            failed.failure.as_deref(),
            Some("400: The 'To' number +393477654321 is not a valid phone number. (code 21211)")
        );
    }
);

provider_test!(
    whatsapp_messages_go_through_the_cloud_api_and_replies_join_the_thread,
    |app| {
        let tab = browser();
        app.set_up_admin(&tab).await;
        let lia = person(&app, &tab, "Lia", "333 000 1111").await;
        let sent: Message = app
            .ok::<SendMessage, _>(&tab, json!({ "contact_id": lia, "draft": text("whatsapp", "Ciao {{contact.first_name}} 👋") }))
            .await;
        assert_eq!(
            app.dispatcher().run_due(app::db::now()).await.unwrap().sent,
            1
        );
        let provider = app.provider.clone().unwrap();
        let request = provider.requests().pop().unwrap();
        assert_eq!(request.path, "/v21.0/1055/messages");
        assert_eq!(request.authorization, "Bearer whatsapp-token");
        let body = request.json();
        let key = key_of(&app, sent.id).await;
        assert_eq!(body["to"], "393330001111");
        assert_eq!(body["text"]["body"], "Ciao Lia 👋");
        assert_eq!(body["biz_opaque_callback_data"], key.as_str());

        // Registering the webhook: Meta's check is answered only with the right token.
        let check = |token: &str| {
            Client::new().get(app.url(&format!(
                "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"
            )))
        };
        let ok = check("whatsapp-verify").send().await.unwrap();
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.text().await.unwrap(), "1158201444");
        assert_eq!(check("guess").send().await.unwrap().status(), 403);

        // Delivered, by a signed status; a forged one is refused.
        let status = whatsapp_value(json!({
            "messaging_product": "whatsapp",
            "statuses": [{ "id": "wamid.1", "status": "delivered", "timestamp": "1700000000", "recipient_id": "393330001111", "biz_opaque_callback_data": key }]
        }));
        assert_eq!(
            whatsapp_webhook(&app, status.clone(), false).await.status(),
            403
        );
        assert_eq!(
            store::message(&app.db, sent.id).await.unwrap().status,
            MessageStatus::Sent
        );
        assert_eq!(whatsapp_webhook(&app, status, true).await.status(), 200);
        assert_eq!(
            store::message(&app.db, sent.id).await.unwrap().status,
            MessageStatus::Delivered
        );

        // Lia answers; the webhook comes twice, the reply is kept once, unread.
        let reply = whatsapp_value(json!({
            "messaging_product": "whatsapp",
            "contacts": [{ "profile": { "name": "Lia V." }, "wa_id": "393330001111" }],
            "messages": [{ "from": "393330001111", "id": "wamid.reply1", "timestamp": "1700000100", "type": "text", "text": { "body": "Grazie, a presto!" } }]
        }));
        assert_eq!(
            whatsapp_webhook(&app, reply.clone(), true).await.status(),
            200
        );
        assert_eq!(whatsapp_webhook(&app, reply, true).await.status(), 200);
        let shown = thread(&app, &tab, lia).await;
        assert_eq!(shown.len(), 2);
        let answer = &shown[1];
        assert_eq!(answer.direction, Direction::In);
        assert_eq!(answer.status, MessageStatus::Received);
        assert_eq!(answer.body, "Grazie, a presto!");
        assert!(!answer.read);
        let _: () = app
            .ok::<app::conversations::MarkConversation, _>(
                &tab,
                json!({ "contact_id": lia, "read": true }),
            )
            .await;
        assert!(thread(&app, &tab, lia).await[1].read);

        // A number no contact has becomes a contact, named as WhatsApp names them.
        let stranger = whatsapp_value(json!({
            "messaging_product": "whatsapp",
            "contacts": [{ "profile": { "name": "Luca" }, "wa_id": "393489990000" }],
            "messages": [{ "from": "393489990000", "id": "wamid.new", "timestamp": "1700000200", "type": "text", "text": { "body": "Info sui prezzi?" } }]
        }));
        assert_eq!(whatsapp_webhook(&app, stranger, true).await.status(), 200);
        let luca: (Uuid, String) = with_db!(&app.db, pool => sqlx::query_as(
            "SELECT id, first_name FROM contacts WHERE phone = '+393489990000'",
        )
        .fetch_one(pool)
        .await)
        .unwrap();
        assert_eq!(luca.1, "Luca");
        assert_eq!(thread(&app, &tab, luca.0).await[0].body, "Info sui prezzi?");

        // A failed status keeps the provider's reason.
        let second: Message = app
            .ok::<SendMessage, _>(
                &tab,
                json!({ "contact_id": lia, "draft": text("whatsapp", "Dopo 24 ore") }),
            )
            .await;
        app.dispatcher().run_due(app::db::now()).await.unwrap();
        let failed = whatsapp_value(json!({
            "messaging_product": "whatsapp",
            "statuses": [{ "id": "wamid.x", "status": "failed", "timestamp": "1700000300", "recipient_id": "393330001111",
                "biz_opaque_callback_data": key_of(&app, second.id).await,
                "errors": [{ "code": 131047, "title": "Re-engagement message", "message": "Re-engagement message" }] }]
        }));
        assert_eq!(whatsapp_webhook(&app, failed, true).await.status(), 200);
        let message = store::message(&app.db, second.id).await.unwrap();
        assert_eq!(message.status, MessageStatus::Failed);
        assert_eq!(
            message.failure.as_deref(),
            Some("Re-engagement message (code 131047)")
        );
    }
);

provider_test!(
    an_sms_reply_joins_the_thread_of_the_contact_with_that_number,
    |app| {
        let tab = browser();
        app.set_up_admin(&tab).await;
        let ada = person(&app, &tab, "Ada", "02 1234 5678").await;
        let fields = [
            ("MessageSid", "SMreply"),
            ("From", "+390212345678"),
            ("To", "+390212345678"),
            ("Body", "Va bene, richiamatemi"),
        ];
        let forged = twilio_webhook(&app, "/webhooks/twilio/inbound", &fields, false).await;
        assert_eq!(forged.status(), 403);
        let reply = twilio_webhook(&app, "/webhooks/twilio/inbound", &fields, true).await;
        assert_eq!(reply.status(), 200);
        assert!(reply
            .text()
            .await
            .unwrap()
            .contains("<Response></Response>"));
        let shown = thread(&app, &tab, ada).await;
        assert_eq!(shown.len(), 1);
        assert_eq!(
            (shown[0].channel.as_str(), shown[0].body.as_str()),
            ("sms", "Va bene, richiamatemi")
        );
    }
);

app_test!(webhooks_of_a_provider_not_set_up_are_not_there, |app| {
    let client = Client::new();
    let sms = client
        .post(app.url("/webhooks/twilio/inbound"))
        .form(&[("From", "+39333"), ("MessageSid", "SM1")])
        .send()
        .await
        .unwrap();
    assert_eq!(sms.status(), 404);
    let whatsapp = client
        .post(app.url("/webhooks/whatsapp"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(whatsapp.status(), 404);
    app.stop().await;
});
