//! Who a session cookie belongs to, remembered between requests. Without it every request paid a
//! database query before its own work (on SQLite a hand-off to a connection's thread and back,
//! which is most of a small query's cost); the contact page's data took four queries, one of them
//! this one. Server-only.
//!
//! What is remembered must never outlive a change to it: a user disabled, signed out everywhere by
//! a new password, made or unmade an admin, or choosing another language or **Hide empty fields**;
//! a session ended. Any such change clears the whole cache (they are rare):
//! - on the instance that made it, at once, by whoever made it ([`SessionCache::change`], which
//!   runs the write to its end even if the request is abandoned, then clears);
//! - on every other instance of a PostgreSQL database, by triggers on `users` and `sessions` that
//!   `NOTIFY` a channel each instance listens on ([`listen`]), on a connection of its own. Until
//!   an instance listens, and from the moment its listening connection is found broken (it is
//!   checked after 10 s without a notification), it does not use the cache at all. Between a
//!   change's commit and another instance hearing of it there are the milliseconds of one
//!   notification.
//!
//! SQLite is one instance by design (several instances take PostgreSQL), so it needs no listener.
//! An entry also lapses when its session's `last_seen_at` is due to be written again (once a
//! minute), so a change made behind Rubrica's back (SQL typed by hand) lasts at most that long.

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, Utc};

use super::CurrentUser;
use crate::{
    db::{Backend, Db},
    error::{AppError, AppResult},
};

/// The channel the triggers of migration `20261207000002_session_changes` notify.
pub const CHANNEL: &str = "rubrica_sessions_changed";

/// The `application_name` of each instance's listening connection.
pub const LISTENER_NAME: &str = "rubrica session changes";

/// More entries than this and the cache starts over: one per live session, so only a workspace
/// with that many people signed in within a minute reaches it.
const MOST_ENTRIES: usize = 10_000;

#[derive(Clone, Debug)]
pub struct SessionCache(Arc<Mutex<Inner>>);

#[derive(Debug)]
struct Inner {
    /// Counts the changes: a lookup started before a change may not store what it read.
    generation: u64,
    /// Whether lookups may be answered from here (see the module's comment).
    usable: bool,
    entries: HashMap<Vec<u8>, Entry>,
}

#[derive(Clone, Debug)]
struct Entry {
    user: CurrentUser,
    last_seen_at: DateTime<Utc>,
}

/// Where a lookup started: the cache's generation then.
#[derive(Clone, Copy, Debug)]
pub struct Ticket(u64);

impl SessionCache {
    /// Usable at once on SQLite; on PostgreSQL only once [`listen`] listens.
    pub fn new(backend: Backend) -> SessionCache {
        SessionCache(Arc::new(Mutex::new(Inner {
            generation: 0,
            usable: backend == Backend::Sqlite,
            entries: HashMap::new(),
        })))
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock can only have left a half-cleared map: still correct.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The user and `last_seen_at` of the session whose token hashes to `hash`, if remembered.
    pub fn get(&self, hash: &[u8]) -> Option<(CurrentUser, DateTime<Utc>)> {
        let inner = self.inner();
        if !inner.usable {
            return None;
        }
        inner
            .entries
            .get(hash)
            .map(|e| (e.user.clone(), e.last_seen_at))
    }

    /// To be taken before reading a session from the database, and handed to [`Self::put`].
    pub fn ticket(&self) -> Ticket {
        Ticket(self.inner().generation)
    }

    /// Remembers a session read from the database, unless something changed since `ticket` was
    /// taken (what was read may be from before the change).
    pub fn put(
        &self,
        ticket: Ticket,
        hash: Vec<u8>,
        user: CurrentUser,
        last_seen_at: DateTime<Utc>,
    ) {
        let mut inner = self.inner();
        if !inner.usable || inner.generation != ticket.0 {
            return;
        }
        if inner.entries.len() >= MOST_ENTRIES {
            inner.entries.clear();
        }
        inner.entries.insert(hash, Entry { user, last_seen_at });
    }

    /// Runs `write` on `db`, a change to users or sessions, then forgets everything. The write
    /// runs to its end even if the request that asked for it is abandoned midway (hyper drops the
    /// handler of a client that hung up, and a statement already sent may still commit):
    /// forgetting must follow it either way.
    pub async fn change<T, F>(&self, db: &Db, write: impl FnOnce(Db) -> F) -> AppResult<T>
    where
        T: Send + 'static,
        F: Future<Output = AppResult<T>> + Send + 'static,
    {
        let cache = self.clone();
        let write = write(db.clone());
        tokio::spawn(async move {
            let done = write.await;
            cache.changed();
            done
        })
        .await
        .map_err(|_| AppError::Internal)?
    }

    /// Forgets everything: users or sessions changed. Call it after the change is committed.
    pub fn changed(&self) {
        let mut inner = self.inner();
        inner.generation += 1;
        inner.entries.clear();
    }

    fn set_usable(&self, usable: bool) {
        let mut inner = self.inner();
        inner.usable = usable;
        inner.generation += 1;
        inner.entries.clear();
    }

    /// Whether lookups are answered from here now (for tests).
    pub fn is_usable(&self) -> bool {
        self.inner().usable
    }
}

/// On PostgreSQL, makes `cache` usable and keeps it in step with the other instances until `stop`
/// turns true; returns at once on SQLite. Listens on a connection of its own, not one of the
/// pool's (a pool of one would otherwise have none left for requests), and listens again after a
/// failure; the cache is not used meanwhile.
pub async fn listen(db: Db, cache: SessionCache, mut stop: tokio::sync::watch::Receiver<bool>) {
    let Db::Postgres(pool, _) = db else { return };
    // Named, so that an operator (or a test) finds it in `pg_stat_activity`.
    let options = (*pool.connect_options())
        .clone()
        .application_name(LISTENER_NAME);
    loop {
        let error = tokio::select! {
            error = follow(&options, &cache) => error,
            _ = stop.wait_for(|stop| *stop) => break,
        };
        cache.set_usable(false);
        tracing::warn!(%error, "not listening for session changes; trying again in a second");
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.wait_for(|stop| *stop) => break,
        }
    }
    // Requests still being finished must not be answered from a cache nobody keeps current.
    cache.set_usable(false);
}

