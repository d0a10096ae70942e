//! The card's shape: its folders (the three standard ones and the team's own), the custom fields
//! of twelve types, where every field (standard or custom) sits, and the team's list of contact
//! types. The types and the parsing of custom values are shared by browser and server, so a value
//! is refused with the same words before and after a round trip; `store` holds the SQL, and the
//! settings screen is in `components`.

mod components;
#[cfg(feature = "ssr")]
pub mod store;

pub use components::{AddFieldDialog, FieldsSettingsPage};

use chrono::NaiveDateTime;
use leptos::{prelude::*, server_fn::codec::Json};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    auth::Email,
    contacts::standard::{format_phone, parse_date, parse_phone, parse_website, Field, Folder},
    error::{AppError, AppResult, Problem},
    i18n::Locale,
};

/// What kind of value a custom field holds, which decides its control and its checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    LongText,
    Number,
    Decimal,
    Date,
    DateTime,
    Checkbox,
    SingleSelect,
    MultiSelect,
    Email,
    Phone,
    Url,
}

impl FieldType {
    pub const ALL: [FieldType; 12] = [
        FieldType::Text,
        FieldType::LongText,
        FieldType::Number,
        FieldType::Decimal,
        FieldType::Date,
        FieldType::DateTime,
        FieldType::Checkbox,
        FieldType::SingleSelect,
        FieldType::MultiSelect,
        FieldType::Email,
        FieldType::Phone,
        FieldType::Url,
    ];

    /// The value in the database and in forms.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::LongText => "long_text",
            FieldType::Number => "number",
            FieldType::Decimal => "decimal",
            FieldType::Date => "date",
            FieldType::DateTime => "date_time",
            FieldType::Checkbox => "checkbox",
            FieldType::SingleSelect => "single_select",
            FieldType::MultiSelect => "multi_select",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
        }
    }

    pub fn parse(s: &str) -> Option<FieldType> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn label(self, l: Locale) -> &'static str {
        match self {
            FieldType::Text => l.t("Text", "Testo"),
            FieldType::LongText => l.t("Long text", "Testo lungo"),
            FieldType::Number => l.t("Number", "Numero"),
            FieldType::Decimal => l.t("Decimal or money", "Decimale o importo"),
            FieldType::Date => l.t("Date", "Data"),
            FieldType::DateTime => l.t("Date and time", "Data e ora"),
            FieldType::Checkbox => l.t("Checkbox", "Casella di spunta"),
            FieldType::SingleSelect => l.t("Single select", "Scelta singola"),
            FieldType::MultiSelect => l.t("Multi select", "Scelta multipla"),
            FieldType::Email => l.t("Email", "Email"),
            FieldType::Phone => l.t("Phone", "Telefono"),
            FieldType::Url => l.t("URL", "URL"),
        }
    }

    pub fn has_options(self) -> bool {
        matches!(self, FieldType::SingleSelect | FieldType::MultiSelect)
    }

    /// The longest text a value of this type may have.
    fn max_chars(self) -> usize {
        match self {
            FieldType::LongText => 5000,
            _ => 500,
        }
    }
}

/// A field of the card: a standard column of `contacts`, or a custom field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FieldRef {
    Standard(Field),
    Custom(Uuid),
}

impl FieldRef {
    /// The key of its control in the page and of its error in `AppError::Invalid`.
    pub fn key(self) -> String {
        match self {
            FieldRef::Standard(field) => field.key().to_string(),
            FieldRef::Custom(id) => format!("custom-{}", id.simple()),
        }
    }

    pub fn from_key(key: &str) -> Option<FieldRef> {
        match key.strip_prefix("custom-") {
            Some(id) => Uuid::parse_str(id).ok().map(FieldRef::Custom),
            None => Field::ALL
                .into_iter()
                .find(|f| f.key() == key)
                .map(FieldRef::Standard),
        }
    }
}

/// A field the team made: its name, type and, for selects, the options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomField {
    pub id: Uuid,
    pub name: String,
    pub field_type: FieldType,
    pub options: Vec<String>,
}

