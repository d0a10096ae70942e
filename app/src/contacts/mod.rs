//! Contacts: the list (search, sort, tag filters, keyset pages), creating a person or a company,
//! and the contact page with its header (owner, followers, tags, visibility, Do Not Disturb).
//!
//! Who may see a contact is decided here: shared with the team, or private to its owner and
//! followers (admins see every contact). Every server function that takes a contact id reads it
//! through `store::get_visible`, and every list through `store::list`, which filter by it.

mod card;
mod components;
#[cfg(feature = "ssr")]
pub mod export;
pub mod header;
pub mod standard;
#[cfg(feature = "ssr")]
pub mod store;
pub mod time_zones;

pub use card::PrefetchCache;
pub use components::{ContactRoute, ContactsPage};
pub use header::{AddFollower, RemoveFollower, SetDnd, SetOwner, SetVisibility};

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use leptos::{prelude::*, server_fn::codec::Json};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult, FieldError, Problem},
    fields::{FieldRef, Layout},
    i18n::Locale,
    tags::ContactTag,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContactKind {
    Person,
    Company,
}

impl ContactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactKind::Person => "person",
            ContactKind::Company => "company",
        }
    }

    pub fn parse(s: &str) -> Option<ContactKind> {
        match s {
            "person" => Some(ContactKind::Person),
            "company" => Some(ContactKind::Company),
            _ => None,
        }
    }

    pub fn label(self, l: Locale) -> &'static str {
        match self {
            ContactKind::Person => l.t("Person", "Persona"),
            ContactKind::Company => l.t("Company", "Azienda"),
        }
    }
}

/// How the database's `kind` column reads back (its CHECK constraint allows only these two).
impl TryFrom<String> for ContactKind {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        ContactKind::parse(&value).ok_or_else(|| format!("unknown contact kind “{value}”"))
    }
}

/// How the list is ordered. Every order is a keyset over (key, id), so any page is as fast as the
/// first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SortOrder {
    #[default]
    NameAsc,
    NameDesc,
    CreatedDesc,
    CreatedAsc,
    UpdatedDesc,
    UpdatedAsc,
}

impl SortOrder {
    pub const ALL: [SortOrder; 6] = [
        SortOrder::NameAsc,
        SortOrder::NameDesc,
        SortOrder::CreatedDesc,
        SortOrder::CreatedAsc,
        SortOrder::UpdatedDesc,
        SortOrder::UpdatedAsc,
    ];

    /// The value in the URL (`?sort=`).
    pub fn as_param(self) -> &'static str {
        match self {
            SortOrder::NameAsc => "name",
            SortOrder::NameDesc => "-name",
            SortOrder::CreatedDesc => "-created",
            SortOrder::CreatedAsc => "created",
            SortOrder::UpdatedDesc => "-updated",
            SortOrder::UpdatedAsc => "updated",
        }
    }

    pub fn from_param(s: &str) -> SortOrder {
        Self::ALL
            .into_iter()
            .find(|o| o.as_param() == s)
            .unwrap_or_default()
    }

    pub fn label(self, l: Locale) -> &'static str {
        match self {
            SortOrder::NameAsc => l.t("Name (A–Z)", "Nome (A–Z)"),
            SortOrder::NameDesc => l.t("Name (Z–A)", "Nome (Z–A)"),
            SortOrder::CreatedDesc => l.t("Newest first", "Più recenti"),
            SortOrder::CreatedAsc => l.t("Oldest first", "Meno recenti"),
            SortOrder::UpdatedDesc => l.t("Recently updated", "Modificati di recente"),
            SortOrder::UpdatedAsc => l.t("Least recently updated", "Modificati meno di recente"),
        }
    }
}

/// Which page of which list: everything the URL's query string carries.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListQuery {
    pub q: String,
    pub sort: SortOrder,
    /// Cursor of the row the page starts after (next pages).
    pub after: Option<String>,
    /// Cursor of the row the page ends before (previous pages).
    pub before: Option<String>,
    /// How many rows of the list come before this page: it numbers the rows, so that a contact
    /// opened from the list knows its place ("12 of 340") without counting a million rows again.
    pub start: u64,
    /// Tag filters, all of which must hold (`?tag=…` is, `?not_tag=…` is not).
    pub tags: Vec<TagFilter>,
}

