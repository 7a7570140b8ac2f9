//! Building and running the application: database, REST identity, router, listener.

use crate::config::{Config, Secret};
use crate::serve::ConnectionLimits;
use crate::state::AppState;
use crate::{console, layers, rest};
use anyhow::Context;
use app::ConsoleState;
use axum::http::{header, HeaderValue, StatusCode};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use messaging::delivery::hub::Hub;
use messaging::delivery::Keepalive;
use messaging::webhooks::DeliveryPolicy;
use messaging::{Backend, MediaLimits, Messaging, SettingsOverrides};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub struct Application {
    listener: TcpListener,
    hub: Arc<Hub>,
    router: Router,
    messaging: Messaging,
    limits: ConnectionLimits,
    /// `/sign-in/{token}` when this start minted a one-time link (no HERALD_ADMIN_PASSWORD).
    sign_in_path: Option<String>,
    state: AppState,
    /// `/metrics`' listener and the recorder's handle (HERALD_METRICS_ADDR).
    metrics: Option<(TcpListener, metrics_exporter_prometheus::PrometheusHandle)>,
    /// On SIGTERM, how long `/readyz` says 503 before the listener closes.
    drain: Duration,
    /// SQLite: the shared lock that keeps a restore away while this server runs.
    _lock: Option<messaging::operations::backup::ServerLock>,
}

impl Application {
    /// Opens and migrates the database, makes sure the platform owner and the REST identity
    /// exist, builds the router and binds the listener (port 0 works: see [`Self::addr`]).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        tracing::info!(?config, "starting Herald");
        let lock = messaging::operations::backup::ServerLock::take(&config.database_url)?;
        let metrics = match config.metrics_addr {
            Some(addr) => {
                let listener = TcpListener::bind(addr).await.with_context(|| format!("binding the metrics listener {addr}"))?;
                Some((listener, crate::metrics::install()?))
            }
            None => None,
        };
        let overrides = SettingsOverrides {
            webhook_url: config.webhook_url.clone(),
            webhook_secret: config.webhook_secret.as_ref().map(|s| s.expose().to_owned()),
            push_url: config.push_url.clone(),
            broadcasts_per_second: config.broadcasts_per_second,
            broadcasts_per_hour: config.broadcasts_per_hour,
            rest_calls_per_second: config.rest_calls_per_second,
            session_idle_hours: config.session_idle_hours,
            edit_window_days: config.edit_window_days,
            sources: Config::setting_sources(),
        };
        let delivery = DeliveryPolicy { max_attempts: config.delivery_max_attempts, max_age_secs: config.delivery_max_age_secs };
        let messaging = Messaging::open(&config.database_url)
            .await
            .context("opening the database")?
            .with_settings_overrides(overrides)
            .with_delivery_policy(delivery)
            .with_rest_administrator(&config.admin_identifier)
            .with_media_limits(MediaLimits { max_bytes: config.upload_max_bytes, max_pixels: config.upload_max_pixels });
        let identity = messaging.load_identity(config.sdkappid, config.secret_key.as_ref().map(|s| s.expose().to_owned())).await?;
        messaging.load_settings().await?;
        if !identity.from_environment {
            tracing::info!(
                sdkappid = identity.sdkappid,
                "REST identity stored in the database; the console's Settings page shows the secret key"
            );
        }

        let listener = TcpListener::bind(config.addr).await.with_context(|| format!("binding {}", config.addr))?;
        let addr = listener.local_addr()?;

        let sign_in_path = messaging
            .console()
            .ensure_platform_owner(config.admin_password.as_ref().map(Secret::expose))
            .await?
            .map(|token| format!("/sign-in/{token}"));
        match &sign_in_path {
            // The link is the one secret we print: it is the only way in on a first start.
            Some(path) => tracing::warn!(
                "no HERALD_ADMIN_PASSWORD: sign in once at http://{addr}{path} (valid 24 h), then set a password in Settings"
            ),
            None => tracing::info!("console user `admin` is ready"),
        }

