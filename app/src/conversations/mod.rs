//! The conversation with a contact: one thread of every message on every channel, the composer's
//! sends (now or scheduled), and — on the server — the dispatcher that sends each message once,
//! at its time, or marks it failed with the reason.
//!
//! A message is checked when written (channel, subject, text, Do Not Disturb, the time) and again
//! when sent: the contact's data, DND and subscription are read at that moment, so what was true
//! when it was scheduled can't send it against the contact's wishes later.

pub mod attachments;
mod components;
#[cfg(feature = "ssr")]
pub mod dispatcher;
pub mod merge;
#[cfg(feature = "ssr")]
pub mod providers;
#[cfg(feature = "ssr")]
pub mod schedule;
#[cfg(feature = "ssr")]
pub mod store;
mod tools;
#[cfg(feature = "ssr")]
pub mod unsubscribe;
#[cfg(feature = "ssr")]
pub mod webhooks;

pub use components::ConversationPane;

use chrono::{DateTime, Utc};
use leptos::{prelude::*, server_fn::codec::Json};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    contacts::DndChannel,
    error::{one_line, text_problem, AppError, AppResult, FieldError, Problem},
    i18n::Locale,
};

/// The files attached to messages: uploaded with a draft, downloaded from the thread. Behind the
/// session like the pages (each handler checks the contact may be seen); with them, the contacts
/// list's CSV export.
#[cfg(feature = "ssr")]
pub fn signed_in_routes() -> axum::Router<crate::state::AppState> {
    use axum::{
        extract::DefaultBodyLimit,
        routing::{get, post},
    };
    axum::Router::new()
        .route(
            "/attachments",
            // A little over the limit, so a file just too large hears why from `check_file`.
            post(attachments::store::upload)
                .layer(DefaultBodyLimit::max(attachments::MAX_BYTES + 64 * 1024)),
        )
        .route("/attachments/{id}", get(attachments::store::download))
        .route(
            "/contacts/export.csv",
            get(crate::contacts::export::export_csv),
        )
}

/// The addresses contacts and providers reach without a session: the unsubscribe page (and the
/// one-click unsubscribe mail programs post to it), and the SMS and WhatsApp providers' webhooks.
#[cfg(feature = "ssr")]
pub fn public_routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/unsubscribe/{key}",
            get(unsubscribe::show).post(unsubscribe::confirm),
        )
        .route("/webhooks/twilio/status", post(webhooks::twilio_status))
        .route("/webhooks/twilio/inbound", post(webhooks::twilio_inbound))
        .route(
            "/webhooks/whatsapp",
            get(webhooks::whatsapp_verify).post(webhooks::whatsapp_notification),
        )
}

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    WhatsApp,
    Email,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Sms, Channel::WhatsApp, Channel::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::WhatsApp => "whatsapp",
            Channel::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(self, l: Locale) -> &'static str {
        match self {
            Channel::Sms => l.t("SMS", "SMS"),
            Channel::WhatsApp => l.t("WhatsApp", "WhatsApp"),
            Channel::Email => l.t("Email", "Email"),
        }
    }

    /// The Do Not Disturb switch that blocks this channel.
    pub fn dnd(self) -> DndChannel {
        match self {
            Channel::Sms => DndChannel::Sms,
            Channel::WhatsApp => DndChannel::WhatsApp,
            Channel::Email => DndChannel::Email,
        }
    }

    /// The longest text a message on this channel may have.
    pub fn max_chars(self) -> usize {
        match self {
            // Ten SMS segments; WhatsApp's own limit; a long email.
            Channel::Sms => 1600,
            Channel::WhatsApp => 4096,
            Channel::Email => 100_000,
        }
    }
}

impl TryFrom<String> for Channel {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Channel::parse(&value).ok_or_else(|| format!("unknown channel “{value}”"))
    }
}

/// Where a message is, as the thread shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessageStatus {
    Scheduled,
    Sending,
    Sent,
    Delivered,
    Failed,
    Cancelled,
    Received,
}

impl MessageStatus {
    /// Its class in the page (for its colour).
    pub fn css(self) -> &'static str {
        match self {
            MessageStatus::Scheduled => "status-scheduled",
            MessageStatus::Sending => "status-sending",
            MessageStatus::Sent => "status-sent",
            MessageStatus::Delivered => "status-delivered",
            MessageStatus::Failed => "status-failed",
            MessageStatus::Cancelled => "status-cancelled",
            MessageStatus::Received => "status-received",
        }
    }

    pub fn label(self, l: Locale) -> &'static str {
        match self {
            MessageStatus::Scheduled => l.t("Scheduled", "Programmato"),
            MessageStatus::Sending => l.t("Sending", "In invio"),
            MessageStatus::Sent => l.t("Sent", "Inviato"),
            MessageStatus::Delivered => l.t("Delivered", "Consegnato"),
            MessageStatus::Failed => l.t("Failed", "Non inviato"),
            MessageStatus::Cancelled => l.t("Cancelled", "Annullato"),
            MessageStatus::Received => l.t("Received", "Ricevuto"),
        }
    }
}

