//! A real Rubrica for each test: its own fresh database (SQLite or PostgreSQL), served on
//! 127.0.0.1:0, and an HTTP client with a cookie jar that behaves like a browser tab.

#![allow(dead_code)]

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use app::{
    auth::{store as users, Email, NewPassword},
    mail::{MailSettings, Mailer},
    state::{AppState, AuthSettings},
    testing::TestDb,
};
use leptos::server_fn::ServerFn;
use reqwest::{header, redirect::Policy, Client, Response};
use server::Running;

pub const ADMIN_EMAIL: &str = "anna.admin@example.it";
pub const ADMIN_PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub db: app::db::Db,
    /// What the app's SMTP server received, when the app was started with email.
    pub inbox: Option<Inbox>,
    /// The SMS and WhatsApp providers' stand-in, when the app was started with them.
    pub provider: Option<FakeProvider>,
    pub state: AppState,
    running: Option<Running>,
    _test_db: TestDb,
}

pub enum Backend {
    Sqlite,
    Postgres,
}

/// A browser set to English, the language of UI-CONTRACT's names.
pub fn browser() -> Client {
    browser_in("en-GB,en;q=0.9")
}

/// A browser whose `Accept-Language` is `languages`.
pub fn browser_in(languages: &str) -> Client {
    let mut headers = header::HeaderMap::new();
    headers.insert(
        header::ACCEPT_LANGUAGE,
        header::HeaderValue::from_str(languages).expect("a header value"),
    );
    Client::builder()
        .default_headers(headers)
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, AuthSettings::default()).await
    }

    pub async fn spawn_with(backend: Backend, auth: AuthSettings) -> TestApp {
        Self::spawn_full(backend, auth, false, true).await
    }

    /// A Rubrica that sends email to a real SMTP server of its own (see [`Inbox`]).
    pub async fn spawn_with_mail(backend: Backend) -> TestApp {
        Self::spawn_full(backend, AuthSettings::default(), true, true).await
    }

    /// Like [`TestApp::spawn_with_mail`], with no dispatcher running by itself: the test sends
    /// what is due with `app.dispatcher().run_due(at)`, at times of its choosing.
    pub async fn spawn_with_manual_dispatch(backend: Backend) -> TestApp {
        Self::spawn_full(backend, AuthSettings::default(), true, false).await
    }

    /// Like [`TestApp::spawn_with_manual_dispatch`], with SMS and WhatsApp going to a local server
    /// that speaks the Twilio and WhatsApp Cloud APIs (see [`FakeProvider`]).
    pub async fn spawn_with_providers(backend: Backend) -> TestApp {
        let provider = FakeProvider::start().await;
        Self::start(
            backend,
            AuthSettings::default(),
            true,
            false,
            Some(provider),
        )
        .await
    }

    /// The dispatcher of this app's messages (for `run_due`).
    pub fn dispatcher(&self) -> app::conversations::dispatcher::Dispatcher {
        self.state.dispatcher()
    }

    async fn spawn_full(
        backend: Backend,
        auth: AuthSettings,
        mail: bool,
        dispatch: bool,
    ) -> TestApp {
        Self::start(backend, auth, mail, dispatch, None).await
    }

    async fn start(
        backend: Backend,
        auth: AuthSettings,
        mail: bool,
        dispatch: bool,
        provider: Option<FakeProvider>,
    ) -> TestApp {
        let test_db = match backend {
            Backend::Sqlite => TestDb::sqlite().await,
            Backend::Postgres => TestDb::postgres().await,
        };
        let listener = server::bind("127.0.0.1:0".parse().unwrap())
            .await
            .expect("bind a free port");
        let addr = listener.local_addr().unwrap();
        let mut state = AppState::new(
            server::leptos_options(std::path::Path::new("target/site"), addr),
            test_db.db.clone(),
            auth,
        );
        let inbox = mail.then(|| {
            let (inbox, url) = Inbox::start();
            let mailer = Mailer::new(&url, "Rubrica <crm@example.it>").expect("mail settings");
            state = state
                .clone()
                .with_mail(MailSettings::new(Some(mailer), "https://crm.example.it"));
            inbox
        });
        if let Some(provider) = &provider {
            state = state.clone().with_providers(provider.settings());
        }
        let running = server::start_with(listener, state.clone(), None, dispatch)
            .await
            .expect("start the server");
        TestApp {
            base: format!("http://{addr}"),
            client: browser(),
            db: test_db.db.clone(),
            inbox,
            provider,
            state,
            running: Some(running),
            _test_db: test_db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Calls a server function that takes JSON, as the wasm front end does (JSON object of
    /// string arguments, JSON back).
    pub async fn call_json<F: ServerFn>(&self, client: &Client, args: &[(&str, &str)]) -> Response {
        let body: serde_json::Map<String, serde_json::Value> = args
            .iter()
            .map(|(name, value)| (name.to_string(), (*value).into()))
            .collect();
        client
            .post(self.url(F::PATH))
            .header(header::ACCEPT, "application/json")
            .json(&body)
            .send()
            .await
            .expect("the server answers")
    }

    /// Calls a server function behind an HTML form (sign-in, setup, sign-out) the way the page
    /// does once its code runs: form-encoded POST, JSON back.
    pub async fn call<F: ServerFn>(&self, client: &Client, args: &[(&str, &str)]) -> Response {
        client
            .post(self.url(F::PATH))
            .header(header::ACCEPT, "application/json")
            .form(args)
            .send()
            .await
            .expect("the server answers")
    }

    /// Calls a JSON server function with arguments of any JSON type.
    pub async fn call_value<F: ServerFn>(
        &self,
        client: &Client,
        args: serde_json::Value,
    ) -> Response {
        client
            .post(self.url(F::PATH))
            .header(header::ACCEPT, "application/json")
            .json(&args)
            .send()
            .await
            .expect("the server answers")
    }

    /// Calls a JSON server function that must succeed, and decodes its answer.
    pub async fn ok<F: ServerFn, T: serde::de::DeserializeOwned>(
        &self,
        client: &Client,
        args: serde_json::Value,
    ) -> T {
        let response = self.call_value::<F>(client, args).await;
        let status = response.status();
        let text = response.text().await.expect("a body");
        assert!(status.is_success(), "{}: {status} {text}", F::PATH);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}: {text}", F::PATH))
    }

    /// Adds a user straight into the database (as `rubrica user add` does) and signs them in
    /// on a browser of their own.
    pub async fn signed_in_user(&self, name: &str, email: &str, admin: bool) -> Client {
        let password = "a long enough password";
        users::add_user(
            &self.db,
            name,
            &Email::parse(email).unwrap(),
            &NewPassword::parse(password).unwrap(),
            admin,
        )
        .await
        .expect("add a user");
        let tab = browser();
        let response = self.sign_in(&tab, email, password).await;
        assert_eq!(response.status(), 200, "{name} signs in");
        tab
    }

    pub async fn get(&self, client: &Client, path: &str) -> Response {
        client
            .get(self.url(path))
            .header(header::ACCEPT, "text/html")
            .send()
            .await
            .expect("the server answers")
    }

    /// First-run setup through the server function, leaving `client` signed in as the admin.
    pub async fn set_up_admin(&self, client: &Client) {
        let response = self
            .call::<app::auth::Setup>(
                client,
                &[
                    ("name", "Anna Admin"),
                    ("email", ADMIN_EMAIL),
                    ("password", ADMIN_PASSWORD),
                ],
            )
            .await;
        assert_eq!(
            response.status(),
            200,
            "setup: {}",
            response.text().await.unwrap_or_default()
        );
    }

    pub async fn sign_in(&self, client: &Client, email: &str, password: &str) -> Response {
        self.call::<app::auth::Login>(client, &[("email", email), ("password", password)])
            .await
    }

    /// Another instance of this Rubrica on the same database, as behind a load balancer.
    pub async fn another_instance(&self) -> Instance {
        let listener = server::bind("127.0.0.1:0".parse().unwrap())
            .await
            .expect("bind a free port");
        let addr = listener.local_addr().unwrap();
        let state = AppState::new(
            server::leptos_options(std::path::Path::new("target/site"), addr),
            self.db.clone(),
            self.state.auth.clone(),
        );
        let running = server::start_with(listener, state.clone(), None, false)
            .await
            .expect("start the server");
        Instance {
            base: format!("http://{addr}"),
            state,
            running,
        }
    }

    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("a clean shutdown");
        }
    }
}