/// A number typed the way people write them: `1250`, `1.250` or `1,250` (thousands), `-3`.
fn parse_whole(input: &str) -> Result<String, Problem> {
    let (negative, digits) = match input.strip_prefix('-') {
        Some(rest) => (true, rest.trim()),
        None => (false, input.strip_prefix('+').unwrap_or(input).trim()),
    };
    let plain = ungroup(digits).ok_or(Problem::NumberInvalid)?;
    let n: i64 = plain.parse().map_err(|_| {
        if plain.len() > 18 {
            Problem::NumberTooLarge
        } else {
            Problem::NumberInvalid
        }
    })?;
    Ok(if negative { -n } else { n }.to_string())
}

/// Digits grouped by thousands (`1.250.000`, `1,250,000`, `1 250 000`, `1'250'000`) or not, as
/// plain digits.
fn ungroup(s: &str) -> Option<String> {
    if s.is_empty() || !s.chars().next()?.is_ascii_digit() {
        return None;
    }
    let separators = ['.', ',', ' ', '\'', '\u{a0}'];
    let mut groups = s.split(separators);
    let first = groups.next()?;
    let rest: Vec<&str> = groups.collect();
    let grouped_well = (1..=3).contains(&first.len())
        && rest.iter().all(|g| g.len() == 3)
        && s.chars()
            .filter(|c| separators.contains(c))
            .collect::<Vec<_>>()
            .windows(2)
            .all(|w| w[0] == w[1]);
    if !rest.is_empty() && !grouped_well {
        return None;
    }
    let digits: String = s.chars().filter(|c| !separators.contains(c)).collect();
    digits.chars().all(|c| c.is_ascii_digit()).then_some(digits)
}

/// A number with decimals (an amount of money, a weight…), in either language's way of writing
/// it: `1250.5`, `1.250,50`, `1,250.50`, `19,90`, `€ 12`. Stored with a `.`, as many decimals as
/// typed (up to six).
fn parse_decimal(input: &str) -> Result<String, Problem> {
    let trimmed =
        input.trim_matches(|c: char| c == '€' || c == '$' || c == '£' || c.is_whitespace());
    let (negative, body) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest.trim()),
        None => (false, trimmed),
    };
    // The decimal separator is the last `.` or `,`, unless the number reads as thousands: one kind
    // of separator, followed by exactly three digits (`1.250` in Italian, `1,250` in English are
    // both a thousand two hundred and fifty).
    let (whole, fraction) = match body.rfind(['.', ',']) {
        Some(i) => {
            let (w, f) = (&body[..i], &body[i + 1..]);
            let other = if body[i..].starts_with('.') { ',' } else { '.' };
            let thousands = !w.contains(other)
                && f.len() == 3
                && !w.starts_with('0')
                && ungroup(body).is_some();
            if thousands {
                (body, "")
            } else {
                (w, f)
            }
        }
        None => (body, ""),
    };
    let whole = ungroup(whole).ok_or(Problem::DecimalInvalid)?;
    if fraction.len() > 6 || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return Err(Problem::DecimalInvalid);
    }
    if whole.len() > 15 {
        return Err(Problem::NumberTooLarge);
    }
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    let sign = if negative { "-" } else { "" };
    Ok(if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    })
}

