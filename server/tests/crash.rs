//! Nothing lost, nothing doubled, with the real `rubrica` binary: killed (SIGKILL) while messages
//! are due and being sent, then started again, it delivers every message — a second copy, with
//! the same Message-ID, only of those it was sending when it died. Two instances on one
//! PostgreSQL send each message once.

mod common;

use std::{
    collections::{HashMap, HashSet},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use app::{
    auth::{store as users, CurrentUser, Email, NewPassword},
    contacts::{store as contacts, NewContact},
    conversations::{store as messages, Channel, Draft},
    db::Db,
    testing::TestDb,
    with_db,
};
use common::{Answer, Inbox};

/// `n` emails due now, to ten contacts; returns their keys (their Message-IDs' left part).
async fn queue(db: &Db, n: usize) -> HashSet<String> {
    let email = Email::parse("anna@example.it").unwrap();
    let password = NewPassword::parse("a long enough password").unwrap();
    let id = users::add_user(db, "Anna", &email, &password, true)
        .await
        .unwrap();
    let anna = CurrentUser {
        id,
        name: "Anna".into(),
        email: "anna@example.it".into(),
        is_admin: true,
        hide_empty_fields: None,
        locale: None,
    };
    let mut people = Vec::new();
    for i in 0..10 {
        let new = NewContact::Person {
            first_name: Some(format!("Persona{i}")),
            last_name: None,
        };
        let contact = contacts::create(db, &anna, &new).await.unwrap();
        with_db!(db, pool => sqlx::query("UPDATE contacts SET email = $2 WHERE id = $1")
            .bind(contact)
            .bind(format!("p{i}@example.it"))
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .unwrap();
        people.push(contact);
    }
    let now = app::db::now();
    for i in 0..n {
        let draft = Draft {
            channel: Channel::Email,
            subject: format!("Messaggio {i}"),
            body: "Testo".into(),
            attachments: vec![],
        };
        messages::queue(db, &anna, people[i % 10], &draft, now, None)
            .await
            .unwrap();
    }
    let keys: Vec<String> =
        with_db!(db, pool => sqlx::query_scalar("SELECT message_key FROM messages")
        .fetch_all(pool)
        .await)
        .unwrap();
    keys.into_iter().collect()
}

/// A free port on 127.0.0.1.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `rubrica serve` on `database_url`, sending to `smtp_url`, claims lasting `lease` seconds.
fn serve(database_url: &str, smtp_url: &str, lease: u32) -> Child {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_rubrica"))
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("RUBRICA_ADDR", format!("127.0.0.1:{port}"))
        .env("SMTP_URL", smtp_url)
        .env("MAIL_FROM", "Rubrica <crm@example.it>")
        .env("DISPATCH_LEASE_SECONDS", lease.to_string())
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start rubrica");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "rubrica did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// How many copies of each message the SMTP server received, by key.
fn received(inbox: &Inbox) -> HashMap<String, usize> {
    let mut copies = HashMap::new();
    for mail in inbox.all() {
        let lower = mail.data.to_lowercase();
        let start = lower.find("message-id: <").expect("a Message-ID") + "message-id: <".len();
        let end = start + lower[start..].find('@').unwrap();
        *copies.entry(mail.data[start..end].to_string()).or_insert(0) += 1;
    }
    copies
}

/// Waits until every key has arrived (or 60 seconds have passed).
fn wait_for_all(inbox: &Inbox, keys: &HashSet<String>) -> HashMap<String, usize> {
    let started = Instant::now();
    loop {
        let copies = received(inbox);
        if keys.iter().all(|k| copies.contains_key(k))
            || started.elapsed() > Duration::from_secs(60)
        {
            return copies;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

async fn statuses(db: &Db) -> HashMap<String, i64> {
    let rows: Vec<(String, i64)> = with_db!(db, pool => sqlx::query_as(
        "SELECT status, COUNT(*) FROM messages GROUP BY status",
    )
    .fetch_all(pool)
    .await)
    .unwrap();
    rows.into_iter().collect()
}

async fn killed_mid_send_then_restarted(test_db: TestDb) {
    let (inbox, smtp) = Inbox::start();
    // A busy SMTP server, so that sends are in flight when the server dies.
    inbox.answer(Answer::Slowly(Duration::from_millis(40)));
    let keys = queue(&test_db.db, 400).await;
    let mut first = serve(&test_db.url, &smtp, 3);
    let started = Instant::now();
    while inbox.all().len() < 60 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "nothing was sent"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    first.kill().expect("SIGKILL");
    first.wait().unwrap();
    // What the dead server had claimed but not finished: only these may come twice.
    let caught: HashSet<String> = with_db!(&test_db.db, pool => sqlx::query_scalar(
        "SELECT message_key FROM messages WHERE status = 'sending'",
    )
    .fetch_all(pool)
    .await)
    .unwrap()
    .into_iter()
    .collect();
    let left = statuses(&test_db.db).await;
    assert!(
        left.get("pending").copied().unwrap_or(0) + caught.len() as i64 > 0,
        "killed while messages were still due or sending: {left:?}"
    );

    let mut second = serve(&test_db.url, &smtp, 3);
    wait_for_all(&inbox, &keys);
    // Every message may have arrived before the restarted server has retaken (when their lease
    // runs out) and recorded those the dead one was sending: wait for the database to catch up.
    let started = Instant::now();
    while statuses(&test_db.db).await.get("sent").copied() != Some(400)
        && started.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let copies = received(&inbox);
    second.kill().unwrap();
    second.wait().unwrap();

    let missing: Vec<&String> = keys.iter().filter(|k| !copies.contains_key(*k)).collect();
    assert!(missing.is_empty(), "never delivered: {missing:?}");
    for (key, n) in &copies {
        assert!(
            *n == 1 || caught.contains(key),
            "{key} arrived {n} times but was not being sent at the crash"
        );
        assert!(*n <= 2, "{key} arrived {n} times");
    }
    assert_eq!(
        statuses(&test_db.db).await,
        HashMap::from([("sent".to_string(), 400)])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_killed_mid_send_delivers_everything_after_a_restart_on_sqlite() {
    killed_mid_send_then_restarted(TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_killed_mid_send_delivers_everything_after_a_restart_on_postgres() {
    killed_mid_send_then_restarted(TestDb::postgres().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_on_one_postgres_send_each_message_once() {
    let test_db = TestDb::postgres().await;
    let (inbox, smtp) = Inbox::start();
    inbox.answer(Answer::Slowly(Duration::from_millis(5)));
    let keys = queue(&test_db.db, 400).await;
    let mut one = serve(&test_db.url, &smtp, 120);
    let mut two = serve(&test_db.url, &smtp, 120);
    let copies = wait_for_all(&inbox, &keys);
    for server in [&mut one, &mut two] {
        server.kill().unwrap();
        server.wait().unwrap();
    }
    assert_eq!(copies.len(), 400, "every message arrived");
    let twice: Vec<_> = copies.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
}
