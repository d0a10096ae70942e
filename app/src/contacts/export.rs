//! `GET /contacts/export.csv?…`: the contacts list as a CSV file — the same search, tag filters
//! and sort as the list it is asked from, and only the contacts the user may see. Server-only.
//!
//! Written a page at a time (keyset pages, like the list), so a million contacts stream out
//! without being held in memory. Values are as the card shows them, in the user's language
//! (column names too), with a byte-order mark so spreadsheet programs read the accents right.
//! A value that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) is written
//! with a `'` before it.

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::{header, StatusCode, Uri},
    response::{IntoResponse, Response},
    Extension,
};

use super::{store, Contact, ListQuery};
use crate::{
    auth::ssr::Auth,
    fields::{CardField, Layout},
    i18n::Locale,
    state::AppState,
};

/// Contacts read a page at a time.
const PAGE: usize = 1000;

/// Keeps a spreadsheet from running a value as a formula.
fn cell(value: String) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value
    }
}

/// The columns: the card's fields in its order (custom ones too), then what the header shows.
fn header(layout: &Layout, l: Locale) -> Vec<String> {
    let mut names: Vec<String> = layout.fields().map(|f| f.field.label(l)).collect();
    names.extend(
        [
            l.t("Created at", "Creato il"),
            l.t("Updated at", "Aggiornato il"),
            l.t("Email subscription", "Iscrizione email"),
        ]
        .map(str::to_string),
    );
    names
}

fn row(contact: &Contact, layout: &Layout, l: Locale) -> Vec<String> {
    let mut values: Vec<String> = layout
        .fields()
        .map(|f| match &f.field {
            CardField::Standard(field) => field.read(contact, layout, l),
            CardField::Custom(custom) => contact
                .custom
                .get(&custom.id)
                .map(|stored| custom.display(stored, l))
                .unwrap_or_default(),
        })
        .collect();
    values.push(l.date_time(contact.created_at));
    values.push(l.date_time(contact.updated_at));
    values.push(super::subscription_label(l, &contact.email_subscription).to_string());
    values.into_iter().map(cell).collect()
}

fn csv_line(values: Vec<String>) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(values)?;
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

pub async fn export_csv(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Extension(locale): Extension<Locale>,
    uri: Uri,
) -> Response {
    let Some(signed_in) = auth.0 else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let viewer = store::Viewer {
        user: signed_in.user,
    };
    let pairs: Vec<(String, String)> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            (
                k.to_string(),
                urlencoding::decode(&v.replace('+', " "))
                    .map(|v| v.into_owned())
                    .unwrap_or_default(),
            )
        })
        .collect();
    let query =
        ListQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.clone()))).first_page();
    let layout = match crate::fields::store::layout(&state.db).await {
        Ok(layout) => layout,
        Err(e) => return e.into_response(),
    };
    let first = match csv_line(header(&layout, locale)) {
        Ok(line) => [b"\xef\xbb\xbf".as_slice(), &line].concat(),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let plan = match store::export_plan(&state.db, &viewer, &query, PAGE).await {
        Ok(plan) => plan,
        Err(e) => return e.into_response(),
    };
    tracing::info!(user = %viewer.user.id, "contacts exported");
    // Each step writes one page; the state is the cursor of the page to write next.
    let pages = futures::stream::unfold(Some((query, Some(first))), move |next| {
        let (state, viewer, layout) = (state.clone(), viewer.clone(), layout.clone());
        let plan = plan.clone();
        async move {
            let (query, header) = next?;
            let (contacts, after) =
                match store::export_page(&state.db, &viewer, &query, &plan, PAGE).await {
                    Ok(page) => page,
                    Err(e) => {
                        tracing::error!(error = %e, "export stopped");
                        return Some((Err(std::io::Error::other(e.to_string())), None));
                    }
                };
            let mut chunk = header.unwrap_or_default();
            for contact in &contacts {
                match csv_line(row(contact, &layout, locale)) {
                    Ok(line) => chunk.extend(line),
                    Err(e) => return Some((Err(std::io::Error::other(e)), None)),
                }
            }
            let next = after.map(|after| {
                (
                    ListQuery {
                        after: Some(after),
                        ..query
                    },
                    None,
                )
            });
            Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), next))
        }
    });
    let name = format!(
        "{}-{}.csv",
        locale.t("contacts", "contatti"),
        crate::db::now().format("%Y-%m-%d")
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from_stream(pages),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_a_spreadsheet_would_run_is_written_as_text() {
        assert_eq!(cell("=HYPERLINK(\"x\")".into()), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("-2+3".into()), "'-2+3");
        assert_eq!(cell("Mario Rossi".into()), "Mario Rossi");
        let line = csv_line(vec!["Rossi, Mario".into(), "dice \"ciao\"".into()]).unwrap();
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "\"Rossi, Mario\",\"dice \"\"ciao\"\"\"\n"
        );
    }
}
