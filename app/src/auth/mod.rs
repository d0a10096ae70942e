//! Signing in and out, first-run setup, and who is asking.
//!
//! Sessions live in the database (several instances share them); the browser holds only a random
//! token in an `HttpOnly` cookie. Every server function but [`login`] and [`setup`] refuses a caller
//! without a session: the session layer turns them away before they run (default deny), and each
//! one asks [`ssr::current_user`] for the user it acts for.

#[cfg(feature = "ssr")]
pub mod cache;
mod components;
#[cfg(feature = "ssr")]
pub mod ssr;
#[cfg(feature = "ssr")]
pub mod store;

pub use components::{LanguageSwitch, LoginRoute, SetupRoute, SignOutButton};

use leptos::{prelude::*, server_fn::codec::Json};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult, FieldError, Problem},
    i18n::Locale,
};

/// The signed-in user, as the browser may see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
    /// The user's choice for the contact page's **Hide empty fields**, if they made one.
    pub hide_empty_fields: Option<bool>,
    /// The language the user chose, if they did (else their browser's is used).
    pub locale: Option<Locale>,
}

/// A syntactically valid email address, trimmed and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Email, Problem> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(Problem::EmailMissing);
        }
        if trimmed.len() > 254 {
            return Err(Problem::TooLong { max: 254 });
        }
        let (local, domain) = trimmed.rsplit_once('@').ok_or(Problem::EmailNoAt)?;
        let valid_domain = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        let valid_local = !local.is_empty()
            && local.len() <= 64
            && !local.contains(char::is_whitespace)
            && !local.contains(['@', '<', '>', '(', ')', ',', ';', ':', '"', '[', ']', '\\']);
        if !valid_local || !valid_domain {
            return Err(Problem::EmailInvalid);
        }
        Ok(Email(trimmed.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: long enough to resist guessing, short enough to hash quickly.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;
    const MAX_BYTES: usize = 1024;

    pub fn parse(input: &str) -> Result<NewPassword, Problem> {
        if input.chars().count() < Self::MIN_CHARS {
            return Err(Problem::PasswordTooShort {
                min: Self::MIN_CHARS,
            });
        }
        if input.len() > Self::MAX_BYTES {
            return Err(Problem::TooLong {
                max: Self::MAX_BYTES,
            });
        }
        Ok(NewPassword(input.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// A person's display name for a user account.
pub fn parse_user_name(input: &str) -> Result<String, Problem> {
    let name = input.trim();
    if name.is_empty() {
        return Err(Problem::NameMissing);
    }
    if name.chars().count() > 200 {
        return Err(Problem::TooLong { max: 200 });
    }
    Ok(name.to_string())
}

/// The validated input of the first-run setup form.
#[derive(Debug)]
pub struct NewAdmin {
    pub name: String,
    pub email: Email,
    pub password: NewPassword,
}

impl NewAdmin {
    /// Checks every field and reports all problems at once.
    pub fn parse(name: &str, email: &str, password: &str) -> AppResult<NewAdmin> {
        let name = parse_user_name(name);
        let email = Email::parse(email);
        let password = NewPassword::parse(password);
        match (name, email, password) {
            (Ok(name), Ok(email), Ok(password)) => Ok(NewAdmin {
                name,
                email,
                password,
            }),
            (name, email, password) => {
                let errors = [
                    ("name", name.err()),
                    ("email", email.err()),
                    ("password", password.err()),
                ]
                .into_iter()
                .filter_map(|(field, e)| e.map(|problem| FieldError::new(field, problem)))
                .collect();
                Err(AppError::Invalid(errors))
            }
        }
    }
}

/// Where to go after signing in: only a path on this site, never another origin. Browsers drop
/// tabs and line breaks from a URL (`/\t/evil.example` is followed as `//evil.example`), and a
/// line break can't go in a header at all, so a path with any control character or space is
/// refused too (the paths Rubrica itself puts in `next` are percent-encoded).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(|c| c <= ' ' || c.is_control()) =>
        {
            path.to_string()
        }
        _ => "/contacts".to_string(),
    }
}

/// Signs in. A wrong email and a wrong password get the same answer in about the same time.
#[server]
pub async fn login(email: String, password: String, next: Option<String>) -> AppResult<()> {
    let state = crate::state::app_state();
    ssr::throttle::attempt(&state.db, &email, crate::db::now()).await?;
    let user = match store::authenticate(&state.db, &email, &password).await {
        Ok(user) => user,
        Err(AppError::WrongCredentials) => return Err(AppError::WrongCredentials),
        Err(other) => {
            // Best effort: the database that just failed may fail this too.
            let _ = ssr::throttle::not_counted(&state.db, &email, crate::db::now()).await;
            return Err(other);
        }
    };
    ssr::throttle::succeeded(&state.db, &email).await?;
    ssr::start_session(&state, user.id).await?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Creates the first admin, only while the workspace has no user, and signs them in.
#[server]
pub async fn setup(name: String, email: String, password: String) -> AppResult<()> {
    let admin = NewAdmin::parse(&name, &email, &password)?;
    let state = crate::state::app_state();
    let user_id = store::create_first_admin(&state.db, admin).await?;
    ssr::start_session(&state, user_id).await?;
    leptos_axum::redirect("/contacts");
    Ok(())
}

#[server]
pub async fn logout() -> AppResult<()> {
    let state = crate::state::app_state();
    ssr::end_session(&state).await?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// Switches the signed-in user's language, then reloads the page they were on (`next`) in it.
#[server]
pub async fn set_locale(locale: String, next: Option<String>) -> AppResult<()> {
    let user = ssr::current_user()?;
    let locale =
        Locale::parse(&locale).ok_or_else(|| AppError::invalid("locale", Problem::NotInList))?;
    let state = crate::state::app_state();
    state
        .sessions
        .change(&state.db, move |db| async move {
            store::set_locale(&db, user.id, locale).await
        })
        .await?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// The signed-in user.
#[server(input = Json)]
pub async fn me() -> AppResult<CurrentUser> {
    ssr::current_user()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(
            Email::parse("  Giulia.Bianchi@Example.IT ")
                .unwrap()
                .as_str(),
            "giulia.bianchi@example.it"
        );
        for bad in [
            "",
            "giulia",
            "giulia@",
            "@example.it",
            "gi ulia@example.it",
            "giulia@example",
            "giulia@exa..mple.it",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn setup_reports_every_bad_field_at_once() {
        let err = NewAdmin::parse(" ", "not-an-email", "short").unwrap_err();
        assert!(err.field_problem("name").is_some());
        assert!(err.field_problem("email").is_some());
        assert!(err.field_problem("password").is_some());
    }

    #[test]
    fn next_never_leaves_the_site() {
        assert_eq!(safe_next(Some("/contacts?q=rossi")), "/contacts?q=rossi");
        assert_eq!(safe_next(Some("//evil.example")), "/contacts");
        assert_eq!(safe_next(Some("https://evil.example")), "/contacts");
        assert_eq!(safe_next(None), "/contacts");
        for sneaky in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/ /evil.example",
            "/\x7f",
        ] {
            assert_eq!(safe_next(Some(sneaky)), "/contacts", "{sneaky:?}");
        }
    }
}
