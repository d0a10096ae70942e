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

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use tokio::sync::{watch, Notify};

use super::{
    store::{self, Claimed, Outcome},
    BlockedBecause, Channel,
};
use crate::{contacts::Contact, db::Db, error::AppResult, mail::MailSettings};

/// How long a claim is good for: a server that dies mid-send leaves its messages to another (or to
/// itself, restarted) after this long.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(120);

/// How long transient failures are retried, from the time the message was due.
pub const RETRY_FOR: chrono::Duration = chrono::Duration::hours(1);

/// The longest the dispatcher sleeps: another server may have queued something it was not told of.
const MAX_SLEEP: Duration = Duration::from_secs(30);

/// Messages claimed at a time.
const BATCH: i64 = 50;

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
    wake: Wake,
}

impl Dispatcher {
    pub fn new(db: Db, mail: MailSettings, wake: Wake) -> Dispatcher {
        Dispatcher { db, mail, wake }
    }

    /// Sends everything due at `now`, batch after batch, and says what became of it.
    pub async fn run_due(&self, now: DateTime<Utc>) -> AppResult<RunReport> {
        let mut report = RunReport::default();
        loop {
            let claimed = store::claim_due(&self.db, now, now + LEASE, BATCH).await?;
            if claimed.is_empty() {
                return Ok(report);
            }
            for message in claimed {
                let outcome = self.attempt(&message, now).await;
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
                if !store::finish(&self.db, &message, &outcome, crate::db::now()).await? {
                    tracing::warn!(id = %message.id, "the claim had expired; another dispatcher took over");
                }
            }
        }
    }

    /// One try at sending a claimed message.
    async fn attempt(&self, message: &Claimed, now: DateTime<Utc>) -> Outcome {
        let failed = |reason: BlockedBecause| Outcome::Failed {
            reason: reason.key().to_string(),
        };
        let contact = match crate::contacts::store::get(&self.db, message.contact_id).await {
            Ok(Some(contact)) => contact,
            Ok(None) => return failed(BlockedBecause::ContactDeleted),
            Err(e) => return self.transient(message, now, format!("database: {e}")),
        };
        if contact.dnd.blocks(message.channel.dnd()) {
            return failed(BlockedBecause::DoNotDisturb);
        }
        match message.channel {
            Channel::Email => self.email(message, &contact, now).await,
            // SMS and WhatsApp need a provider, and none is set up.
            Channel::Sms | Channel::WhatsApp => failed(BlockedBecause::NotSetUp),
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

    async fn email(&self, message: &Claimed, contact: &Contact, now: DateTime<Utc>) -> Outcome {
        let failed = |reason: BlockedBecause| Outcome::Failed {
            reason: reason.key().to_string(),
        };
        if contact.email_subscription == "unsubscribed" {
            return failed(BlockedBecause::Unsubscribed);
        }
        let Some(address) = contact.email.as_deref() else {
            return failed(BlockedBecause::NoAddress);
        };
        let Some(mailer) = &self.mail.mailer else {
            return failed(BlockedBecause::NotSetUp);
        };
        let reply_to = match message.author_id {
            Some(author) => crate::team::store::contact_details(&self.db, author)
                .await
                .ok()
                .map(|(name, email, _)| (name, email)),
            None => None,
        };
        let email = match build_email(mailer.from(), message, contact, address, reply_to) {
            Ok(email) => email,
            Err(e) => {
                return Outcome::Failed {
                    reason: e.to_string(),
                }
            }
        };
        match mailer.send_email(email).await {
            Ok(()) => Outcome::Sent { provider_id: None },
            Err(e) if e.permanent => Outcome::Failed { reason: e.reason },
            Err(e) => self.transient(message, now, e.reason),
        }
    }

    /// Runs until `stop`: sends what is due, then sleeps until the next message is due, a new one
    /// is queued, or [`MAX_SLEEP`] passes.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            let now = crate::db::now();
            if let Err(e) = self.run_due(now).await {
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
                _ = stop.changed() => return,
            }
        }
    }
}

/// The email for a claimed message: text and HTML, from the workspace's sender, replies to the
/// person who wrote it, with a Message-ID that stays the same however often it is sent.
fn build_email(
    from: &Mailbox,
    message: &Claimed,
    contact: &Contact,
    address: &str,
    reply_to: Option<(String, String)>,
) -> anyhow::Result<lettre::Message> {
    let domain = from.email.domain().to_string();
    let to = Mailbox::new(Some(contact.display_name.clone()), address.parse()?);
    let mut builder = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .message_id(Some(format!("<{}@{domain}>", message.message_key)))
        .subject(message.subject.clone().unwrap_or_default());
    if let Some((name, email)) = reply_to {
        if let Ok(address) = email.parse() {
            builder = builder.reply_to(Mailbox::new(Some(name), address));
        }
    }
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif;line-height:1.5\">{}</body></html>",
        crate::mail::escape(&message.body).replace('\n', "<br>")
    );
    Ok(builder.multipart(
        MultiPart::alternative()
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(message.body.clone()),
            )
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(html),
            ),
    )?)
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
