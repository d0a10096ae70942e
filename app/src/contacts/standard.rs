//! The standard fields of a contact: which folder each sits in, how it is edited, and how what a
//! user types becomes the stored value. The same code runs in the browser (errors show as the user
//! types, before any round trip) and on the server (which refuses what the browser would have), so
//! the two can never disagree.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::{time_zones::TIME_ZONES, Contact, ContactKind};
use crate::{auth::Email, error::Problem, i18n::Locale};

/// The three standard folders of the card, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Folder {
    Contact,
    GeneralInfo,
    AdditionalInfo,
}

impl Folder {
    pub const ALL: [Folder; 3] = [Folder::Contact, Folder::GeneralInfo, Folder::AdditionalInfo];

    pub fn label(self, l: Locale) -> &'static str {
        match self {
            Folder::Contact => l.t("Contact", "Contatto"),
            Folder::GeneralInfo => l.t("General Info", "Informazioni generali"),
            Folder::AdditionalInfo => l.t("Additional Info", "Informazioni aggiuntive"),
        }
    }

    /// The id of the folder's heading in the page.
    pub fn heading_id(self) -> &'static str {
        match self {
            Folder::Contact => "folder-contact",
            Folder::GeneralInfo => "folder-generalinfo",
            Folder::AdditionalInfo => "folder-additionalinfo",
        }
    }

    pub fn fields(self) -> impl Iterator<Item = Field> {
        Field::ALL.into_iter().filter(move |f| f.folder() == self)
    }
}

/// How a field is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Text,
    Email,
    Tel,
    Url,
    /// A date typed as dd/mm/yyyy.
    Date,
    /// One of a fixed list, or nothing.
    Choice(&'static [Choice]),
    /// One of [`TIME_ZONES`], or nothing.
    TimeZone,
    /// One of the team's contact types (by id), or nothing.
    ContactType,
}

/// One option of a list: the stored value, and its label in each language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    pub value: &'static str,
    en: &'static str,
    it: &'static str,
}

impl Choice {
    const fn new(value: &'static str, en: &'static str, it: &'static str) -> Choice {
        Choice { value, en, it }
    }

    pub fn label(&self, l: Locale) -> &'static str {
        l.t(self.en, self.it)
    }

    /// Typed as its value or as its label in either language.
    fn is(&self, input: &str) -> bool {
        [self.value, self.en, self.it]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(input))
    }
}

pub const LEAD_STATUSES: &[Choice] = &[
    Choice::new("cold", "Cold", "Freddo"),
    Choice::new("warm", "Warm", "Tiepido"),
    Choice::new("hot", "Hot", "Caldo"),
];
pub const GENDERS: &[Choice] = &[
    Choice::new("female", "Female", "Donna"),
    Choice::new("male", "Male", "Uomo"),
    Choice::new("non-binary", "Non-binary", "Non binario"),
    Choice::new("other", "Other", "Altro"),
];
/// Every standard, editable field, in the card's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Field {
    FirstName,
    LastName,
    Email,
    Phone,
    DateOfBirth,
    ContactSource,
    ContactType,
    BusinessName,
    StreetAddress,
    City,
    Country,
    State,
    PostalCode,
    Website,
    TimeZone,
    Role,
    Gender,
    LeadStatus,
    UtmSource,
    UtmMedium,
    UtmCampaign,
}

impl Field {
    pub const ALL: [Field; 21] = [
        Field::FirstName,
        Field::LastName,
        Field::Email,
        Field::Phone,
        Field::DateOfBirth,
        Field::ContactSource,
        Field::ContactType,
        Field::BusinessName,
        Field::StreetAddress,
        Field::City,
        Field::Country,
        Field::State,
        Field::PostalCode,
        Field::Website,
        Field::TimeZone,
        Field::Role,
        Field::Gender,
        Field::LeadStatus,
        Field::UtmSource,
        Field::UtmMedium,
        Field::UtmCampaign,
    ];

