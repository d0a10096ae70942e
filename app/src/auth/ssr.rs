//! Server-side sessions: the cookie, the `sessions` table, and the layer that decides who may
//! reach what. Server-only.

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use cookie::{Cookie, SameSite};
use leptos::{prelude::*, server_fn::ServerFn};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{store, CurrentUser, Login, Logout, Setup};
use crate::{
    db::now,
    error::{AppError, AppResult},
    i18n::Locale,
    state::AppState,
    with_db,
};

pub const COOKIE_NAME: &str = "rubrica_session";

/// `last_seen_at` is written at most this often, so reading a page is not a database write.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// Who is asking, put into every request's extensions by [`session_layer`].
#[derive(Clone, Debug, Default)]
pub struct Auth(pub Option<SignedIn>);

#[derive(Clone, Debug)]
pub struct SignedIn {
    pub user: CurrentUser,
    token_hash: Vec<u8>,
}

/// What the database keeps of a secret token (a session, a password link): its SHA-256.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn session_token(req: &Request) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE_NAME)
        .map(|c| c.value().to_string())
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    user_id: Uuid,
    name: String,
    email: String,
    is_admin: bool,
    hide_empty_fields: Option<bool>,
    locale: Option<String>,
    last_seen_at: chrono::DateTime<chrono::Utc>,
}

/// Finds the live session for `token`, ending it if it sat idle too long. Answered from
/// [`AppState::sessions`] when it can be: a database query only when the session is not
/// remembered, or when its `last_seen_at` is due to be written.
async fn resolve(state: &AppState, token: &str) -> AppResult<Option<SignedIn>> {
    let hash = token_hash(token);
    let at = now();
    let idle = chrono::Duration::from_std(state.auth.idle_timeout).unwrap_or(chrono::Duration::MAX);
    if let Some((user, last_seen_at)) = state.sessions.get(&hash) {
        let unused = at - last_seen_at;
        if unused <= TOUCH_EVERY && unused <= idle {
            return Ok(Some(SignedIn {
                user,
                token_hash: hash,
            }));
        }
    }
    let ticket = state.sessions.ticket();
    let row: Option<SessionRow> = with_db!(&state.db, pool => sqlx::query_as(
        "SELECT u.id AS user_id, u.name, u.email, u.is_admin, u.hide_empty_fields, u.locale, s.last_seen_at \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND u.disabled_at IS NULL",
    )
    .bind(&hash)
    .fetch_optional(pool)
    .await)?;
    let Some(row) = row else { return Ok(None) };
    if at - row.last_seen_at > idle {
        delete_session(state, &hash).await?;
        return Ok(None);
    }
    let mut last_seen_at = row.last_seen_at;
    if at - last_seen_at > TOUCH_EVERY {
        with_db!(&state.db, pool => sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(at)
            .bind(&hash)
            .execute(pool)
            .await.map(|r| r.rows_affected()))?;
        last_seen_at = at;
    }
    let user = CurrentUser {
        id: row.user_id,
        name: row.name,
        email: row.email,
        is_admin: row.is_admin,
        hide_empty_fields: row.hide_empty_fields,
        locale: row.locale.as_deref().and_then(Locale::parse),
    };
    state
        .sessions
        .put(ticket, hash.clone(), user.clone(), last_seen_at);
    Ok(Some(SignedIn {
        user,
        token_hash: hash,
    }))
}

/// Ends one session, here and in every instance's memory of it.
async fn delete_session(state: &AppState, hash: &[u8]) -> AppResult<()> {
    let hash = hash.to_vec();
    state
        .sessions
        .change(&state.db, move |db| async move {
            with_db!(&db, pool => sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(&hash)
                .execute(pool)
                .await.map(|r| r.rows_affected()))?;
            Ok(())
        })
        .await
}

/// Slows password guessing: per email address, 10 failed sign-ins are allowed at once, then one
/// more every 90 seconds; a successful sign-in clears the count. Only failures count, so people who
/// sign in often (several devices, a test suite) are never slowed. Kept in the database, so the
/// instances behind a load balancer share one allowance (each keeping its own would multiply it
/// by their number); the same answer whether or not the email exists.
pub mod throttle {
    use chrono::{DateTime, Utc};