/// "Tagged X" (`is`) or "not tagged X".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagFilter {
    pub tag: Uuid,
    pub is: bool,
}

impl ListQuery {
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> ListQuery {
        let mut query = ListQuery::default();
        for (key, value) in pairs {
            match key {
                "q" => query.q = value,
                "sort" => query.sort = SortOrder::from_param(&value),
                "after" if !value.is_empty() => query.after = Some(value),
                "before" if !value.is_empty() => query.before = Some(value),
                "start" => query.start = value.parse().unwrap_or_default(),
                "tag" | "not_tag" => {
                    if let Ok(tag) = Uuid::parse_str(&value) {
                        let filter = TagFilter {
                            tag,
                            is: key == "tag",
                        };
                        // One filter per tag: the last one given wins.
                        query.tags.retain(|f| f.tag != tag);
                        query.tags.push(filter);
                    }
                }
                _ => {}
            }
        }
        query
    }

    /// The query string (with `?`, or empty) that reproduces this list; defaults are left out.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        if !self.q.trim().is_empty() {
            parts.push(format!("q={}", urlencoding::encode(self.q.trim())));
        }
        if self.sort != SortOrder::default() {
            parts.push(format!(
                "sort={}",
                urlencoding::encode(self.sort.as_param())
            ));
        }
        for filter in &self.tags {
            let key = if filter.is { "tag" } else { "not_tag" };
            parts.push(format!("{key}={}", filter.tag));
        }
        if let Some(after) = &self.after {
            parts.push(format!("after={}", urlencoding::encode(after)));
        }
        if let Some(before) = &self.before {
            parts.push(format!("before={}", urlencoding::encode(before)));
        }
        if self.start > 0 {
            parts.push(format!("start={}", self.start));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    /// Whether the list is narrowed down (a search or a tag filter), rather than everyone.
    pub fn is_filtered(&self) -> bool {
        !self.q.trim().is_empty() || !self.tags.is_empty()
    }

    /// The same list with `filter` on `tag` (or without any filter on it, for `None`), from its
    /// first page.
    pub fn with_tag(&self, tag: Uuid, is: Option<bool>) -> ListQuery {
        let mut query = self.first_page();
        query.tags.retain(|f| f.tag != tag);
        if let Some(is) = is {
            query.tags.push(TagFilter { tag, is });
        }
        query
    }

    /// The same list from its first page.
    pub fn first_page(&self) -> ListQuery {
        ListQuery {
            after: None,
            before: None,
            start: 0,
            ..self.clone()
        }
    }
}

/// One row of the contacts list: what the list shows, nothing more (no timestamps, so the list
/// page's wasm needs no date parsing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactSummary {
    pub id: Uuid,
    pub kind: ContactKind,
    pub display_name: String,
    // Left out when empty: fifty rows of `"city":null` are bytes in every list page's HTML (read
    // back as None all the same).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
}

/// One page of the list, with cursors for its neighbours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactListPage {
    pub items: Vec<ContactSummary>,
    /// The names of the tags the list is filtered by, by id (the filter bar shows them; their
    /// colours stay out of the list's bundle).
    pub filter_tags: Vec<(Uuid, String)>,
    /// How many contacts match the search, on all pages…
    pub total: i64,
    /// …or at least how many, when a broad search matches too many to count quickly.
    pub total_is_lower_bound: bool,
    pub next: Option<String>,
    pub previous: Option<String>,
}

pub const PAGE_SIZE: usize = 50;

/// A contact's email subscription (`subscribed`, `unsubscribed`) as the reader reads it.
pub fn subscription_label(l: Locale, status: &str) -> &'static str {
    match status {
        "subscribed" => l.t("Subscribed", "Iscritto"),
        "unsubscribed" => l.t("Unsubscribed", "Disiscritto"),
        _ => l.t("Unknown", "Sconosciuto"),
    }
}