/// A date and time: what `<input type="datetime-local">` sends (`2026-05-24T14:30`) or typed as
/// `24/05/2026 14:30`. Kept as the wall-clock time typed, to the minute.
fn parse_date_time(input: &str) -> Result<String, Problem> {
    let input = input.trim();
    let parsed = NaiveDateTime::parse_from_str(input, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(input, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| {
            let (date, time) = input.split_once(' ').ok_or(Problem::DateTimeInvalid)?;
            let date = parse_date(date)?;
            let time = chrono::NaiveTime::parse_from_str(time.trim(), "%H:%M")
                .map_err(|_| Problem::DateTimeInvalid)?;
            Ok::<_, Problem>(date.and_time(time))
        })
        .map_err(|_| Problem::DateTimeInvalid)?;
    Ok(parsed.format("%Y-%m-%dT%H:%M").to_string())
}

fn parse_checkbox(input: &str) -> Result<Option<String>, Problem> {
    match input.trim().to_lowercase().as_str() {
        "true" | "yes" | "y" | "sì" | "si" | "1" | "x" | "on" => Ok(Some("true".into())),
        "false" | "no" | "n" | "0" | "off" | "" => Ok(None),
        _ => Err(Problem::CheckboxInvalid),
    }
}

impl CustomField {
    /// Turns what the user typed (or chose) into the value to store (`None`: empty), or says what
    /// is wrong. A multi select's choices come one per line.
    pub fn parse(&self, input: &str) -> Result<Option<String>, Problem> {
        parse_value(self.field_type, &self.options, input)
    }

    /// What the field's control holds for a stored value. Decimals use the page's language's
    /// separator; a multi select's choices come one per line.
    pub fn shown(&self, stored: &str, l: Locale) -> String {
        match self.field_type {
            FieldType::Decimal if l == Locale::It => stored.replace('.', ","),
            FieldType::Date => chrono::NaiveDate::parse_from_str(stored, "%Y-%m-%d")
                .map(|d| Locale::It.date(d))
                .unwrap_or_else(|_| stored.to_string()),
            FieldType::Phone => format_phone(stored),
            FieldType::MultiSelect => multi_values(stored).join("\n"),
            _ => stored.to_string(),
        }
    }

    /// The value as a sentence reads it (the history, a merge field).
    pub fn display(&self, stored: &str, l: Locale) -> String {
        match self.field_type {
            FieldType::Checkbox => l.t("Yes", "Sì").to_string(),
            FieldType::MultiSelect => multi_values(stored).join(", "),
            FieldType::DateTime => NaiveDateTime::parse_from_str(stored, "%Y-%m-%dT%H:%M")
                .map(|t| format!("{} {}", l.date(t.date()), t.format("%H:%M")))
                .unwrap_or_else(|_| stored.to_string()),
            FieldType::Date => chrono::NaiveDate::parse_from_str(stored, "%Y-%m-%d")
                .map(|d| l.date(d))
                .unwrap_or_else(|_| stored.to_string()),
            _ => self.shown(stored, l),
        }
    }
}

/// A multi select's stored JSON array as its choices.
pub fn multi_values(stored: &str) -> Vec<String> {
    serde_json::from_slice(stored.as_bytes()).unwrap_or_default()
}

fn parse_value(
    field_type: FieldType,
    options: &[String],
    input: &str,
) -> Result<Option<String>, Problem> {
    let input = input.trim();
    if field_type == FieldType::Checkbox {
        return parse_checkbox(input);
    }
    if input.is_empty() {
        return Ok(None);
    }
    let max = field_type.max_chars();
    if input.chars().count() > max {
        return Err(Problem::TooLong { max });
    }
    let value = match field_type {
        FieldType::Text | FieldType::LongText => input.to_string(),
        FieldType::Number => parse_whole(input)?,
        FieldType::Decimal => parse_decimal(input)?,
        FieldType::Date => parse_date(input)?.format("%Y-%m-%d").to_string(),
        FieldType::DateTime => parse_date_time(input)?,
        FieldType::Email => Email::parse(input)?.as_str().to_string(),
        FieldType::Phone => parse_phone(input)?,
        FieldType::Url => parse_website(input)?,
        FieldType::SingleSelect => find_option(options, input)?.to_string(),
        FieldType::MultiSelect => {
            let mut chosen = Vec::new();
            for line in input.lines().map(str::trim).filter(|l| !l.is_empty()) {
                let option = find_option(options, line)?;
                if !chosen.contains(&option) {
                    chosen.push(option);
                }
            }
            // In the options' order, so the same choices are always stored the same way.
            chosen.sort_by_key(|c| options.iter().position(|o| o == c));
            if chosen.is_empty() {
                return Ok(None);
            }
            serde_json::to_string(&chosen).map_err(|_| Problem::NotInList)?
        }
        FieldType::Checkbox => unreachable!("handled above"),
    };
    Ok(Some(value))
}

fn find_option<'a>(options: &'a [String], input: &str) -> Result<&'a str, Problem> {
    options
        .iter()
        .find(|o| o.as_str() == input)
        .or_else(|| {
            options
                .iter()
                .find(|o| o.to_lowercase() == input.to_lowercase())
        })
        .map(String::as_str)
        .ok_or(Problem::NotInList)
}