/// A second instance of a [`TestApp`] (see [`TestApp::another_instance`]).
pub struct Instance {
    pub base: String,
    pub state: AppState,
    running: Running,
}

impl Instance {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn stop(self) {
        self.running.stop().await.expect("a clean shutdown");
    }
}

/// One email as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    /// The whole message, headers and body, with quoted-printable soft line breaks undone so
    /// that links read whole.
    pub data: String,
}

impl Received {
    /// The first link in the message that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> Option<String> {
        let start = self.data.find(prefix)?;
        let rest = &self.data[start..];
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
            .unwrap_or(rest.len());
        Some(rest[..end].to_string())
    }
}

/// How the test SMTP server answers a recipient.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Answer {
    #[default]
    Accept,
    /// 452: try again later.
    Busy,
    /// 550: no such mailbox, for good.
    NoMailbox,
    /// Accept, taking this long over each message (a busy server; sends stay in flight).
    Slowly(Duration),
}

/// A real SMTP server on 127.0.0.1 (mailin-embedded, on threads of its own) keeping every
/// message it receives; it can be told to refuse (see [`Answer`]).
#[derive(Clone, Default)]
pub struct Inbox(Arc<Mutex<Vec<Received>>>, Arc<Mutex<Answer>>);

#[derive(Clone)]
struct Collector {
    inbox: Inbox,
    to: Vec<String>,
    data: Vec<u8>,
}

