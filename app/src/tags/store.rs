//! Tags in the database. Server-only.

use uuid::Uuid;

use super::{name_key, ContactTag, Tag, TagColor, TagUsage};
use crate::{
    audit::{
        store::{Actor, Change},
        what,
    },
    contacts::store::{visible_condition, Viewer},
    db::{new_id, now, Db},
    error::{AppError, AppResult, Problem},
    record, with_db,
};

/// Every tag, with how many contacts `viewer` may see carry it (a private contact is not
/// counted for someone who can't see it).
pub async fn list(db: &Db, viewer: &Viewer) -> AppResult<Vec<TagUsage>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        tag: Tag,
        contacts: i64,
    }
    let condition = visible_condition(viewer, 1);
    let sql = format!(
        "SELECT tags.id, tags.name, tags.color, \
         (SELECT COUNT(*) FROM contact_tags ct JOIN contacts ON contacts.id = ct.contact_id \
          WHERE ct.tag_id = tags.id AND {}) AS contacts \
         FROM tags ORDER BY tags.name_key",
        condition.as_deref().unwrap_or("TRUE")
    );
    let rows: Vec<Row> = with_db!(db, pool => {
        let query = sqlx::query_as(&sql);
        let query = if condition.is_some() { query.bind(viewer.user.id) } else { query };
        query.fetch_all(pool).await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| TagUsage {
            tag: r.tag,
            contacts: r.contacts as u64,
        })
        .collect())
}

