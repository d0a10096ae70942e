//! Rolling deploys: the schema moves one version ahead of some of the instances serving it.

use app::{db_test, with_db};

db_test!(
    an_instance_of_the_previous_version_starts_on_a_schema_a_newer_one_migrated,
    |db| {
        // What a newer version would leave behind: a migration this build has never heard of.
        with_db!(&db, pool => sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99991231000000, 'from a newer version', TRUE, $1, 0)",
        )
        .bind(vec![0u8; 48])
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
        .expect("record a newer migration");

        db.migrate()
            .await
            .expect("an older build starts on the newer schema");
        // And migrating again changes nothing.
        db.migrate().await.expect("migrating twice");
    }
);

/// The migrations added since the first release (the last one of the project's first weeks, which
/// was applied before anyone ran Rubrica for real) only add: a column, table or index the previous
/// version doesn't know is ignored by it, one it still reads must not go away or change.
#[test]
fn migrations_since_the_first_release_are_backward_compatible() {
    const FIRST_RELEASE: &str = "20261126000001";
    // What the previous version could trip over.
    const BREAKING: &[&str] = &[
        "DROP COLUMN",
        "DROP TABLE",
        "RENAME",
        "ALTER COLUMN",
        "SET NOT NULL",
        "DROP VIEW",
    ];
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    for engine in ["sqlite", "postgres"] {
        for entry in std::fs::read_dir(root.join(engine)).expect("the migrations folder") {
            let path = entry.expect("a migration").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let version = name.split('_').next().unwrap_or_default();
            if version <= FIRST_RELEASE || !name.ends_with(".sql") {
                continue;
            }
            let sql = std::fs::read_to_string(&path).expect("a readable migration");
            let mut code: String = sql
                .lines()
                .map(|line| line.split("--").next().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n")
                .to_uppercase();
            // A temporary table the migration made for itself is its own to drop.
            let temporary: Vec<String> = code
                .split("CREATE TEMPORARY TABLE ")
                .skip(1)
                .filter_map(|rest| rest.split_whitespace().next().map(str::to_string))
                .collect();
            for table in temporary {
                code = code.replace(&format!("DROP TABLE {table};"), "");
            }
            for breaking in BREAKING {
                assert!(
                    !code.contains(breaking),
                    "{engine}/{name} has {breaking}: the previous version may still use it. \
                     Split it: add now, remove in the version after (ARCHITECTURE.md, \"Migrations\")"
                );
            }
        }
    }
}

/// Contacts saved before the term index existed are found through it once it is added: the
/// migration files the words and pairs of every contact already there.
#[tokio::test]
async fn contacts_saved_before_the_term_index_are_searched_through_it() {
    use app::{
        contacts::{store, ListQuery, NewContact},
        db::Backend,
        testing::{assert_term_index_matches_contacts, TestDb},
    };
    const TERM_INDEX: i64 = 20261207000001;
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let test_db = TestDb::new(backend, TERM_INDEX).await;
        let db = &test_db.db;
        let at = app::db::now();
        let records: Vec<_> = [
            ("Matteo", "Rossi"),
            ("Mattia", "Bianchi"),
            ("Anna", "Verdi"),
        ]
        .iter()
        .map(|(first, last)| {
            store::ContactRecord::new(
                &NewContact::Person {
                    first_name: Some(first.to_string()),
                    last_name: Some(last.to_string()),
                },
                at,
            )
        })
        .collect();
        store::insert_many(db, &records).await.unwrap();

        db.migrate().await.unwrap();
        assert_term_index_matches_contacts(db).await;
        let viewer = &store::Viewer {
            user: app::auth::CurrentUser {
                id: app::db::new_id(),
                name: "Admin".into(),
                email: "admin@example.it".into(),
                is_admin: true,
                hide_empty_fields: None,
                locale: None,
            },
        };
        let found = |q: &str| {
            let query = ListQuery {
                q: q.into(),
                ..ListQuery::default()
            };
            async move {
                let page = store::list(db, viewer, &query, 50).await.unwrap();
                page.items
                    .into_iter()
                    .map(|c| c.display_name)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            found("matt").await,
            ["Matteo Rossi", "Mattia Bianchi"],
            "{backend:?}"
        );
        assert_eq!(found("mattia bia").await, ["Mattia Bianchi"], "{backend:?}");
    }
}