/// Every standard field of a contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Contact {
    pub id: Uuid,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub kind: ContactKind,
    pub display_name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub contact_source: Option<String>,
    pub contact_type_id: Option<Uuid>,
    pub business_name: Option<String>,
    pub street_address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub website: Option<String>,
    pub time_zone: Option<String>,
    pub role: Option<String>,
    pub gender: Option<String>,
    pub lead_status: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub email_subscription: String,
    /// The team member responsible for the contact, if any.
    pub owner_id: Option<Uuid>,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub visibility: Visibility,
    #[cfg_attr(feature = "ssr", sqlx(flatten))]
    pub dnd: Dnd,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Custom fields' values by field id, in their stored form (see `fields::CustomField`).
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    pub custom: BTreeMap<Uuid, String>,
}

/// Who may see a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Everyone in the team.
    #[default]
    Team,
    /// Its owner and followers (and admins).
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Team => "team",
            Visibility::Private => "private",
        }
    }

    pub fn parse(s: &str) -> Option<Visibility> {
        match s {
            "team" => Some(Visibility::Team),
            "private" => Some(Visibility::Private),
            _ => None,
        }
    }

    pub fn label(self, l: Locale) -> &'static str {
        match self {
            Visibility::Team => l.t("Shared with the team", "Condiviso con il team"),
            Visibility::Private => l.t(
                "Private to owner and followers",
                "Privato: proprietario e follower",
            ),
        }
    }
}

impl TryFrom<String> for Visibility {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Visibility::parse(&value).ok_or_else(|| format!("unknown visibility “{value}”"))
    }
}

/// A channel Do Not Disturb can block, or all of them at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DndChannel {
    All,
    Email,
    Sms,
    WhatsApp,
    Calls,
    Inbound,
}

impl DndChannel {
    pub const ALL: [DndChannel; 6] = [
        DndChannel::All,
        DndChannel::Email,
        DndChannel::Sms,
        DndChannel::WhatsApp,
        DndChannel::Calls,
        DndChannel::Inbound,
    ];

    pub fn key(self) -> &'static str {
        match self {
            DndChannel::All => "all",
            DndChannel::Email => "email",
            DndChannel::Sms => "sms",
            DndChannel::WhatsApp => "whatsapp",
            DndChannel::Calls => "calls",
            DndChannel::Inbound => "inbound",
        }
    }

    pub fn parse(s: &str) -> Option<DndChannel> {
        Self::ALL.into_iter().find(|c| c.key() == s)
    }

    pub fn label(self, l: Locale) -> &'static str {
        match self {
            DndChannel::All => l.t("All channels", "Tutti i canali"),
            DndChannel::Email => l.t("Email", "Email"),
            DndChannel::Sms => l.t("SMS", "SMS"),
            DndChannel::WhatsApp => l.t("WhatsApp", "WhatsApp"),
            DndChannel::Calls => l.t("Calls and voicemail", "Chiamate e segreteria"),
            DndChannel::Inbound => l.t("Inbound calls and SMS", "Chiamate e SMS in entrata"),
        }
    }
}

/// Do Not Disturb: all channels at once, or some of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Dnd {
    #[cfg_attr(feature = "ssr", sqlx(rename = "dnd_all"))]
    pub all: bool,
    #[cfg_attr(feature = "ssr", sqlx(rename = "dnd_email"))]
    pub email: bool,
    #[cfg_attr(feature = "ssr", sqlx(rename = "dnd_sms"))]
    pub sms: bool,
    #[cfg_attr(feature = "ssr", sqlx(rename = "dnd_whatsapp"))]
    pub whatsapp: bool,
    #[cfg_attr(feature = "ssr", sqlx(rename = "dnd_calls"))]
    pub calls: bool,
    #[cfg_attr(feature = "ssr", sqlx(rename = "dnd_inbound"))]
    pub inbound: bool,
}

