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
    /// Who each session cookie belongs to, remembered between requests.
    pub sessions: crate::auth::cache::SessionCache,
    /// Email (if set up) and the address links point at.
    pub mail: crate::mail::MailSettings,
    /// Wakes the message dispatcher when a message is queued or changed.
    pub dispatcher: crate::conversations::dispatcher::Wake,
    /// SMS and WhatsApp providers, where set up.
    pub providers: crate::conversations::providers::Providers,
    /// How long the dispatcher's claims last (see `dispatcher::LEASE`).
    pub dispatch_lease: chrono::Duration,
    /// Where pages fetch this build's bundles: `/b/<hash of the bundles>`, followed by
    /// `/pkg/rubrica.js` and so on (see [`bundle_root`]).
    pub bundle_root: std::sync::Arc<str>,
}

impl AppState {
    /// State without email; links point at the address the server listens on.
    pub fn new(leptos_options: LeptosOptions, db: Db, auth: AuthSettings) -> AppState {
        let public_url = format!("http://{}", leptos_options.site_addr);
        let pkg = std::path::Path::new(leptos_options.site_root.as_ref())
            .join(leptos_options.site_pkg_dir.as_ref());
        let bundle_root = bundle_root(&pkg).into();
        AppState {
            bundle_root,
            leptos_options,
            sessions: crate::auth::cache::SessionCache::new(db.backend()),
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

/// A path prefix that changes whenever any file of the bundles in `pkg` (the site's bundle
/// directory) does, so
/// that browsers may keep those files for a year without asking again: a page of another build
/// names another prefix. (cargo-leptos' own `hash-files` renames the main bundle but not the lazy
/// chunks the wasm-split loader fetches, cargo-leptos issues 641 and 658; a prefix covers them
/// all, since the loader fetches its chunks relative to itself.) Files are read once, at start.
pub fn bundle_root(pkg: &std::path::Path) -> String {
    use sha2::Digest;
    let mut files: Vec<_> = std::fs::read_dir(pkg)
        .map(|dir| dir.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    let mut hash = sha2::Sha256::new();
    for path in files.iter().filter(|p| p.is_file()) {
        hash.update(path.file_name().unwrap_or_default().as_encoded_bytes());
        hash.update(std::fs::read(path).unwrap_or_default());
    }
    let hex: String = hash.finalize()[..5]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("/b/{hex}")
}

/// Whether `path` names a file of the bundles (under `/pkg` or a build's prefix): the same for
/// everyone, read from disk.
pub fn is_bundle_path(path: &str) -> bool {
    path.starts_with("/pkg/") || path.starts_with("/b/")
}

/// The state, inside a server function or while rendering on the server.
pub fn app_state() -> AppState {
    expect_context::<AppState>()
}

pub fn db() -> Db {
    app_state().db
}
