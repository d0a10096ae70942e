//! Folders, fields and contact types in the database. Server-only.

use uuid::Uuid;

use super::{
    convert, CardField, ContactType, CustomField, FieldRef, FieldType, Layout, LayoutField,
    LayoutFolder,
};
use crate::{
    audit::store::{Actor, Change},
    auth::CurrentUser,
    contacts::standard::{Field, Folder},
    db::{new_id, now, Db},
    error::{AppError, AppResult, Problem},
    i18n::Locale,
    record, with_db,
};

#[derive(sqlx::FromRow)]
struct FolderRow {
    id: Uuid,
    standard: Option<String>,
    name: Option<String>,
}

#[derive(sqlx::FromRow)]
struct FieldRow {
    id: Uuid,
    standard: Option<String>,
    name: Option<String>,
    field_type: Option<String>,
    options: Option<String>,
    folder_id: Uuid,
}

fn standard_folder(key: &str) -> Option<Folder> {
    match key {
        "contact" => Some(Folder::Contact),
        "general_info" => Some(Folder::GeneralInfo),
        "additional_info" => Some(Folder::AdditionalInfo),
        _ => None,
    }
}

impl FieldRow {
    fn into_field(self) -> Option<LayoutField> {
        let field = match self.standard {
            Some(key) => CardField::Standard(Field::ALL.into_iter().find(|f| f.key() == key)?),
            None => CardField::Custom(CustomField {
                id: self.id,
                name: self.name?,
                field_type: FieldType::parse(self.field_type.as_deref()?)?,
                options: self
                    .options
                    .and_then(|o| serde_json::from_str(&o).ok())
                    .unwrap_or_default(),
            }),
        };
        Some(LayoutField { id: self.id, field })
    }
}

/// The card's layout: folders in order, each with its fields in order, and the contact types.
pub async fn layout(db: &Db) -> AppResult<Layout> {
    let (folders, fields, contact_types) = with_db!(db, pool => tokio::try_join!(
        sqlx::query_as::<_, FolderRow>("SELECT id, standard, name FROM folders ORDER BY position, id")
            .fetch_all(pool),
        sqlx::query_as::<_, FieldRow>(
            "SELECT id, standard, name, field_type, options, folder_id FROM fields ORDER BY position, id",
        )
        .fetch_all(pool),
        sqlx::query_as::<_, (Uuid, Option<String>, Option<String>)>(
            "SELECT id, standard, name FROM contact_types ORDER BY position, id",
        )
        .fetch_all(pool),
    ))?;
    let mut folders: Vec<LayoutFolder> = folders
        .into_iter()
        .map(|f| LayoutFolder {
            id: f.id,
            standard: f.standard.as_deref().and_then(standard_folder),
            name: f.name,
            fields: Vec::new(),
        })
        .collect();
    for row in fields {
        let folder_id = row.folder_id;
        if let (Some(field), Some(folder)) = (
            row.into_field(),
            folders.iter_mut().find(|f| f.id == folder_id),
        ) {
            folder.fields.push(field);
        }
    }
    Ok(Layout {
        folders,
        contact_types: contact_types
            .into_iter()
            .map(|(id, standard, name)| ContactType { id, standard, name })
            .collect(),
    })
}

fn name_taken(field: &str) -> AppError {
    AppError::invalid(field, Problem::NameTaken)
}

/// Whether another custom field (than `except`) is called `name`, however capitalised.
async fn field_name_used(db: &Db, name: &str, except: Option<Uuid>) -> AppResult<bool> {
    let names: Vec<(Uuid, String)> = with_db!(db, pool => sqlx::query_as(
        "SELECT id, name FROM fields WHERE name IS NOT NULL",
    )
    .fetch_all(pool)
    .await)?;
    Ok(names
        .iter()
        .any(|(id, n)| Some(*id) != except && n.to_lowercase() == name.to_lowercase()))
}

