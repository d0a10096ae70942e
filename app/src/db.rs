//! The database handle: SQLite (embedded default) or PostgreSQL (several instances, one database),
//! chosen at run time from `DATABASE_URL`. Server-only.
//!
//! Queries are written once in portable SQL (`$1` placeholders, `RETURNING`, time passed in from
//! Rust) and run against whichever pool is live through [`with_db!`]: the macro expands the same
//! code for both pool types, so each query is type-checked against both drivers. `sqlx::Any` is not
//! used because it cannot decode timestamps or UUIDs.

use std::{str::FromStr, time::Duration};

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    PgPool, SqlitePool,
};

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the live pool (`&SqlitePool` or `&PgPool`).
#[macro_export]
macro_rules! with_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Why the database could not be opened. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL \"{0}\" is not a database URL Rubrica understands. Use sqlite://./data/rubrica.db (the default) or postgres://user:password@host:5432/dbname.")]
    UnsupportedUrl(String),
    #[error("DATABASE_URL \"{url}\" is malformed: {source}. Use sqlite://./data/rubrica.db or postgres://user:password@host:5432/dbname.")]
    Malformed { url: String, source: sqlx::Error },
    #[error("cannot create the folder {path} for the SQLite database: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot connect to the database at {url}: {source}. Check that the database server is running and that DATABASE_URL is right.")]
    Unreachable { url: String, source: sqlx::Error },
    #[error("the database migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Connection settings that are not part of the URL.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = rest.split_once('/').map_or((rest, ""), |(a, t)| (a, t));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_string(),
    };
    if rest.contains('/') {
        format!("{scheme}://{authority}/{tail}")
    } else {
        format!("{scheme}://{authority}")
    }
}

impl Db {
    /// Opens a pool for `url` (creating a SQLite file and its folder if needed). Does not migrate.
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Db, DbError> {
        let shown = redact_url(url);
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|source| DbError::Malformed {
                    url: shown.clone(),
                    source,
                })?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let path = options.get_filename();
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|source| DbError::Folder {
                    path: parent.display().to_string(),
                    source,
                })?;
            }
            // A connection to a file in this process cannot break the way a network one can:
            // no ping before each use, which would double the trips to its worker thread.
            let pool = SqlitePoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(settings.connect_timeout)
                .test_before_acquire(false)
                .connect_with(options)
                .await
                .map_err(|source| DbError::Unreachable { url: shown, source })?;
            Ok(Db::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|source| DbError::Malformed {
                    url: shown.clone(),
                    source,
                })?
                // Queries here read a few rows through indexes, but some (a LATERAL join over a
                // search's terms) are estimated costly enough for PostgreSQL to compile them to
                // machine code first: 8-30 ms spent to save microseconds.
                .options([("jit", "off")]);
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(settings.connect_timeout)
                .connect_with(options)
                .await
                .map_err(|source| DbError::Unreachable { url: shown, source })?;
            Ok(Db::Postgres(pool))
        } else {
            Err(DbError::UnsupportedUrl(shown))
        }
    }

    /// Applies the migrations this build knows and has not applied yet. Migrations a newer
    /// version applied are left alone rather than refused: during a rolling deploy the previous
    /// version keeps serving (and restarting) on the new schema, which is why every migration
    /// stays backward compatible for one version (ARCHITECTURE.md, "Migrations"). On PostgreSQL,
    /// sqlx holds an advisory lock meanwhile, so instances starting together migrate once.
    pub async fn migrate(&self) -> Result<(), DbError> {
        self.migrate_before(i64::MAX).await
    }

    /// Applies the migrations older than `version` only: the schema an earlier release left
    /// (tests of what a migration does to the rows already there).
    pub async fn migrate_before(&self, version: i64) -> Result<(), DbError> {
        let mut migrator = match self {
            Db::Sqlite(_) => sqlx::migrate!("../migrations/sqlite"),
            Db::Postgres(_) => sqlx::migrate!("../migrations/postgres"),
        };
        migrator.set_ignore_missing(true);
        migrator.migrations = migrator
            .migrations
            .iter()
            .filter(|m| m.version < version)
            .cloned()
            .collect();
        with_db!(self, pool => migrator.run(pool).await)?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// A cheap round trip, for `/healthz`.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        with_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
    }

    pub async fn close(&self) {
        with_db!(self, pool => pool.close().await)
    }
}

/// The current time, at the microsecond precision both databases keep, so a value read back equals
/// the value written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A new primary key: UUID v7 is time-ordered (good for indexes) and says nothing about how many
/// rows exist.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn postgresql_answers_without_compiling_queries_first() {
        let test_db = crate::testing::TestDb::postgres().await;
        let Db::Postgres(pool) = &test_db.db else {
            unreachable!("a PostgreSQL database")
        };
        let jit: String = sqlx::query_scalar("SHOW jit")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(jit, "off");
    }

    #[test]
    fn passwords_never_appear_in_messages() {
        assert_eq!(
            redact_url("postgres://rubrica:s3cret@db.example:5432/rubrica"),
            "postgres://rubrica:***@db.example:5432/rubrica"
        );
        assert_eq!(
            redact_url("postgres://rubrica@localhost/rubrica"),
            "postgres://rubrica@localhost/rubrica"
        );
        assert_eq!(
            redact_url("sqlite://./data/rubrica.db"),
            "sqlite://./data/rubrica.db"
        );
    }
}
