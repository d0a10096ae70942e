//! Italian and English: the language of each page, and its formats for numbers and dates.
//!
//! Every text of the interface is written in both languages side by side, `l.t("Save", "Salva")`,
//! and texts with values in them as a `match` over [`Locale`]: a missing translation does not
//! compile, and there is no catalogue to fall out of step with the code. (`leptos_i18n` would
//! check the same with a JSON catalogue, at a cost of kilobytes in a bundle with a 250 KiB budget.)
//!
//! A page's language is fixed while it is shown: the server picks it (the user's saved choice,
//! else the browser's `Accept-Language`), writes it into `<html lang>`, and the browser's code
//! reads it back from there when it hydrates. Switching language saves the choice and reloads.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    /// Rubrica is Italian first: the language when the browser asks for neither.
    #[default]
    It,
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::It, Locale::En];

    /// The BCP 47 tag, as in `<html lang>` and the database.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::It => "it",
            Locale::En => "en",
        }
    }

    /// `"it"`, `"it-CH"`, `"EN-gb"`… → the language, if Rubrica speaks it.
    pub fn parse(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        Locale::ALL
            .into_iter()
            .find(|l| l.tag().eq_ignore_ascii_case(primary))
    }

    /// The language a browser prefers among Rubrica's, from an `Accept-Language` header
    /// (`"de-CH, en;q=0.8, it;q=0.5"` → English).
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut best: Option<(f32, Locale)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(locale) = parts.next().and_then(Locale::parse) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                .unwrap_or(0.0);
            // The first of equal preferences wins, as the header lists them in order.
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, locale));
            }
        }
        best.map(|(_, l)| l)
    }

    /// The language's own name, for the switch.
    pub fn name(self) -> &'static str {
        match self {
            Locale::It => "Italiano",
            Locale::En => "English",
        }
    }

    /// This language's text of the two.
    pub fn t(self, en: &'static str, it: &'static str) -> &'static str {
        match self {
            Locale::En => en,
            Locale::It => it,
        }
    }

    /// `1234567` → `1,234,567` in English, `1.234.567` in Italian.
    pub fn number(self, n: i64) -> String {
        let separator = self.t(",", ".");
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push_str(separator);
            }
            out.push(c);
        }
        out
    }

    /// A calendar date: `25/11/2026` in Italian, `25 Nov 2026` in English.
    pub fn date(self, d: NaiveDate) -> String {
        match self {
            Locale::It => format!("{:02}/{:02}/{}", d.day(), d.month(), d.year()),
            Locale::En => {
                const MONTHS: [&str; 12] = [
                    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                    "Dec",
                ];
                format!("{} {} {}", d.day(), MONTHS[d.month0() as usize], d.year())
            }
        }
    }

    /// A moment, in UTC: `25/11/2026 14:03 UTC`, `25 Nov 2026, 14:03 UTC`.
    pub fn date_time(self, t: DateTime<Utc>) -> String {
        let time = t.format("%H:%M");
        match self {
            Locale::It => format!("{} {time} UTC", self.date(t.date_naive())),
            Locale::En => format!("{}, {time} UTC", self.date(t.date_naive())),
        }
    }
}

/// The language of the page being shown.
pub fn use_locale() -> Locale {
    use_context::<Locale>().unwrap_or_default()
}

/// Makes the page's language known to every component below (see the module's comment).
pub fn provide_locale() {
    #[cfg(feature = "ssr")]
    let locale = request_locale();
    #[cfg(not(feature = "ssr"))]
    let locale = document()
        .document_element()
        .and_then(|html| html.get_attribute("lang"))
        .and_then(|tag| Locale::parse(&tag))
        .unwrap_or_default();
    provide_context(locale);
}

/// The language the server chose for the request being answered (see
/// `auth::ssr::session_layer`); in the browser, which answers none, the default.
pub fn request_locale() -> Locale {
    #[cfg(feature = "ssr")]
    if let Some(parts) = use_context::<http::request::Parts>() {
        return parts
            .extensions
            .get::<Locale>()
            .copied()
            .unwrap_or_default();
    }
    Locale::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_s_preferred_language_wins_among_ours() {
        let pick = Locale::from_accept_language;
        assert_eq!(
            pick("it-IT,it;q=0.9,en-US;q=0.8,en;q=0.7"),
            Some(Locale::It)
        );
        assert_eq!(pick("en-US,en;q=0.9"), Some(Locale::En));
        assert_eq!(pick("de-CH, en;q=0.8, it;q=0.5"), Some(Locale::En));
        assert_eq!(pick("fr;q=0.9, it;q=0.95"), Some(Locale::It));
        assert_eq!(pick("en;q=0, it;q=0.1"), Some(Locale::It));
        assert_eq!(pick("de, fr"), None);
        assert_eq!(pick(""), None);
        assert_eq!(Locale::parse("IT-ch"), Some(Locale::It));
    }

    #[test]
    fn numbers_and_dates_follow_the_language() {
        assert_eq!(Locale::It.number(1_000_000), "1.000.000");
        assert_eq!(Locale::En.number(1_000_000), "1,000,000");
        assert_eq!(Locale::En.number(999), "999");
        assert_eq!(Locale::It.number(-1234), "-1.234");
        let d = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        assert_eq!(Locale::It.date(d), "05/03/2026");
        assert_eq!(Locale::En.date(d), "5 Mar 2026");
        let t = d.and_hms_opt(14, 3, 0).unwrap().and_utc();
        assert_eq!(Locale::It.date_time(t), "05/03/2026 14:03 UTC");
        assert_eq!(Locale::En.date_time(t), "5 Mar 2026, 14:03 UTC");
    }
}
