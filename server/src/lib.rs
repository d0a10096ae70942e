//! The composition root: configuration, database, router, background tasks (the session janitor,
//! the message dispatcher) and the CLI's commands.
//! No business rules live here; they are in `app`.

pub mod seed;

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context;
use app::{
    auth::ssr::{purge_idle_sessions, same_origin_layer, session_layer},
    db::{Db, DbError, PoolSettings},
    error::error_status_layer,
    shell,
    state::{AppState, AuthSettings},
    App,
};
use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Json, Response},
    routing::get,
    Router,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower::Layer;
use tower_http::{
    compression::{
        predicate::{DefaultPredicate, Predicate, SizeAbove},
        CompressionLayer, CompressionLevel,
    },
    services::{ServeDir, ServeFile},
    set_header::{SetResponseHeader, SetResponseHeaderLayer},
    trace::TraceLayer,
};

/// Everything `rubrica serve` needs, already parsed.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub database_url: String,
    pub pool: PoolSettings,
    pub addr: SocketAddr,
    pub site_root: PathBuf,
    pub auth: AuthSettings,
    pub mail: app::mail::MailSettings,
    pub providers: app::conversations::providers::Providers,
    pub dispatch_lease: chrono::Duration,
}

/// Opens the database named by `url` and brings its schema up to date.
pub async fn open_database(url: &str, pool: &PoolSettings) -> Result<Db, DbError> {
    let db = Db::connect(url, pool).await?;
    db.migrate().await?;
    Ok(db)
}

pub fn leptos_options(site_root: &std::path::Path, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("rubrica")
        .site_root(site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(leptos::config::Env::PROD)
        .build()
}

/// The whole HTTP surface: pages, server functions, static files and `/healthz`.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    // The wasm, JS and CSS bundles: served from the `.br` / `.gz` files `cargo leptos build
    // --precompress` writes next to them when the browser accepts those (compressed once, at the
    // best level, instead of on every request). Pages name them under this build's own prefix
    // (`AppState::bundle_root`), kept for a year without asking again; under `/pkg` itself (the
    // unsubscribe page, scripts) they are revalidated each time (Last-Modified → 304).
    //
    // ServeDir says nothing of the encoding it chose, so `Vary` is added: a shared cache must not
    // hand the .br it stored to a browser that asked for gzip.
    let site_root = std::path::Path::new(options.site_root.as_ref());
    let pkg = site_root.join(options.site_pkg_dir.as_ref());
    let bundles = || ServeDir::new(&pkg).precompressed_br().precompressed_gzip();
    let files = Router::new()
        .nest_service(
            &format!("{}/{}", state.bundle_root, options.site_pkg_dir),
            cached_for("max-age=31536000, immutable", bundles()),
        )
        .nest_service(
            &format!("/{}", options.site_pkg_dir),
            cached_for("no-cache", bundles()),
        )
        // The contact page's and Settings' stylesheet (see `app::ui::SCREENS_CSS`), revalidated.
        .route_service(
            app::ui::SCREENS_CSS,
            cached_for(
                "no-cache",
                ServeFile::new(site_root.join("screens.css"))
                    .precompressed_br()
                    .precompressed_gzip(),
            ),
        )
        .layer(SetResponseHeaderLayer::if_not_present(
            header::VARY,
            HeaderValue::from_static("accept-encoding"),
        ));
    Router::new()
        .route("/healthz", get(healthz))
        .merge(files)
        .merge(app::conversations::signed_in_routes())
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(error_status_layer))
        .layer(middleware::from_fn_with_state(state.clone(), session_layer))
        .layer(middleware::from_fn(server_timing))
        .layer(middleware::from_fn(same_origin_layer))
        // Reached from outside, without a session and from other sites by design (a mail
        // program's one-click unsubscribe, providers' webhooks): each checks its own key.
        .merge(app::conversations::public_routes())
        // Brotli's own default is its slowest quality (11): milliseconds of CPU for every JSON
        // answer. 4 compresses about as well as gzip's default, as fast (the bundles are compressed
        // ahead of time at the highest settings, see `build.sh`). An answer that fits in one
        // network packet as it is (a contact page's data: 1.2 KB, 650 bytes compressed) goes in
        // one packet either way, and compressing it was a fifth of the server's CPU under load.
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Precise(4))
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(ONE_PACKET))),
        )
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Bodies shorter than this are sent as they are: with the answer's headers they fit in one TCP
/// segment of an Ethernet path (1,460 bytes).
const ONE_PACKET: u16 = 1_200;

/// `service` with its answers' `Cache-Control` set to `policy`.
fn cached_for<S>(policy: &'static str, service: S) -> SetResponseHeader<S, HeaderValue> {
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static(policy))
        .layer(service)
}

/// Tells the browser how long the server took (`Server-Timing: app;dur=1.234`, in milliseconds,
/// shown by developer tools and read by `bench.sh`): session lookup, access checks and the work
/// itself, without the network or the client. For pages, which stream, it is the time to the
/// first byte. Not for the bundles: files read from disk, whose header would only add bytes.
async fn server_timing(req: Request, next: Next) -> Response {
    if app::state::is_bundle_path(req.uri().path()) {
        return next.run(req).await;
    }
    let start = std::time::Instant::now();
    let mut response = next.run(req).await;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    if let Ok(value) = HeaderValue::from_str(&format!("app;dur={ms:.3}")) {
        response.headers_mut().insert("server-timing", value);
    }
    response
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let database = state.db.backend().name();
    match state.db.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({ "status": "ok", "database": database })),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable", "database": database })),
            )
        }
    }
}