impl Dnd {
    /// The switch for one channel (or for all at once).
    pub fn get(&self, channel: DndChannel) -> bool {
        match channel {
            DndChannel::All => self.all,
            DndChannel::Email => self.email,
            DndChannel::Sms => self.sms,
            DndChannel::WhatsApp => self.whatsapp,
            DndChannel::Calls => self.calls,
            DndChannel::Inbound => self.inbound,
        }
    }

    pub fn set(&mut self, channel: DndChannel, on: bool) {
        let slot = match channel {
            DndChannel::All => &mut self.all,
            DndChannel::Email => &mut self.email,
            DndChannel::Sms => &mut self.sms,
            DndChannel::WhatsApp => &mut self.whatsapp,
            DndChannel::Calls => &mut self.calls,
            DndChannel::Inbound => &mut self.inbound,
        };
        *slot = on;
    }

    /// Whether nothing may be sent to the contact on `channel` (the composer's check).
    pub fn blocks(&self, channel: DndChannel) -> bool {
        self.all || self.get(channel)
    }

    /// The channels blocked, for the header: "all channels", or each one.
    pub fn blocked(&self) -> Vec<DndChannel> {
        if self.all {
            return vec![DndChannel::All];
        }
        DndChannel::ALL
            .into_iter()
            .filter(|c| *c != DndChannel::All && self.get(*c))
            .collect()
    }
}

/// A short piece of text for a name field: trimmed, empty becomes `None`.
fn name_part(input: &str, field: &str) -> Result<Option<String>, AppError> {
    let value = input.trim();
    if value.chars().count() > 200 {
        return Err(AppError::invalid(field, Problem::TooLong { max: 200 }));
    }
    Ok((!value.is_empty()).then(|| value.to_string()))
}

/// The validated input of **New contact**: a person needs a first or last name, a company its
/// business name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewContact {
    Person {
        first_name: Option<String>,
        last_name: Option<String>,
    },
    Company {
        business_name: String,
    },
}

impl NewContact {
    pub fn parse(
        kind: &str,
        first_name: &str,
        last_name: &str,
        business_name: &str,
    ) -> AppResult<NewContact> {
        match ContactKind::parse(kind) {
            Some(ContactKind::Person) => {
                let first_name = name_part(first_name, "first_name")?;
                let last_name = name_part(last_name, "last_name")?;
                if first_name.is_none() && last_name.is_none() {
                    return Err(AppError::invalid("first_name", Problem::PersonWithoutName));
                }
                Ok(NewContact::Person {
                    first_name,
                    last_name,
                })
            }
            Some(ContactKind::Company) => match name_part(business_name, "business_name")? {
                Some(business_name) => Ok(NewContact::Company { business_name }),
                None => Err(AppError::invalid(
                    "business_name",
                    Problem::CompanyWithoutName,
                )),
            },
            None => Err(AppError::invalid("kind", Problem::KindMissing)),
        }
    }
}

/// The name a contact is shown and sorted by.
pub fn display_name(
    first_name: Option<&str>,
    last_name: Option<&str>,
    business_name: Option<&str>,
    kind: ContactKind,
) -> String {
    let person = [first_name, last_name]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    match kind {
        ContactKind::Company => business_name.map(str::to_string).unwrap_or(person),
        ContactKind::Person if person.is_empty() => {
            business_name.map(str::to_string).unwrap_or_default()
        }
        ContactKind::Person => person,
    }
}