/// Why Rubrica itself did not send a message (a provider's own reason is kept as it said it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlockedBecause {
    /// Do Not Disturb is on for the channel (or for all).
    DoNotDisturb,
    /// The contact unsubscribed from email.
    Unsubscribed,
    /// The contact has no email address or phone number for the channel.
    NoAddress,
    /// The contact was deleted before the time came.
    ContactDeleted,
    /// The channel has no provider set up.
    NotSetUp,
    /// Transient failures went on past the time allowed for retries.
    GaveUp,
}

impl BlockedBecause {
    /// The `failure` column's value for this reason.
    pub fn key(self) -> &'static str {
        match self {
            BlockedBecause::DoNotDisturb => "rubrica:dnd",
            BlockedBecause::Unsubscribed => "rubrica:unsubscribed",
            BlockedBecause::NoAddress => "rubrica:no-address",
            BlockedBecause::ContactDeleted => "rubrica:contact-deleted",
            BlockedBecause::NotSetUp => "rubrica:not-set-up",
            BlockedBecause::GaveUp => "rubrica:gave-up",
        }
    }

    pub fn from_key(key: &str) -> Option<BlockedBecause> {
        [
            BlockedBecause::DoNotDisturb,
            BlockedBecause::Unsubscribed,
            BlockedBecause::NoAddress,
            BlockedBecause::ContactDeleted,
            BlockedBecause::NotSetUp,
            BlockedBecause::GaveUp,
        ]
        .into_iter()
        .find(|b| key.starts_with(b.key()))
    }

    pub fn text(self, l: Locale) -> &'static str {
        match self {
            BlockedBecause::DoNotDisturb => l.t(
                "Do Not Disturb is on for this channel.",
                "Non disturbare è attivo per questo canale.",
            ),
            BlockedBecause::Unsubscribed => l.t(
                "The contact unsubscribed from email.",
                "Il contatto si è disiscritto dalle email.",
            ),
            BlockedBecause::NoAddress => l.t(
                "The contact has no address for this channel.",
                "Il contatto non ha un recapito per questo canale.",
            ),
            BlockedBecause::ContactDeleted => {
                l.t("The contact was deleted.", "Il contatto è stato eliminato.")
            }
            BlockedBecause::NotSetUp => l.t(
                "This channel is not set up.",
                "Questo canale non è configurato.",
            ),
            BlockedBecause::GaveUp => l.t(
                "The provider kept failing; Rubrica stopped retrying.",
                "Il fornitore ha continuato a non rispondere; Rubrica ha smesso di riprovare.",
            ),
        }
    }
}

/// Whether a message was sent to the contact or came from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Out,
    In,
}

/// One message of the thread, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: Uuid,
    pub channel: Channel,
    pub direction: Direction,
    pub author_name: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub status: MessageStatus,
    /// Why it failed: Rubrica's own reason, or the provider's words.
    pub failure: Option<String>,
    pub send_at: Option<DateTime<Utc>>,
    pub send_zone: Option<String>,
    /// `send_at` on the wall clock of `send_zone` (`YYYY-MM-DDTHH:MM`), as it was picked.
    pub send_at_local: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub read: bool,
    pub created_at: DateTime<Utc>,
    /// Files sent with it (email).
    pub attachments: Vec<attachments::Attachment>,
}

impl Message {
    /// Until the dispatcher claims it, a scheduled message can be edited, sent now or cancelled.
    pub fn is_waiting(&self) -> bool {
        self.status == MessageStatus::Scheduled
    }

    /// The failure as the reader reads it.
    pub fn failure_text(&self, l: Locale) -> Option<String> {
        let failure = self.failure.as_deref()?;
        Some(match BlockedBecause::from_key(failure) {
            Some(reason) => reason.text(l).to_string(),
            None => failure.to_string(),
        })
    }
}

/// What the composer sends: checked in the browser as typed and again by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub channel: Channel,
    pub subject: String,
    pub body: String,
    /// Files uploaded for this draft (email only).
    #[serde(default)]
    pub attachments: Vec<attachments::Attachment>,
}