/// A stored value of one type as the value of another, when it converts without loss (for
/// retyping a field); `Err` when it doesn't.
pub fn convert(
    stored: &str,
    from: FieldType,
    to: FieldType,
    to_options: &[String],
) -> Result<Option<String>, Problem> {
    let plain = match (from, to) {
        (FieldType::MultiSelect, FieldType::Text | FieldType::LongText) => {
            multi_values(stored).join(", ")
        }
        (FieldType::MultiSelect, _) => multi_values(stored).join("\n"),
        _ => stored.to_string(),
    };
    parse_value(to, to_options, &plain)
}

/// The checked name of a custom field, folder, contact type or tag.
pub fn parse_name(input: &str, max: usize) -> Result<String, Problem> {
    let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err(Problem::NameRequired);
    }
    if name.chars().count() > max {
        return Err(Problem::TooLong { max });
    }
    Ok(name)
}

/// A select field's options, one per line as typed: trimmed, blank lines dropped, each once.
pub fn parse_options(field_type: FieldType, input: &str) -> Result<Vec<String>, Problem> {
    if !field_type.has_options() {
        return Ok(Vec::new());
    }
    let mut options: Vec<String> = Vec::new();
    for line in input.lines() {
        let option = line.trim();
        if option.is_empty() {
            continue;
        }
        if option.chars().count() > 100 {
            return Err(Problem::TooLong { max: 100 });
        }
        if options
            .iter()
            .any(|o| o.to_lowercase() == option.to_lowercase())
        {
            return Err(Problem::OptionRepeated);
        }
        options.push(option.to_string());
    }
    if options.is_empty() {
        return Err(Problem::OptionsMissing);
    }
    if options.len() > 200 {
        return Err(Problem::TooLong { max: 200 });
    }
    Ok(options)
}

/// One field in its place on the card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CardField {
    Standard(Field),
    Custom(CustomField),
}

impl CardField {
    pub fn field_ref(&self) -> FieldRef {
        match self {
            CardField::Standard(field) => FieldRef::Standard(*field),
            CardField::Custom(custom) => FieldRef::Custom(custom.id),
        }
    }

    pub fn label(&self, l: Locale) -> String {
        match self {
            CardField::Standard(field) => field.label(l).to_string(),
            CardField::Custom(custom) => custom.name.clone(),
        }
    }
}

/// A field's row in the layout: its id in `fields`, and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayoutField {
    pub id: Uuid,
    pub field: CardField,
}

/// A folder of the card with its fields in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayoutFolder {
    pub id: Uuid,
    /// One of the three standard folders (named by the interface), or `None` for the team's own.
    pub standard: Option<Folder>,
    pub name: Option<String>,
    pub fields: Vec<LayoutField>,
}

impl LayoutFolder {
    pub fn label(&self, l: Locale) -> String {
        match (self.standard, &self.name) {
            (Some(folder), _) => folder.label(l).to_string(),
            (None, Some(name)) => name.clone(),
            (None, None) => String::new(),
        }
    }

    /// The id of its heading in the page.
    pub fn heading_id(&self) -> String {
        match self.standard {
            Some(folder) => folder.heading_id().to_string(),
            None => format!("folder-{}", self.id.simple()),
        }
    }
}

/// One of the team's contact types. The defaults are named by the interface until renamed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactType {
    pub id: Uuid,
    pub standard: Option<String>,
    pub name: Option<String>,
}

impl ContactType {
    pub fn label(&self, l: Locale) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        standard_type_label(self.standard.as_deref().unwrap_or_default(), l)
    }

    /// How the history keeps this type's name: the team's own name as typed, a default one by
    /// its key (`std:lead`) so the history reads in each reader's language.
    pub fn audit_value(&self) -> String {
        match (&self.name, &self.standard) {
            (Some(name), _) => name.clone(),
            (None, Some(key)) => format!("std:{key}"),
            (None, None) => String::new(),
        }
    }
}