async fn folder_exists(db: &Db, id: Uuid) -> AppResult<bool> {
    let found: Option<(Uuid,)> = with_db!(db, pool => sqlx::query_as("SELECT id FROM folders WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    Ok(found.is_some())
}

pub async fn create_field(
    db: &Db,
    name: &str,
    field_type: FieldType,
    options: &[String],
    folder_id: Uuid,
) -> AppResult<Uuid> {
    if !folder_exists(db, folder_id).await? {
        return Err(AppError::invalid("folder", Problem::NotInList));
    }
    if field_name_used(db, name, None).await? {
        return Err(name_taken("name"));
    }
    let id = new_id();
    let at = now();
    let options = serde_json::to_string(options).map_err(anyhow::Error::from)?;
    with_db!(db, pool => sqlx::query(
        "INSERT INTO fields (id, name, field_type, options, folder_id, position, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, \
         (SELECT COALESCE(MAX(position), 0) + 1 FROM fields WHERE folder_id = $5), $6, $6)",
    )
    .bind(id)
    .bind(name)
    .bind(field_type.as_str())
    .bind(options)
    .bind(folder_id)
    .bind(at)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(id)
}

async fn custom_field(db: &Db, id: Uuid) -> AppResult<CustomField> {
    let layout = layout(db).await?;
    match layout.field(FieldRef::Custom(id)).map(|f| &f.field) {
        Some(CardField::Custom(custom)) => Ok(custom.clone()),
        None => {
            let standard = layout.fields().any(|f| f.id == id);
            Err(if standard {
                AppError::invalid("name", Problem::StandardFixed)
            } else {
                AppError::NotFound
            })
        }
        Some(CardField::Standard(_)) => Err(AppError::invalid("name", Problem::StandardFixed)),
    }
}

/// Renames, retypes or changes the options of a custom field. Every stored value is converted to
/// the new type (and checked against the new options) first; if any would not survive, nothing
/// changes and the answer says how many contacts hold such values. Converted values that read
/// differently are recorded in their contacts' history.
pub async fn update_field(
    db: &Db,
    user: &CurrentUser,
    id: Uuid,
    name: &str,
    field_type: FieldType,
    options: &[String],
) -> AppResult<()> {
    let before = custom_field(db, id).await?;
    if field_name_used(db, name, Some(id)).await? {
        return Err(name_taken("name"));
    }
    let values: Vec<(Uuid, String)> = with_db!(db, pool => sqlx::query_as(
        "SELECT contact_id, value FROM field_values WHERE field_id = $1",
    )
    .bind(id)
    .fetch_all(pool)
    .await)?;
    let mut converted = Vec::new();
    let mut lost = 0u64;
    for (contact, value) in values {
        match convert(&value, before.field_type, field_type, options) {
            Ok(new) if new.as_ref() != Some(&value) => converted.push((contact, value, new)),
            Ok(_) => {}
            Err(_) => lost += 1,
        }
    }
    if lost > 0 {
        // The options are what a value would fail on when the type stays the same.
        let field = if before.field_type == field_type {
            "options"
        } else {
            "field_type"
        };
        return Err(AppError::invalid(
            field,
            Problem::ValuesWontConvert { count: lost },
        ));
    }
    let at = now();
    let actor = Actor::user(user);
    let key = FieldRef::Custom(id).key();
    let options = serde_json::to_string(options).map_err(anyhow::Error::from)?;
    with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "UPDATE fields SET name = $2, field_type = $3, options = $4, updated_at = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(name)
        .bind(field_type.as_str())
        .bind(&options)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        for (contact, old, new) in &converted {
            match new {
                Some(new) => sqlx::query(
                    "UPDATE field_values SET value = $3 WHERE contact_id = $1 AND field_id = $2",
                )
                .bind(contact)
                .bind(id)
                .bind(new)
                .execute(&mut *tx)
                .await?,
                None => sqlx::query("DELETE FROM field_values WHERE contact_id = $1 AND field_id = $2")
                    .bind(contact)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?,
            };
            let change = [Change::new(key.clone(), Some(old.clone()), new.clone()).labelled(name)];
            record!(tx, *contact, &actor, at, &change);
        }
        tx.commit().await
    }
    .await)?;
    Ok(())
}

/// How many contacts have a value in the field.
pub async fn field_usage(db: &Db, id: Uuid) -> AppResult<u64> {
    let (count,): (i64,) = with_db!(db, pool => sqlx::query_as(
        "SELECT COUNT(*) FROM field_values WHERE field_id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await)?;
    Ok(count as u64)
}

/// Deletes a custom field with its values; every contact that loses a value gets a history entry.
pub async fn delete_field(db: &Db, user: &CurrentUser, id: Uuid) -> AppResult<()> {
    let field = custom_field(db, id).await?;
    let actor = Actor::user(user);
    let at = now();
    with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO audit_log (contact_id, actor_id, actor_name, at, field, label, old_value) \
             SELECT contact_id, $1, $2, $3, $4, $5, value FROM field_values WHERE field_id = $6",
        )
        .bind(actor.id)
        .bind(actor.name.clone())
        .bind(at)
        .bind(FieldRef::Custom(id).key())
        .bind(&field.name)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM fields WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
    .await)?;
    Ok(())
}

/// Rewrites the positions of a list of rows (fields of a folder, folders, contact types) to their
/// order in `ids`, inside `tx`.
macro_rules! renumber {
    ($tx:expr, $table:literal, $ids:expr) => {
        for (i, id) in $ids.iter().enumerate() {
            sqlx::query(concat!(
                "UPDATE ",
                $table,
                " SET position = $2 WHERE id = $1"
            ))
            .bind(id)
            .bind(i as i32 + 1)
            .execute(&mut *$tx)
            .await?;
        }
    };
}

/// `ids` with `id` moved to `position` (clamped to the list).
fn moved(mut ids: Vec<Uuid>, id: Uuid, position: usize) -> Vec<Uuid> {
    ids.retain(|i| *i != id);
    let position = position.min(ids.len());
    ids.insert(position, id);
    ids
}

/// Moves a field (standard or custom) to `position` in `folder_id`, closing the gap it leaves.
pub async fn move_field(db: &Db, id: Uuid, folder_id: Uuid, position: usize) -> AppResult<()> {
    let layout = layout(db).await?;
    let from = layout
        .folders
        .iter()
        .find(|f| f.fields.iter().any(|field| field.id == id))
        .ok_or(AppError::NotFound)?;
    let to = layout
        .folders
        .iter()
        .find(|f| f.id == folder_id)
        .ok_or_else(|| AppError::invalid("folder", Problem::NotInList))?;
    let target = moved(to.fields.iter().map(|f| f.id).collect(), id, position);
    let source: Vec<Uuid> = from
        .fields
        .iter()
        .map(|f| f.id)
        .filter(|f| *f != id)
        .collect();
    let (from_id, at) = (from.id, now());
    with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE fields SET folder_id = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(folder_id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        if from_id != folder_id {
            renumber!(tx, "fields", source);
        }
        renumber!(tx, "fields", target);
        tx.commit().await
    }
    .await)?;
    Ok(())
}

