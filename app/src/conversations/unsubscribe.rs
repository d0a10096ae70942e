//! The page a contact reaches from the unsubscribe link of an email Rubrica sent them, and the
//! one-click unsubscribe of RFC 8058 that mail programs post to the same address. Server-only.
//!
//! The link carries the email's own key (random, unguessable, one per message), so it needs no
//! session and works for as long as the email exists. Unsubscribing turns email Do Not Disturb
//! on and marks the contact unsubscribed, in its history; the dispatcher then refuses every email
//! still queued for them. The page is plain HTML with a form, so it works without the app's code.

use axum::{
    extract::{Path, State},
    http::{header, HeaderMap, StatusCode},
    response::{Html, IntoResponse, Response},
};
use uuid::Uuid;

use crate::{db::Db, error::AppResult, i18n::Locale, mail::escape, state::AppState, with_db};

/// The address of the unsubscribe page for the email with key `message_key`.
pub fn path(message_key: &str) -> String {
    format!("/unsubscribe/{message_key}")
}

/// The contact an email went to, by the email's key.
async fn contact_of(db: &Db, message_key: &str) -> AppResult<Option<Uuid>> {
    let row: Option<(Uuid,)> = with_db!(db, pool => sqlx::query_as(
        "SELECT contact_id FROM messages WHERE message_key = $1 AND channel = 'email' AND direction = 'out'",
    )
    .bind(message_key)
    .fetch_optional(pool)
    .await)?;
    Ok(row.map(|(id,)| id))
}

fn locale(headers: &HeaderMap) -> Locale {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Locale::from_accept_language)
        .unwrap_or_default()
}

/// `giulia@example.it` as `g•••@example.it`: enough for its owner to recognise it, not enough to
/// hand an address to whoever holds the link.
fn masked(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "•••".to_string(),
    }
}

fn page(l: Locale, status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/pkg/rubrica.css\"></head>\
         <body><main class=\"public-page\"><h1>{title}</h1>{body}</main></body></html>",
        lang = l.tag(),
        title = escape(title),
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

fn gone(l: Locale) -> Response {
    page(
        l,
        StatusCode::NOT_FOUND,
        l.t("This link no longer works", "Questo link non funziona più"),
        &format!(
            "<p>{}</p>",
            l.t(
                "The email this link came from is no longer known here.",
                "L'email da cui viene questo link non è più conosciuta qui.",
            )
        ),
    )
}

fn failed(l: Locale) -> Response {
    page(
        l,
        StatusCode::INTERNAL_SERVER_ERROR,
        l.t("Something went wrong", "Qualcosa è andato storto"),
        &format!(
            "<p>{}</p>",
            l.t(
                "Your request could not be saved. Please try again in a moment.",
                "Non è stato possibile salvare la richiesta. Riprova tra un momento.",
            )
        ),
    )
}

fn sender_name(state: &AppState) -> String {
    state
        .mail
        .mailer
        .as_ref()
        .and_then(|m| m.from().name.clone())
        .unwrap_or_else(|| "Rubrica".to_string())
}

fn done(l: Locale, state: &AppState, email: &str) -> Response {
    let sender = escape(&sender_name(state));
    let email = escape(&masked(email));
    let text = match l {
        Locale::En => format!(
            "<p role=\"status\">{email} is unsubscribed: {sender} will send it no more emails.</p>"
        ),
        Locale::It => format!(
            "<p role=\"status\">{email} è disiscritto: {sender} non gli invierà più email.</p>"
        ),
    };
    page(
        l,
        StatusCode::OK,
        l.t("You are unsubscribed", "Sei disiscritto"),
        &text,
    )
}

/// `GET /unsubscribe/{key}`: asks to confirm (mail scanners follow links; only a post counts).
pub async fn show(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    let l = locale(&headers);
    let contact = match contact_of(&state.db, &key).await {
        Ok(Some(id)) => crate::contacts::store::get(&state.db, id).await,
        Ok(None) => return gone(l),
        Err(e) => Err(e),
    };
    let contact = match contact {
        Ok(Some(c)) => c,
        Ok(None) => return gone(l),
        Err(e) => {
            tracing::error!(error = %e, "unsubscribe page");
            return failed(l);
        }
    };
    let email = contact.email.clone().unwrap_or_default();
    if contact.email_subscription == "unsubscribed" {
        return done(l, &state, &email);
    }
    let sender = escape(&sender_name(&state));
    let question = match l {
        Locale::En => format!(
            "<p>Stop emails from {sender} to {}?</p>",
            escape(&masked(&email))
        ),
        Locale::It => format!(
            "<p>Non ricevere più email da {sender} su {}?</p>",
            escape(&masked(&email))
        ),
    };
    let form = format!(
        "<form method=\"post\" action=\"{action}\"><button type=\"submit\" class=\"primary\">{label}</button></form>",
        action = escape(&path(&key)),
        label = l.t("Unsubscribe", "Disiscriviti"),
    );
    page(
        l,
        StatusCode::OK,
        l.t("Unsubscribe from emails", "Disiscriviti dalle email"),
        &format!("{question}{form}"),
    )
}

/// `POST /unsubscribe/{key}`: the page's button, or a mail program's one-click unsubscribe
/// (`List-Unsubscribe=One-Click`, RFC 8058). Doing it twice changes nothing more.
pub async fn confirm(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    let l = locale(&headers);
    let result = async {
        let Some(id) = contact_of(&state.db, &key).await? else {
            return Ok(None);
        };
        let Some(contact) = crate::contacts::store::get(&state.db, id).await? else {
            return Ok(None);
        };
        crate::contacts::store::unsubscribe_email(&state.db, &contact).await?;
        Ok::<_, crate::error::AppError>(Some(contact))
    }
    .await;
    match result {
        Ok(Some(contact)) => {
            tracing::info!(contact = %contact.id, "a contact unsubscribed from email");
            done(l, &state, contact.email.as_deref().unwrap_or_default())
        }
        Ok(None) => gone(l),
        Err(e) => {
            tracing::error!(error = %e, "unsubscribe");
            failed(l)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_is_shown_masked() {
        assert_eq!(masked("giulia@example.it"), "g•••@example.it");
        assert_eq!(masked("nonsense"), "•••");
    }
}
