//! Files attached to emails: checked (size, and what the file really is — by its first bytes,
//! never by the name or the type the browser claims), kept in the database, sent with the email,
//! and downloadable from the thread by whoever may see the contact.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{error::Problem, i18n::Locale};

/// The largest file a message may carry, and how many files.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
pub const MAX_FILES: usize = 5;

/// A file attached to a draft or a message, as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
}

impl Attachment {
    /// Where it downloads from.
    pub fn href(&self) -> String {
        format!("/attachments/{}", self.id)
    }

    /// `report.pdf (1.2 MB)`.
    pub fn label(&self, l: Locale) -> String {
        format!("{} ({})", self.file_name, size_text(self.size, l))
    }
}

/// A size as people read it: `820 KB`, `1.2 MB` (`1,2 MB` in Italian).
pub fn size_text(bytes: i64, l: Locale) -> String {
    let kb = bytes as f64 / 1024.0;
    if kb < 1000.0 {
        format!("{} KB", kb.ceil().max(1.0) as i64)
    } else {
        let mb = format!("{:.1}", kb / 1024.0);
        let mb = if l == Locale::It {
            mb.replace('.', ",")
        } else {
            mb
        };
        format!("{mb} MB")
    }
}

/// The kinds of file Rubrica accepts, with the type it sends them as.
const KINDS: &[(&str, &[u8], &str)] = &[
    ("pdf", b"%PDF-", "application/pdf"),
    ("png", b"\x89PNG\r\n\x1a\n", "image/png"),
    ("jpg", b"\xff\xd8\xff", "image/jpeg"),
    ("gif", b"GIF8", "image/gif"),
];

/// What a file really is, from its first bytes (and, for the office formats that are all zip
/// archives, its name): the content type it is kept and sent as, or why it is refused.
pub fn check_file(file_name: &str, data: &[u8]) -> Result<&'static str, Problem> {
    if data.is_empty() {
        return Err(Problem::FileEmpty);
    }
    if data.len() > MAX_BYTES {
        return Err(Problem::FileTooLarge {
            max_mb: (MAX_BYTES / (1024 * 1024)) as u64,
        });
    }
    if let Some((_, _, kind)) = KINDS.iter().find(|(_, magic, _)| data.starts_with(magic)) {
        return Ok(kind);
    }
    if data.len() > 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        return Ok("image/webp");
    }
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if data.starts_with(b"PK\x03\x04") {
        let office = match extension.as_str() {
            "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "odt" => "application/vnd.oasis.opendocument.text",
            "ods" => "application/vnd.oasis.opendocument.spreadsheet",
            "zip" => "application/zip",
            _ => return Err(Problem::FileTypeRefused),
        };
        return Ok(office);
    }
    // Plain text: readable UTF-8 without control characters other than line breaks and tabs.
    let text = std::str::from_utf8(data).is_ok_and(|s| {
        !s.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    });
    if text {
        return Ok(match extension.as_str() {
            "csv" => "text/csv",
            _ => "text/plain",
        });
    }
    Err(Problem::FileTypeRefused)
}

/// The name a file is kept under: its last path part, without control characters or quotes
/// (it goes into headers), at most 120 characters.
pub fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(120)
        .collect();
    let clean = clean.trim().to_string();
    if clean.is_empty() || clean.chars().all(|c| c == '.') {
        "file".to_string()
    } else {
        clean
    }
}

#[cfg(feature = "ssr")]
pub mod store {
    //! Attachments in the database, and their download. Server-only.

    use axum::{
        body::Bytes,
        extract::{Path, Query, State},
        http::{header, HeaderValue, StatusCode},
        response::{IntoResponse, Json, Response},
        Extension,
    };
    use uuid::Uuid;