        let leptos_options = LeptosOptions::builder()
            .output_name(build_name(&config.site_root))
            .site_root(config.site_root.to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .build();
        let console_state = ConsoleState {
            messaging: messaging.clone(),
            admin_identifier: config.admin_identifier.clone(),
            public_url: config.public_url.as_deref().map(|u| u.trim_end_matches('/').to_owned()),
        };
        let keepalive = Keepalive::parse(config.client_ping_secs, config.client_silence_secs)
            .map_err(|e| anyhow::anyhow!("HERALD_CLIENT_PING_SECS / HERALD_CLIENT_SILENCE_SECS: {e}"))?;
        let hub = Hub::start(messaging.clone(), keepalive);
        let state = AppState {
            hub: hub.clone(),
            leptos_options,
            messaging: messaging.clone(),
            rest: Arc::new(rest::RestIdentity::new(messaging.clone(), config.admin_identifier.clone())),
            console: console_state,
            public_origin: config.public_origin().map(Arc::from),
            public_web: crate::public::PublicWeb::new(
                config.public_url.clone(),
                config.app_link_template.clone(),
                config.public_requests_per_second,
            ),
            drain: Default::default(),
        };
        let router = router(state.clone(), &config).await?;
        let limits = ConnectionLimits {
            header_read: Duration::from_secs(config.header_timeout_secs.max(1)),
            idle: Duration::from_secs(config.idle_timeout_secs.max(1)),
            shutdown: Duration::from_secs(config.shutdown_timeout_secs),
        };
        Ok(Self {
            listener,
            hub,
            router,
            messaging,
            limits,
            sign_in_path,
            state,
            metrics,
            drain: Duration::from_secs(config.drain_secs),
            _lock: lock,
        })
    }

    /// The one-time sign-in path printed on this start, if one was minted.
    pub fn sign_in_path(&self) -> Option<&str> {
        self.sign_in_path.as_deref()
    }

    /// This node's `messaging` handle, for tests that move its delivery clock.
    #[cfg(feature = "testing")]
    pub fn messaging(&self) -> messaging::Messaging {
        self.messaging.clone()
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Where `/metrics` is served, when it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }

    /// Serves until Ctrl-C or SIGTERM, then drains (docs/operations.md): `/readyz` turns 503 and
    /// client connections are closed with 1012 at once; on SIGTERM the node keeps answering for
    /// HERALD_DRAIN_SECS so a load balancer sees it leave (Ctrl-C, a person at a terminal, skips
    /// that wait); then the listener closes and requests in flight finish.
    pub async fn run_until_stopped(mut self) -> anyhow::Result<()> {
        let (interrupted, heard) = tokio::sync::oneshot::channel();
        let signal = async move {
            let _ = interrupted.send(shutdown_signal().await);
        };
        let drain = self.drain;
        self.drain = Duration::ZERO;
        let wait = async move {
            if let Ok(Signal::Terminate) = heard.await {
                tokio::time::sleep(drain).await;
            }
        };
        self.run_draining(signal, wait).await
    }

    /// Serves until `shutdown` completes (tests stop a server this way to restart it), then
    /// drains for HERALD_DRAIN_SECS.
    pub async fn run_until(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let drain = self.drain;
        self.run_draining(shutdown, tokio::time::sleep(drain)).await
    }