    /// The column, the form name and the key of its error in [`crate::error::AppError::Invalid`].
    pub fn key(self) -> &'static str {
        match self {
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::DateOfBirth => "date_of_birth",
            Field::ContactSource => "contact_source",
            Field::ContactType => "contact_type",
            Field::BusinessName => "business_name",
            Field::StreetAddress => "street_address",
            Field::City => "city",
            Field::Country => "country",
            Field::State => "state",
            Field::PostalCode => "postal_code",
            Field::Website => "website",
            Field::TimeZone => "time_zone",
            Field::Role => "role",
            Field::Gender => "gender",
            Field::LeadStatus => "lead_status",
            Field::UtmSource => "utm_source",
            Field::UtmMedium => "utm_medium",
            Field::UtmCampaign => "utm_campaign",
        }
    }

    pub fn label(self, l: Locale) -> &'static str {
        match self {
            Field::FirstName => l.t("First name", "Nome"),
            Field::LastName => l.t("Last name", "Cognome"),
            Field::Email => l.t("Email", "Email"),
            Field::Phone => l.t("Phone", "Telefono"),
            Field::DateOfBirth => l.t("Date of birth", "Data di nascita"),
            Field::ContactSource => l.t("Contact source", "Fonte del contatto"),
            Field::ContactType => l.t("Contact type", "Tipo di contatto"),
            Field::BusinessName => l.t("Business name", "Nome dell'azienda"),
            Field::StreetAddress => l.t("Street address", "Indirizzo"),
            Field::City => l.t("City", "Città"),
            Field::Country => l.t("Country", "Paese"),
            Field::State => l.t("State", "Provincia"),
            Field::PostalCode => l.t("Postal code", "CAP"),
            Field::Website => l.t("Website", "Sito web"),
            Field::TimeZone => l.t("Time zone", "Fuso orario"),
            Field::Role => l.t("Role", "Ruolo"),
            Field::Gender => l.t("Gender", "Genere"),
            Field::LeadStatus => l.t("Lead status", "Stato del lead"),
            Field::UtmSource => l.t("UTM source", "UTM source"),
            Field::UtmMedium => l.t("UTM medium", "UTM medium"),
            Field::UtmCampaign => l.t("UTM campaign", "UTM campaign"),
        }
    }

    pub fn folder(self) -> Folder {
        use Field::*;
        match self {
            FirstName | LastName | Email | Phone | DateOfBirth | ContactSource | ContactType => {
                Folder::Contact
            }
            BusinessName | StreetAddress | City | Country | State | PostalCode | Website
            | TimeZone => Folder::GeneralInfo,
            Role | Gender | LeadStatus | UtmSource | UtmMedium | UtmCampaign => {
                Folder::AdditionalInfo
            }
        }
    }

    pub fn control(self) -> Control {
        match self {
            Field::Email => Control::Email,
            Field::Phone => Control::Tel,
            Field::Website => Control::Url,
            Field::DateOfBirth => Control::Date,
            Field::ContactType => Control::ContactType,
            Field::Gender => Control::Choice(GENDERS),
            Field::LeadStatus => Control::Choice(LEAD_STATUSES),
            Field::TimeZone => Control::TimeZone,
            _ => Control::Text,
        }
    }

    /// The stored value (dates as `YYYY-MM-DD`, phones in E.164).
    pub fn stored(self, c: &Contact) -> Option<String> {
        let text = |v: &Option<String>| v.clone();
        match self {
            Field::FirstName => text(&c.first_name),
            Field::LastName => text(&c.last_name),
            Field::Email => text(&c.email),
            Field::Phone => text(&c.phone),
            Field::DateOfBirth => c.date_of_birth.map(|d| d.format("%Y-%m-%d").to_string()),
            Field::ContactSource => text(&c.contact_source),
            Field::ContactType => c.contact_type_id.map(|id| id.to_string()),
            Field::BusinessName => text(&c.business_name),
            Field::StreetAddress => text(&c.street_address),
            Field::City => text(&c.city),
            Field::Country => text(&c.country),
            Field::State => text(&c.state),
            Field::PostalCode => text(&c.postal_code),
            Field::Website => text(&c.website),
            Field::TimeZone => text(&c.time_zone),
            Field::Role => text(&c.role),
            Field::Gender => text(&c.gender),
            Field::LeadStatus => text(&c.lead_status),
            Field::UtmSource => text(&c.utm_source),
            Field::UtmMedium => text(&c.utm_medium),
            Field::UtmCampaign => text(&c.utm_campaign),
        }
    }

    /// What the field's control holds for a stored value: phones in national format, dates as
    /// dd/mm/yyyy, everything else as stored.
    pub fn shown(self, c: &Contact) -> String {
        match (self, self.stored(c)) {
            (_, None) => String::new(),
            (Field::Phone, Some(phone)) => format_phone(&phone),
            // Typed and shown as dd/mm/yyyy in both languages: one format to learn, and the one
            // Italian (and British) users write.
            (Field::DateOfBirth, _) => c
                .date_of_birth
                .map(|d| Locale::It.date(d))
                .unwrap_or_default(),
            (_, Some(value)) => value,
        }
    }

    /// The value as a reader reads it (a merge field, an export): lists by their labels, the
    /// contact type by its name, dates in the reader's language, phones in national format.
    pub fn read(self, c: &Contact, layout: &crate::fields::Layout, l: Locale) -> String {
        let choice = |list: &[Choice], value: &Option<String>| {
            value.as_deref().map_or_else(String::new, |v| {
                list.iter()
                    .find(|choice| choice.value == v)
                    .map_or(v.to_string(), |choice| choice.label(l).to_string())
            })
        };
        match self {
            Field::ContactType => c
                .contact_type_id
                .and_then(|id| layout.contact_type(id))
                .map(|t| t.label(l))
                .unwrap_or_default(),
            Field::DateOfBirth => c.date_of_birth.map(|d| l.date(d)).unwrap_or_default(),
            Field::Gender => choice(GENDERS, &c.gender),
            Field::LeadStatus => choice(LEAD_STATUSES, &c.lead_status),
            _ => self.shown(c),
        }
    }

    /// Turns what the user typed into the value to store (`None`: the field is empty), or says
    /// what is wrong with it. `today` bounds dates of birth; the caller supplies it because the
    /// browser and the server read the clock differently.
    pub fn parse(self, input: &str, today: NaiveDate) -> Result<Option<String>, Problem> {
        let input = input.trim();
        if input.is_empty() {
            return Ok(None);
        }
        let value = match self.control() {
            Control::Email => Email::parse(input)?.as_str().to_string(),
            Control::Tel => parse_phone(input)?,
            Control::Url => parse_website(input)?,
            Control::Date => parse_date_of_birth(input, today)?
                .format("%Y-%m-%d")
                .to_string(),
            Control::Choice(options) => options
                .iter()
                .find(|choice| choice.is(input))
                .map(|choice| choice.value.to_string())
                .ok_or(Problem::NotInList)?,
            // Whether the id is one of the team's types is checked against their list
            // (`crate::fields::Layout::check`).
            Control::ContactType => uuid::Uuid::parse_str(input)
                .map_err(|_| Problem::NotInList)?
                .to_string(),
            Control::TimeZone => TIME_ZONES
                .iter()
                .find(|zone| zone.eq_ignore_ascii_case(input))
                .map(|zone| zone.to_string())
                .ok_or(Problem::TimeZoneUnknown)?,
            Control::Text => {
                let max = match self {
                    Field::StreetAddress => 300,
                    Field::PostalCode => 20,
                    _ => 200,
                };
                if input.chars().count() > max {
                    return Err(Problem::TooLong { max });
                }
                input.to_string()
            }
        };
        Ok(Some(value))
    }
}