/// The tags with these ids (the list's filters), by name; unknown ids are left out.
pub async fn by_ids(db: &Db, ids: &[Uuid]) -> AppResult<Vec<Tag>> {
    let mut tags = Vec::with_capacity(ids.len());
    for id in ids {
        let tag: Option<Tag> = with_db!(db, pool => sqlx::query_as("SELECT id, name, color FROM tags WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        tags.extend(tag);
    }
    Ok(tags)
}

fn taken(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

pub async fn create(db: &Db, name: &str, color: TagColor) -> AppResult<Tag> {
    let tag = Tag {
        id: new_id(),
        name: name.to_string(),
        color,
    };
    let result = with_db!(db, pool => sqlx::query(
        "INSERT INTO tags (id, name, name_key, color, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tag.id)
    .bind(&tag.name)
    .bind(name_key(&tag.name))
    .bind(color.as_str())
    .bind(now())
    .execute(pool)
    .await
    .map(|r| r.rows_affected()));
    match result {
        Ok(_) => Ok(tag),
        Err(e) if taken(&e) => Err(AppError::invalid("name", Problem::NameTaken)),
        Err(e) => Err(e.into()),
    }
}

/// The tag called `name` (however capitalised), created grey if the team has none.
pub async fn find_or_create(db: &Db, name: &str) -> AppResult<Tag> {
    let find = || async {
        let tag: Option<Tag> = with_db!(db, pool => sqlx::query_as(
            "SELECT id, name, color FROM tags WHERE name_key = $1",
        )
        .bind(name_key(name))
        .fetch_optional(pool)
        .await)?;
        AppResult::Ok(tag)
    };
    if let Some(tag) = find().await? {
        return Ok(tag);
    }
    match create(db, name, TagColor::default()).await {
        Ok(tag) => Ok(tag),
        // Someone created it in the meantime: theirs it is.
        Err(AppError::Invalid(_)) => find().await?.ok_or(AppError::NotFound),
        Err(e) => Err(e),
    }
}

pub async fn update(db: &Db, id: Uuid, name: &str, color: TagColor) -> AppResult<Tag> {
    let result = with_db!(db, pool => sqlx::query(
        "UPDATE tags SET name = $2, name_key = $3, color = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(name)
    .bind(name_key(name))
    .bind(color.as_str())
    .execute(pool)
    .await
    .map(|r| r.rows_affected()));
    match result {
        Ok(0) => Err(AppError::NotFound),
        Ok(_) => Ok(Tag {
            id,
            name: name.to_string(),
            color,
        }),
        Err(e) if taken(&e) => Err(AppError::invalid("name", Problem::NameTaken)),
        Err(e) => Err(e.into()),
    }
}

/// Deletes a tag: every contact that had it gets a history entry, in the same transaction.
pub async fn delete(db: &Db, user: &crate::auth::CurrentUser, id: Uuid) -> AppResult<()> {
    let actor = Actor::user(user);
    let at = now();
    let deleted = with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO audit_log (contact_id, actor_id, actor_name, at, field, old_value) \
             SELECT ct.contact_id, $1, $2, $3, $4, tags.name \
             FROM contact_tags ct JOIN tags ON tags.id = ct.tag_id WHERE ct.tag_id = $5",
        )
        .bind(actor.id)
        .bind(actor.name.clone())
        .bind(at)
        .bind(what::TAG)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let deleted = sqlx::query("DELETE FROM tags WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok::<u64, sqlx::Error>(deleted)
    }
    .await)?;
    if deleted == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// A contact's tags, by name.
pub async fn of_contact(db: &Db, contact_id: Uuid) -> AppResult<Vec<ContactTag>> {
    let tags: Vec<ContactTag> = with_db!(db, pool => sqlx::query_as(
        "SELECT tags.id, tags.name, tags.color, ct.automatic, ct.source \
         FROM contact_tags ct JOIN tags ON tags.id = ct.tag_id \
         WHERE ct.contact_id = $1 ORDER BY tags.name_key",
    )
    .bind(contact_id)
    .fetch_all(pool)
    .await)?;
    Ok(tags)
}

/// Puts `tag` on a contact (nothing happens if it is already there). `automatic`: where a tag
/// Rubrica adds by itself comes from.
pub async fn tag_contact(
    db: &Db,
    actor: &Actor,
    contact_id: Uuid,
    tag: &Tag,
    automatic: Option<&str>,
) -> AppResult<()> {
    let at = now();
    let change = [Change::new(what::TAG, None, Some(tag.name.clone()))];
    with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        let added = sqlx::query(
            "INSERT INTO contact_tags (contact_id, tag_id, automatic, source, added_by, added_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (contact_id, tag_id) DO NOTHING",
        )
        .bind(contact_id)
        .bind(tag.id)
        .bind(automatic.is_some())
        .bind(automatic)
        .bind(actor.id)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if added > 0 {
            record!(tx, contact_id, actor, at, &change);
        }
        tx.commit().await
    }
    .await)?;
    Ok(())
}

/// Rubrica tags a contact by itself (a lead form, a purchase): the tag is created if needed and
/// marked automatic, with `source` saying why.
pub async fn add_automatic(db: &Db, contact_id: Uuid, name: &str, source: &str) -> AppResult<()> {
    let tag = find_or_create(db, name).await?;
    tag_contact(db, &Actor::system(), contact_id, &tag, Some(source)).await
}

pub async fn untag_contact(
    db: &Db,
    actor: &Actor,
    contact_id: Uuid,
    tag_id: Uuid,
) -> AppResult<()> {
    let at = now();
    with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        let name: Option<(String,)> = sqlx::query_as(
            "SELECT tags.name FROM contact_tags ct JOIN tags ON tags.id = ct.tag_id \
             WHERE ct.contact_id = $1 AND ct.tag_id = $2",
        )
        .bind(contact_id)
        .bind(tag_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((name,)) = name {
            sqlx::query("DELETE FROM contact_tags WHERE contact_id = $1 AND tag_id = $2")
                .bind(contact_id)
                .bind(tag_id)
                .execute(&mut *tx)
                .await?;
            record!(tx, contact_id, actor, at, &[Change::new(what::TAG, Some(name), None)]);
        }
        tx.commit().await
    }
    .await)?;
    Ok(())
}
