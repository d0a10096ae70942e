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

/// A database: the pool every query uses, and beside it [`Quick`] connections for the one
/// statement read most often.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool, Quick<sqlx::SqliteConnection>),
    Postgres(PgPool, Quick<sqlx::PgConnection>),
}

/// Runs `$body` with `$pool` bound to the live pool (`&SqlitePool` or `&PgPool`).
#[macro_export]
macro_rules! with_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool, _) => $body,
            $crate::db::Db::Postgres($pool, _) => $body,
        }
    };
}

/// Runs `$body`, one statement, with `$conn` bound to one of the database's [`Quick`]
/// connections (`&mut SqliteConnection` or `&mut PgConnection`); `$body` gives a
/// `Result<_, sqlx::Error>`, and so does this.
#[macro_export]
macro_rules! with_quick {
    ($db:expr, $conn:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(_, quick) => $crate::run_quick!(quick, $conn => $body),
            $crate::db::Db::Postgres(_, quick) => $crate::run_quick!(quick, $conn => $body),
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! run_quick {
    ($quick:expr, $conn:ident => $body:expr) => {
        match $crate::db::quick_connection($quick).await {
            Ok(mut held) => {
                let result = {
                    let $conn = &mut *held;
                    $body
                };
                $crate::db::settle(held, &result);
                result
            }
            Err(e) => Err(e),
        }
    };
}

/// A few connections kept for the contact page's data, the read every page and every Previous /
/// Next asks for (and prefetches): one statement, a handful of rows. sqlx's pool sends every
/// connection it takes back a ping before it may be used again (its thread and back on SQLite,
/// a round trip on PostgreSQL): for a one-statement request, as many trips as the query itself.
/// These go back as they are; one unused for [`TRUSTED_FOR`] is pinged before it is used, and
/// one whose query failed for want of a connection is dropped. A/B on one machine, contact data
/// at 64 connections: SQLite +9% to +25% requests/s, PostgreSQL +13% (README, "Speed").
pub type Quick<C> = deadpool::managed::Pool<Connector<C>>;

/// How many [`Quick`] connections a database has: enough for two cores (the statement spends
/// most of its time in the CPU, not waiting), few enough that SQLite keeps few threads busy.
pub const QUICK_CONNECTIONS: usize = 4;

/// Opens [`Quick`] connections with the pool's own options.
#[derive(Debug)]
pub struct Connector<C: sqlx::Connection> {
    options: C::Options,
}

impl<C: sqlx::Connection> deadpool::managed::Manager for Connector<C> {
    type Type = C;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<C, sqlx::Error> {
        use sqlx::ConnectOptions as _;
        self.options.connect().await
    }

    async fn recycle(
        &self,
        connection: &mut C,
        metrics: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<sqlx::Error> {
        Ok(check_if_idle(connection, metrics.last_used()).await?)
    }
}

/// Pings `connection` if it has been unused for [`TRUSTED_FOR`] or longer.
async fn check_if_idle<C: sqlx::Connection>(
    connection: &mut C,
    unused_for: Duration,
) -> Result<(), sqlx::Error> {
    if unused_for >= TRUSTED_FOR {
        connection.ping().await?;
    }
    Ok(())
}

fn quick<C: sqlx::Connection>(options: C::Options, settings: &PoolSettings) -> Quick<C> {
    deadpool::managed::Pool::builder(Connector { options })
        .max_size(QUICK_CONNECTIONS)
        // The connection used last first: the others are let idle when the load is light.
        .queue_mode(deadpool::managed::QueueMode::Lifo)
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(settings.connect_timeout))
        .create_timeout(Some(settings.connect_timeout))
        .build()
        .expect("a runtime and a size are given")
}

#[doc(hidden)]
pub async fn quick_connection<C: sqlx::Connection>(
    quick: &Quick<C>,
) -> Result<deadpool::managed::Object<Connector<C>>, sqlx::Error> {
    use deadpool::managed::PoolError;
    quick.get().await.map_err(|e| match e {
        PoolError::Backend(e) => e,
        PoolError::Closed => sqlx::Error::PoolClosed,
        PoolError::Timeout(_) | PoolError::NoRuntimeSpecified | PoolError::PostCreateHook(_) => {
            sqlx::Error::PoolTimedOut
        }
    })
}

/// Drops `held` rather than keep it when its statement failed for want of a connection (the
/// database restarted, the network went away): the next one is opened afresh.
#[doc(hidden)]
pub fn settle<C: sqlx::Connection, T>(
    held: deadpool::managed::Object<Connector<C>>,
    result: &Result<T, sqlx::Error>,
) {
    if let Err(
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed,
    ) = result
    {
        drop(deadpool::managed::Object::take(held));
    }
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

/// How long after its last use a connection is still trusted to be open (PostgreSQL's pool and
/// every [`Quick`] connection); one unused for longer is pinged first.
const TRUSTED_FOR: Duration = Duration::from_millis(500);

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
                .connect_with(options.clone())
                .await
                .map_err(|source| DbError::Unreachable { url: shown, source })?;
            Ok(Db::Sqlite(pool, quick(options, settings)))
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
            // sqlx pings a connection when it goes back to the pool and, by default, again
            // before handing it out: with the query itself, three round trips to PostgreSQL for
            // each one-statement request. A connection that answered less than `TRUSTED_FOR` ago
            // is handed out as it is, as HikariCP does (its `aliveBypassWindowMs`, 500 ms): under
            // load none is pinged before use; one that waited longer (a database restarted in the
            // meantime) is checked, and replaced if it does not answer.
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections)
                .acquire_timeout(settings.connect_timeout)
                .test_before_acquire(false)
                .before_acquire(|connection, meta| {
                    Box::pin(async move {
                        check_if_idle(connection, meta.idle_for).await?;
                        Ok(true)
                    })
                })
                .connect_with(options.clone())
                .await
                .map_err(|source| DbError::Unreachable { url: shown, source })?;
            Ok(Db::Postgres(pool, quick(options, settings)))
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
            Db::Sqlite(..) => sqlx::migrate!("../migrations/sqlite"),
            Db::Postgres(..) => sqlx::migrate!("../migrations/postgres"),
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
            Db::Sqlite(..) => Backend::Sqlite,
            Db::Postgres(..) => Backend::Postgres,
        }
    }

    /// A cheap round trip, for `/healthz`.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        with_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool, quick) => {
                quick.close();
                pool.close().await;
            }
            Db::Postgres(pool, quick) => {
                quick.close();
                pool.close().await;
            }
        }
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
        let Db::Postgres(pool, _) = &test_db.db else {
            unreachable!("a PostgreSQL database")
        };
        let jit: String = sqlx::query_scalar("SHOW jit")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(jit, "off");
    }

    #[tokio::test]
    async fn postgresql_restarted_under_idle_connections_costs_no_query() {
        let test_db = crate::testing::TestDb::postgres().await;
        let db = &test_db.db;
        let Db::Postgres(pool, _) = db else {
            unreachable!("a PostgreSQL database")
        };
        // Connections of the pool and quick ones, open and waiting to be used.
        let pooled = || async {
            sqlx::query("SELECT pg_sleep(0.05)")
                .execute(pool)
                .await
                .map(|_| ())
        };
        let quick = || async {
            crate::with_quick!(db, conn => sqlx::query("SELECT pg_sleep(0.05)").execute(conn).await.map(|_| ()))
        };
        let used = tokio::join!(pooled(), pooled(), quick(), quick());
        for each in [used.0, used.1, used.2, used.3] {
            each.unwrap();
        }

        // The server cuts them, as a restart or a failover does, while nobody uses them.
        let admin = Db::connect(
            &crate::testing::postgres_admin_url(),
            &PoolSettings::default(),
        )
        .await
        .unwrap();
        let database: String = sqlx::query_scalar("SELECT current_database()")
            .fetch_one(pool)
            .await
            .unwrap();
        let terminate = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1";
        let cut = with_db!(&admin, admin => sqlx::query(terminate).bind(&database).execute(admin).await.map(|r| r.rows_affected()));
        assert!(cut.unwrap() >= 1);
        admin.close().await;

        // Used again a moment later, each is found closed and replaced: no query fails.
        tokio::time::sleep(TRUSTED_FOR + Duration::from_millis(100)).await;
        let used = tokio::join!(pooled(), pooled(), quick(), quick());
        for each in [used.0, used.1, used.2, used.3] {
            each.unwrap();
        }
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