/// Checks that the edited contact still has a name to be listed by.
pub fn check_name(kind: ContactKind, c: &Contact) -> Result<(), (Field, Problem)> {
    match kind {
        ContactKind::Person if c.first_name.is_none() && c.last_name.is_none() => {
            Err((Field::FirstName, Problem::PersonWithoutName))
        }
        ContactKind::Company if c.business_name.is_none() => {
            Err((Field::BusinessName, Problem::CompanyWithoutName))
        }
        _ => Ok(()),
    }
}

/// Puts a parsed value into its field.
pub fn set(c: &mut Contact, field: Field, value: Option<String>) -> Result<(), Problem> {
    let slot = match field {
        Field::ContactType => {
            c.contact_type_id = value
                .map(|v| uuid::Uuid::parse_str(&v).map_err(|_| Problem::NotInList))
                .transpose()?;
            return Ok(());
        }
        Field::DateOfBirth => {
            c.date_of_birth = value
                .map(|v| NaiveDate::parse_from_str(&v, "%Y-%m-%d").map_err(|_| Problem::DateFormat))
                .transpose()?;
            return Ok(());
        }
        Field::FirstName => &mut c.first_name,
        Field::LastName => &mut c.last_name,
        Field::Email => &mut c.email,
        Field::Phone => &mut c.phone,
        Field::ContactSource => &mut c.contact_source,
        Field::BusinessName => &mut c.business_name,
        Field::StreetAddress => &mut c.street_address,
        Field::City => &mut c.city,
        Field::Country => &mut c.country,
        Field::State => &mut c.state,
        Field::PostalCode => &mut c.postal_code,
        Field::Website => &mut c.website,
        Field::TimeZone => &mut c.time_zone,
        Field::Role => &mut c.role,
        Field::Gender => &mut c.gender,
        Field::LeadStatus => &mut c.lead_status,
        Field::UtmSource => &mut c.utm_source,
        Field::UtmMedium => &mut c.utm_medium,
        Field::UtmCampaign => &mut c.utm_campaign,
    };
    *slot = value;
    Ok(())
}