/// Whether `label` (in either language, however capitalised) reads as `name`: a folder or contact
/// type can't be given a name another one already shows, in English or Italian.
fn reads_as(name: &str, label: impl Fn(Locale) -> String) -> bool {
    Locale::ALL
        .into_iter()
        .any(|l| label(l).to_lowercase() == name.to_lowercase())
}

/// Adds a row called `name` at the end of `table` (`folders` or `contact_types`).
async fn append_named(db: &Db, table: &'static str, name: &str) -> AppResult<Uuid> {
    let id = new_id();
    let sql = format!(
        "INSERT INTO {table} (id, name, position, created_at) \
         VALUES ($1, $2, (SELECT COALESCE(MAX(position), 0) + 1 FROM {table}), $3)"
    );
    with_db!(db, pool => sqlx::query(&sql)
        .bind(id)
        .bind(name)
        .bind(now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(id)
}

async fn folder_name_used(db: &Db, name: &str, except: Option<Uuid>) -> AppResult<bool> {
    let layout = layout(db).await?;
    Ok(layout
        .folders
        .iter()
        .any(|f| Some(f.id) != except && reads_as(name, |l| f.label(l))))
}

pub async fn create_folder(db: &Db, name: &str) -> AppResult<Uuid> {
    if folder_name_used(db, name, None).await? {
        return Err(name_taken("name"));
    }
    append_named(db, "folders", name).await
}

/// A custom folder, or why it can't be changed.
async fn custom_folder(db: &Db, id: Uuid) -> AppResult<LayoutFolder> {
    let layout = layout(db).await?;
    let folder = layout
        .folders
        .into_iter()
        .find(|f| f.id == id)
        .ok_or(AppError::NotFound)?;
    if folder.standard.is_some() {
        return Err(AppError::invalid("name", Problem::StandardFixed));
    }
    Ok(folder)
}

pub async fn rename_folder(db: &Db, id: Uuid, name: &str) -> AppResult<()> {
    custom_folder(db, id).await?;
    if folder_name_used(db, name, Some(id)).await? {
        return Err(name_taken("name"));
    }
    with_db!(db, pool => sqlx::query("UPDATE folders SET name = $2 WHERE id = $1")
        .bind(id)
        .bind(name)
        .execute(pool)
        .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn move_folder(db: &Db, id: Uuid, position: usize) -> AppResult<()> {
    let layout = layout(db).await?;
    if !layout.folders.iter().any(|f| f.id == id) {
        return Err(AppError::NotFound);
    }
    let order = moved(layout.folders.iter().map(|f| f.id).collect(), id, position);
    with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        renumber!(tx, "folders", order);
        tx.commit().await
    }
    .await)?;
    Ok(())
}

/// Deletes a custom folder. Its fields are never lost: they move, in order, to the end of
/// Additional Info.
pub async fn delete_folder(db: &Db, id: Uuid) -> AppResult<()> {
    let folder = custom_folder(db, id).await?;
    let layout = layout(db).await?;
    let Some(home) = layout
        .folders
        .iter()
        .find(|f| f.standard == Some(Folder::AdditionalInfo))
    else {
        return Err(anyhow::anyhow!("the Additional Info folder is missing").into());
    };
    let order: Vec<Uuid> = home
        .fields
        .iter()
        .chain(folder.fields.iter())
        .map(|f| f.id)
        .collect();
    let home_id = home.id;
    with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE fields SET folder_id = $2 WHERE folder_id = $1")
            .bind(id)
            .bind(home_id)
            .execute(&mut *tx)
            .await?;
        renumber!(tx, "fields", order);
        sqlx::query("DELETE FROM folders WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
    .await)?;
    Ok(())
}

async fn type_name_used(db: &Db, name: &str, except: Option<Uuid>) -> AppResult<bool> {
    let layout = layout(db).await?;
    Ok(layout
        .contact_types
        .iter()
        .any(|t| Some(t.id) != except && reads_as(name, |l| t.label(l))))
}

pub async fn create_contact_type(db: &Db, name: &str) -> AppResult<Uuid> {
    if type_name_used(db, name, None).await? {
        return Err(name_taken("name"));
    }
    append_named(db, "contact_types", name).await
}

/// Renames a contact type (a default one too: from then on it is called as the team typed it).
pub async fn rename_contact_type(db: &Db, id: Uuid, name: &str) -> AppResult<()> {
    if type_name_used(db, name, Some(id)).await? {
        return Err(name_taken("name"));
    }
    let renamed = with_db!(db, pool => sqlx::query("UPDATE contact_types SET name = $2 WHERE id = $1")
        .bind(id)
        .bind(name)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    if renamed == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

pub async fn move_contact_type(db: &Db, id: Uuid, position: usize) -> AppResult<()> {
    let layout = layout(db).await?;
    if !layout.contact_types.iter().any(|t| t.id == id) {
        return Err(AppError::NotFound);
    }
    let order = moved(
        layout.contact_types.iter().map(|t| t.id).collect(),
        id,
        position,
    );
    with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        renumber!(tx, "contact_types", order);
        tx.commit().await
    }
    .await)?;
    Ok(())
}

/// Deletes a contact type. Contacts of that type are left without one, each with a history entry
/// and a new version (so a card open with the old type can't write it back).
pub async fn delete_contact_type(db: &Db, user: &CurrentUser, id: Uuid) -> AppResult<()> {
    let layout = layout(db).await?;
    let contact_type = layout.contact_type(id).ok_or(AppError::NotFound)?.clone();
    let actor = Actor::user(user);
    let at = now();
    with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO audit_log (contact_id, actor_id, actor_name, at, field, old_value) \
             SELECT id, $1, $2, $3, $4, $5 FROM contacts WHERE contact_type_id = $6",
        )
        .bind(actor.id)
        .bind(actor.name.clone())
        .bind(at)
        .bind(Field::ContactType.key())
        .bind(contact_type.audit_value())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE contacts SET contact_type_id = NULL, version = version + 1, updated_at = $2 \
             WHERE contact_type_id = $1",
        )
        .bind(id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM contact_types WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
    .await)?;
    Ok(())
}
