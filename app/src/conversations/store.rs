//! Messages in the database: the thread, the queue, and the dispatcher's claims. Server-only.
//!
//! A message waits as `pending` until its `next_attempt_at`; a dispatcher claims it by turning it
//! `sending` with a lease (`lease_until`). A claim whose lease ran out (its server died mid-send)
//! is claimed again. Finishing a message checks that the lease is still the claimer's own, so a
//! dispatcher that lost its lease never overwrites what the next one did.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Channel, Direction, Draft, Message, MessageStatus};
use crate::{
    auth::CurrentUser,
    db::{new_id, Backend, Db},
    error::{AppError, AppResult, Problem},
    with_db,
};

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    #[sqlx(try_from = "String")]
    channel: Channel,
    direction: String,
    author_name: Option<String>,
    subject: Option<String>,
    body: String,
    status: String,
    scheduled: bool,
    attempts: i32,
    failure: Option<String>,
    send_at: Option<DateTime<Utc>>,
    send_zone: Option<String>,
    sent_at: Option<DateTime<Utc>>,
    delivered_at: Option<DateTime<Utc>>,
    delivery_failure: Option<String>,
    read_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT m.id, m.channel, m.direction, u.name AS author_name, m.subject, \
    m.body, m.status, m.scheduled, m.attempts, m.failure, m.send_at, m.send_zone, m.sent_at, \
    m.delivered_at, m.delivery_failure, m.read_at, m.created_at FROM messages m LEFT JOIN users u ON u.id = m.author_id";

impl Row {
    fn into_message(self) -> Message {
        let status = match self.status.as_str() {
            // Scheduled until its first attempt; waiting again after a transient failure, it is
            // still on its way.
            "pending" if self.scheduled && self.attempts == 0 => MessageStatus::Scheduled,
            "pending" | "sending" => MessageStatus::Sending,
            // What the provider reported after taking it.
            "sent" if self.delivery_failure.is_some() => MessageStatus::Failed,
            "sent" if self.delivered_at.is_some() => MessageStatus::Delivered,
            "sent" => MessageStatus::Sent,
            "delivered" => MessageStatus::Delivered,
            "failed" => MessageStatus::Failed,
            "cancelled" => MessageStatus::Cancelled,
            _ => MessageStatus::Received,
        };
        Message {
            id: self.id,
            channel: self.channel,
            direction: if self.direction == "in" {
                Direction::In
            } else {
                Direction::Out
            },
            author_name: self.author_name,
            subject: self.subject,
            body: self.body,
            status,
            failure: match status {
                MessageStatus::Failed => self.delivery_failure.or(self.failure),
                _ => self.failure,
            },
            send_at_local: match (self.send_at, self.send_zone.as_deref()) {
                (Some(at), Some(zone)) => zone
                    .parse::<chrono_tz::Tz>()
                    .ok()
                    .map(|tz| at.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()),
                _ => None,
            },
            send_at: self.send_at,
            send_zone: self.send_zone,
            sent_at: self.sent_at,
            read: self.read_at.is_some() || self.direction == "out",
            created_at: self.created_at,
            attachments: Vec::new(),
        }
    }
}

/// The thread: the last `shown` messages with a contact, oldest first, and whether there are
/// older ones.
pub async fn thread(
    db: &Db,
    contact_id: Uuid,
    channel: Option<Channel>,
    shown: u32,
) -> AppResult<super::Thread> {
    // One more than shown, to tell whether earlier messages exist.
    let sql = format!(
        "{SELECT} WHERE m.contact_id = $1 AND ($2 IS NULL OR m.channel = $2) \
         ORDER BY m.created_at DESC, m.id DESC LIMIT {}",
        shown as u64 + 1
    );
    let rows: Vec<Row> = with_db!(db, pool => sqlx::query_as(&sql)
        .bind(contact_id)
        .bind(channel.map(Channel::as_str))
        .fetch_all(pool)
        .await)?;
    let earlier = rows.len() > shown as usize;
    let mut messages: Vec<Message> = rows
        .into_iter()
        .take(shown as usize)
        .map(Row::into_message)
        .collect();
    messages.reverse();
    for (message_id, file) in super::attachments::store::of_contact(db, contact_id).await? {
        if let Some(m) = messages.iter_mut().find(|m| m.id == message_id) {
            m.attachments.push(file);
        }
    }
    Ok(super::Thread { messages, earlier })
}