impl Draft {
    /// The draft tidied for sending, or every problem with it at once.
    pub fn check(&self) -> AppResult<Draft> {
        let mut errors = Vec::new();
        let subject = one_line(&self.subject);
        let body = self.body.trim().to_string();
        if self.channel == Channel::Email {
            if let Some(p) = text_problem(&subject, Some(Problem::SubjectMissing), 300) {
                errors.push(FieldError::new("subject", p));
            }
        }
        let max = self.channel.max_chars();
        if let Some(p) = text_problem(&body, Some(Problem::MessageEmpty), max) {
            errors.push(FieldError::new("body", p));
        }
        if !self.attachments.is_empty() && self.channel != Channel::Email {
            errors.push(FieldError::new(
                "attachments",
                Problem::AttachmentsEmailOnly,
            ));
        } else if self.attachments.len() > attachments::MAX_FILES {
            errors.push(FieldError::new(
                "attachments",
                Problem::TooManyFiles {
                    max: attachments::MAX_FILES as u64,
                },
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        Ok(Draft {
            channel: self.channel,
            subject: if self.channel == Channel::Email {
                subject
            } else {
                String::new()
            },
            body,
            attachments: self.attachments.clone(),
        })
    }
}

/// How many of the newest messages the thread shows at first, and how many more each
/// **Show earlier messages** adds.
pub const THREAD_PAGE: u32 = 200;

/// The newest messages with a contact, as many as asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    /// Oldest first (the newest at the bottom).
    pub messages: Vec<Message>,
    /// Whether there are older messages than these.
    pub earlier: bool,
}

/// The thread with a contact, all channels or one: its newest `shown` messages (200 unless
/// asked), oldest first.
#[server(input = Json)]
pub async fn conversation(
    contact_id: Uuid,
    channel: Option<String>,
    shown: Option<u32>,
) -> AppResult<Thread> {
    let viewer = crate::contacts::store::viewer()?;
    let db = crate::state::db();
    crate::contacts::store::get_visible(&db, &viewer, contact_id).await?;
    let channel = channel.as_deref().and_then(Channel::parse);
    // A limit, so that one request cannot ask for a whole mailbox's history at once.
    let shown = shown.unwrap_or(THREAD_PAGE).clamp(1, 50 * THREAD_PAGE);
    store::thread(&db, contact_id, channel, shown).await
}

/// Sends a message now: it is queued, and the dispatcher sends it at once.
#[server(input = Json)]
pub async fn send_message(contact_id: Uuid, draft: Draft) -> AppResult<Message> {
    let (viewer, contact) = writable(contact_id).await?;
    let draft = checked(&contact, &draft)?;
    let state = crate::state::app_state();
    let now = crate::db::now();
    let id = store::queue(&state.db, &viewer.user, contact_id, &draft, now, None).await?;
    state.dispatcher.wake();
    store::message(&state.db, id).await
}

/// Schedules a message for `local` (`YYYY-MM-DDTHH:MM`) in the IANA time zone `zone`.
#[server(input = Json)]
pub async fn schedule_message(
    contact_id: Uuid,
    draft: Draft,
    local: String,
    zone: String,
) -> AppResult<Message> {
    let (viewer, contact) = writable(contact_id).await?;
    let draft = checked(&contact, &draft)?;
    let now = crate::db::now();
    let at = schedule::instant(&local, &zone, now)?;
    let state = crate::state::app_state();
    let id = store::queue(
        &state.db,
        &viewer.user,
        contact_id,
        &draft,
        at.utc,
        Some(&zone),
    )
    .await?;
    state.dispatcher.wake();
    store::message(&state.db, id).await
}

/// What a time in a zone is, for the Schedule dialog: the instant, and the same instant in the
/// user's own zone (`user_zone`). A time that does not exist (skipped by a daylight-saving change)
/// or that is past is refused with the reason.
#[server(input = Json)]
pub async fn preview_schedule(
    local: String,
    zone: String,
    user_zone: String,
) -> AppResult<SchedulePreview> {
    crate::auth::ssr::current_user()?;
    schedule::preview(&local, &zone, &user_zone, crate::db::now())
}

/// The Schedule dialog's answer: when the message will go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulePreview {
    pub at: DateTime<Utc>,
    /// The same instant in the user's zone, `YYYY-MM-DDTHH:MM`.
    pub in_user_zone: String,
    /// The time happens twice that day (clocks going back): the first one is used.
    pub first_of_two: bool,
}

/// Changes a scheduled message (its text and its time) while it is still waiting.
#[server(input = Json)]
pub async fn edit_scheduled(
    id: Uuid,
    draft: Draft,
    local: String,
    zone: String,
) -> AppResult<Message> {
    let state = crate::state::app_state();
    let (viewer, message_contact) = scheduled_message(id).await?;
    let (_, contact) = writable(message_contact).await?;
    let draft = checked(&contact, &draft)?;
    let at = schedule::instant(&local, &zone, crate::db::now())?;
    store::edit_waiting(
        &state.db,
        &viewer.user,
        id,
        message_contact,
        &draft,
        at.utc,
        &zone,
    )
    .await?;
    state.dispatcher.wake();
    store::message(&state.db, id).await
}

/// Sends a scheduled message now instead of at its time.
#[server(input = Json)]
pub async fn send_scheduled_now(id: Uuid) -> AppResult<Message> {
    let state = crate::state::app_state();
    scheduled_message(id).await?;
    store::release_now(&state.db, id, crate::db::now()).await?;
    state.dispatcher.wake();
    store::message(&state.db, id).await
}

/// Cancels a scheduled message that has not been claimed for sending.
#[server(input = Json)]
pub async fn cancel_scheduled(id: Uuid) -> AppResult<Message> {
    let state = crate::state::app_state();
    scheduled_message(id).await?;
    store::cancel_waiting(&state.db, id, crate::db::now()).await?;
    store::message(&state.db, id).await
}

/// Marks the contact's conversation read or unread (for the whole team).
#[server(input = Json)]
pub async fn mark_conversation(contact_id: Uuid, read: bool) -> AppResult<()> {
    let viewer = crate::contacts::store::viewer()?;
    let db = crate::state::db();
    crate::contacts::store::get_visible(&db, &viewer, contact_id).await?;
    store::mark(&db, contact_id, read, crate::db::now()).await
}

/// The contact, if the user may see (and so write to) it.
#[cfg(feature = "ssr")]
async fn writable(
    contact_id: Uuid,
) -> AppResult<(crate::contacts::store::Viewer, crate::contacts::Contact)> {
    let viewer = crate::contacts::store::viewer()?;
    let contact =
        crate::contacts::store::get_visible(&crate::state::db(), &viewer, contact_id).await?;
    Ok((viewer, contact))
}

/// A scheduled message of a contact the user may see: the user and that contact's id.
#[cfg(feature = "ssr")]
async fn scheduled_message(id: Uuid) -> AppResult<(crate::contacts::store::Viewer, Uuid)> {
    let viewer = crate::contacts::store::viewer()?;
    let db = crate::state::db();
    let contact_id = store::contact_of(&db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    crate::contacts::store::get_visible(&db, &viewer, contact_id).await?;
    Ok((viewer, contact_id))
}

/// The draft checked, and refused if the contact asked not to be disturbed on its channel, has
/// no address for it, or the channel has no provider.
#[cfg(feature = "ssr")]
fn checked(contact: &crate::contacts::Contact, draft: &Draft) -> AppResult<Draft> {
    let draft = draft.check()?;
    if contact.dnd.blocks(draft.channel.dnd()) {
        return Err(AppError::invalid("channel", Problem::DoNotDisturb));
    }
    if !channel_set_up(draft.channel) {
        return Err(AppError::invalid("channel", Problem::ChannelNotSetUp));
    }
    let address = match draft.channel {
        Channel::Email => contact.email.is_some(),
        Channel::Sms | Channel::WhatsApp => contact.phone.is_some(),
    };
    if !address {
        return Err(AppError::invalid("channel", Problem::NoAddress));
    }
    Ok(draft)
}

/// Whether messages on `channel` can go: email needs SMTP, SMS and WhatsApp their provider.
#[cfg(feature = "ssr")]
pub fn channel_set_up(channel: Channel) -> bool {
    let state = crate::state::app_state();
    match channel {
        Channel::Email => state.mail.mailer.is_some(),
        Channel::Sms => state.providers.sms.is_some(),
        Channel::WhatsApp => state.providers.whatsapp.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_needs_text_and_an_email_its_subject() {
        let draft = |channel, subject: &str, body: &str| Draft {
            channel,
            subject: subject.into(),
            body: body.into(),
            attachments: vec![],
        };
        let err = draft(Channel::Email, "  ", " ").check().unwrap_err();
        assert_eq!(err.field_problem("subject"), Some(Problem::SubjectMissing));
        assert_eq!(err.field_problem("body"), Some(Problem::MessageEmpty));
        let sms = draft(Channel::Sms, "ignored", " Ciao! ").check().unwrap();
        assert_eq!((sms.subject.as_str(), sms.body.as_str()), ("", "Ciao!"));
        let long = draft(Channel::Sms, "", &"x".repeat(1601))
            .check()
            .unwrap_err();
        assert_eq!(
            long.field_problem("body"),
            Some(Problem::TooLong { max: 1600 })
        );
    }

    #[test]
    fn rubrica_s_own_reasons_read_in_either_language() {
        assert_eq!(
            BlockedBecause::from_key("rubrica:dnd"),
            Some(BlockedBecause::DoNotDisturb)
        );
        assert_eq!(BlockedBecause::from_key("550 mailbox unavailable"), None);
        assert!(BlockedBecause::Unsubscribed
            .text(Locale::It)
            .contains("disiscritto"));
    }
}