/// A phone number in E.164 (`+393471234567`). Without a country code (`+` or `00`) it is Italian.
/// Hand-written rather than the phonenumber crate: that crate's metadata would multiply the size of
/// the browser bundle, and the same check must run there.
pub fn parse_phone(input: &str) -> Result<String, Problem> {
    let mut rest = input.trim();
    let international = if let Some(r) = rest.strip_prefix('+') {
        rest = r;
        true
    } else if let Some(r) = rest.strip_prefix("00") {
        rest = r;
        true
    } else {
        false
    };
    if !rest
        .chars()
        .all(|c| c.is_ascii_digit() || " -./()".contains(c))
    {
        return Err(Problem::PhoneInvalid);
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let e164 = if international {
        digits
    } else {
        format!("39{digits}")
    };
    if !(8..=15).contains(&e164.len()) || e164.starts_with('0') {
        return Err(Problem::PhoneInvalid);
    }
    if let Some(national) = e164.strip_prefix("39") {
        // Italian numbers: landlines start with 0, mobiles with 3, toll-free and shared-cost with 8.
        let plausible = matches!(national.as_bytes().first(), Some(b'0' | b'3' | b'8'))
            && (6..=11).contains(&national.len());
        if !plausible {
            return Err(Problem::PhoneNotItalian);
        }
    }
    Ok(format!("+{e164}"))
}

/// An E.164 number as people write it: Italian ones in national format (`347 123 4567`,
/// `02 1234 5678`), others with their `+` and digits in groups.
pub fn format_phone(e164: &str) -> String {
    let digits = e164.trim_start_matches('+');
    let group = |s: &str, first: usize| -> String {
        let (head, tail) = s.split_at(first.min(s.len()));
        let mut parts = vec![head.to_string()];
        let tail: Vec<char> = tail.chars().collect();
        // The rest in groups of four, a shorter group first.
        let lead = tail.len() % 4;
        if lead > 0 {
            parts.push(tail[..lead].iter().collect());
        }
        parts.extend(tail[lead..].chunks(4).map(|c| c.iter().collect::<String>()));
        parts.retain(|p| !p.is_empty());
        parts.join(" ")
    };
    match digits.strip_prefix("39") {
        Some(national) if national.starts_with('3') && national.len() == 10 => {
            format!("{} {} {}", &national[..3], &national[3..6], &national[6..])
        }
        // Rome and Milan have two-digit area codes, most others three.
        Some(national) if national.starts_with("02") || national.starts_with("06") => {
            group(national, 2)
        }
        Some(national) => group(national, 3),
        None => format!("+{digits}"),
    }
}

/// A web address, `https://` added when left out.
pub fn parse_website(input: &str) -> Result<String, Problem> {
    if input.contains(char::is_whitespace) || input.len() > 2000 {
        return Err(Problem::WebsiteInvalid);
    }
    let lower = input.to_ascii_lowercase();
    let (scheme, rest) = if let Some(rest) = lower.strip_prefix("https://") {
        ("https://", &input[8..8 + rest.len()])
    } else if let Some(rest) = lower.strip_prefix("http://") {
        ("http://", &input[7..7 + rest.len()])
    } else if lower.contains("://") {
        return Err(Problem::WebsiteScheme);
    } else {
        ("https://", input)
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, path) = rest.split_at(end);
    let host = host.to_ascii_lowercase();
    let host_name = host.rsplit_once(':').map_or(host.as_str(), |(h, port)| {
        if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            "\u{0}"
        }
    });
    let labels_ok = host_name.split('.').all(|label| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    if !host_name.contains('.') || !labels_ok {
        return Err(Problem::WebsiteInvalid);
    }
    Ok(format!("{scheme}{host}{path}"))
}

/// A calendar date typed as dd/mm/yyyy (also dd-mm-yyyy, dd.mm.yyyy or yyyy-mm-dd).
pub fn parse_date(input: &str) -> Result<NaiveDate, Problem> {
    let parts: Vec<&str> = input.split(['/', '-', '.']).map(str::trim).collect();
    let numbers: Option<Vec<u32>> = parts.iter().map(|p| p.parse().ok()).collect();
    let (day, month, year) = match (parts.as_slice(), numbers.as_deref()) {
        ([y, _, _], Some(&[year, month, day])) if y.len() == 4 => (day, month, year),
        ([_, _, y], Some(&[day, month, year])) if y.len() == 4 => (day, month, year),
        _ => return Err(Problem::DateFormat),
    };
    NaiveDate::from_ymd_opt(year as i32, month, day).ok_or(Problem::NotOnCalendar {
        day,
        month,
        year,
    })
}

/// A date of birth: a real calendar date, not in the future and not before 1900.
pub fn parse_date_of_birth(input: &str, today: NaiveDate) -> Result<NaiveDate, Problem> {
    let date = parse_date(input)?;
    if date > today {
        return Err(Problem::BornInFuture);
    }
    if date.year() < 1900 {
        return Err(Problem::BornBefore1900);
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    #[test]
    fn every_field_sits_in_exactly_one_folder_in_card_order() {
        let in_folders: Vec<Field> = Folder::ALL.into_iter().flat_map(Folder::fields).collect();
        assert_eq!(in_folders, Field::ALL);
        assert_eq!(Folder::Contact.fields().count(), 7);
        assert_eq!(Folder::GeneralInfo.fields().count(), 8);
        assert_eq!(Folder::AdditionalInfo.fields().count(), 6);
    }

    #[test]
    fn italian_phones_default_to_plus_39_and_show_in_national_format() {
        for typed in [
            "347 123 4567",
            "347-1234567",
            "+39 347 1234567",
            "0039 (347) 123.4567",
        ] {
            assert_eq!(parse_phone(typed).unwrap(), "+393471234567", "{typed}");
        }
        assert_eq!(parse_phone("02 1234 5678").unwrap(), "+390212345678");
        assert_eq!(parse_phone("+44 20 7946 0958").unwrap(), "+442079460958");
        assert_eq!(format_phone("+393471234567"), "347 123 4567");
        assert_eq!(format_phone("+390212345678"), "02 1234 5678");
        assert_eq!(format_phone("+390115551234"), "011 555 1234");
        assert_eq!(format_phone("+442079460958"), "+442079460958");
        for bad in [
            "347 abc",
            "12",
            "747 1234567",
            "+0 123 456 789",
            "1234567890123456",
        ] {
            assert!(parse_phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn websites_get_a_scheme_and_need_a_real_host() {
        assert_eq!(
            parse_website("www.Rossi.it").unwrap(),
            "https://www.rossi.it"
        );
        assert_eq!(
            parse_website("HTTP://Bar.example.com:8080/Menu?x=1").unwrap(),
            "http://bar.example.com:8080/Menu?x=1"
        );
        for bad in [
            "rossi",
            "javascript:alert(1)",
            "ftp://x.it",
            "www rossi.it",
            "-x.it",
            "a..it",
        ] {
            assert!(parse_website(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_of_birth_are_real_past_dates() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(
            parse_date_of_birth("24/05/1987", today()).unwrap(),
            d(1987, 5, 24)
        );
        assert_eq!(
            parse_date_of_birth("1.2.1990", today()).unwrap(),
            d(1990, 2, 1)
        );
        assert_eq!(
            parse_date_of_birth("1990-02-01", today()).unwrap(),
            d(1990, 2, 1)
        );
        assert_eq!(parse_date_of_birth("24/11/2026", today()).unwrap(), today());
        assert_eq!(
            parse_date_of_birth("31/02/1990", today()),
            Err(Problem::NotOnCalendar {
                day: 31,
                month: 2,
                year: 1990
            })
        );
        assert_eq!(
            parse_date_of_birth("25/11/2026", today()),
            Err(Problem::BornInFuture)
        );
        assert!(parse_date_of_birth("05/1987", today()).is_err());
        assert!(parse_date_of_birth("1/1/87", today()).is_err());
    }

    #[test]
    fn choices_and_time_zones_accept_only_their_lists() {
        let p = |f: Field, s: &str| f.parse(s, today());
        assert_eq!(p(Field::LeadStatus, "Warm"), Ok(Some("warm".into())));
        assert_eq!(
            p(Field::LeadStatus, "tiepido"),
            Ok(Some("warm".into())),
            "the Italian label works too"
        );
        assert!(p(Field::LeadStatus, "lukewarm").is_err());
        assert_eq!(
            p(Field::TimeZone, "europe/rome"),
            Ok(Some("Europe/Rome".into()))
        );
        assert!(p(Field::TimeZone, "Mars/Olympus").is_err());
        assert_eq!(p(Field::City, "  Bologna "), Ok(Some("Bologna".into())));
        assert_eq!(p(Field::City, "   "), Ok(None), "blank clears the field");
        assert!(p(Field::City, &"x".repeat(201)).is_err());
        assert_eq!(
            p(Field::Email, " Anna@Example.IT "),
            Ok(Some("anna@example.it".into()))
        );
        assert!(p(Field::Email, "anna@").is_err());
    }
}
