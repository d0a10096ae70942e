//! The dispatcher's benchmark, for one instance: how late scheduled emails reach an SMTP server,
//! and how many it sends per second when many are due at once.
//!
//! ```sh
//! cargo run --release -p server --example dispatch_bench -- --messages 10000 --over 0
//! cargo run --release -p server --example dispatch_bench -- --messages 100000 --over 3600
//! TEST_POSTGRES_URL=postgres://postgres@127.0.0.1/postgres \
//!   cargo run --release -p server --example dispatch_bench -- --postgres --messages 10000 --over 0
//! ```
//!
//! It queues `--messages` emails to 100 contacts in a fresh database, due evenly over `--over`
//! seconds from a few seconds ahead, runs the server's own dispatcher (`Dispatcher::run`, as
//! `rubrica serve` does), and receives them in a real SMTP server on 127.0.0.1 (mailin-embedded).
//! Lateness is the time from a message's `send_at` to its arrival at the SMTP server. It prints
//! one line of JSON.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use app::{
    auth::{store as users, CurrentUser, Email, NewPassword},
    contacts::{store as contacts, NewContact},
    conversations::{
        dispatcher::{Dispatcher, Wake},
        providers::Providers,
        store as messages, Channel, Draft,
    },
    mail::{MailSettings, Mailer},
    testing::TestDb,
    with_db,
};
use chrono::{DateTime, Utc};

/// An email the SMTP server took: its Message-ID key and when it arrived.
type Arrival = (String, DateTime<Utc>);

/// Every email the SMTP server took.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<Arrival>>>);

#[derive(Clone)]
struct Handler {
    sink: Sink,
    data: Vec<u8>,
}

impl mailin_embedded::Handler for Handler {
    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        _to: &[String],
    ) -> mailin_embedded::Response {
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        let at = Utc::now();
        let text = String::from_utf8_lossy(&self.data);
        let key = text
            .find("Message-ID: <")
            .map(|i| &text[i + "Message-ID: <".len()..])
            .and_then(|rest| rest.split('@').next())
            .unwrap_or_default()
            .to_string();
        self.sink.0.lock().unwrap().push((key, at));
        mailin_embedded::response::OK
    }
}