/// The name of a default contact type (by its key) in the page's language.
pub fn standard_type_label(key: &str, l: Locale) -> String {
    match key {
        "lead" => l.t("Lead", "Lead"),
        "customer" => l.t("Customer", "Cliente"),
        "supplier" => l.t("Supplier", "Fornitore"),
        "partner" => l.t("Partner", "Partner"),
        other => return other.to_string(),
    }
    .to_string()
}

/// The whole card layout: folders with their fields in order, and the contact types.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Layout {
    pub folders: Vec<LayoutFolder>,
    pub contact_types: Vec<ContactType>,
}

impl Layout {
    /// Every field in card order.
    pub fn fields(&self) -> impl Iterator<Item = &LayoutField> {
        self.folders.iter().flat_map(|f| f.fields.iter())
    }

    pub fn custom(&self, id: Uuid) -> Option<&CustomField> {
        self.fields().find_map(|f| match &f.field {
            CardField::Custom(custom) if custom.id == id => Some(custom),
            _ => None,
        })
    }

    pub fn field(&self, field: FieldRef) -> Option<&LayoutField> {
        self.fields().find(|f| f.field.field_ref() == field)
    }

    pub fn contact_type(&self, id: Uuid) -> Option<&ContactType> {
        self.contact_types.iter().find(|t| t.id == id)
    }

    /// Checks what the user typed into one field of the card, standard or custom, as the server
    /// will: `None` means the field will be empty.
    pub fn parse(
        &self,
        field: FieldRef,
        input: &str,
        today: chrono::NaiveDate,
    ) -> Result<Option<String>, Problem> {
        match field {
            FieldRef::Standard(Field::ContactType) => {
                let value = Field::ContactType.parse(input, today)?;
                match value {
                    Some(id) => {
                        let known = Uuid::parse_str(&id)
                            .ok()
                            .and_then(|id| self.contact_type(id))
                            .is_some();
                        if known {
                            Ok(Some(id))
                        } else {
                            Err(Problem::NotInList)
                        }
                    }
                    None => Ok(None),
                }
            }
            FieldRef::Standard(standard) => standard.parse(input, today),
            FieldRef::Custom(id) => match self.custom(id) {
                Some(custom) => custom.parse(input),
                // Deleted since the page was opened: nothing left to check against.
                None => Err(Problem::NotInList),
            },
        }
    }
}

/// A folder's or contact type's name, or the problem with it (shown next to its box).
#[cfg(feature = "ssr")]
fn checked_name(name: &str) -> AppResult<String> {
    parse_name(name, 60).map_err(|p| AppError::invalid("name", p))
}

/// The card's layout and the contact types, for every signed-in user.
#[server(input = Json)]
pub async fn card_layout() -> AppResult<Layout> {
    crate::auth::ssr::current_user()?;
    store::layout(&crate::state::db()).await
}

/// Adds a custom field at the end of a folder.
#[server(input = Json)]
pub async fn create_field(
    name: String,
    field_type: String,
    options: String,
    folder_id: Uuid,
) -> AppResult<Layout> {
    crate::auth::ssr::current_admin()?;
    let db = crate::state::db();
    let (name, field_type, options) = check_field_input(&name, &field_type, &options)?;
    store::create_field(&db, &name, field_type, &options, folder_id).await?;
    store::layout(&db).await
}

/// The name, type and options of a new or edited custom field, every problem at once.
pub fn check_field_input(
    name: &str,
    field_type: &str,
    options: &str,
) -> AppResult<(String, FieldType, Vec<String>)> {
    let name = parse_name(name, 60);
    let field_type = FieldType::parse(field_type).ok_or(Problem::NotInList);
    let options = field_type
        .clone()
        .map_or(Ok(Vec::new()), |t| parse_options(t, options));
    match (name, field_type, options) {
        (Ok(name), Ok(field_type), Ok(options)) => Ok((name, field_type, options)),
        (name, field_type, options) => Err(AppError::Invalid(
            [
                ("name", name.err()),
                ("field_type", field_type.err()),
                ("options", options.err()),
            ]
            .into_iter()
            .filter_map(|(f, p)| p.map(|p| crate::error::FieldError::new(f, p)))
            .collect(),
        )),
    }
}