/// Binds the address with a message that says what to do when it is taken.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => anyhow::anyhow!(
            "cannot listen on {addr}: the address is already in use. Stop the program using it, or \
             choose another address with --addr or RUBRICA_ADDR (e.g. 127.0.0.1:3001)."
        ),
        std::io::ErrorKind::PermissionDenied => anyhow::anyhow!(
            "cannot listen on {addr}: permission denied. Use a port above 1023, e.g. --addr 127.0.0.1:3000."
        ),
        _ => anyhow::anyhow!("cannot listen on {addr}: {e}"),
    })
}

/// A running server: where it listens, and how to stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    dispatcher: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Asks the server to finish the requests in flight and stop, and waits for it.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        self.wait().await
    }

    /// Waits until the server has stopped: HTTP first, then the dispatcher, which finishes the
    /// sends it has begun and records how they went (so that a stopped instance leaves no message
    /// claimed and half sent for another one to send again).
    pub async fn wait(self) -> anyhow::Result<()> {
        let served = self.task.await.context("the server task")?;
        if let Some(dispatcher) = self.dispatcher {
            dispatcher.await.context("the dispatcher task")?;
        }
        served
    }
}

/// Starts serving on `listener` in a background task; it stops on [`Running::stop`] or, when
/// `on_signal` is given, on SIGTERM / Ctrl-C.
pub async fn start(
    listener: TcpListener,
    state: AppState,
    on_signal: Option<Termination>,
) -> anyhow::Result<Running> {
    start_with(listener, state, on_signal, true).await
}

/// [`start`], choosing whether the message dispatcher runs in the background (tests that drive it
/// step by step with `Dispatcher::run_due` leave it out).
pub async fn start_with(
    listener: TcpListener,
    state: AppState,
    on_signal: Option<Termination>,
    dispatch: bool,
) -> anyhow::Result<Running> {
    let addr = listener.local_addr()?;
    let (shutdown, stopped) = tokio::sync::watch::channel(false);
    let app = router(state.clone());

    // SIGTERM stops everything the same way `Running::stop` does: the dispatcher too.
    if let Some(termination) = on_signal {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            termination.received().await;
            tracing::info!("shutting down: finishing requests and sends in flight");
            let _ = shutdown.send(true);
        });
    }

    // Idle sessions are refused when used anyway, and fully refilled sign-in allowances are the
    // same as none: this only keeps the tables small.
    let janitor_state = state.clone();
    let mut janitor_stop = stopped.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tokio::select! {
                _ = every.tick() => {
                    if let Ok(n) = purge_idle_sessions(&janitor_state).await {
                        if n > 0 {
                            tracing::info!(sessions = n, "removed idle sessions");
                        }
                    }
                    let _ = app::auth::ssr::throttle::forget_refilled(&janitor_state.db, app::db::now()).await;
                }
                _ = janitor_stop.changed() => break,
            }
        }
    });

    // On PostgreSQL, other instances' changes to users and sessions clear this one's memory of
    // who each session is (until it listens, it asks the database every time).
    tokio::spawn(app::auth::cache::listen(
        state.db.clone(),
        state.sessions.clone(),
        stopped.clone(),
    ));

    // Scheduled and queued messages go out from here, whether or not anyone has a page open.
    let dispatcher = dispatch.then(|| tokio::spawn(state.dispatcher().run(stopped.clone())));

    let mut http_stop = stopped;
    let task = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service())
            .with_graceful_shutdown(async move {
                let _ = http_stop.wait_for(|stop| *stop).await;
            })
            .await
            .context("serving HTTP")
    });
    Ok(Running {
        addr,
        state,
        shutdown,
        task,
        dispatcher,
    })
}

/// SIGTERM and Ctrl-C, listened for from the moment this is made. It must be made before the
/// port is bound: a signal that arrives once connections are accepted but before anyone listens
/// for it would kill the process with the default action instead of stopping it cleanly.
pub struct Termination {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Termination {
    pub fn listen() -> Self {
        Termination {
            #[cfg(unix)]
            terminate: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(|e| tracing::warn!(error = %e, "cannot listen for SIGTERM"))
                .ok(),
        }
    }

    async fn received(self) {
        // Ctrl-C's handler is installed on the first poll; it only matters at a terminal, where
        // the server is long started by the time anyone presses it.
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async move {
            match self.terminate {
                Some(mut signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            _ = terminate => {},
        }
    }
}

/// `rubrica serve`: migrate, listen, serve until SIGTERM.
pub async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let termination = Termination::listen();
    let db = open_database(&config.database_url, &config.pool).await?;
    let listener = bind(config.addr).await?;
    let addr = listener.local_addr()?;
    let state = AppState::new(
        leptos_options(&config.site_root, addr),
        db.clone(),
        config.auth,
    )
    .with_mail(config.mail)
    .with_providers(config.providers);
    let state = AppState {
        dispatch_lease: config.dispatch_lease,
        ..state
    };
    let state_mail_on = state.mail.mailer.is_some();
    let running = start(listener, state, Some(termination)).await?;
    tracing::info!(
        url = %format!("http://{addr}"),
        database = db.backend().name(),
        email = if state_mail_on { "on" } else { "off (links are shown instead)" },
        "Rubrica is listening"
    );
    running.wait().await?;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}