fn start_smtp(sink: Sink) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut server = mailin_embedded::Server::new(Handler {
        sink,
        data: Vec::new(),
    });
    server
        .with_name("localhost")
        .with_num_threads(128)
        .with_ssl(mailin_embedded::SslConfig::None)
        .unwrap()
        .with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    format!("smtp://127.0.0.1:{port}")
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() {
    let n: usize = arg("--messages").map_or(10_000, |v| v.parse().expect("a number"));
    let over: f64 = arg("--over").map_or(0.0, |v| v.parse().expect("seconds"));
    let postgres = std::env::args().any(|a| a == "--postgres");
    let test_db = if postgres {
        TestDb::postgres().await
    } else {
        TestDb::sqlite().await
    };
    let db = test_db.db.clone();

    // A writer and 100 contacts with addresses.
    let email = Email::parse("bench@example.it").unwrap();
    let password = NewPassword::parse("a long enough password").unwrap();
    let id = users::add_user(&db, "Bench", &email, &password, true)
        .await
        .unwrap();
    let writer = CurrentUser {
        id,
        name: "Bench".into(),
        email: "bench@example.it".into(),
        is_admin: true,
        hide_empty_fields: None,
        locale: None,
    };
    let mut people = Vec::new();
    for i in 0..100 {
        let new = NewContact::Person {
            first_name: Some(format!("Persona{i}")),
            last_name: Some("Bench".into()),
        };
        let contact = contacts::create(&db, &writer, &new).await.unwrap();
        with_db!(&db, pool => sqlx::query("UPDATE contacts SET email = $2 WHERE id = $1")
            .bind(contact)
            .bind(format!("persona{i}@example.it"))
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .unwrap();
        people.push(contact);
    }

    // The server's own dispatcher runs from the start, as in `rubrica serve`: messages are
    // queued while it sends those already due (as they would be in a working CRM).
    let sink = Sink::default();
    let smtp = start_smtp(sink.clone());
    let connections: u32 =
        arg("--connections").map_or(Mailer::CONNECTIONS, |v| v.parse().expect("a number"));
    let mailer = Mailer::with_connections(&smtp, "Rubrica <crm@example.it>", connections).unwrap();
    let wake = Wake::default();
    let dispatcher = Dispatcher::new(
        db.clone(),
        MailSettings::new(Some(mailer), "http://127.0.0.1:3000"),
        Providers::default(),
        wake.clone(),
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(dispatcher.run(stopped));

    // The messages, due evenly over `over` seconds from a few seconds ahead (all at one instant
    // with `--over 0`, far enough ahead for all of them to be queued by then).
    let lead = if over > 0.0 {
        Duration::from_secs(5)
    } else {
        Duration::from_secs(5) + Duration::from_millis(n as u64 * 2)
    };
    let first_due = app::db::now() + chrono::Duration::from_std(lead).unwrap();
    let step = if n > 1 { over / (n - 1) as f64 } else { 0.0 };
    let mut due = HashMap::with_capacity(n);
    let queued_at = Instant::now();
    let mut queued_late = 0;
    for i in 0..n {
        let at = first_due + chrono::Duration::microseconds((step * i as f64 * 1e6) as i64);
        let draft = Draft {
            channel: Channel::Email,
            subject: format!("Promemoria {i} per {{{{contact.first_name}}}}"),
            body: "Ciao {{contact.first_name}}, ti ricordo l'appuntamento di domani.".into(),
            attachments: vec![],
        };
        let id = messages::queue(
            &db,
            &writer,
            people[i % people.len()],
            &draft,
            at,
            Some("UTC"),
        )
        .await
        .unwrap();
        if app::db::now() > at {
            queued_late += 1;
        }
        // As `schedule_message` does: the dispatcher may have to wake sooner.
        wake.wake();
        due.insert(id, at);
    }
    let queued = app::db::now();
    let keys: Vec<(uuid::Uuid, String)> = with_db!(&db, pool => sqlx::query_as(
        "SELECT id, message_key FROM messages",
    )
    .fetch_all(pool)
    .await)
    .unwrap();
    let due: HashMap<String, DateTime<Utc>> =
        keys.into_iter().map(|(id, key)| (key, due[&id])).collect();
    eprintln!(
        "queued {n} messages in {:.1} s ({queued_late} after their time)",
        queued_at.elapsed().as_secs_f64(),
    );

    let deadline = Instant::now() + lead + Duration::from_secs_f64(over) + Duration::from_secs(600);
    loop {
        let got = sink.0.lock().unwrap().len();
        if got >= n || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(true);
    let _ = running.await;

    let received = sink.0.lock().unwrap().clone();
    let mut lateness: Vec<f64> = received
        .iter()
        .filter_map(|(key, at)| {
            due.get(key)
                .map(|d| (*at - *d).num_microseconds().unwrap_or(0) as f64 / 1000.0)
        })
        .collect();
    lateness.sort_by(|a, b| a.total_cmp(b));
    let mut per_key: HashMap<&str, usize> = HashMap::new();
    for (key, _) in &received {
        *per_key.entry(key.as_str()).or_default() += 1;
    }
    let last = received
        .iter()
        .map(|(_, at)| *at)
        .max()
        .unwrap_or(first_due);
    // With all due at once: from that instant (or from when the last was queued, if later) to
    // the last arrival.
    let start = first_due.max(queued);
    let window = (last - start).num_microseconds().unwrap_or(1).max(1) as f64 / 1e6;
    let result = serde_json::json!({
        "database": if postgres { "postgres" } else { "sqlite" },
        "messages": n,
        "smtp_connections": connections,
        "over_seconds": over,
        "received": received.len(),
        "received_twice": per_key.values().filter(|c| **c > 1).count(),
        "queued_after_their_time": queued_late,
        "lateness_ms": {
            "p50": percentile(&lateness, 50.0),
            "p95": percentile(&lateness, 95.0),
            "p99": percentile(&lateness, 99.0),
            "max": lateness.last().copied().unwrap_or(0.0),
        },
        // With all due at once, the emails per second one instance sends.
        "emails_per_second": (received.len() as f64 / window.max(over)).round(),
    });
    println!("{result}");
}
