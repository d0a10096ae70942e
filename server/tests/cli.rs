//! The `rubrica` binary as an operator meets it: clear one-line errors, users, seeding, SIGTERM.

use std::{
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use app::{db::PoolSettings, with_db};

fn rubrica(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rubrica"))
        .args(args)
        .env_remove("DATABASE_URL")
        .envs(env.iter().copied())
        .env("RUST_LOG", "warn")
        .output()
        .expect("run rubrica")
}

fn temp_sqlite() -> (tempdir::Dir, String) {
    let dir = tempdir::Dir::new();
    let url = format!("sqlite://{}/rubrica.db", dir.0.display());
    (dir, url)
}

mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let path = std::env::temp_dir().join(format!("rubrica-cli-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A failure is one line on stderr starting with "error:", exit code not 0, and no panic.
fn assert_clear_failure(output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "should fail: {stderr}");
    let lines: Vec<_> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line, got: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(
        lines[0].contains(expected),
        "expected {expected:?} in {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_malformed_database_url_is_explained() {
    let output = rubrica(
        &["migrate", "--database-url", "mysql://localhost/rubrica"],
        &[],
    );
    assert_clear_failure(&output, "is not a database URL Rubrica understands");
    let output = rubrica(
        &["migrate"],
        &[("DATABASE_URL", "postgres://user@host:notaport/db")],
    );
    assert_clear_failure(&output, "malformed");
}

#[test]
fn an_unreachable_database_is_explained_without_the_password() {
    let output = rubrica(
        &["migrate"],
        &[(
            "DATABASE_URL",
            "postgres://rubrica:hunter22@127.0.0.1:9/rubrica",
        )],
    );
    assert_clear_failure(
        &output,
        "cannot connect to the database at postgres://rubrica:***@127.0.0.1:9/rubrica",
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains("hunter22"));
}

#[test]
fn a_port_in_use_is_explained() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (_dir, url) = temp_sqlite();
    let output = rubrica(&["serve", "--addr", &addr], &[("DATABASE_URL", &url)]);
    assert_clear_failure(&output, "already in use");
}

#[test]
fn help_lists_the_commands_and_their_environment_variables() {
    let output = rubrica(&["--help"], &[]);
    let help = String::from_utf8_lossy(&output.stdout);
    for word in [
        "serve",
        "migrate",
        "user",
        "seed",
        "DATABASE_URL",
        "LOG_FORMAT",
    ] {
        assert!(help.contains(word), "--help mentions {word}:\n{help}");
    }
}

#[tokio::test]
async fn an_operator_adds_an_admin_and_seeds_contacts() {
    let (_dir, url) = temp_sqlite();
    let added = rubrica(
        &[
            "user",
            "add",
            "--email",
            "Ops@Example.it",
            "--name",
            "Ops",
            "--admin",
        ],
        &[
            ("DATABASE_URL", &url),
            ("RUBRICA_PASSWORD", "a long enough password"),
        ],
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let again = rubrica(
        &["user", "add", "--email", "ops@example.it"],
        &[
            ("DATABASE_URL", &url),
            ("RUBRICA_PASSWORD", "a long enough password"),
        ],
    );
    assert_clear_failure(&again, "already exists");
    let short = rubrica(
        &["user", "add", "--email", "new@example.it"],
        &[("DATABASE_URL", &url), ("RUBRICA_PASSWORD", "short")],
    );
    assert_clear_failure(&short, "at least 10 characters");

    let seeded = rubrica(&["seed", "--contacts", "1200"], &[("DATABASE_URL", &url)]);
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );

    let db = app::db::Db::connect(&url, &PoolSettings::default())
        .await
        .unwrap();
    let (users, admins, contacts): (i64, i64, i64) = with_db!(&db, pool => sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM users WHERE is_admin AND email = 'ops@example.it'), (SELECT COUNT(*) FROM contacts)",
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!((users, admins, contacts), (1, 1, 1200));
    // The demo contacts look worked on: most have the admin as owner, some carry tags, the
    // newsletter ones put there by Rubrica itself.
    let (owned, automatic, manual): (i64, i64, i64) = with_db!(&db, pool => sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM contacts WHERE owner_id IS NOT NULL), \
         (SELECT COUNT(*) FROM contact_tags WHERE automatic), \
         (SELECT COUNT(*) FROM contact_tags WHERE NOT automatic)",
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert!((500..=900).contains(&owned), "{owned}");
    assert!((150..=350).contains(&automatic), "{automatic}");
    assert!((20..=110).contains(&manual), "{manual}");
    db.close().await;
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let (_dir, url) = temp_sqlite();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rubrica"))
        .args(["serve", "--addr", &addr])
        .env("DATABASE_URL", &url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let stopping = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(20),
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
