//! A real Rubrica for each test: its own fresh database (SQLite or PostgreSQL), served on
//! 127.0.0.1:0, and an HTTP client with a cookie jar that behaves like a browser tab.

#![allow(dead_code)]

use std::time::Duration;

use app::{
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
        let test_db = match backend {
            Backend::Sqlite => TestDb::sqlite().await,
            Backend::Postgres => TestDb::postgres().await,
        };
        let listener = server::bind("127.0.0.1:0".parse().unwrap())
            .await
            .expect("bind a free port");
        let addr = listener.local_addr().unwrap();
        let state = AppState::new(
            server::leptos_options(std::path::Path::new("target/site"), addr),
            test_db.db.clone(),
            auth,
        );
        let running = server::start(listener, state, false)
            .await
            .expect("start the server");
        TestApp {
            base: format!("http://{addr}"),
            client: browser(),
            db: test_db.db.clone(),
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

    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("a clean shutdown");
        }
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
