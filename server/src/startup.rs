//! Building and running the application: database, REST identity, router, listener.

use crate::config::Config;
use crate::{console, rest};
use anyhow::Context;
use app::ConsoleState;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use messaging::webhooks::WebhookSettings;
use messaging::{AppLimits, Backend, Messaging};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// What every handler may need. Cloning is cheap: everything inside is shared.
#[derive(Clone, axum::extract::FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub messaging: Messaging,
    pub rest: Arc<rest::RestIdentity>,
    pub console: ConsoleState,
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    messaging: Messaging,
    /// `/sign-in/{token}` when this start minted a one-time link (no HERALD_ADMIN_PASSWORD).
    sign_in_path: Option<String>,
}

impl Application {
    /// Opens and migrates the database, makes sure the platform owner and the REST identity
    /// exist, builds the router and binds the listener (port 0 works: see [`Self::addr`]).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        tracing::info!(?config, "starting Herald");
        let messaging = Messaging::open(&config.database_url).await.context("opening the database")?.with_limits(AppLimits {
            broadcasts_per_second: config.broadcasts_per_second,
            broadcasts_per_hour: config.broadcasts_per_hour,
            rest_calls_per_second: config.rest_calls_per_second,
        });
        let identity = messaging.app_identity(config.sdkappid, config.secret_key.clone()).await?;
        let webhooks = WebhookSettings {
            url: config.webhook_url.clone(),
            secret: config.webhook_secret.clone(),
            push_url: config.push_url.clone(),
        };
        let messaging = messaging.with_webhooks(webhooks, identity.sdkappid);
        if !identity.from_environment {
            tracing::info!(sdkappid = identity.sdkappid, "REST identity stored in the database; the console's Settings page shows the secret key");
        }

        let listener = TcpListener::bind(config.addr).await.with_context(|| format!("binding {}", config.addr))?;
        let addr = listener.local_addr()?;

        let sign_in_path = messaging.ensure_platform_owner(config.admin_password.as_deref()).await?.map(|token| format!("/sign-in/{token}"));
        match &sign_in_path {
            // The link is the one secret we print: it is the only way in on a first start.
            Some(path) => tracing::warn!("no HERALD_ADMIN_PASSWORD: sign in once at http://{addr}{path} (valid 24 h), then set a password in Settings"),
            None => tracing::info!("console user `admin` is ready"),
        }

        let leptos_options = LeptosOptions::builder()
            .output_name("herald")
            .site_root(config.site_root.to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .build();
        let console_state = ConsoleState {
            messaging: messaging.clone(),
            identity: identity.clone(),
            admin_identifier: config.admin_identifier.clone(),
        };
        let state = AppState {
            leptos_options,
            messaging: messaging.clone(),
            rest: Arc::new(rest::RestIdentity::new(identity, config.admin_identifier.clone())),
            console: console_state,
        };
        let router = router(state, &config).await?;
        Ok(Self { listener, router, messaging, sign_in_path })
    }

    /// The one-time sign-in path printed on this start, if one was minted.
    pub fn sign_in_path(&self) -> Option<&str> {
        self.sign_in_path.as_deref()
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Serves until Ctrl-C or SIGTERM; in-flight requests finish first.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes (tests stop a server this way to restart it).
    pub async fn run_until(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        tracing::info!("listening on http://{}", self.addr());
        // "After" webhooks left over from before a restart go out first.
        let outbox = tokio::spawn(self.messaging.clone().deliver_webhooks());
        // So do push jobs a crash interrupted, from the batch the push hook had not taken.
        let pushes = tokio::spawn(self.messaging.clone().deliver_pushes());
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await?;
        outbox.abort();
        pushes.abort();
        self.messaging.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

async fn router(state: AppState, config: &Config) -> anyhow::Result<Router> {
    let routes = generate_route_list(app::App);
    let console_state = state.console.clone();
    let leptos_options = state.leptos_options.clone();
    let pages = Router::<AppState>::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(console_state.clone()),
            move || app::shell(leptos_options.clone()),
        )
        .route("/sign-in/{token}", axum::routing::get(console::redeem_sign_in_link))
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(axum::middleware::from_fn(console::require_sign_in));

    // Sessions live in the same database, in tower-sessions' own table.
    let pages = match state.messaging.backend() {
        Backend::Sqlite => pages.layer(console::sqlite_sessions(&config.database_url).await?),
        Backend::Postgres => pages.layer(console::postgres_sessions(&config.database_url).await?),
    };
    Ok(Router::new()
        .merge(rest::router())
        .merge(pages)
        // Server functions answer a refused form (a 151-byte name) with status 500, as Leptos
        // does for every server-function error; real failures are logged where they happen,
        // so a 5xx here is a warning, not an error.
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .on_failure(tower_http::trace::DefaultOnFailure::new().level(tracing::Level::WARN)),
        )
        .with_state(state))
}

async fn shutdown_signal() {
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
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