    use crate::{
        db::Db,
        error::{AppError, AppResult},
        with_db,
    };

    const BURST: f64 = 10.0;
    const REFILL_SECONDS: f64 = 90.0;

    /// The row an email's failures are kept under: a digest of it as typed (trimmed, lower-cased),
    /// so that whatever is posted as an "email" — a megabyte of it — costs one short row.
    fn key(email: &str) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()))
    }

    /// Failures still counted at `now` of `spent` as of `at`: one refills every 90 seconds.
    fn spent_now(spent: f64, at: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
        let refilled = (now - at).num_milliseconds().max(0) as f64 / 1000.0 / REFILL_SECONDS;
        (spent - refilled).max(0.0)
    }

    /// Counts a sign-in attempt for `email` as a failure until it proves otherwise, or refuses it
    /// while the failures are used up. Counting before the password is checked means guesses sent
    /// all at once are held to the same allowance as guesses sent one by one, and a refused
    /// guesser learns nothing (and costs no password hash).
    pub async fn attempt(db: &Db, email: &str, now: DateTime<Utc>) -> AppResult<()> {
        let key = key(email);
        let allowed = with_db!(db, pool => async {
            let mut tx = pool.begin().await?;
            // One statement that writes: it locks the email's row (PostgreSQL) or takes the write
            // lock (SQLite) until the transaction ends, so attempts arriving together on several
            // instances are counted one after another, never all against the same count.
            let (spent, at): (f64, DateTime<Utc>) = sqlx::query_as(
                "INSERT INTO sign_in_failures (key, spent, at) VALUES ($1, 0.0, $2) \
                 ON CONFLICT (key) DO UPDATE SET key = excluded.key RETURNING spent, at",
            )
            .bind(&key)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let spent = spent_now(spent, at, now);
            if spent > BURST - 1.0 {
                return Ok::<_, sqlx::Error>(false);
            }
            sqlx::query("UPDATE sign_in_failures SET spent = $2, at = $3 WHERE key = $1")
                .bind(&key)
                .bind(spent + 1.0)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        }
        .await)?;
        if allowed {
            Ok(())
        } else {
            Err(AppError::TooManyAttempts)
        }
    }

    /// A successful sign-in: the email starts afresh.
    pub async fn succeeded(db: &Db, email: &str) -> AppResult<()> {
        with_db!(db, pool => sqlx::query("DELETE FROM sign_in_failures WHERE key = $1")
            .bind(key(email))
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// An attempt that ended for another reason than a wrong password (the database was down)
    /// gives its count back.
    pub async fn not_counted(db: &Db, email: &str, now: DateTime<Utc>) -> AppResult<()> {
        let key = key(email);
        with_db!(db, pool => async {
            let mut tx = pool.begin().await?;
            let row: Option<(f64, DateTime<Utc>)> = sqlx::query_as(
                "UPDATE sign_in_failures SET key = key WHERE key = $1 RETURNING spent, at",
            )
            .bind(&key)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((spent, at)) = row {
                sqlx::query("UPDATE sign_in_failures SET spent = $2, at = $3 WHERE key = $1")
                    .bind(&key)
                    .bind((spent_now(spent, at, now) - 1.0).max(0.0))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        }
        .await)?;
        Ok(())
    }

    /// Forgets emails whose failures have all refilled (run with the idle-session purge).
    pub async fn forget_refilled(db: &Db, now: DateTime<Utc>) -> AppResult<u64> {
        let before = now - chrono::Duration::seconds((BURST * REFILL_SECONDS) as i64);
        Ok(
            with_db!(db, pool => sqlx::query("DELETE FROM sign_in_failures WHERE at < $1")
            .bind(before)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?,
        )
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::{db::now, db_test};

        db_test!(ten_failures_then_one_every_ninety_seconds, |db| {
            let at = now();
            for _ in 0..10 {
                attempt(&db, "Anna@Example.it ", at).await.unwrap();
            }
            // The same email, however it is typed.
            assert!(matches!(
                attempt(&db, "anna@example.it", at).await,
                Err(AppError::TooManyAttempts)
            ));
            // Another email has its own allowance.
            attempt(&db, "bruno@example.it", at).await.unwrap();
            let later = at + chrono::Duration::seconds(91);
            attempt(&db, "anna@example.it", later).await.unwrap();
            assert!(attempt(&db, "anna@example.it", later).await.is_err());
            // A success starts afresh.
            succeeded(&db, "anna@example.it").await.unwrap();
            attempt(&db, "anna@example.it", later).await.unwrap();
            // An attempt that was not a wrong password is given back.
            for _ in 0..9 {
                attempt(&db, "carla@example.it", at).await.unwrap();
            }
            not_counted(&db, "carla@example.it", at).await.unwrap();
            // Eight counted: two more allowed.
            attempt(&db, "carla@example.it", at).await.unwrap();
            attempt(&db, "carla@example.it", at).await.unwrap();
            assert!(attempt(&db, "carla@example.it", at).await.is_err());
            // Fully refilled emails are forgotten; the others are kept.
            let much_later = later + chrono::Duration::seconds(901);
            assert_eq!(forget_refilled(&db, much_later).await.unwrap(), 3);
        });

        db_test!(guesses_sent_at_once_get_the_same_allowance, |db| {
            let at = now();
            let tries = (0..30).map(|_| {
                let db = db.clone();
                tokio::spawn(async move { attempt(&db, "anna@example.it", at).await })
            });
            let mut allowed = 0;
            for t in tries {
                match t.await.unwrap() {
                    Ok(()) => allowed += 1,
                    Err(AppError::TooManyAttempts) => {}
                    Err(e) => panic!("{e:?}"),
                }
            }
            assert_eq!(allowed, 10);
        });
    }
}

/// Whether the request comes from a page navigation (a form posted without the page's code)
/// rather than from code expecting JSON.
pub(crate) fn accepts_html(req: &Request) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// Which pages and server functions need no session.
fn is_public_path(path: &str) -> bool {
    use crate::team::{PasswordLink, RequestPasswordReset, SetPassword};
    matches!(path, "/login" | "/setup" | "/password-reset")
        || path.starts_with("/password-reset/")
        || path == <Login as ServerFn>::PATH
        || path == <Setup as ServerFn>::PATH
        || path == <RequestPasswordReset as ServerFn>::PATH
        || path == <PasswordLink as ServerFn>::PATH
        || path == <SetPassword as ServerFn>::PATH
}

/// Resolves the session cookie into an [`Auth`] extension, then lets a request through only if it
/// may go there: anonymous calls to a server function get 401, anonymous page loads are sent to
/// `/login` (or `/setup` on a brand-new workspace).
pub async fn session_layer(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    // Bundles, the icon and the health check are the same for everyone: no session lookup.
    if crate::state::is_bundle_path(&path)
        || path.starts_with("/favicon")
        || path == "/healthz"
        || path == crate::ui::SCREENS_CSS
    {
        return next.run(req).await;
    }
    let signed_in = match session_token(&req) {
        Some(token) => match resolve(&state, &token).await {
            Ok(found) => found,
            Err(_) => return error_response(AppError::Internal),
        },
        None => None,
    };
    let is_api = path.starts_with("/api/");

    if signed_in.is_none() && !is_public_path(&path) {
        // Sign out is a plain form: from a tab whose session already ended (signed out elsewhere,
        // idle too long) it simply lands on the sign-in page, which is what the user wanted.
        if path == <Logout as ServerFn>::PATH && accepts_html(&req) {
            return Redirect::to("/login").into_response();
        }
        if is_api {
            return error_response(AppError::Unauthorized);
        }
        let target = match req.uri().path_and_query() {
            Some(pq) if path != "/" => format!("/login?next={}", urlencoding::encode(pq.as_str())),
            _ => "/login".to_string(),
        };
        return Redirect::to(&target).into_response();
    }

    // Page-level redirects that depend on who is asking and on the workspace.
    match path.as_str() {
        "/" => return Redirect::to("/contacts").into_response(),
        "/login" if signed_in.is_some() => return Redirect::to("/contacts").into_response(),
        "/login" | "/setup" => match store::any_user_exists(&state.db).await {
            Ok(true) if path == "/setup" => return Redirect::to("/login").into_response(),
            Ok(false) if path == "/login" => return Redirect::to("/setup").into_response(),
            Ok(_) => {}
            Err(e) => return error_response(e),
        },
        _ => {}
    }

    // The page's language: the user's choice, else the browser's, else Italian.
    let locale = signed_in
        .as_ref()
        .and_then(|s| s.user.locale)
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::from_accept_language)
        })
        .unwrap_or_default();
    req.extensions_mut().insert(locale);
    req.extensions_mut().insert(Auth(signed_in));
    let mut response = next.run(req).await;
    // Pages and answers show personal data: never let a shared cache keep them.
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// A refusal in the shape server functions answer with, so the browser decodes an [`AppError`].
fn error_response(error: AppError) -> Response {
    error.into_response()
}

/// Answers 403 to a state-changing request that another site's page made the browser send
/// (Leptos has no CSRF protection of its own). Browsers label such requests `Sec-Fetch-Site:
/// cross-site`; older ones are caught by an `Origin` that does not match `Host`.
pub async fn same_origin_layer(req: Request, next: Next) -> Response {
    if req.method() != axum::http::Method::GET && req.method() != axum::http::Method::HEAD {
        let headers = req.headers();
        let cross_site = headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"cross-site");
        let origin_mismatch = match (headers.get(header::ORIGIN), headers.get(header::HOST)) {
            (Some(origin), Some(host)) => origin
                .to_str()
                .ok()
                .and_then(|o| o.split_once("://").map(|(_, rest)| rest.to_owned()))
                .is_some_and(|origin_host| origin_host.as_bytes() != host.as_bytes()),
            _ => false,
        };
        if cross_site || origin_mismatch {
            return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
        }
    }
    next.run(req).await
}