/// One page of the contacts the user may see. `tags` / `not_tags`: tags the contacts must / must
/// not have.
#[server(input = Json)]
pub async fn list_contacts(
    q: Option<String>,
    sort: Option<String>,
    after: Option<String>,
    before: Option<String>,
    tags: Option<Vec<Uuid>>,
    not_tags: Option<Vec<Uuid>>,
) -> AppResult<ContactListPage> {
    let viewer = store::viewer()?;
    let filters = |ids: Option<Vec<Uuid>>, is: bool| {
        ids.unwrap_or_default()
            .into_iter()
            .map(move |tag| TagFilter { tag, is })
    };
    let query = ListQuery {
        q: q.unwrap_or_default(),
        sort: SortOrder::from_param(sort.as_deref().unwrap_or_default()),
        after: after.filter(|s| !s.is_empty()),
        before: before.filter(|s| !s.is_empty()),
        start: 0,
        tags: filters(tags, true)
            .chain(filters(not_tags, false))
            .collect(),
    };
    store::list(&crate::state::db(), &viewer, &query, PAGE_SIZE).await
}

#[server(input = Json)]
pub async fn get_contact(id: Uuid) -> AppResult<Contact> {
    let viewer = store::viewer()?;
    store::get_visible(&crate::state::db(), &viewer, id).await
}

/// Creates a contact and opens its page.
#[server(input = Json)]
pub async fn create_contact(
    kind: String,
    first_name: Option<String>,
    last_name: Option<String>,
    business_name: Option<String>,
) -> AppResult<Uuid> {
    let user = crate::auth::ssr::current_user()?;
    let new = NewContact::parse(
        &kind,
        first_name.as_deref().unwrap_or_default(),
        last_name.as_deref().unwrap_or_default(),
        business_name.as_deref().unwrap_or_default(),
    )?;
    let id = store::create(&crate::state::db(), &user, &new).await?;
    leptos_axum::redirect(&format!("/contacts/{id}"));
    Ok(id)
}

/// A contact's place in the list it was opened from, carried in the contact page's URL
/// (`?q=…&sort=…&pos=12&of=340`) so that previous/next walk that list, and a reload keeps the place.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListPlace {
    /// The list's search and sort (always from its first page).
    pub list: ListQuery,
    /// 1-based position in the list, when known.
    pub pos: Option<u64>,
    /// The list's length as the list showed it, when known.
    pub of: Option<ListTotal>,
}

/// How many contacts a list holds, or at least how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListTotal {
    pub count: u64,
    pub at_least: bool,
}

impl ListTotal {
    fn as_param(self) -> String {
        format!("{}{}", self.count, if self.at_least { "+" } else { "" })
    }

    fn from_param(s: &str) -> Option<ListTotal> {
        // `10000 `: a `+` that reached us unencoded (links made before it was encoded).
        let s = s
            .strip_suffix(' ')
            .map_or(s.to_string(), |d| format!("{d}+"));
        let (digits, at_least) = match s.strip_suffix('+') {
            Some(d) => (d, true),
            None => (s.as_str(), false),
        };
        Some(ListTotal {
            count: digits.parse().ok()?,
            at_least,
        })
    }
}

impl ListPlace {
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, String)> + Clone) -> ListPlace {
        let mut place = ListPlace {
            list: ListQuery::from_pairs(pairs.clone()).first_page(),
            ..ListPlace::default()
        };
        for (key, value) in pairs {
            match key {
                "pos" => place.pos = value.parse().ok().filter(|&p| p > 0),
                "of" => place.of = ListTotal::from_param(&value),
                _ => {}
            }
        }
        place
    }

    /// The contact page's query string for this place (with `?`, or empty).
    pub fn to_query_string(&self) -> String {
        let mut qs = self.list.to_query_string();
        let mut push = |part: String| {
            qs.push(if qs.is_empty() { '?' } else { '&' });
            qs.push_str(&part);
        };
        if let Some(pos) = self.pos {
            push(format!("pos={pos}"));
        }
        if let Some(of) = self.of {
            // Encoded: a bare `+` reads back as a space, and the total would be counted again
            // on every step (15 ms at a million contacts).
            push(format!("of={}", urlencoding::encode(&of.as_param())));
        }
        qs
    }

    /// The place one step along the list.
    pub fn step(&self, forward: bool) -> ListPlace {
        ListPlace {
            pos: self
                .pos
                .map(|p| if forward { p + 1 } else { p.saturating_sub(1) })
                .filter(|&p| p > 0),
            ..self.clone()
        }
    }
}

