//! The dispatcher: sends every queued message once, at its time, inside the server process.
//!
//! It sleeps until the next message is due (woken early when one is queued or changed), claims
//! what is due with a lease (see `store`), and sends each claim. At send time it reads the contact
//! again: deleted, Do Not Disturb, unsubscribed or without an address, the message fails with that
//! reason instead of going. Transient failures (an SMTP 4xx, a refused connection) are retried with
//! growing pauses for up to [`RETRY_FOR`]; permanent ones fail at once with the provider's words.
//!
//! Tests drive it with [`Dispatcher::run_due`] and a time of their choosing; the server runs
//! [`Dispatcher::run`].

use std::{collections::HashMap, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use lettre::message::{
    header::{ContentType, HeaderName, HeaderValue},
    Mailbox, MultiPart, SinglePart,
};
use tokio::sync::{watch, Notify};

use futures::StreamExt;

use super::{
    attachments::Attachment,
    merge::{self, MergeValues, Sender},
    providers::{Providers, Text, TextProvider},
    store::{self, Claimed, Outcome},
    BlockedBecause, Channel,
};
use crate::{contacts::Contact, db::Db, error::AppResult, fields::Layout, mail::MailSettings};

/// How long a claim is good for, unless configured otherwise: a server that dies mid-send leaves
/// its messages to another (or to itself, restarted) after this long.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(120);

/// How long transient failures are retried, from the time the message was due.
pub const RETRY_FOR: chrono::Duration = chrono::Duration::hours(1);

/// The longest the dispatcher sleeps: another server may have queued something it was not told of.
const MAX_SLEEP: Duration = Duration::from_secs(30);

/// Messages of a batch sent at the same time when there is no SMTP pool to size it by (SMS and
/// WhatsApp alone); with email, as many as the pool's connections, so none waits for one.
const AT_ONCE: usize = 16;

/// A message that can't go, for Rubrica's own reason.
fn failed(reason: BlockedBecause) -> Outcome {
    Outcome::Failed {
        reason: reason.key().to_string(),
    }
}

/// The pause before the `attempts`-th retry: 30 s, 1 min, 2 min… at most 15 min.
pub fn backoff(attempts: i32) -> chrono::Duration {
    let doublings = attempts.clamp(1, 6) - 1;
    (chrono::Duration::seconds(30) * 2i32.pow(doublings as u32)).min(chrono::Duration::minutes(15))
}

/// Wakes the dispatcher early: a message was queued or changed.
#[derive(Clone, Debug, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    pub sent: usize,
    pub failed: usize,
    pub retried: usize,
}

#[derive(Clone)]
pub struct Dispatcher {
    db: Db,
    mail: MailSettings,
    providers: Providers,
    wake: Wake,
    lease: chrono::Duration,
}

/// What the messages of one batch share.
struct Batch {
    layout: Layout,
    /// Each writer's name, email and language.
    writers: HashMap<uuid::Uuid, (String, String, Option<crate::i18n::Locale>)>,
}

/// A message's words as they go: merge fields filled with the contact's data of the moment it is
/// sent (not of when it was written), and who wrote it.
struct Rendered {
    subject: String,
    body: String,
    /// The writer's name and email (the email's Reply-To).
    author: Option<(String, String)>,
    locale: crate::i18n::Locale,
}

impl Dispatcher {
    pub fn new(db: Db, mail: MailSettings, providers: Providers, wake: Wake) -> Dispatcher {
        Dispatcher {
            db,
            mail,
            providers,
            wake,
            lease: LEASE,
        }
    }

    /// Claims last `lease` (longer than any one send can take: a claim that runs out while its
    /// message is still being sent lets another server send it too).
    pub fn with_lease(mut self, lease: chrono::Duration) -> Dispatcher {
        self.lease = lease;
        self
    }

    /// Sends everything due at `now`, batch after batch, and says what became of it. The
    /// messages of a batch are sent several at a time (each on its own pooled connection).
    pub async fn run_due(&self, now: DateTime<Utc>) -> AppResult<RunReport> {
        self.run_due_until(now, None).await
    }