    use super::Attachment;
    use crate::{
        auth::ssr::Auth,
        contacts::store::Viewer,
        db::{new_id, now, Db},
        error::{AppError, AppResult},
        state::AppState,
        with_db,
    };

    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        file_name: String,
        content_type: String,
        size: i64,
    }

    impl From<Row> for Attachment {
        fn from(r: Row) -> Attachment {
            Attachment {
                id: r.id,
                file_name: r.file_name,
                content_type: r.content_type,
                size: r.size,
            }
        }
    }

    /// Keeps a file checked by [`super::check_file`] for a draft to `contact_id`.
    pub async fn add(
        db: &Db,
        user: Uuid,
        contact_id: Uuid,
        file_name: &str,
        content_type: &str,
        data: &[u8],
    ) -> AppResult<Attachment> {
        let id = new_id();
        with_db!(db, pool => sqlx::query(
            "INSERT INTO attachments (id, contact_id, uploaded_by, file_name, content_type, size, \
             data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(contact_id)
        .bind(user)
        .bind(file_name)
        .bind(content_type)
        .bind(data.len() as i64)
        .bind(data)
        .bind(now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(Attachment {
            id,
            file_name: file_name.to_string(),
            content_type: content_type.to_string(),
            size: data.len() as i64,
        })
    }

    /// The files of a message, in the order they were added.
    pub async fn of_message(db: &Db, message: Uuid) -> AppResult<Vec<Attachment>> {
        let rows: Vec<Row> = with_db!(db, pool => sqlx::query_as(
            "SELECT id, file_name, content_type, size FROM attachments WHERE message_id = $1 \
             ORDER BY created_at, id",
        )
        .bind(message)
        .fetch_all(pool)
        .await)?;
        Ok(rows.into_iter().map(Attachment::from).collect())
    }

    /// The files of the messages of one contact's thread, by message.
    pub async fn of_contact(db: &Db, contact_id: Uuid) -> AppResult<Vec<(Uuid, Attachment)>> {
        #[derive(sqlx::FromRow)]
        struct WithMessage {
            message_id: Uuid,
            #[sqlx(flatten)]
            row: Row,
        }
        let rows: Vec<WithMessage> = with_db!(db, pool => sqlx::query_as(
            "SELECT message_id, id, file_name, content_type, size FROM attachments \
             WHERE contact_id = $1 AND message_id IS NOT NULL ORDER BY created_at, id",
        )
        .bind(contact_id)
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|r| (r.message_id, r.row.into()))
            .collect())
    }

    /// A file's bytes, for sending.
    pub async fn data(db: &Db, id: Uuid) -> AppResult<Vec<u8>> {
        let row: Option<(Vec<u8>,)> = with_db!(db, pool => sqlx::query_as(
            "SELECT data FROM attachments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        row.map(|(d,)| d).ok_or(AppError::NotFound)
    }

    #[derive(serde::Deserialize)]
    pub struct Upload {
        contact: Uuid,
        name: String,
    }

    /// `POST /attachments?contact=…&name=…` with the file as the body: checked, kept for the
    /// draft to that contact (which the user must be able to see), and described back as JSON.
    pub async fn upload(
        State(state): State<AppState>,
        Extension(auth): Extension<Auth>,
        Query(upload): Query<Upload>,
        body: Bytes,
    ) -> Response {
        let Some(signed_in) = auth.0 else {
            return AppError::Unauthorized.into_response();
        };
        let viewer = Viewer {
            user: signed_in.user,
        };
        let result = async {
            crate::contacts::store::get_visible(&state.db, &viewer, upload.contact).await?;
            let name = super::clean_name(&upload.name);
            let content_type =
                super::check_file(&name, &body).map_err(|p| AppError::invalid("attachments", p))?;
            add(
                &state.db,
                viewer.user.id,
                upload.contact,
                &name,
                content_type,
                &body,
            )
            .await
        }
        .await;
        match result {
            Ok(attachment) => Json(attachment).into_response(),
            Err(e) => e.into_response(),
        }
    }

    /// `GET /attachments/{id}`: the file, to whoever may see its contact (others get 404, as if
    /// it did not exist). Always a download, never shown inline: a file is never run as a page.
    pub async fn download(
        State(state): State<AppState>,
        Extension(auth): Extension<Auth>,
        Path(id): Path<Uuid>,
    ) -> Response {
        let Some(signed_in) = auth.0 else {
            return StatusCode::UNAUTHORIZED.into_response();
        };
        let viewer = Viewer {
            user: signed_in.user,
        };
        let found = async {
            let row: Option<(Uuid, String, String, Vec<u8>)> = with_db!(&state.db, pool => sqlx::query_as(
                "SELECT contact_id, file_name, content_type, data FROM attachments WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await)?;
            let Some((contact_id, name, content_type, data)) = row else {
                return Err(AppError::NotFound);
            };
            crate::contacts::store::get_visible(&state.db, &viewer, contact_id).await?;
            Ok((name, content_type, data))
        }
        .await;
        match found {
            Ok((name, content_type, data)) => {
                let disposition = format!(
                    "attachment; filename=\"{}\"; filename*=UTF-8''{}",
                    name.replace(|c: char| !c.is_ascii() || c == '\\', "_"),
                    urlencoding::encode(&name)
                );
                let mut response = data.into_response();
                let headers = response.headers_mut();
                for (name, value) in [
                    (header::CONTENT_TYPE, content_type),
                    (header::CONTENT_DISPOSITION, disposition),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
                    (header::CACHE_CONTROL, "private, no-store".to_string()),
                ] {
                    if let Ok(value) = HeaderValue::from_str(&value) {
                        headers.insert(name, value);
                    }
                }
                response
            }
            Err(AppError::NotFound) => StatusCode::NOT_FOUND.into_response(),
            Err(e) => {
                tracing::error!(error = %e, "attachment download");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_their_bytes_not_their_names() {
        assert_eq!(check_file("x.pdf", b"%PDF-1.7 ..."), Ok("application/pdf"));
        assert_eq!(
            check_file("photo.txt", b"\x89PNG\r\n\x1a\n...."),
            Ok("image/png")
        );
        assert_eq!(
            check_file("list.csv", "nome;città\n".as_bytes()),
            Ok("text/csv")
        );
        assert_eq!(
            check_file("setup.pdf", b"MZ\x90\x00\x03"),
            Err(Problem::FileTypeRefused)
        );
        assert_eq!(
            check_file("macro.docm", b"PK\x03\x04...."),
            Err(Problem::FileTypeRefused)
        );
        assert_eq!(check_file("empty.txt", b""), Err(Problem::FileEmpty));
        assert!(matches!(
            check_file("big.txt", &vec![b'a'; MAX_BYTES + 1]),
            Err(Problem::FileTooLarge { .. })
        ));
    }

    #[test]
    fn names_keep_only_their_last_part() {
        assert_eq!(
            clean_name("C:\\Users\\anna\\offerta \"2027\".pdf"),
            "offerta 2027.pdf"
        );
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name(".."), "file");
        assert_eq!(size_text(1536, Locale::En), "2 KB");
        assert_eq!(size_text(1_300_000, Locale::It), "1,2 MB");
    }
}