impl mailin_embedded::Handler for Collector {
    fn rcpt(&mut self, _to: &str) -> mailin_embedded::Response {
        match *self.inbox.1.lock().unwrap() {
            Answer::Accept | Answer::Slowly(_) => mailin_embedded::response::OK,
            Answer::Busy => mailin_embedded::response::OUT_OF_SPACE,
            Answer::NoMailbox => mailin_embedded::response::NO_MAILBOX,
        }
    }

    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        self.to = to.to_vec();
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        let answer = *self.inbox.1.lock().unwrap();
        if let Answer::Slowly(pause) = answer {
            std::thread::sleep(pause);
        }
        let data = String::from_utf8_lossy(&self.data)
            .replace("=\r\n", "")
            .replace("=3D", "=");
        self.inbox.0.lock().unwrap().push(Received {
            to: std::mem::take(&mut self.to),
            data,
        });
        mailin_embedded::response::OK
    }
}

impl Inbox {
    /// Starts a server on a free port; returns its inbox and its `smtp://` URL.
    pub fn start() -> (Inbox, String) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().unwrap().port();
        let inbox = Inbox::default();
        let mut server = mailin_embedded::Server::new(Collector {
            inbox: inbox.clone(),
            to: Vec::new(),
            data: Vec::new(),
        });
        server
            .with_name("localhost")
            // A thread per connection: room for two instances' dispatchers at once, each keeping
            // `Mailer::CONNECTIONS` open (a connection beyond the threads would wait unserved).
            .with_num_threads(128)
            .with_ssl(mailin_embedded::SslConfig::None)
            .expect("no TLS")
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        (inbox, format!("smtp://127.0.0.1:{port}"))
    }

    pub fn all(&self) -> Vec<Received> {
        self.0.lock().unwrap().clone()
    }

    /// From now on, answer every recipient so.
    pub fn answer(&self, answer: Answer) {
        *self.1.lock().unwrap() = answer;
    }

    /// The first message to `to`, waiting for it up to 10 seconds.
    pub async fn wait_for(&self, to: &str) -> Received {
        for _ in 0..200 {
            if let Some(found) = self
                .all()
                .into_iter()
                .find(|m| m.to.iter().any(|t| t == to))
            {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no email to {to} arrived; received: {:?}", self.all());
    }
}

/// The error a server function answered with.
pub async fn app_error(response: Response) -> app::error::AppError {
    let text = response.text().await.expect("a body");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("an AppError, got {text}"))
}

/// One test, run on a fresh SQLite and a fresh PostgreSQL: `app_test!(name, |app| { ... })`.
#[macro_export]
macro_rules! app_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let $app = $crate::common::TestApp::spawn($crate::common::Backend::Sqlite).await;
                $body
            }

            #[tokio::test]
            async fn postgres() {
                let $app = $crate::common::TestApp::spawn($crate::common::Backend::Postgres).await;
                $body
            }
        }
    };
}

/// Like `mail_test!`, with no dispatcher running by itself (`app.dispatcher().run_due(at)`).
#[macro_export]
macro_rules! dispatch_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let $app = $crate::common::TestApp::spawn_with_manual_dispatch(
                    $crate::common::Backend::Sqlite,
                )
                .await;
                $body
            }

            #[tokio::test]
            async fn postgres() {
                let $app = $crate::common::TestApp::spawn_with_manual_dispatch(
                    $crate::common::Backend::Postgres,
                )
                .await;
                $body
            }
        }
    };
}

