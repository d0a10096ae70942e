//! What every request on the server can reach: options, the database, the auth and mail settings.
//! Server functions get it with [`app_state`]; axum handlers with `State<AppState>`.

use std::time::Duration;

use axum::extract::FromRef;
use leptos::prelude::*;

use crate::db::Db;

#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// Mark the session cookie `Secure` (when Rubrica is served over https).
    pub secure_cookies: bool,
    /// A session unused for this long is over.
    pub idle_timeout: Duration,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            idle_timeout: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

#[derive(Clone, Debug, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub auth: AuthSettings,
    /// Email (if set up) and the address links point at.
    pub mail: crate::mail::MailSettings,
    /// Wakes the message dispatcher when a message is queued or changed.
    pub dispatcher: crate::conversations::dispatcher::Wake,
    /// SMS and WhatsApp providers, where set up.
    pub providers: crate::conversations::providers::Providers,
    /// How long the dispatcher's claims last (see `dispatcher::LEASE`).
    pub dispatch_lease: chrono::Duration,
}

impl AppState {
    /// State without email; links point at the address the server listens on.
    pub fn new(leptos_options: LeptosOptions, db: Db, auth: AuthSettings) -> AppState {
        let public_url = format!("http://{}", leptos_options.site_addr);
        AppState {
            leptos_options,
            db,
            auth,
            mail: crate::mail::MailSettings::new(None, &public_url),
            dispatcher: Default::default(),
            providers: Default::default(),
            dispatch_lease: crate::conversations::dispatcher::LEASE,
        }
    }

    pub fn with_mail(mut self, mail: crate::mail::MailSettings) -> AppState {
        self.mail = mail;
        self
    }

    pub fn with_providers(
        mut self,
        providers: crate::conversations::providers::Providers,
    ) -> AppState {
        self.providers = providers;
        self
    }

    /// The dispatcher that sends this state's queued messages (run it with `Dispatcher::run`).
    pub fn dispatcher(&self) -> crate::conversations::dispatcher::Dispatcher {
        crate::conversations::dispatcher::Dispatcher::new(
            self.db.clone(),
            self.mail.clone(),
            self.providers.clone(),
            self.dispatcher.clone(),
        )
        .with_lease(self.dispatch_lease)
    }
}

/// The state, inside a server function or while rendering on the server.
pub fn app_state() -> AppState {
    expect_context::<AppState>()
}

pub fn db() -> Db {
    app_state().db
}
