//! What SMS and WhatsApp providers tell Rubrica: what became of a message it sent (delivered,
//! failed) and the contact's replies, which join the thread. Server-only, reached without a
//! session: every request must carry the provider's signature, or it is refused.
//!
//! - `POST /webhooks/twilio/status?key=…` — Twilio's status callback for one message (the URL
//!   is given with each message, so it names the message by Rubrica's own key).
//! - `POST /webhooks/twilio/inbound` — an SMS from a contact (answered with empty TwiML).
//! - `GET /webhooks/whatsapp` — Meta's check when the webhook is registered.
//! - `POST /webhooks/whatsapp` — statuses and messages of the WhatsApp Cloud API.

use axum::{
    body::Bytes,
    extract::{Query, State},
    http::{header, HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
    Form,
};
use serde::Deserialize;

use super::{
    providers::{twilio_signed, whatsapp_signed},
    store::{self, Delivery, Inbound},
    Channel,
};
use crate::state::AppState;

/// The status callback address of the message with key `key` (relative to `PUBLIC_URL`).
pub fn twilio_status_path(key: &str) -> String {
    format!("/webhooks/twilio/status?key={}", urlencoding::encode(key))
}

fn refused() -> Response {
    (StatusCode::FORBIDDEN, "signature missing or wrong").into_response()
}

fn not_set_up() -> Response {
    (StatusCode::NOT_FOUND, "this channel is not set up").into_response()
}

fn failed(e: crate::error::AppError) -> Response {
    tracing::error!(error = %e, "a provider's webhook could not be recorded");
    // A 5xx makes the provider try again later.
    (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response()
}

/// The refusal of fields Twilio posted without its signature for the address it called (the
/// public address: behind a proxy the server's own URL differs from what Twilio signed); `None`
/// when they carry it.
fn twilio_refusal(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
    fields: &[(String, String)],
) -> Option<Response> {
    let Some(sms) = &state.providers.sms else {
        return Some(not_set_up());
    };
    let url = state
        .mail
        .link(uri.path_and_query().map_or(uri.path(), |pq| pq.as_str()));
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if twilio_signed(&sms.auth_token, &url, fields, signature) {
        None
    } else {
        tracing::warn!(%url, "a Twilio webhook without a valid signature was refused");
        Some(refused())
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

#[derive(Deserialize)]
pub struct StatusQuery {
    key: Option<String>,
}

/// Twilio's status callback: `MessageStatus` delivered, or failed / undelivered with an
/// `ErrorCode`. Other statuses (queued, sent) change nothing the thread shows.
pub async fn twilio_status(
    State(state): State<AppState>,
    Query(query): Query<StatusQuery>,
    uri: Uri,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(refusal) = twilio_refusal(&state, &uri, &headers, &fields) {
        return refusal;
    }
    let delivery = match field(&fields, "MessageStatus") {
        Some("delivered") | Some("read") => Delivery::Delivered,
        Some(status @ ("failed" | "undelivered")) => {
            let code = field(&fields, "ErrorCode").unwrap_or("?");
            let words = field(&fields, "ErrorMessage")
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            Delivery::Failed(format!("{status} (error {code}){words}"))
        }
        _ => return StatusCode::NO_CONTENT.into_response(),
    };
    let found = store::record_delivery(
        &state.db,
        Channel::Sms,
        query.key.as_deref(),
        field(&fields, "MessageSid"),
        &delivery,
        crate::db::now(),
    )
    .await;
    match found {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => failed(e),
    }
}

/// An SMS from a contact: into the thread of the contact with that number (a new contact if
/// none has it yet).
pub async fn twilio_inbound(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(refusal) = twilio_refusal(&state, &uri, &headers, &fields) {
        return refusal;
    }
    let (Some(from), Some(sid)) = (field(&fields, "From"), field(&fields, "MessageSid")) else {
        return (StatusCode::BAD_REQUEST, "From and MessageSid are required").into_response();
    };
    let inbound = Inbound {
        channel: Channel::Sms,
        from,
        body: field(&fields, "Body").unwrap_or_default(),
        provider_id: sid,
        name: None,
    };
    match store::record_inbound(&state.db, &inbound, crate::db::now()).await {
        Ok(_) => (
            [(header::CONTENT_TYPE, "text/xml")],
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
        )
            .into_response(),
        Err(e) => failed(e),
    }
}

#[derive(Deserialize)]
pub struct Verification {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Meta's check, when the webhook is registered, that this server is the one meant.
pub async fn whatsapp_verify(
    State(state): State<AppState>,
    Query(check): Query<Verification>,
) -> Response {
    let Some(whatsapp) = &state.providers.whatsapp else {
        return not_set_up();
    };
    match (check.mode.as_deref(), check.verify_token, check.challenge) {
        (Some("subscribe"), Some(token), Some(challenge)) if token == whatsapp.verify_token => {
            challenge.into_response()
        }
        _ => refused(),
    }
}

#[derive(Deserialize)]
struct Notification {
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    value: Value,
}

#[derive(Deserialize)]
struct Value {
    #[serde(default)]
    contacts: Vec<WaContact>,
    #[serde(default)]
    messages: Vec<WaMessage>,
    #[serde(default)]
    statuses: Vec<WaStatus>,
}

#[derive(Deserialize)]
struct WaContact {
    wa_id: String,
    profile: Option<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    name: Option<String>,
}

#[derive(Deserialize)]
struct WaMessage {
    from: String,
    id: String,
    #[serde(rename = "type")]
    kind: String,
    text: Option<WaText>,
}

#[derive(Deserialize)]
struct WaText {
    body: String,
}

#[derive(Deserialize)]
struct WaStatus {
    id: String,
    status: String,
    biz_opaque_callback_data: Option<String>,
    #[serde(default)]
    errors: Vec<WaError>,
}

#[derive(Deserialize)]
struct WaError {
    code: Option<i64>,
    title: Option<String>,
    message: Option<String>,
}

/// The WhatsApp Cloud API's notifications: statuses of messages Rubrica sent, and messages from
/// contacts.
pub async fn whatsapp_notification(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(whatsapp) = &state.providers.whatsapp else {
        return not_set_up();
    };
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !whatsapp_signed(&whatsapp.app_secret, &body, signature) {
        tracing::warn!("a WhatsApp webhook without a valid signature was refused");
        return refused();
    }
    let Ok(notification) = serde_json::from_slice::<Notification>(&body) else {
        return (StatusCode::BAD_REQUEST, "not a WhatsApp notification").into_response();
    };
    let now = crate::db::now();
    for value in notification
        .entry
        .into_iter()
        .flat_map(|e| e.changes)
        .map(|c| c.value)
    {
        for status in &value.statuses {
            let delivery = match status.status.as_str() {
                "delivered" | "read" => Delivery::Delivered,
                "failed" => Delivery::Failed(
                    status
                        .errors
                        .first()
                        .map(|e| {
                            let words = e.message.as_deref().or(e.title.as_deref()).unwrap_or("");
                            match e.code {
                                Some(code) => format!("{words} (code {code})"),
                                None => words.to_string(),
                            }
                        })
                        .unwrap_or_else(|| "failed".to_string()),
                ),
                _ => continue,
            };
            let result = store::record_delivery(
                &state.db,
                Channel::WhatsApp,
                status.biz_opaque_callback_data.as_deref(),
                Some(&status.id),
                &delivery,
                now,
            )
            .await;
            if let Err(e) = result {
                return failed(e);
            }
        }
        for message in &value.messages {
            let name = value
                .contacts
                .iter()
                .find(|c| c.wa_id == message.from)
                .and_then(|c| c.profile.as_ref())
                .and_then(|p| p.name.as_deref());
            let body = match &message.text {
                Some(text) => text.body.clone(),
                None => format!("[{}]", message.kind),
            };
            let from = format!("+{}", message.from.trim_start_matches('+'));
            let inbound = Inbound {
                channel: Channel::WhatsApp,
                from: &from,
                body: &body,
                provider_id: &message.id,
                name,
            };
            if let Err(e) = store::record_inbound(&state.db, &inbound, now).await {
                return failed(e);
            }
        }
    }
    StatusCode::OK.into_response()
}
