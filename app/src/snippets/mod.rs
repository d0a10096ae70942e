//! Snippets: saved texts to drop into a message, by the composer's **Snippets** button or by
//! typing `/` and their name. Each is the user's own, or the team's (seen by everyone; changed by
//! whoever made it, or an admin). Managed in the composer and in Settings → Snippets.

mod components;
#[cfg(feature = "ssr")]
pub mod store;

pub use components::{SnippetForm, SnippetsSettingsPage};

use leptos::{prelude::*, server_fn::codec::Json};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{one_line, text_problem, AppError, AppResult, FieldError, Problem};

/// A snippet as its reader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snippet {
    pub id: Uuid,
    pub name: String,
    /// For emails: the subject it brings, if any.
    pub subject: Option<String>,
    pub body: String,
    /// The team's, rather than the reader's own.
    pub team: bool,
    /// The reader may change or delete it.
    pub editable: bool,
}

impl Snippet {
    /// Whether typing `/query` suggests it: its name contains the query, in any case.
    pub fn matches(&self, query: &str) -> bool {
        self.name.to_lowercase().contains(&query.to_lowercase())
    }
}

/// A snippet as typed: checked in the browser and again by the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetDraft {
    pub name: String,
    pub subject: String,
    pub body: String,
    pub team: bool,
}

impl SnippetDraft {
    pub const MAX_NAME: usize = 80;
    pub const MAX_BODY: usize = 5000;

    /// The draft tidied, or every problem with it at once.
    pub fn check(&self) -> AppResult<SnippetDraft> {
        let mut errors = Vec::new();
        let name = one_line(&self.name);
        let subject = one_line(&self.subject);
        let body = self.body.trim().to_string();
        for (field, text, missing, max) in [
            ("name", &name, Some(Problem::NameRequired), Self::MAX_NAME),
            ("subject", &subject, None, 300),
            ("body", &body, Some(Problem::MessageEmpty), Self::MAX_BODY),
        ] {
            if let Some(p) = text_problem(text, missing, max) {
                errors.push(FieldError::new(field, p));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        Ok(SnippetDraft {
            name,
            subject,
            body,
            team: self.team,
        })
    }
}

/// The user's own snippets and the team's, by name.
#[server(input = Json)]
pub async fn list_snippets() -> AppResult<Vec<Snippet>> {
    let user = crate::auth::ssr::current_user()?;
    store::list(&crate::state::db(), &user).await
}

/// Creates a snippet (`id` empty) or changes one the user may change.
#[server(input = Json)]
pub async fn save_snippet(id: Option<Uuid>, draft: SnippetDraft) -> AppResult<Snippet> {
    let user = crate::auth::ssr::current_user()?;
    let draft = draft.check()?;
    let db = crate::state::db();
    let id = match id {
        Some(id) => {
            store::update(&db, &user, id, &draft).await?;
            id
        }
        None => store::create(&db, &user, &draft).await?,
    };
    store::get(&db, &user, id).await
}

#[server(input = Json)]
pub async fn delete_snippet(id: Uuid) -> AppResult<()> {
    let user = crate::auth::ssr::current_user()?;
    store::delete(&crate::state::db(), &user, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snippet_needs_a_name_and_some_text() {
        let err = SnippetDraft::default().check().unwrap_err();
        assert_eq!(err.field_problem("name"), Some(Problem::NameRequired));
        assert_eq!(err.field_problem("body"), Some(Problem::MessageEmpty));
        let ok = SnippetDraft {
            name: "  Benvenuto   cliente ".into(),
            body: " Ciao {{contact.first_name}}! ".into(),
            ..SnippetDraft::default()
        }
        .check()
        .unwrap();
        assert_eq!(ok.name, "Benvenuto cliente");
        assert_eq!(ok.body, "Ciao {{contact.first_name}}!");
    }
}
