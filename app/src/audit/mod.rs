//! The audit log: every change to a contact (field values, tags, owner, followers, visibility,
//! DND, type) with who made it, when, and the value before and after. Entries are written in the
//! same transaction as the change (see `store`) and never edited or deleted — the database refuses
//! both. The contact page's History lists them newest first.

#[cfg(feature = "ssr")]
pub mod store;

use chrono::{DateTime, Utc};
use leptos::{prelude::*, server_fn::codec::Json};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    contacts::standard::{Field, GENDERS, LEAD_STATUSES},
    error::AppResult,
    fields::{standard_type_label, FieldRef, Layout},
    i18n::Locale,
};

/// What was changed, as the history names it.
pub mod what {
    pub const CREATED: &str = "created";
    pub const TAG: &str = "tag";
    pub const OWNER: &str = "owner";
    pub const FOLLOWER: &str = "follower";
    pub const VISIBILITY: &str = "visibility";
    /// `subscribed` / `unsubscribed` (from an email's unsubscribe link).
    pub const EMAIL_SUBSCRIPTION: &str = "email_subscription";
    /// Followed by the channel: `dnd:all`, `dnd:email`…
    pub const DND: &str = "dnd:";
}

/// One change to one contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who made it; `None` for Rubrica itself (a lead form, a purchase).
    pub actor_name: Option<String>,
    /// A field's key (`city`, `custom-…`), or one of [`what`].
    pub field: String,
    /// A custom field's name when the change was made (it may have been renamed or deleted since).
    pub label: Option<String>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// A page of a contact's history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Where the next (older) page starts, if there is one.
    pub older: Option<i64>,
}

pub const HISTORY_PAGE: usize = 20;

impl AuditEntry {
    /// What changed, as the reader reads it.
    pub fn subject(&self, l: Locale, layout: &Layout) -> String {
        match self.field.as_str() {
            what::CREATED => l.t("Contact created", "Contatto creato").to_string(),
            what::TAG => l.t("Tag", "Tag").to_string(),
            what::OWNER => l.t("Owner", "Proprietario").to_string(),
            what::FOLLOWER => l.t("Follower", "Follower").to_string(),
            what::VISIBILITY => l.t("Visibility", "Visibilità").to_string(),
            what::EMAIL_SUBSCRIPTION => l.t("Email subscription", "Iscrizione email").to_string(),
            other => {
                if let Some(channel) = other.strip_prefix(what::DND) {
                    let channel =
                        crate::contacts::DndChannel::parse(channel).map_or(channel, |c| c.label(l));
                    return match l {
                        Locale::En => format!("Do not disturb: {channel}"),
                        Locale::It => format!("Non disturbare: {channel}"),
                    };
                }
                match FieldRef::from_key(other) {
                    Some(FieldRef::Standard(field)) => field.label(l).to_string(),
                    Some(FieldRef::Custom(id)) => layout
                        .custom(id)
                        .map(|f| f.name.clone())
                        .or_else(|| self.label.clone())
                        .unwrap_or_default(),
                    None => other.to_string(),
                }
            }
        }
    }

    /// A value of this entry as the reader reads it.
    pub fn value(&self, stored: &str, l: Locale, layout: &Layout) -> String {
        match self.field.as_str() {
            what::VISIBILITY => match stored {
                "private" => l.t("Private", "Privato").to_string(),
                _ => l
                    .t("Shared with the team", "Condiviso con il team")
                    .to_string(),
            },
            what::EMAIL_SUBSCRIPTION => crate::contacts::subscription_label(l, stored).to_string(),
            f if f.starts_with(what::DND) => match stored {
                "on" => l.t("On", "Attivo").to_string(),
                _ => l.t("Off", "Disattivo").to_string(),
            },
            f => match FieldRef::from_key(f) {
                Some(FieldRef::Standard(Field::ContactType)) => match stored.strip_prefix("std:") {
                    Some(key) => standard_type_label(key, l),
                    None => stored.to_string(),
                },
                Some(FieldRef::Standard(field @ (Field::Gender | Field::LeadStatus))) => {
                    let list = if field == Field::Gender {
                        GENDERS
                    } else {
                        LEAD_STATUSES
                    };
                    list.iter()
                        .find(|c| c.value == stored)
                        .map_or(stored.to_string(), |c| c.label(l).to_string())
                }
                Some(FieldRef::Standard(Field::Phone)) => {
                    crate::contacts::standard::format_phone(stored)
                }
                Some(FieldRef::Standard(Field::DateOfBirth)) => {
                    chrono::NaiveDate::parse_from_str(stored, "%Y-%m-%d")
                        .map_or(stored.to_string(), |d| l.date(d))
                }
                Some(FieldRef::Custom(id)) => layout
                    .custom(id)
                    .map_or(stored.to_string(), |f| f.display(stored, l)),
                _ => stored.to_string(),
            },
        }
    }
}

/// A contact's history, newest first, [`HISTORY_PAGE`] entries at a time (`before`: the `older`
/// of the page before).
#[server(input = Json)]
pub async fn contact_history(contact_id: Uuid, before: Option<i64>) -> AppResult<AuditPage> {
    let viewer = crate::contacts::store::viewer()?;
    let db = crate::state::db();
    crate::contacts::store::get_visible(&db, &viewer, contact_id).await?;
    store::page(&db, contact_id, before, HISTORY_PAGE).await
}