/// Like `app_test!`, with the app sending email to a local SMTP server (`app.inbox`).
#[macro_export]
macro_rules! mail_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let $app =
                    $crate::common::TestApp::spawn_with_mail($crate::common::Backend::Sqlite).await;
                $body
            }

            #[tokio::test]
            async fn postgres() {
                let $app =
                    $crate::common::TestApp::spawn_with_mail($crate::common::Backend::Postgres)
                        .await;
                $body
            }
        }
    };
}

/// What an SMS or WhatsApp provider was asked.
#[derive(Debug, Clone)]
pub struct ProviderRequest {
    pub path: String,
    pub authorization: String,
    pub idempotency_key: Option<String>,
    pub body: String,
}

impl ProviderRequest {
    /// A field of a form-encoded request (Twilio's).
    pub fn field(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The JSON of a JSON request (WhatsApp's).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

/// A local HTTP server answering like Twilio's Messages API and the WhatsApp Cloud API, keeping
/// what it was asked. Told to, it answers the next requests with other statuses (429, 500, 400…).
#[derive(Clone, Default)]
pub struct FakeProvider {
    pub base: String,
    requests: Arc<Mutex<Vec<ProviderRequest>>>,
    answers: Arc<Mutex<std::collections::VecDeque<(u16, String)>>>,
}

pub const TWILIO_TOKEN: &str = "twilio-auth-token";
pub const WHATSAPP_SECRET: &str = "whatsapp-app-secret";

impl FakeProvider {
    async fn start() -> FakeProvider {
        use axum::{body::Bytes, extract::State, http::HeaderMap, routing::post, Router};
        async fn answer(
            State(fake): State<FakeProvider>,
            uri: axum::http::Uri,
            headers: HeaderMap,
            body: Bytes,
        ) -> (axum::http::StatusCode, String) {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let mut requests = fake.requests.lock().unwrap();
            requests.push(ProviderRequest {
                path: uri.path().to_string(),
                authorization: header("authorization").unwrap_or_default(),
                idempotency_key: header("i-twilio-idempotency-token"),
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            let n = requests.len();
            if let Some((status, body)) = fake.answers.lock().unwrap().pop_front() {
                return (axum::http::StatusCode::from_u16(status).unwrap(), body);
            }
            if uri.path().ends_with("/Messages.json") {
                let body = format!(r#"{{"sid":"SM{n:032}","status":"queued"}}"#);
                (axum::http::StatusCode::CREATED, body)
            } else {
                let body = format!(
                    r#"{{"messaging_product":"whatsapp","contacts":[{{"wa_id":"1"}}],"messages":[{{"id":"wamid.{n}"}}]}}"#
                );
                (axum::http::StatusCode::OK, body)
            }
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = FakeProvider {
            base: format!("http://{}", listener.local_addr().unwrap()),
            ..FakeProvider::default()
        };
        let app = Router::new()
            .route("/{*path}", post(answer))
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        fake
    }

    pub fn settings(&self) -> app::conversations::providers::Providers {
        use app::conversations::providers::{Providers, TwilioSms, WhatsAppCloud};
        Providers::new(
            Some(TwilioSms {
                api_url: self.base.clone(),
                account_sid: "AC0123".into(),
                auth_token: TWILIO_TOKEN.into(),
                from: "+390212345678".into(),
            }),
            Some(WhatsAppCloud {
                api_url: format!("{}/v21.0", self.base),
                token: "whatsapp-token".into(),
                phone_number_id: "1055".into(),
                app_secret: WHATSAPP_SECRET.into(),
                verify_token: "whatsapp-verify".into(),
            }),
        )
    }

    pub fn requests(&self) -> Vec<ProviderRequest> {
        self.requests.lock().unwrap().clone()
    }

    /// The next requests are answered so, in order; then as usual again.
    pub fn answer_next(&self, status: u16, body: &str) {
        self.answers
            .lock()
            .unwrap()
            .push_back((status, body.to_string()));
    }
}

/// Like `dispatch_test!`, with SMS and WhatsApp going to a [`FakeProvider`] (`app.provider`).
#[macro_export]
macro_rules! provider_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let $app =
                    $crate::common::TestApp::spawn_with_providers($crate::common::Backend::Sqlite)
                        .await;
                $body
            }

            #[tokio::test]
            async fn postgres() {
                let $app = $crate::common::TestApp::spawn_with_providers(
                    $crate::common::Backend::Postgres,
                )
                .await;
                $body
            }
        }
    };
}