pub async fn message(db: &Db, id: Uuid) -> AppResult<Message> {
    let sql = format!("{SELECT} WHERE m.id = $1");
    let row: Option<Row> = with_db!(db, pool => sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    let mut message = row.map(Row::into_message).ok_or(AppError::NotFound)?;
    message.attachments = super::attachments::store::of_message(db, id).await?;
    Ok(message)
}

/// The contact a message belongs to.
pub async fn contact_of(db: &Db, id: Uuid) -> AppResult<Option<Uuid>> {
    let row: Option<(Uuid,)> = with_db!(db, pool => sqlx::query_as("SELECT contact_id FROM messages WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(|(id,)| id))
}

/// Queues a message to go at `at`: now, or (with the zone it was picked in) scheduled. Its files
/// (the draft's, uploaded by `author` for this contact) go with it in the same transaction, so the
/// dispatcher never sees the message without them.
pub async fn queue(
    db: &Db,
    author: &CurrentUser,
    contact_id: Uuid,
    draft: &Draft,
    at: DateTime<Utc>,
    zone: Option<&str>,
) -> AppResult<Uuid> {
    let id = new_id();
    let now = crate::db::now();
    let subject = (draft.channel == Channel::Email).then_some(draft.subject.as_str());
    let attached = with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO messages (id, contact_id, channel, direction, author_id, subject, body, \
             status, scheduled, send_at, send_zone, next_attempt_at, message_key, created_at, \
             updated_at) \
             VALUES ($1, $2, $3, 'out', $4, $5, $6, 'pending', $7, $8, $9, $8, $10, $11, $11)",
        )
        .bind(id)
        .bind(contact_id)
        .bind(draft.channel.as_str())
        .bind(author.id)
        .bind(subject)
        .bind(&draft.body)
        .bind(zone.is_some())
        .bind(at)
        .bind(zone)
        .bind(uuid::Uuid::new_v4().simple().to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for file in &draft.attachments {
            let changed = sqlx::query(ATTACH)
                .bind(id)
                .bind(file.id)
                .bind(contact_id)
                .bind(author.id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                return Ok(false);
            }
        }
        tx.commit().await?;
        Ok::<bool, sqlx::Error>(true)
    }
    .await)?;
    if !attached {
        return Err(AppError::invalid("attachments", Problem::FileGone));
    }
    Ok(id)
}

/// Gives a draft's file (uploaded by the writer for this contact, not yet sent) to a message:
/// `$1` the message, `$2` the file, `$3` the contact, `$4` the writer.
const ATTACH: &str = "UPDATE attachments SET message_id = $1 WHERE id = $2 AND contact_id = $3 \
    AND uploaded_by = $4 AND (message_id IS NULL OR message_id = $1)";

/// Refused for a message no longer waiting (claimed for sending, sent, cancelled).
fn too_late(changed: u64) -> AppResult<()> {
    if changed == 0 {
        Err(AppError::invalid("message", Problem::AlreadySending))
    } else {
        Ok(())
    }
}

/// Changes a waiting message's text, files and time. Files taken off it go back to being the
/// writer's draft files.
pub async fn edit_waiting(
    db: &Db,
    author: &CurrentUser,
    id: Uuid,
    contact_id: Uuid,
    draft: &Draft,
    at: DateTime<Utc>,
    zone: &str,
) -> AppResult<()> {
    let subject = (draft.channel == Channel::Email).then_some(draft.subject.as_str());
    let keep: Vec<Uuid> = draft.attachments.iter().map(|a| a.id).collect();
    let outcome = with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE messages SET channel = $2, subject = $3, body = $4, send_at = $5, \
             send_zone = $6, next_attempt_at = $5, scheduled = TRUE, author_id = $7, \
             updated_at = $8 WHERE id = $1 AND status = 'pending'",
        )
        .bind(id)
        .bind(draft.channel.as_str())
        .bind(subject)
        .bind(&draft.body)
        .bind(at)
        .bind(zone)
        .bind(author.id)
        .bind(crate::db::now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(Err(Problem::AlreadySending));
        }
        let current: Vec<(Uuid,)> =
            sqlx::query_as("SELECT id FROM attachments WHERE message_id = $1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        for (file,) in current {
            if !keep.contains(&file) {
                sqlx::query("UPDATE attachments SET message_id = NULL WHERE id = $1")
                    .bind(file)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for file in &keep {
            let attached = sqlx::query(ATTACH)
                .bind(id)
                .bind(file)
                .bind(contact_id)
                .bind(author.id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if attached == 0 {
                return Ok(Err(Problem::FileGone));
            }
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Ok(()))
    }
    .await)?;
    outcome.map_err(|problem| {
        let field = if problem == Problem::FileGone {
            "attachments"
        } else {
            "message"
        };
        AppError::invalid(field, problem)
    })
}

/// A waiting message goes now rather than at its time.
pub async fn release_now(db: &Db, id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    let changed = with_db!(db, pool => sqlx::query(
        "UPDATE messages SET next_attempt_at = $2, send_at = $2, scheduled = FALSE, updated_at = $2 \
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(now)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    too_late(changed)
}

pub async fn cancel_waiting(db: &Db, id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    let changed = with_db!(db, pool => sqlx::query(
        "UPDATE messages SET status = 'cancelled', next_attempt_at = NULL, updated_at = $2 \
         WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(now)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    too_late(changed)
}

/// Marks the replies in a contact's conversation read, or the last one unread again.
pub async fn mark(db: &Db, contact_id: Uuid, read: bool, now: DateTime<Utc>) -> AppResult<()> {
    if read {
        with_db!(db, pool => sqlx::query(
            "UPDATE messages SET read_at = $2 \
             WHERE contact_id = $1 AND direction = 'in' AND read_at IS NULL",
        )
        .bind(contact_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    } else {
        with_db!(db, pool => sqlx::query(
            "UPDATE messages SET read_at = NULL WHERE id = (SELECT id FROM messages \
             WHERE contact_id = $1 AND direction = 'in' ORDER BY created_at DESC LIMIT 1)",
        )
        .bind(contact_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// A message the dispatcher has claimed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: Uuid,
    pub contact_id: Uuid,
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    pub author_id: Option<Uuid>,
    pub subject: Option<String>,
    pub body: String,
    pub message_key: String,
    /// This claim's lease: finishing the message checks it is still this one.
    pub lease_until: DateTime<Utc>,
    /// When it was first due: retries stop some time after it.
    pub send_at: DateTime<Utc>,
    pub attempts: i32,
    /// How many files go with it.
    pub files: i64,
}

/// Claims up to `limit` messages due at `now` (or abandoned by a dispatcher whose lease ran out),
/// leasing them until `lease_until`. On PostgreSQL several servers claim at once without waiting
/// for each other or taking the same message (`FOR UPDATE SKIP LOCKED`); SQLite has one writer.
pub async fn claim_due(
    db: &Db,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> AppResult<Vec<Claimed>> {
    let lock = match db.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    // Two statements, one per status, so that each finds its messages through its own partial
    // index (an OR of the two would read the whole table): abandoned claims first (they are the
    // oldest), then what is due, up to `limit` in all.
    let mut claimed = Vec::new();
    for (due, order) in [
        ("status = 'sending' AND lease_until <= $1", "lease_until"),
        (
            "status = 'pending' AND next_attempt_at <= $1",
            "next_attempt_at",
        ),
    ] {
        let left = limit - claimed.len() as i64;
        if left <= 0 {
            break;
        }
        let sql = format!(
            "UPDATE messages SET status = 'sending', lease_until = $2, attempts = attempts + 1, \
             updated_at = $1 \
             WHERE id IN (SELECT id FROM messages WHERE {due} ORDER BY {order} LIMIT $3{lock}) \
             RETURNING id, contact_id, channel, author_id, subject, body, message_key, lease_until, \
               send_at, attempts, \
               (SELECT COUNT(*) FROM attachments a WHERE a.message_id = messages.id) AS files"
        );
        let batch: Vec<Claimed> = with_db!(db, pool => sqlx::query_as(&sql)
            .bind(now)
            .bind(lease_until)
            .bind(left)
            .fetch_all(pool)
            .await)?;
        claimed.extend(batch);
    }
    Ok(claimed)
}

/// When the dispatcher next has something to do: the earliest due message or expiring lease.
pub async fn next_due(db: &Db) -> AppResult<Option<DateTime<Utc>>> {
    let row: (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = with_db!(db, pool => sqlx::query_as(
        "SELECT (SELECT MIN(next_attempt_at) FROM messages WHERE status = 'pending'), \
                (SELECT MIN(lease_until) FROM messages WHERE status = 'sending')",
    )
    .fetch_one(pool)
    .await)?;
    Ok(match row {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}

/// How a send attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent {
        provider_id: Option<String>,
        /// The subject and text as sent, merge fields filled in: what the thread shows from now on.
        sent: Option<(Option<String>, String)>,
    },
    /// It can't go: Rubrica's reason (`BlockedBecause::key`) or the provider's words.
    Failed { reason: String },
    /// Try again at `at` (a transient failure, `reason`).
    Retry { at: DateTime<Utc>, reason: String },
}

/// Records how the attempt ended, if the claim is still this dispatcher's. Returns whether it was.
pub async fn finish(
    db: &Db,
    claimed: &Claimed,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    /// The columns an outcome sets.
    struct Ending<'a> {
        status: &'a str,
        failure: Option<&'a str>,
        next: Option<DateTime<Utc>>,
        sent_at: Option<DateTime<Utc>>,
        provider_id: Option<&'a str>,
        sent: Option<&'a (Option<String>, String)>,
    }
    let ending = match outcome {
        Outcome::Sent { provider_id, sent } => Ending {
            status: "sent",
            failure: None,
            next: None,
            sent_at: Some(now),
            provider_id: provider_id.as_deref(),
            sent: sent.as_ref(),
        },
        Outcome::Failed { reason } => Ending {
            status: "failed",
            failure: Some(reason),
            next: None,
            sent_at: None,
            provider_id: None,
            sent: None,
        },
        Outcome::Retry { at, reason } => Ending {
            status: "pending",
            failure: Some(reason),
            next: Some(*at),
            sent_at: None,
            provider_id: None,
            sent: None,
        },
    };
    let changed = with_db!(db, pool => sqlx::query(
        "UPDATE messages SET status = $3, failure = $4, next_attempt_at = $5, sent_at = $6, \
         provider_id = COALESCE($7, provider_id), lease_until = NULL, updated_at = $8, \
         subject = CASE WHEN $9 THEN $10 ELSE subject END, body = COALESCE($11, body) \
         WHERE id = $1 AND status = 'sending' AND lease_until = $2",
    )
    .bind(claimed.id)
    .bind(claimed.lease_until)
    .bind(ending.status)
    .bind(ending.failure)
    .bind(ending.next)
    .bind(ending.sent_at)
    .bind(ending.provider_id)
    .bind(now)
    .bind(ending.sent.is_some())
    .bind(ending.sent.and_then(|s| s.0.as_deref()))
    .bind(ending.sent.map(|s| s.1.as_str()))
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(changed > 0)
}

/// What a provider reported about a message it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// It could not be delivered: the provider's words.
    Failed(String),
}

/// Records a provider's report on a message sent on `channel`, found by Rubrica's key or by the
/// provider's id. A report may arrive before the send is recorded; it is kept beside the status,
/// so neither overwrites the other. Returns whether the message was found.
pub async fn record_delivery(
    db: &Db,
    channel: Channel,
    key: Option<&str>,
    provider_id: Option<&str>,
    delivery: &Delivery,
    at: DateTime<Utc>,
) -> AppResult<bool> {
    let (delivered, failure) = match delivery {
        Delivery::Delivered => (true, None),
        Delivery::Failed(reason) => (false, Some(reason.as_str())),
    };
    let changed = with_db!(db, pool => sqlx::query(
        "UPDATE messages SET \
           delivered_at = CASE WHEN $4 THEN COALESCE(delivered_at, $6) ELSE delivered_at END, \
           delivery_failure = CASE WHEN $4 OR delivered_at IS NOT NULL THEN delivery_failure \
             ELSE $5 END, \
           updated_at = $6 \
         WHERE channel = $1 AND direction = 'out' AND (message_key = $2 OR provider_id = $3)",
    )
    .bind(channel.as_str())
    .bind(key)
    .bind(provider_id)
    .bind(delivered)
    .bind(failure)
    .bind(at)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(changed > 0)
}

/// A message from a contact, as a provider's webhook brings it.
#[derive(Debug, Clone)]
pub struct Inbound<'a> {
    pub channel: Channel,
    /// The sender's number, E.164.
    pub from: &'a str,
    pub body: &'a str,
    pub provider_id: &'a str,
    /// The name the sender goes by on the channel (WhatsApp's profile name), if known.
    pub name: Option<&'a str>,
}

/// Puts a contact's message into their thread, unread: the contact with that number (most
/// recently updated, if several), or a new one. A webhook repeated by the provider adds nothing.
/// A contact with Do Not Disturb on for inbound messages still has the message kept (nothing a
/// contact wrote is thrown away), but already read, so it calls for no one's attention.
pub async fn record_inbound(db: &Db, inbound: &Inbound<'_>, at: DateTime<Utc>) -> AppResult<Uuid> {
    let found: Option<(Uuid, bool)> = with_db!(db, pool => sqlx::query_as(
        "SELECT id, (dnd_all OR dnd_inbound) FROM contacts WHERE phone = $1 \
         ORDER BY updated_at DESC LIMIT 1",
    )
    .bind(inbound.from)
    .fetch_optional(pool)
    .await)?;
    let (contact_id, quiet) = match found {
        Some(found) => found,
        None => (
            crate::contacts::store::create_for_reply(
                db,
                inbound.channel,
                inbound.from,
                inbound.name,
            )
            .await?,
            false,
        ),
    };
    let id = new_id();
    with_db!(db, pool => sqlx::query(
        "INSERT INTO messages (id, contact_id, channel, direction, body, status, message_key, \
         provider_id, sent_at, read_at, created_at, updated_at) \
         VALUES ($1, $2, $3, 'in', $4, 'received', $5, $6, $7, $8, $7, $7) ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(contact_id)
    .bind(inbound.channel.as_str())
    .bind(inbound.body)
    .bind(uuid::Uuid::new_v4().simple().to_string())
    .bind(inbound.provider_id)
    .bind(at)
    .bind(quiet.then_some(at))
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(contact_id)
}
