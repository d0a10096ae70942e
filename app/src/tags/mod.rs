//! Tags: the team's labels for contacts, each with a colour. Anyone can put a tag on a contact they
//! may see (creating it on the fly); admins rename, recolour and delete them in Settings. A tag
//! Rubrica adds by itself (a lead form, a purchase) is marked automatic, with where it came from.

mod components;
#[cfg(feature = "ssr")]
pub mod store;

pub use components::{TagChip, TagsSettingsPage};

use leptos::{prelude::*, server_fn::codec::Json};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::error::AppError;
use crate::{
    error::{AppResult, Problem},
    i18n::Locale,
};

/// The palette: colours chosen to read well with dark text on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TagColor {
    #[default]
    Grey,
    Red,
    Orange,
    Yellow,
    Green,
    Teal,
    Blue,
    Purple,
    Pink,
}

impl TagColor {
    pub const ALL: [TagColor; 9] = [
        TagColor::Grey,
        TagColor::Red,
        TagColor::Orange,
        TagColor::Yellow,
        TagColor::Green,
        TagColor::Teal,
        TagColor::Blue,
        TagColor::Purple,
        TagColor::Pink,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TagColor::Grey => "grey",
            TagColor::Red => "red",
            TagColor::Orange => "orange",
            TagColor::Yellow => "yellow",
            TagColor::Green => "green",
            TagColor::Teal => "teal",
            TagColor::Blue => "blue",
            TagColor::Purple => "purple",
            TagColor::Pink => "pink",
        }
    }

    pub fn parse(s: &str) -> Option<TagColor> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(self, l: Locale) -> &'static str {
        match self {
            TagColor::Grey => l.t("Grey", "Grigio"),
            TagColor::Red => l.t("Red", "Rosso"),
            TagColor::Orange => l.t("Orange", "Arancione"),
            TagColor::Yellow => l.t("Yellow", "Giallo"),
            TagColor::Green => l.t("Green", "Verde"),
            TagColor::Teal => l.t("Teal", "Verde acqua"),
            TagColor::Blue => l.t("Blue", "Blu"),
            TagColor::Purple => l.t("Purple", "Viola"),
            TagColor::Pink => l.t("Pink", "Rosa"),
        }
    }
}

impl TryFrom<String> for TagColor {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        TagColor::parse(&value).ok_or_else(|| format!("unknown tag colour “{value}”"))
    }
}

/// A tag of the team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Tag {
    pub id: Uuid,
    pub name: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub color: TagColor,
}

/// A tag on one contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ContactTag {
    #[cfg_attr(feature = "ssr", sqlx(flatten))]
    pub tag: Tag,
    /// Put there by Rubrica (a lead form, a purchase) rather than by a person.
    pub automatic: bool,
    /// Where an automatic tag came from ("Lead form: Contact us").
    pub source: Option<String>,
}

/// A tag in Settings, with how many contacts carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagUsage {
    pub tag: Tag,
    pub contacts: u64,
}

/// A tag's name, tidied: spaces collapsed, at most 50 characters.
pub fn parse_tag_name(input: &str) -> Result<String, Problem> {
    crate::fields::parse_name(input, 50)
}

/// What makes two tag names the same tag: case and accents aside ("VIP", "vip"; "Caffè",
/// "caffe").
#[cfg(feature = "ssr")]
pub fn name_key(name: &str) -> String {
    deunicode::deunicode(name).to_lowercase()
}

#[cfg(feature = "ssr")]
fn check_color(color: &str) -> AppResult<TagColor> {
    TagColor::parse(color).ok_or_else(|| AppError::invalid("color", Problem::ColorUnknown))
}

/// Every tag of the team with how many contacts the user may see carry it, by name.
#[server(input = Json)]
pub async fn list_tags() -> AppResult<Vec<TagUsage>> {
    let viewer = crate::contacts::store::viewer()?;
    store::list(&crate::state::db(), &viewer).await
}

/// Creates a tag (anyone may; the card does it on the fly).
#[server(input = Json)]
pub async fn create_tag(name: String, color: String) -> AppResult<Tag> {
    crate::auth::ssr::current_user()?;
    let name = parse_tag_name(&name).map_err(|p| AppError::invalid("name", p))?;
    let color = check_color(&color)?;
    store::create(&crate::state::db(), &name, color).await
}

/// Renames or recolours a tag (admins).
#[server(input = Json)]
pub async fn update_tag(id: Uuid, name: String, color: String) -> AppResult<Tag> {
    crate::auth::ssr::current_admin()?;
    let name = parse_tag_name(&name).map_err(|p| AppError::invalid("name", p))?;
    let color = check_color(&color)?;
    store::update(&crate::state::db(), id, &name, color).await
}

/// Deletes a tag and takes it off every contact (each recorded in its history). Admins only.
#[server(input = Json)]
pub async fn delete_tag(id: Uuid) -> AppResult<()> {
    let user = crate::auth::ssr::current_admin()?;
    store::delete(&crate::state::db(), &user, id).await
}

/// Puts the tag called `name` on a contact, creating the tag if the team has none by that name.
/// Returns the contact's tags.
#[server(input = Json)]
pub async fn add_contact_tag(contact_id: Uuid, name: String) -> AppResult<Vec<ContactTag>> {
    let viewer = crate::contacts::store::viewer()?;
    let db = crate::state::db();
    crate::contacts::store::get_visible(&db, &viewer, contact_id).await?;
    let name = parse_tag_name(&name).map_err(|p| AppError::invalid("tag", p))?;
    let tag = store::find_or_create(&db, &name).await?;
    let actor = crate::audit::store::Actor::user(&viewer.user);
    store::tag_contact(&db, &actor, contact_id, &tag, None).await?;
    store::of_contact(&db, contact_id).await
}

/// Takes a tag off a contact. Returns the contact's tags.
#[server(input = Json)]
pub async fn remove_contact_tag(contact_id: Uuid, tag_id: Uuid) -> AppResult<Vec<ContactTag>> {
    let viewer = crate::contacts::store::viewer()?;
    let db = crate::state::db();
    crate::contacts::store::get_visible(&db, &viewer, contact_id).await?;
    let actor = crate::audit::store::Actor::user(&viewer.user);
    store::untag_contact(&db, &actor, contact_id, tag_id).await?;
    store::of_contact(&db, contact_id).await
}