fn request_auth() -> Option<SignedIn> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Auth>().cloned())
        .and_then(|auth| auth.0)
}

/// The user a server function acts for, or [`AppError::Unauthorized`].
pub fn current_user() -> AppResult<CurrentUser> {
    request_auth().map(|s| s.user).ok_or(AppError::Unauthorized)
}

/// The user a server function acts for, if an admin; [`AppError::Forbidden`] for a member.
pub fn current_admin() -> AppResult<CurrentUser> {
    let user = current_user()?;
    if user.is_admin {
        Ok(user)
    } else {
        Err(AppError::Forbidden)
    }
}

fn set_cookie(state: &AppState, value: &str, max_age: Option<cookie::time::Duration>) {
    let mut cookie = Cookie::build((COOKIE_NAME, value.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.auth.secure_cookies);
    if let Some(max_age) = max_age {
        cookie = cookie.max_age(max_age);
    }
    if let Ok(value) = HeaderValue::from_str(&cookie.build().to_string()) {
        expect_context::<leptos_axum::ResponseOptions>().append_header(header::SET_COOKIE, value);
    }
}

/// Signs `user_id` in with a brand-new session id (any session the browser came with is ended, so a
/// planted id is worthless) and sets the cookie.
pub async fn start_session(state: &AppState, user_id: Uuid) -> AppResult<()> {
    if let Some(old) = request_auth() {
        delete_session(state, &old.token_hash).await?;
    }
    let token = new_token();
    let at = now();
    with_db!(&state.db, pool => sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)",
    )
    .bind(token_hash(&token))
    .bind(user_id)
    .bind(at)
    .execute(pool)
    .await.map(|r| r.rows_affected()))?;
    set_cookie(state, &token, None);
    Ok(())
}

/// A fresh secret: 256 random bits, URL-safe.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Signs out: the session row goes, and the browser is told to forget the cookie.
pub async fn end_session(state: &AppState) -> AppResult<()> {
    let signed_in = request_auth().ok_or(AppError::Unauthorized)?;
    delete_session(state, &signed_in.token_hash).await?;
    set_cookie(state, "", Some(cookie::time::Duration::ZERO));
    Ok(())
}

/// Removes sessions idle past the timeout; run now and then by the server.
pub async fn purge_idle_sessions(state: &AppState) -> AppResult<u64> {
    let idle = chrono::Duration::from_std(state.auth.idle_timeout).unwrap_or(chrono::Duration::MAX);
    let cutoff = now() - idle;
    let done = with_db!(&state.db, pool => sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1")
        .bind(cutoff)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    if done > 0 {
        state.sessions.changed();
    }
    Ok(done)
}