    /// [`Dispatcher::run_due`], claiming no further batch once `stop` is set: what was claimed is
    /// still sent and recorded, so a server that stops leaves nothing half done.
    async fn run_due_until(
        &self,
        now: DateTime<Utc>,
        stop: Option<&watch::Receiver<bool>>,
    ) -> AppResult<RunReport> {
        let mut report = RunReport::default();
        let at_once = self
            .mail
            .mailer
            .as_ref()
            .map_or(AT_ONCE, |m| m.connections() as usize);
        // Claimed a few rounds at a time: enough to keep every connection busy.
        let batch = (at_once * 4) as i64;
        loop {
            if stop.is_some_and(|stop| *stop.borrow()) {
                return Ok(report);
            }
            let claimed = store::claim_due(&self.db, now, now + self.lease, batch).await?;
            if claimed.is_empty() {
                return Ok(report);
            }
            // What every message of the batch needs, read once a batch rather than once a
            // message: the card's layout (for merge fields) and the writers.
            let mut writers = HashMap::new();
            for id in claimed.iter().filter_map(|m| m.author_id) {
                if let std::collections::hash_map::Entry::Vacant(entry) = writers.entry(id) {
                    match crate::team::store::contact_details(&self.db, id).await {
                        Ok(details) => {
                            entry.insert(details);
                        }
                        Err(crate::error::AppError::NotFound) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            let batch = Batch {
                layout: crate::fields::store::layout(&self.db).await?,
                writers,
            };
            let batch = &batch;
            let mut done = futures::stream::iter(claimed)
                .map(|message| async move {
                    let outcome = self.attempt(&message, batch, now).await;
                    let kept = store::finish(&self.db, &message, &outcome, crate::db::now()).await;
                    (message, outcome, kept)
                })
                .buffer_unordered(at_once);
            while let Some((message, outcome, kept)) = done.next().await {
                match &outcome {
                    Outcome::Sent { .. } => report.sent += 1,
                    Outcome::Failed { reason } => {
                        tracing::warn!(id = %message.id, reason, "a message failed");
                        report.failed += 1
                    }
                    Outcome::Retry { reason, at } => {
                        tracing::info!(id = %message.id, reason, %at, "a message will be retried");
                        report.retried += 1
                    }
                }
                if !kept? {
                    tracing::warn!(id = %message.id, "the claim had expired; another dispatcher took over");
                }
            }
        }
    }

    /// One try at sending a claimed message.
    async fn attempt(&self, message: &Claimed, batch: &Batch, now: DateTime<Utc>) -> Outcome {
        let contact = match crate::contacts::store::get(&self.db, message.contact_id).await {
            Ok(Some(contact)) => contact,
            Ok(None) => return failed(BlockedBecause::ContactDeleted),
            Err(e) => return self.transient(message, now, format!("database: {e}")),
        };
        if contact.dnd.blocks(message.channel.dnd()) {
            return failed(BlockedBecause::DoNotDisturb);
        }
        match message.channel {
            Channel::Email => self.email(message, &contact, batch, now).await,
            Channel::Sms => match &self.providers.sms {
                Some(provider) => self.text(provider, message, &contact, batch, now).await,
                None => failed(BlockedBecause::NotSetUp),
            },
            Channel::WhatsApp => match &self.providers.whatsapp {
                Some(provider) => self.text(provider, message, &contact, batch, now).await,
                None => failed(BlockedBecause::NotSetUp),
            },
        }
    }

    /// A transient failure: retried after a pause, unless it has gone on too long.
    fn transient(&self, message: &Claimed, now: DateTime<Utc>, reason: String) -> Outcome {
        let at = now + backoff(message.attempts);
        if at - message.send_at > RETRY_FOR {
            Outcome::Failed {
                reason: format!("{}: {reason}", BlockedBecause::GaveUp.key()),
            }
        } else {
            Outcome::Retry { at, reason }
        }
    }

    fn render(&self, message: &Claimed, contact: &Contact, batch: &Batch) -> Rendered {
        let layout = &batch.layout;
        let author = message
            .author_id
            .and_then(|id| batch.writers.get(&id))
            .cloned();
        let locale = author.as_ref().and_then(|a| a.2).unwrap_or_default();
        let sender = match &author {
            Some((name, email, _)) => Sender::new(name, email, &self.mail),
            None => Sender::new("", "", &self.mail),
        };
        let values = MergeValues::new(contact, layout, &sender, locale);
        let subject = message.subject.as_deref().unwrap_or_default();
        Rendered {
            subject: merge::render(subject, &values, layout).text,
            body: merge::render(&message.body, &values, layout).text,
            author: author.map(|(name, email, _)| (name, email)),
            locale,
        }
    }

    async fn email(
        &self,
        message: &Claimed,
        contact: &Contact,
        batch: &Batch,
        now: DateTime<Utc>,
    ) -> Outcome {
        if contact.email_subscription == "unsubscribed" {
            return failed(BlockedBecause::Unsubscribed);
        }
        let Some(address) = contact.email.as_deref() else {
            return failed(BlockedBecause::NoAddress);
        };
        let Some(mailer) = &self.mail.mailer else {
            return failed(BlockedBecause::NotSetUp);
        };
        let words = self.render(message, contact, batch);
        let files = match self.files(message).await {
            Ok(files) => files,
            Err(e) => return self.transient(message, now, format!("database: {e}")),
        };
        let unsubscribe = self
            .mail
            .link(&super::unsubscribe::path(&message.message_key));
        let email = Outgoing {
            from: mailer.from(),
            to: (&contact.display_name, address),
            reply_to: words.author.clone(),
            message_id: &message.message_key,
            subject: &words.subject,
            body: &words.body,
            unsubscribe: &unsubscribe,
            locale: words.locale,
            files,
        };
        let email = match email.build() {
            Ok(email) => email,
            Err(e) => {
                return Outcome::Failed {
                    reason: e.to_string(),
                }
            }
        };
        match mailer.send_email(email).await {
            Ok(()) => Outcome::Sent {
                provider_id: None,
                sent: Some((Some(words.subject), words.body)),
            },
            Err(e) if e.permanent => Outcome::Failed { reason: e.reason },
            Err(e) => self.transient(message, now, e.reason),
        }
    }

    /// An SMS or a WhatsApp message, through its provider.
    async fn text(
        &self,
        provider: &impl TextProvider,
        message: &Claimed,
        contact: &Contact,
        batch: &Batch,
        now: DateTime<Utc>,
    ) -> Outcome {
        let Some(phone) = contact.phone.as_deref() else {
            return failed(BlockedBecause::NoAddress);
        };
        let words = self.render(message, contact, batch);
        let text = Text {
            to: phone,
            body: &words.body,
            key: &message.message_key,
            status_url: self
                .mail
                .link(&super::webhooks::twilio_status_path(&message.message_key)),
        };
        match provider.send(self.providers.http(), &text).await {
            Ok(id) => Outcome::Sent {
                provider_id: Some(id),
                sent: Some((None, words.body)),
            },
            Err(refusal) if refusal.permanent => Outcome::Failed {
                reason: refusal.reason,
            },
            Err(refusal) => self.transient(message, now, refusal.reason),
        }
    }

    /// The message's files with their bytes.
    async fn files(&self, message: &Claimed) -> AppResult<Vec<(Attachment, Vec<u8>)>> {
        let mut files = Vec::new();
        if message.files == 0 {
            return Ok(files);
        }
        for file in super::attachments::store::of_message(&self.db, message.id).await? {
            let data = super::attachments::store::data(&self.db, file.id).await?;
            files.push((file, data));
        }
        Ok(files)
    }

    /// Runs until `stop`: sends what is due, then sleeps until the next message is due, a new one
    /// is queued, or [`MAX_SLEEP`] passes.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            let now = crate::db::now();
            if let Err(e) = self.run_due_until(now, Some(&stop)).await {
                tracing::error!(error = %e, "the dispatcher could not run");
            }
            let pause = match store::next_due(&self.db).await {
                Ok(Some(at)) => (at - crate::db::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(MAX_SLEEP),
                Ok(None) => MAX_SLEEP,
                Err(_) => Duration::from_secs(5),
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = self.wake.0.notified() => {}
                changed = stop.changed() => if changed.is_err() { return },
            }
            if *stop.borrow() {
                return;
            }
        }
    }
}

/// An email to a contact, ready to build.
struct Outgoing<'a> {
    from: &'a Mailbox,
    to: (&'a str, &'a str),
    reply_to: Option<(String, String)>,
    /// The message's key: its Message-ID stays the same however often it is sent.
    message_id: &'a str,
    subject: &'a str,
    body: &'a str,
    /// The contact's unsubscribe page (and its one-click address, RFC 8058).
    unsubscribe: &'a str,
    locale: crate::i18n::Locale,
    files: Vec<(Attachment, Vec<u8>)>,
}

impl Outgoing<'_> {
    /// Text and HTML, from the workspace's sender, replying to the person who wrote it.
    fn build(self) -> anyhow::Result<lettre::Message> {
        let domain = self.from.email.domain().to_string();
        let to = Mailbox::new(Some(self.to.0.to_string()), self.to.1.parse()?);
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .message_id(Some(format!("<{}@{domain}>", self.message_id)))
            .subject(self.subject)
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{}>", self.unsubscribe),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_string(),
            ));
        if let Some((name, email)) = self.reply_to {
            if let Ok(address) = email.parse() {
                builder = builder.reply_to(Mailbox::new(Some(name), address));
            }
        }
        let l = self.locale;
        let footer = l.t(
            "Don't want these emails? Unsubscribe",
            "Non vuoi più ricevere queste email? Disiscriviti",
        );
        let text = format!("{}\n\n--\n{footer}: {}\n", self.body, self.unsubscribe);
        let html = format!(
            "<!DOCTYPE html><html><body style=\"font-family:sans-serif;line-height:1.5\">{}\
             <p style=\"margin-top:2em;font-size:small;color:#4f5b6b\"><a href=\"{}\">{}</a></p></body></html>",
            crate::mail::escape(self.body).replace('\n', "<br>"),
            crate::mail::escape(self.unsubscribe),
            crate::mail::escape(footer),
        );
        let words = MultiPart::alternative()
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(text),
            )
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(html),
            );
        if self.files.is_empty() {
            return Ok(builder.multipart(words)?);
        }
        let mut mixed = MultiPart::mixed().multipart(words);
        for (file, data) in self.files {
            let content_type = ContentType::parse(&file.content_type)?;
            mixed = mixed.singlepart(
                lettre::message::Attachment::new(file.file_name).body(data, content_type),
            );
        }
        Ok(builder.multipart(mixed)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_a_limit() {
        let seconds = |n| backoff(n).num_seconds();
        assert_eq!(
            [seconds(1), seconds(2), seconds(3), seconds(6), seconds(20)],
            [30, 60, 120, 900, 900]
        );
    }
}
