//! Snippets in the database. Server-only. A personal snippet is its owner's alone; a team snippet
//! (`owner_id` empty) is everyone's to read, and its maker's or an admin's to change.

use uuid::Uuid;

use super::{Snippet, SnippetDraft};
use crate::{
    auth::CurrentUser,
    db::{new_id, now, Db},
    error::{AppError, AppResult},
    with_db,
};

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    owner_id: Option<Uuid>,
    created_by: Option<Uuid>,
    name: String,
    subject: Option<String>,
    body: String,
}

impl Row {
    fn into_snippet(self, user: &CurrentUser) -> Snippet {
        let team = self.owner_id.is_none();
        Snippet {
            id: self.id,
            editable: !team || user.is_admin || self.created_by == Some(user.id),
            team,
            name: self.name,
            subject: self.subject,
            body: self.body,
        }
    }
}

const SELECT: &str = "SELECT id, owner_id, created_by, name, subject, body FROM snippets \
    WHERE (owner_id IS NULL OR owner_id = $1)";

pub async fn list(db: &Db, user: &CurrentUser) -> AppResult<Vec<Snippet>> {
    let sql = format!("{SELECT} ORDER BY name, id");
    let rows: Vec<Row> = with_db!(db, pool => sqlx::query_as(&sql)
        .bind(user.id)
        .fetch_all(pool)
        .await)?;
    Ok(rows.into_iter().map(|r| r.into_snippet(user)).collect())
}

/// A snippet the user may read; `NotFound` otherwise.
pub async fn get(db: &Db, user: &CurrentUser, id: Uuid) -> AppResult<Snippet> {
    let sql = format!("{SELECT} AND id = $2");
    let row: Option<Row> = with_db!(db, pool => sqlx::query_as(&sql)
        .bind(user.id)
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    row.map(|r| r.into_snippet(user)).ok_or(AppError::NotFound)
}

pub async fn create(db: &Db, user: &CurrentUser, draft: &SnippetDraft) -> AppResult<Uuid> {
    let id = new_id();
    let at = now();
    with_db!(db, pool => sqlx::query(
        "INSERT INTO snippets (id, owner_id, created_by, name, subject, body, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(id)
    .bind((!draft.team).then_some(user.id))
    .bind(user.id)
    .bind(&draft.name)
    .bind(Some(draft.subject.as_str()).filter(|s| !s.is_empty()))
    .bind(&draft.body)
    .bind(at)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(id)
}

/// Refused (`NotFound` if the user can't see it, `Forbidden` if they can't change it).
async fn editable(db: &Db, user: &CurrentUser, id: Uuid) -> AppResult<()> {
    if get(db, user, id).await?.editable {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

pub async fn update(db: &Db, user: &CurrentUser, id: Uuid, draft: &SnippetDraft) -> AppResult<()> {
    editable(db, user, id).await?;
    with_db!(db, pool => sqlx::query(
        "UPDATE snippets SET owner_id = $2, name = $3, subject = $4, body = $5, updated_at = $6 \
         WHERE id = $1",
    )
    .bind(id)
    .bind((!draft.team).then_some(user.id))
    .bind(&draft.name)
    .bind(Some(draft.subject.as_str()).filter(|s| !s.is_empty()))
    .bind(&draft.body)
    .bind(now())
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete(db: &Db, user: &CurrentUser, id: Uuid) -> AppResult<()> {
    editable(db, user, id).await?;
    with_db!(db, pool => sqlx::query("DELETE FROM snippets WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}