/// Renames or retypes a custom field, or changes its options. Retyping converts every stored
/// value, or is refused with how many would not convert.
#[server(input = Json)]
pub async fn update_field(
    id: Uuid,
    name: String,
    field_type: String,
    options: String,
) -> AppResult<Layout> {
    let user = crate::auth::ssr::current_admin()?;
    let db = crate::state::db();
    let (name, field_type, options) = check_field_input(&name, &field_type, &options)?;
    store::update_field(&db, &user, id, &name, field_type, &options).await?;
    store::layout(&db).await
}

/// How many contacts have a value in this field (asked before deleting it).
#[server(input = Json)]
pub async fn field_usage(id: Uuid) -> AppResult<u64> {
    crate::auth::ssr::current_admin()?;
    store::field_usage(&crate::state::db(), id).await
}

/// Deletes a custom field and its values (each loss recorded in the contacts' history).
#[server(input = Json)]
pub async fn delete_field(id: Uuid) -> AppResult<Layout> {
    let user = crate::auth::ssr::current_admin()?;
    let db = crate::state::db();
    store::delete_field(&db, &user, id).await?;
    store::layout(&db).await
}

/// Moves any field, standard or custom, to `position` (0-based) in `folder_id`.
#[server(input = Json)]
pub async fn move_field(id: Uuid, folder_id: Uuid, position: u32) -> AppResult<Layout> {
    crate::auth::ssr::current_admin()?;
    let db = crate::state::db();
    store::move_field(&db, id, folder_id, position as usize).await?;
    store::layout(&db).await
}

#[server(input = Json)]
pub async fn create_folder(name: String) -> AppResult<Layout> {
    crate::auth::ssr::current_admin()?;
    let db = crate::state::db();
    let name = checked_name(&name)?;
    store::create_folder(&db, &name).await?;
    store::layout(&db).await
}

#[server(input = Json)]
pub async fn rename_folder(id: Uuid, name: String) -> AppResult<Layout> {
    crate::auth::ssr::current_admin()?;
    let db = crate::state::db();
    let name = checked_name(&name)?;
    store::rename_folder(&db, id, &name).await?;
    store::layout(&db).await
}

/// Moves a folder to `position` (0-based) among the folders.
#[server(input = Json)]
pub async fn move_folder(id: Uuid, position: u32) -> AppResult<Layout> {
    crate::auth::ssr::current_admin()?;
    let db = crate::state::db();
    store::move_folder(&db, id, position as usize).await?;
    store::layout(&db).await
}

/// Deletes a custom folder; its fields move to the end of Additional Info.
#[server(input = Json)]
pub async fn delete_folder(id: Uuid) -> AppResult<Layout> {
    crate::auth::ssr::current_admin()?;
    let db = crate::state::db();
    store::delete_folder(&db, id).await?;
    store::layout(&db).await
}

#[server(input = Json)]
pub async fn create_contact_type(name: String) -> AppResult<Layout> {
    crate::auth::ssr::current_admin()?;
    let db = crate::state::db();
    let name = checked_name(&name)?;
    store::create_contact_type(&db, &name).await?;
    store::layout(&db).await
}

#[server(input = Json)]
pub async fn rename_contact_type(id: Uuid, name: String) -> AppResult<Layout> {
    crate::auth::ssr::current_admin()?;
    let db = crate::state::db();
    let name = checked_name(&name)?;
    store::rename_contact_type(&db, id, &name).await?;
    store::layout(&db).await
}

#[server(input = Json)]
pub async fn move_contact_type(id: Uuid, position: u32) -> AppResult<Layout> {
    crate::auth::ssr::current_admin()?;
    let db = crate::state::db();
    store::move_contact_type(&db, id, position as usize).await?;
    store::layout(&db).await
}