    async fn run_draining(
        mut self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
        drain: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!("listening on http://{}", self.addr());
        let (metrics_stop, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
        if let Some((listener, handle)) = self.metrics.take() {
            crate::metrics::serve(listener, handle.clone(), async move {
                let _ = metrics_stopped.await;
            });
            tokio::spawn(crate::metrics::sample(self.state.clone(), handle));
        }
        // "After" webhooks left over from before a restart go out first.
        let outbox = tokio::spawn(self.messaging.clone().deliver_webhooks());
        // So do push jobs a crash interrupted, from the batch the push hook had not taken.
        let pushes = tokio::spawn(self.messaging.clone().deliver_pushes());
        // Scheduled posts that came due while the server was down are published now.
        let scheduled = tokio::spawn(self.messaging.clone().publish_scheduled_posts());
        // Read marks journaled before a crash are counted first, then every second.
        let reads = tokio::spawn(self.messaging.insights().clone().count_reads());
        // PostgreSQL: every node's changes reach this node's hub.
        let (ready, listening_ready) = tokio::sync::oneshot::channel();
        let listening = tokio::spawn(self.messaging.clone().listen_for_changes(ready));
        if tokio::time::timeout(Duration::from_secs(10), listening_ready).await.is_err() {
            tracing::warn!("LISTEN is not in place after 10 s; serving anyway (live events may be late until it is)");
        }
        // Client connections are upgraded sockets the accept loop no longer tracks: the hub
        // closes them when the stop signal comes.
        let (hub, state) = (self.hub.clone(), self.state.clone());
        let shutdown = async move {
            shutdown.await;
            tracing::info!("stopping: not ready any more, client connections closed with 1012");
            state.drain.begin();
            hub.stop().await;
            drain.await;
        };
        crate::serve::serve(self.listener, self.router, self.limits, shutdown).await?;
        // The workers finish the request they are making (at most a webhook timeout), then
        // the leases are let go, so the next node to start delivers at once.
        self.messaging.stop_workers();
        for worker in [outbox, pushes, scheduled, reads, listening] {
            let abort = worker.abort_handle();
            if tokio::time::timeout(Duration::from_secs(6), worker).await.is_err() {
                abort.abort();
            }
        }
        if let Err(e) = self.messaging.release_leases().await {
            tracing::warn!(error = %e, "could not release worker leases");
        }
        self.messaging.close().await;
        let _ = metrics_stop.send(());
        tracing::info!("stopped");
        Ok(())
    }
}

/// The name of the built front end's files in `pkg/`: `herald-{hash}` as `scripts/build.sh`
/// writes it to `pkg/build.txt` (a new build, a new name, so browsers may cache them forever),
/// or `herald` for a build without it (cargo-leptos).
fn build_name(site_root: &Path) -> String {
    std::fs::read_to_string(site_root.join("pkg/build.txt"))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or_else(|| "herald".to_owned())
}

/// `/pkg`: the built front end, precompressed (brotli, gzip) by the build. Files named with
/// this build's hash never change, so they are cached for a year; anything else is revalidated.
fn pkg_service(site_root: &Path, build: &str) -> Router<AppState> {
    let files = tower_http::services::ServeDir::new(site_root.join("pkg")).precompressed_br().precompressed_gzip();
    let hashed = format!("/pkg/{build}.");
    let immutable = build != "herald";
    Router::new().nest_service("/pkg", files).layer(axum::middleware::map_response(
        move |uri: axum::http::Uri, mut response: axum::response::Response| {
            let cache = if immutable && uri.path().starts_with(&hashed) && response.status() == StatusCode::OK {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            async move { response }
        },
    ))
}

async fn router(state: AppState, config: &Config) -> anyhow::Result<Router> {
    let routes = generate_route_list(app::App);
    let console_state = state.console.clone();
    let leptos_options = state.leptos_options.clone();
    let (upload, media) = crate::media::routes(config.upload_max_bytes);
    let pages = Router::<AppState>::new()
        .merge(upload)
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(console_state.clone());
                // A fresh nonce per page: the hydration script carries it, the CSP names it.
                leptos::nonce::provide_nonce();
            },
            move || app::shell(leptos_options.clone()),
        )
        .route("/sign-in/{token}", axum::routing::get(console::redeem_sign_in_link))
        .route("/accounts/{id}/inbox/live", axum::routing::get(crate::client::inbox_live))
        .route("/accounts/{id}/insights/{table}", axum::routing::get(crate::insights_csv::download))
        .route("/accounts/{id}/export.zip", axum::routing::get(crate::export::download))
        .route(
            "/try",
            axum::routing::get({
                let site_root = config.site_root.clone();
                move || crate::try_page::page(site_root.clone())
            }),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(axum::middleware::from_fn(layers::finish_abandoned_pages))
        .layer(axum::middleware::from_fn(console::server_fn_status))
        .layer(axum::middleware::from_fn(console::require_sign_in))
        .layer(axum::middleware::from_fn_with_state(state.clone(), console::identify));

    // Sessions live in the same database, in tower-sessions' own table.
    let secure = config.cookie_secure();
    let pages = match state.messaging.backend() {
        Backend::Sqlite => pages.layer(console::sqlite_sessions(&config.database_url, secure).await?),
        Backend::Postgres => pages.layer(console::postgres_sessions(&config.database_url, secure).await?),
    };
    let request_timeout = Duration::from_secs(config.request_timeout_secs.max(1));
    let build = state.leptos_options.output_name.to_string();
    let health = Router::new()
        .route("/healthz", axum::routing::get(crate::health::healthz))
        .route("/readyz", axum::routing::get(crate::health::readyz));
    Ok(Router::new()
        .merge(health)
        .merge(testing_routes())
        .merge(rest::router())
        .merge(crate::public::router())
        .merge(crate::client::router())
        .merge(pages)
        .merge(media)
        .merge(pkg_service(&config.site_root, &build))
        .layer(axum::middleware::from_fn_with_state(state.clone(), layers::refuse_cross_site))
        .layer(axum::middleware::from_fn(layers::console_headers))
        // Pages and JSON are compressed on the fly; /pkg files arrive precompressed (and
        // responses that already have a Content-Encoding are left alone).
        .layer(tower_http::compression::CompressionLayer::new().gzip(true).br(true))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(request_timeout))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, request_timeout))
        .layer(axum::middleware::from_fn(crate::metrics::http_layer))
        .layer(layers::trace_layer())
        .layer(axum::middleware::from_fn(layers::request_id))
        .with_state(state))
}

/// Test builds only: a REST command and a page whose handlers panic, so tests can see what a
/// caught panic answers.
#[cfg(feature = "testing")]
fn testing_routes() -> Router<AppState> {
    async fn panics() -> &'static str {
        panic!("a test asked for a panic")
    }
    Router::new().route("/v4/testing/panic", axum::routing::post(panics)).route("/testing/panic", axum::routing::get(panics))
}

#[cfg(not(feature = "testing"))]
fn testing_routes() -> Router<AppState> {
    Router::new()
}

/// Which stop signal came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Interrupt,
    Terminate,
}

async fn shutdown_signal() -> Signal {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => Signal::Interrupt, _ = terminate => Signal::Terminate }
}