/// Where a contact sits in its list: its neighbours and "N of M".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactNav {
    pub previous: Option<Uuid>,
    pub next: Option<Uuid>,
    pub place: ListPlace,
}

/// Everything the contact page shows, in one round trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactView {
    pub contact: Contact,
    pub tags: Vec<ContactTag>,
    pub followers: Vec<Uuid>,
    pub nav: ContactNav,
    /// The user's **Hide empty fields** choice, if they made one.
    pub hide_empty_fields: Option<bool>,
}

/// What the contact page needs besides the contact: the same for every contact, so fetched once
/// per visit rather than with each card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardContext {
    pub layout: Layout,
    /// The team, for owners and followers.
    pub members: Vec<crate::team::Member>,
    /// Every tag, for type-ahead.
    pub tags: Vec<crate::tags::Tag>,
    pub me: Uuid,
    pub admin: bool,
    /// The user and workspace as merge fields read them (`{{user.name}}`…).
    pub sender: crate::conversations::merge::Sender,
    /// The channels messages can go on (email with SMTP, SMS and WhatsApp with a provider).
    pub channels: Vec<crate::conversations::Channel>,
}

#[server(input = Json)]
pub async fn load_card_context() -> AppResult<CardContext> {
    let viewer = store::viewer()?;
    let user = viewer.user.clone();
    let db = crate::state::db();
    let (layout, members, tags) = tokio::try_join!(
        crate::fields::store::layout(&db),
        crate::team::store::members(&db),
        crate::tags::store::list(&db, &viewer),
    )?;
    Ok(CardContext {
        layout,
        members,
        tags: tags.into_iter().map(|t| t.tag).collect(),
        me: user.id,
        admin: user.is_admin,
        sender: crate::conversations::merge::Sender::of(&user),
        channels: crate::conversations::Channel::ALL
            .into_iter()
            .filter(|c| crate::conversations::channel_set_up(*c))
            .collect(),
    })
}

/// Edits to a contact as typed, checked against the version they were made on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactEdit {
    pub id: Uuid,
    pub version: i64,
    pub changes: Vec<(FieldRef, String)>,
}

/// The contact with `changes` applied, or every field's problem at once. Changes to custom fields
/// deleted since the page was opened are dropped: there is nowhere left to keep them.
pub fn apply_edit(
    contact: &Contact,
    changes: &[(FieldRef, String)],
    layout: &Layout,
    today: NaiveDate,
) -> AppResult<Contact> {
    let mut edited = contact.clone();
    let mut errors = Vec::new();
    for (field, input) in changes {
        if let FieldRef::Custom(id) = field {
            if layout.custom(*id).is_none() {
                continue;
            }
        }
        let result = layout
            .parse(*field, input, today)
            .and_then(|value| match field {
                FieldRef::Standard(standard) => standard::set(&mut edited, *standard, value),
                FieldRef::Custom(id) => {
                    match value {
                        Some(value) => edited.custom.insert(*id, value),
                        None => edited.custom.remove(id),
                    };
                    Ok(())
                }
            });
        if let Err(problem) = result {
            errors.push(FieldError::new(field.key(), problem));
        }
    }
    if errors.is_empty() {
        if let Err((field, problem)) = standard::check_name(edited.kind, &edited) {
            errors.push(FieldError::new(field.key(), problem));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    edited.display_name = display_name(
        edited.first_name.as_deref(),
        edited.last_name.as_deref(),
        edited.business_name.as_deref(),
        edited.kind,
    );
    Ok(edited)
}

/// The contact page's data: the contact, its neighbours in the list it was opened from, and the
/// user's choices for the page. Counts only what the URL did not already say.
#[server(input = Json)]
pub async fn open_contact(id: Uuid, place: String) -> AppResult<ContactView> {
    let viewer = store::viewer()?;
    let place = ListPlace::from_pairs(url_pairs(&place));
    let db = crate::state::db();
    let (contact, tags, followers, nav) = store::open(&db, &viewer, id, place).await?;
    Ok(ContactView {
        contact,
        tags,
        followers,
        nav,
        hide_empty_fields: viewer.user.hide_empty_fields,
    })
}

/// `a=1&b=x%20y` → `[("a", "1"), ("b", "x y")]`.
pub fn url_pairs(qs: &str) -> Vec<(&str, String)> {
    qs.trim_start_matches('?')
        .split('&')
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = value.replace('+', " ");
            Some((key, urlencoding::decode(&value).ok()?.into_owned()))
        })
        .collect()
}