/// Deletes a contact type; contacts of that type are left without one (recorded in their
/// history).
#[server(input = Json)]
pub async fn delete_contact_type(id: Uuid) -> AppResult<Layout> {
    let user = crate::auth::ssr::current_admin()?;
    let db = crate::state::db();
    store::delete_contact_type(&db, &user, id).await?;
    store::layout(&db).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(field_type: FieldType, options: &[&str]) -> CustomField {
        CustomField {
            id: Uuid::nil(),
            name: "Test".into(),
            field_type,
            options: options.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn ok(f: &CustomField, input: &str) -> Option<String> {
        f.parse(input)
            .unwrap_or_else(|p| panic!("{input:?} refused: {p}"))
    }

    #[test]
    fn numbers_are_read_in_either_language_s_way() {
        let n = field(FieldType::Number, &[]);
        assert_eq!(ok(&n, "42").as_deref(), Some("42"));
        assert_eq!(ok(&n, " -1.250 ").as_deref(), Some("-1250"));
        assert_eq!(ok(&n, "1,250,000").as_deref(), Some("1250000"));
        assert_eq!(n.parse("12.5"), Err(Problem::NumberInvalid));
        assert_eq!(n.parse("1.2.3"), Err(Problem::NumberInvalid));
        assert_eq!(n.parse("dodici"), Err(Problem::NumberInvalid));
        assert_eq!(
            n.parse("99999999999999999999"),
            Err(Problem::NumberTooLarge)
        );

        let d = field(FieldType::Decimal, &[]);
        assert_eq!(ok(&d, "19,90").as_deref(), Some("19.90"));
        assert_eq!(ok(&d, "1.250,50").as_deref(), Some("1250.50"));
        assert_eq!(ok(&d, "1,250.50").as_deref(), Some("1250.50"));
        assert_eq!(ok(&d, "€ 12").as_deref(), Some("12"));
        assert_eq!(ok(&d, "0.5").as_deref(), Some("0.5"));
        assert_eq!(ok(&d, "-3,25").as_deref(), Some("-3.25"));
        assert_eq!(
            ok(&d, "1.250").as_deref(),
            Some("1250"),
            "a thousand, grouped"
        );
        assert_eq!(d.parse("12,3,4"), Err(Problem::DecimalInvalid));
        assert_eq!(d.parse("abc"), Err(Problem::DecimalInvalid));
        assert_eq!(d.shown("1250.50", Locale::It), "1250,50");
        assert_eq!(d.shown("1250.50", Locale::En), "1250.50");
    }

    #[test]
    fn dates_times_and_checkboxes_have_one_stored_form() {
        let date = field(FieldType::Date, &[]);
        assert_eq!(ok(&date, "24/05/2031").as_deref(), Some("2031-05-24"));
        assert_eq!(date.shown("2031-05-24", Locale::En), "24/05/2031");
        assert!(date.parse("31/02/2030").is_err());
        let at = field(FieldType::DateTime, &[]);
        assert_eq!(
            ok(&at, "2026-05-24T14:30").as_deref(),
            Some("2026-05-24T14:30")
        );
        assert_eq!(
            ok(&at, "24/05/2026 14:30").as_deref(),
            Some("2026-05-24T14:30")
        );
        assert_eq!(at.parse("24/05/2026"), Err(Problem::DateTimeInvalid));
        assert_eq!(
            at.display("2026-05-24T14:30", Locale::It),
            "24/05/2026 14:30"
        );
        let check = field(FieldType::Checkbox, &[]);
        assert_eq!(ok(&check, "true").as_deref(), Some("true"));
        assert_eq!(ok(&check, "Sì").as_deref(), Some("true"));
        assert_eq!(ok(&check, ""), None);
        assert_eq!(ok(&check, "false"), None);
        assert_eq!(check.parse("maybe"), Err(Problem::CheckboxInvalid));
    }

    #[test]
    fn selects_accept_only_their_options() {
        let single = field(FieldType::SingleSelect, &["Gold", "Silver"]);
        assert_eq!(ok(&single, "gold").as_deref(), Some("Gold"));
        assert_eq!(single.parse("Bronze"), Err(Problem::NotInList));
        let multi = field(FieldType::MultiSelect, &["Pizza", "Pasta", "Gelato"]);
        assert_eq!(
            ok(&multi, "Gelato\npizza\nGelato").as_deref(),
            Some(r#"["Pizza","Gelato"]"#),
            "in the options' order, each once"
        );
        assert_eq!(
            multi.shown(r#"["Pizza","Gelato"]"#, Locale::En),
            "Pizza\nGelato"
        );
        assert_eq!(
            multi.display(r#"["Pizza","Gelato"]"#, Locale::En),
            "Pizza, Gelato"
        );
        assert_eq!(ok(&multi, "\n"), None);
        assert_eq!(multi.parse("Sushi"), Err(Problem::NotInList));
    }

    #[test]
    fn emails_phones_urls_and_texts_reuse_the_standard_checks() {
        assert_eq!(
            ok(&field(FieldType::Email, &[]), "Anna@Example.it").as_deref(),
            Some("anna@example.it")
        );
        assert_eq!(
            ok(&field(FieldType::Phone, &[]), "347 123 4567").as_deref(),
            Some("+393471234567")
        );
        assert_eq!(
            ok(&field(FieldType::Url, &[]), "rossi.it").as_deref(),
            Some("https://rossi.it")
        );
        assert!(field(FieldType::Url, &[])
            .parse("javascript:alert(1)")
            .is_err());
        assert_eq!(
            field(FieldType::Text, &[]).parse(&"x".repeat(501)),
            Err(Problem::TooLong { max: 500 })
        );
        assert!(field(FieldType::LongText, &[])
            .parse(&"x".repeat(2000))
            .is_ok());
    }

    #[test]
    fn retyping_converts_only_what_survives() {
        use FieldType::*;
        assert_eq!(convert("42", Number, Decimal, &[]), Ok(Some("42".into())));
        assert_eq!(
            convert("12.5", Decimal, Number, &[]),
            Err(Problem::NumberInvalid)
        );
        assert_eq!(convert("12.5", Decimal, Text, &[]), Ok(Some("12.5".into())));
        assert_eq!(
            convert("Rossi", Text, Number, &[]),
            Err(Problem::NumberInvalid)
        );
        let opts = vec!["Gold".to_string(), "Silver".to_string()];
        assert_eq!(
            convert("gold", Text, SingleSelect, &opts),
            Ok(Some("Gold".into()))
        );
        assert_eq!(
            convert("Gold", SingleSelect, MultiSelect, &opts),
            Ok(Some(r#"["Gold"]"#.into()))
        );
        assert_eq!(
            convert(r#"["Gold","Silver"]"#, MultiSelect, Text, &[]),
            Ok(Some("Gold, Silver".into()))
        );
        assert_eq!(
            convert(r#"["Gold","Silver"]"#, MultiSelect, SingleSelect, &opts),
            Err(Problem::NotInList)
        );
    }

    #[test]
    fn names_and_options_are_tidied_and_checked() {
        assert_eq!(
            parse_name("  Nome   del cane ", 60).as_deref(),
            Ok("Nome del cane")
        );
        assert_eq!(parse_name("   ", 60), Err(Problem::NameRequired));
        assert_eq!(
            parse_options(FieldType::SingleSelect, " Oro \n\nArgento\n"),
            Ok(vec!["Oro".to_string(), "Argento".to_string()])
        );
        assert_eq!(
            parse_options(FieldType::MultiSelect, "Oro\noro"),
            Err(Problem::OptionRepeated)
        );
        assert_eq!(
            parse_options(FieldType::SingleSelect, "  "),
            Err(Problem::OptionsMissing)
        );
        assert_eq!(parse_options(FieldType::Text, "ignored"), Ok(vec![]));
        assert!(FieldRef::from_key(&FieldRef::Custom(Uuid::nil()).key()).is_some());
        assert_eq!(
            FieldRef::from_key("city"),
            Some(FieldRef::Standard(Field::City))
        );
    }
}
