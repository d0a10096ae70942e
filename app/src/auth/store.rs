//! Users in the database, and password hashing. Server-only.

use std::sync::LazyLock;

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use uuid::Uuid;

use super::{CurrentUser, Email, NewAdmin, NewPassword};
use crate::{
    db::{new_id, now, Db},
    error::{AppError, AppResult, Problem},
    i18n::Locale,
    with_db,
};

/// argon2id with OWASP's recommended minimum: 19 MiB of memory, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A stored password hash. Deliberately neither `Serialize` nor `Debug`-printable, so it can never
/// travel to a browser or a log.
pub struct StoredHash(pub(crate) String);

/// Hashes on a blocking thread: argon2 takes tens of milliseconds of CPU and must not stall the
/// async runtime.
pub async fn hash_password(password: &NewPassword) -> anyhow::Result<StoredHash> {
    let password = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| StoredHash(hash.to_string()))
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await?
}

/// A hash of nothing in particular, verified against when the email is unknown so that the answer
/// takes as long as for a known email with a wrong password.
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(b"decoy password for unknown emails", &salt)
        .expect("hashing the decoy password")
        .to_string()
});

async fn verify_password(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let stored = stored.unwrap_or_else(|| DECOY_HASH.clone());
        let parsed = PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
        Ok(hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await?
}

#[derive(sqlx::FromRow)]
struct CredentialRow {
    id: Uuid,
    name: String,
    email: String,
    is_admin: bool,
    hide_empty_fields: Option<bool>,
    locale: Option<String>,
    password_hash: String,
    disabled: bool,
}

/// The user with this email and password, or [`AppError::WrongCredentials`] — the same error, in
/// about the same time, whether the email is unknown, the password wrong or the user disabled.
#[tracing::instrument(skip_all)]
pub async fn authenticate(db: &Db, email: &str, password: &str) -> AppResult<CurrentUser> {
    let email = email.trim().to_lowercase();
    let row: Option<CredentialRow> = with_db!(db, pool => sqlx::query_as(
        "SELECT id, name, email, is_admin, hide_empty_fields, locale, password_hash, disabled_at IS NOT NULL AS disabled \
         FROM users WHERE email = $1",
    )
    .bind(&email)
    .fetch_optional(pool)
    .await)?;
    // An invited user has no password yet (an empty hash): checked against the decoy like an
    // unknown email, and refused whatever was typed.
    let stored = row
        .as_ref()
        .map(|r| r.password_hash.clone())
        .filter(|h| !h.is_empty());
    let has_password = stored.is_some();
    let matches = verify_password(password.to_owned(), stored).await?;
    match row {
        Some(row) if matches && has_password && !row.disabled => Ok(CurrentUser {
            id: row.id,
            name: row.name,
            email: row.email,
            is_admin: row.is_admin,
            hide_empty_fields: row.hide_empty_fields,
            locale: row.locale.as_deref().and_then(Locale::parse),
        }),
        _ => Err(AppError::WrongCredentials),
    }
}

/// Remembers the user's **Hide empty fields** choice, for every device they sign in on.
/// Run it through `AppState::sessions.change`, which remembers users.
pub async fn set_hide_empty_fields(db: &Db, user_id: Uuid, hide: bool) -> AppResult<()> {
    with_db!(db, pool => sqlx::query("UPDATE users SET hide_empty_fields = $1 WHERE id = $2")
        .bind(hide)
        .bind(user_id)
        .execute(pool)
        .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Remembers the language the user chose.
/// Run it through `AppState::sessions.change`, which remembers users.
pub async fn set_locale(db: &Db, user_id: Uuid, locale: Locale) -> AppResult<()> {
    with_db!(db, pool => sqlx::query("UPDATE users SET locale = $1 WHERE id = $2")
        .bind(locale.tag())
        .bind(user_id)
        .execute(pool)
        .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The workspace's first active admin, if any (the demo data's owner).
pub async fn first_admin(db: &Db) -> AppResult<Option<Uuid>> {
    let id: Option<(Uuid,)> = with_db!(db, pool => sqlx::query_as(
        "SELECT id FROM users WHERE is_admin AND disabled_at IS NULL ORDER BY created_at LIMIT 1",
    )
    .fetch_optional(pool)
    .await)?;
    Ok(id.map(|(id,)| id))
}

pub async fn any_user_exists(db: &Db) -> AppResult<bool> {
    let found: Option<(i32,)> = with_db!(db, pool => sqlx::query_as("SELECT 1 FROM users LIMIT 1")
        .fetch_optional(pool)
        .await)?;
    Ok(found.is_some())
}

/// How a new user comes to exist.
enum Claim {
    /// First-run setup: only if the workspace was never set up.
    FirstAdmin,
    /// The CLI: always, marking the workspace set up if it was not.
    Operator,
}

/// First-run setup. The `workspace` row (one per database, primary key 1) is inserted in the same
/// transaction, so two setups racing each other cannot both win.
pub async fn create_first_admin(db: &Db, admin: NewAdmin) -> AppResult<Uuid> {
    insert_user(
        db,
        &admin.name,
        &admin.email,
        &admin.password,
        true,
        Claim::FirstAdmin,
    )
    .await
}

/// `rubrica user add`: adds a user at any time.
pub async fn add_user(
    db: &Db,
    name: &str,
    email: &Email,
    password: &NewPassword,
    is_admin: bool,
) -> AppResult<Uuid> {
    insert_user(db, name, email, password, is_admin, Claim::Operator).await
}

async fn insert_user(
    db: &Db,
    name: &str,
    email: &Email,
    password: &NewPassword,
    is_admin: bool,
    claim: Claim,
) -> AppResult<Uuid> {
    let hash = hash_password(password).await?;
    let id = new_id();
    let at = now();
    let workspace_sql = match claim {
        Claim::FirstAdmin => "INSERT INTO workspace (id, created_at) VALUES (1, $1)",
        Claim::Operator => {
            "INSERT INTO workspace (id, created_at) VALUES (1, $1) ON CONFLICT (id) DO NOTHING"
        }
    };
    let result: Result<(), sqlx::Error> = with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query(workspace_sql).bind(at).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO users (id, email, name, password_hash, is_admin, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(id)
        .bind(email.as_str())
        .bind(name)
        .bind(&hash.0)
        .bind(is_admin)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }
    .await);
    match result {
        Ok(()) => Ok(id),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => match claim {
            Claim::FirstAdmin => Err(AppError::AlreadySetUp),
            Claim::Operator => Err(AppError::invalid("email", Problem::EmailTaken)),
        },
        Err(e) => Err(e.into()),
    }
}
