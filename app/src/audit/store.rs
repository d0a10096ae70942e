//! Writing and reading the audit log. Server-only.
//!
//! Entries are written with [`record!`] inside the transaction that makes the change, so a change
//! and its entry are stored together or not at all.

use uuid::Uuid;

use super::{AuditEntry, AuditPage};
use crate::{auth::CurrentUser, db::Db, error::AppResult, with_db};

/// Who made a change: a user, or Rubrica itself.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub id: Option<Uuid>,
    pub name: Option<String>,
}

impl Actor {
    pub fn user(user: &CurrentUser) -> Actor {
        Actor {
            id: Some(user.id),
            name: Some(user.name.clone()),
        }
    }

    /// A change Rubrica made on its own (a lead form, a purchase).
    pub fn system() -> Actor {
        Actor::default()
    }
}

/// One change to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub field: String,
    pub label: Option<String>,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl Change {
    pub fn new(field: impl Into<String>, old: Option<String>, new: Option<String>) -> Change {
        Change {
            field: field.into(),
            label: None,
            old,
            new,
        }
    }

    pub fn labelled(mut self, label: impl Into<String>) -> Change {
        self.label = Some(label.into());
        self
    }
}

pub const INSERT: &str = "INSERT INTO audit_log \
    (contact_id, actor_id, actor_name, at, field, label, old_value, new_value) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// Records `changes` to `contact` by `actor` at `at`, on `tx` (a transaction of either engine):
/// `record!(&mut *tx, contact_id, &actor, at, &changes)`. A macro rather than a function because
/// the transaction's type differs between SQLite and PostgreSQL (see `with_db!`).
#[macro_export]
macro_rules! record {
    ($tx:expr, $contact:expr, $actor:expr, $at:expr, $changes:expr) => {{
        let actor: &$crate::audit::store::Actor = $actor;
        for change in $changes {
            let change: &$crate::audit::store::Change = change;
            sqlx::query($crate::audit::store::INSERT)
                .bind($contact)
                .bind(actor.id)
                .bind(actor.name.clone())
                .bind($at)
                .bind(change.field.clone())
                .bind(change.label.clone())
                .bind(change.old.clone())
                .bind(change.new.clone())
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    at: chrono::DateTime<chrono::Utc>,
    actor_name: Option<String>,
    field: String,
    label: Option<String>,
    old_value: Option<String>,
    new_value: Option<String>,
}

/// A contact's history, newest first, `size` entries older than `before`.
pub async fn page(
    db: &Db,
    contact_id: Uuid,
    before: Option<i64>,
    size: usize,
) -> AppResult<AuditPage> {
    let rows: Vec<Row> = with_db!(db, pool => sqlx::query_as(
        "SELECT id, at, actor_name, field, label, old_value, new_value FROM audit_log \
         WHERE contact_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(contact_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(size as i64 + 1)
    .fetch_all(pool)
    .await)?;
    let more = rows.len() > size;
    let entries: Vec<AuditEntry> = rows
        .into_iter()
        .take(size)
        .map(|r| AuditEntry {
            id: r.id,
            at: r.at,
            actor_name: r.actor_name,
            field: r.field,
            label: r.label,
            old_value: r.old_value,
            new_value: r.new_value,
        })
        .collect();
    let older = more.then(|| entries.last().map(|e| e.id)).flatten();
    Ok(AuditPage { entries, older })
}