/// Saves edits made on the contact page, unless someone saved another version in the meantime.
#[server(input = Json)]
pub async fn update_contact(edit: ContactEdit) -> AppResult<Contact> {
    let viewer = store::viewer()?;
    let db = crate::state::db();
    let current = store::get_visible(&db, &viewer, edit.id).await?;
    if current.version != edit.version {
        return Err(AppError::Conflict);
    }
    let layout = crate::fields::store::layout(&db).await?;
    let edited = apply_edit(
        &current,
        &edit.changes,
        &layout,
        crate::db::now().date_naive(),
    )?;
    store::update(&db, &viewer.user, &layout, &current, &edited).await
}

/// Remembers **Hide empty fields** for the signed-in user.
#[server(input = Json)]
pub async fn remember_hide_empty_fields(hide: bool) -> AppResult<()> {
    let user = crate::auth::ssr::current_user()?;
    let state = crate::state::app_state();
    state
        .sessions
        .change(&state.db, move |db| async move {
            crate::auth::store::set_hide_empty_fields(&db, user.id, hide).await
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_needs_a_name_and_a_company_its_business_name() {
        assert!(NewContact::parse("person", " ", "", "ACME").is_err());
        assert_eq!(
            NewContact::parse("person", " Giulia ", "", "").unwrap(),
            NewContact::Person {
                first_name: Some("Giulia".into()),
                last_name: None
            }
        );
        let err = NewContact::parse("company", "Giulia", "", "  ").unwrap_err();
        assert!(err.field_problem("business_name").is_some());
        assert!(NewContact::parse("robot", "", "", "").is_err());
    }

    #[test]
    fn a_contact_reached_from_a_long_list_keeps_its_at_least_total_in_the_url() {
        let place = ListPlace {
            list: ListQuery::default(),
            pos: Some(735),
            of: Some(ListTotal {
                count: 10_000,
                at_least: true,
            }),
        };
        let qs = place.to_query_string();
        assert!(qs.ends_with("pos=735&of=10000%2B"), "{qs}");
        // Read back as the server reads it: nothing left to count.
        assert_eq!(ListPlace::from_pairs(url_pairs(&qs)), place);
        // A link written before the `+` was encoded still reads as "at least".
        let old = ListPlace::from_pairs(url_pairs("?pos=735&of=10000+"));
        assert_eq!(old.of, place.of);
    }

    #[test]
    fn the_list_url_keeps_search_sort_and_page() {
        let query = ListQuery {
            q: "rossi & figli".into(),
            sort: SortOrder::CreatedDesc,
            after: Some("abc~123".into()),
            before: None,
            start: 50,
            tags: vec![],
        };
        let qs = query.to_query_string();
        assert_eq!(
            qs,
            "?q=rossi%20%26%20figli&sort=-created&after=abc~123&start=50"
        );
        let pairs = qs[1..].split('&').map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k, urlencoding::decode(v).unwrap().into_owned())
        });
        assert_eq!(ListQuery::from_pairs(pairs), query);
        assert_eq!(ListQuery::default().to_query_string(), "");
    }

    #[test]
    fn names_are_shown_as_people_read_them() {
        assert_eq!(
            display_name(Some("Giulia"), Some("Bianchi"), None, ContactKind::Person),
            "Giulia Bianchi"
        );
        assert_eq!(
            display_name(None, None, Some("Ferramenta Rossi"), ContactKind::Company),
            "Ferramenta Rossi"
        );
    }
}