/// Listens on [`CHANNEL`] and clears `cache` at each notification, until listening fails.
async fn follow(options: &sqlx::postgres::PgConnectOptions, cache: &SessionCache) -> sqlx::Error {
    use sqlx::postgres::{PgListener, PgPoolOptions};
    let broken = |what: &str| {
        sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("the listening connection {what}"),
        ))
    };
    let listening = async {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_with(options.clone())
            .await?;
        let mut listener = PgListener::connect_with(&pool).await?;
        // A lost connection must end the listening here (and the cache's use with it), not be
        // made again inside `try_recv` while the cache goes on being used.
        listener.eager_reconnect(false);
        listener.listen(CHANNEL).await?;
        Ok::<_, sqlx::Error>((pool, listener))
    };
    let (_pool, mut listener) = match listening.await {
        Ok(listening) => listening,
        Err(error) => return error,
    };
    // From here on no change is missed; what was remembered before may be stale.
    cache.set_usable(true);
    loop {
        match tokio::time::timeout(Duration::from_secs(10), listener.try_recv()).await {
            Ok(Ok(Some(_))) => cache.changed(),
            Ok(Ok(None)) => return broken("was lost"),
            Ok(Err(error)) => return error,
            // Nothing heard for a while: a connection that died without a word (a failover, a
            // firewall forgetting it) would hear nothing forever, so ask it something.
            Err(_) => {
                let asked = sqlx::query("SELECT 1").execute(&mut listener);
                match tokio::time::timeout(Duration::from_secs(5), asked).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => return error,
                    Err(_) => return broken("does not answer"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anna() -> CurrentUser {
        CurrentUser {
            id: uuid::Uuid::nil(),
            name: "Anna".into(),
            email: "anna@example.it".into(),
            is_admin: true,
            hide_empty_fields: None,
            locale: None,
        }
    }

    #[test]
    fn a_session_read_is_remembered_until_something_changes() {
        let cache = SessionCache::new(Backend::Sqlite);
        let seen = crate::db::now();
        cache.put(cache.ticket(), b"token".to_vec(), anna(), seen);
        assert_eq!(cache.get(b"token"), Some((anna(), seen)));
        assert_eq!(cache.get(b"another"), None);
        cache.changed();
        assert_eq!(cache.get(b"token"), None);
    }

    #[test]
    fn a_lookup_that_began_before_a_change_is_not_remembered() {
        let cache = SessionCache::new(Backend::Sqlite);
        let ticket = cache.ticket();
        // Anna is made a member while her session is being read: what was read may be old.
        cache.changed();
        cache.put(ticket, b"token".to_vec(), anna(), crate::db::now());
        assert_eq!(cache.get(b"token"), None);
    }

    #[test]
    fn on_postgresql_nothing_is_remembered_until_the_instance_listens() {
        let cache = SessionCache::new(Backend::Postgres);
        cache.put(cache.ticket(), b"token".to_vec(), anna(), crate::db::now());
        assert_eq!(cache.get(b"token"), None);
        cache.set_usable(true);
        cache.put(cache.ticket(), b"token".to_vec(), anna(), crate::db::now());
        assert!(cache.get(b"token").is_some());
        // Listening failed: what was remembered may miss a change from now on.
        cache.set_usable(false);
        assert_eq!(cache.get(b"token"), None);
    }
}
