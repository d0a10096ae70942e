//! Fresh, migrated databases for tests: one per test, on SQLite and on PostgreSQL.
//!
//! PostgreSQL is reached at `TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! each test creates its own database there and drops it when done. Used by the tests of `app` and
//! of `server`, hence public behind the `ssr` feature rather than `cfg(test)`.

use crate::db::{Backend, Db, PoolSettings};

pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

pub struct TestDb {
    pub db: Db,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        Self::new(Backend::Sqlite, i64::MAX).await
    }

    pub async fn postgres() -> TestDb {
        Self::new(Backend::Postgres, i64::MAX).await
    }

    /// A fresh database with the migrations older than `version` applied (all of them with
    /// `i64::MAX`).
    pub async fn new(backend: Backend, version: i64) -> TestDb {
        let test_db = match backend {
            Backend::Sqlite => Self::sqlite_file().await,
            Backend::Postgres => Self::postgres_database().await,
        };
        test_db
            .db
            .migrate_before(version)
            .await
            .unwrap_or_else(|e| panic!("migrate the {backend:?} test database: {e}"));
        test_db
    }

    async fn sqlite_file() -> TestDb {
        let path = std::env::temp_dir().join(format!("rubrica-test-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}", path.display());
        let db = Db::connect(&url, &PoolSettings::default())
            .await
            .expect("open a SQLite test database");
        TestDb {
            db,
            url,
            cleanup: Cleanup::File(path),
        }
    }

    async fn postgres_database() -> TestDb {
        let admin_url = postgres_admin_url();
        let name = format!("rubrica_test_{}", uuid::Uuid::new_v4().simple());
        let admin = Db::connect(&admin_url, &PoolSettings::default())
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL for tests ({admin_url}): {e}"));
        crate::with_db!(&admin, pool => sqlx::query(&format!("CREATE DATABASE {name}")).execute(pool).await.map(|r| r.rows_affected()))
            .expect("create a PostgreSQL test database");
        admin.close().await;
        let url = match admin_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("TEST_POSTGRES_URL must name a database"),
        };
        let db = Db::connect(&url, &PoolSettings::default())
            .await
            .expect("open the PostgreSQL test database");
        TestDb {
            db,
            url,
            cleanup: Cleanup::Database { admin_url, name },
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Database { admin_url, name } => {
                // Drop runs inside the test's runtime, which cannot block: do it on a thread of its own.
                let (admin_url, name) = (admin_url.clone(), name.clone());
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime for cleanup");
                    rt.block_on(async move {
                        if let Ok(admin) = Db::connect(&admin_url, &PoolSettings::default()).await {
                            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                            let _ = crate::with_db!(&admin, pool => sqlx::query(&sql).execute(pool).await.map(|r| r.rows_affected()));
                            admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// Declares one async test that runs twice, on a fresh SQLite and a fresh PostgreSQL database:
/// `db_test!(name, |db| { ... })` makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let test_db = $crate::testing::TestDb::sqlite().await;
                let $db = test_db.db.clone();
                $body
            }

            #[tokio::test]
            async fn postgres() {
                let test_db = $crate::testing::TestDb::postgres().await;
                let $db = test_db.db.clone();
                $body
            }
        }
    };
}

/// The terms of a searched text, as the `term_index` migration files them: its words (runs of
/// three letters or more) and its pairs (two neighbouring runs of letters, with what stands
/// between them).
fn terms_of(text: &str) -> Vec<(&'static str, String)> {
    // Runs of letters and of other characters, in turn.
    let mut runs: Vec<(bool, String)> = Vec::new();
    for c in text.chars() {
        let letter = c.is_ascii_lowercase();
        match runs.last_mut() {
            Some((kind, run)) if *kind == letter => run.push(c),
            _ => runs.push((letter, c.to_string())),
        }
    }
    let mut terms = Vec::new();
    for (i, (letter, run)) in runs.iter().enumerate() {
        if !letter {
            continue;
        }
        if run.len() >= 3 {
            terms.push(("word", run.clone()));
        }
        if let (Some((_, gap)), Some((_, next))) = (runs.get(i + 1), runs.get(i + 2)) {
            terms.push(("pair", format!("{run}{gap}{next}")));
        }
    }
    terms
}

/// Checks that the term index (the `term_index` migration) holds exactly the terms of every
/// contact's searched text, each with the contact's sort name, and how many contacts have each.
pub async fn assert_term_index_matches_contacts(db: &Db) {
    use std::collections::{BTreeMap, BTreeSet};
    let contacts: Vec<(uuid::Uuid, String, String)> = crate::with_db!(db, pool => sqlx::query_as(
        "SELECT id, sort_name, search_text FROM contacts"
    )
    .fetch_all(pool)
    .await)
    .expect("read the contacts");
    for (kind, rows, counts) in [
        ("word", "contact_words", "search_words"),
        ("pair", "contact_pairs", "search_pairs"),
    ] {
        let indexed: Vec<(String, String, uuid::Uuid)> =
            crate::with_db!(db, pool => sqlx::query_as(
            &format!("SELECT term, sort_name, contact_id FROM {rows}")
        )
        .fetch_all(pool)
        .await)
            .expect("read the term index");
        let expected: BTreeSet<_> = contacts
            .iter()
            .flat_map(|(id, sort_name, text)| {
                terms_of(text)
                    .into_iter()
                    .filter(|(k, _)| *k == kind)
                    .map(move |(_, term)| (term, sort_name.clone(), *id))
            })
            .collect();
        let indexed_set: BTreeSet<_> = indexed.iter().cloned().collect();
        assert_eq!(indexed.len(), indexed_set.len(), "a {kind} filed twice");
        assert_eq!(
            indexed_set, expected,
            "the {kind}s filed and the contacts' differ"
        );
        // Every term is there with how many contacts have it (none for a term gone).
        let found: Vec<(String, i64)> = crate::with_db!(db, pool => sqlx::query_as(
            &format!("SELECT term, contacts FROM {counts}")
        )
        .fetch_all(pool)
        .await)
        .expect("read the terms");
        let mut expected_counts = BTreeMap::new();
        for (term, _, _) in &expected {
            *expected_counts.entry(term.clone()).or_insert(0i64) += 1;
        }
        let found: BTreeMap<String, i64> = found
            .into_iter()
            .filter(|(_, contacts)| *contacts != 0)
            .collect();
        assert_eq!(found, expected_counts, "{counts}' counts");
    }
}
