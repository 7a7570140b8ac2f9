//! The console's HTTP plumbing: sessions in the database, the sign-in guard for pages, and
//! one-time sign-in links. The pages themselves and their server functions live in `app`.

use crate::startup::AppState;
use axum::extract::{Path, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::str::FromStr;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer, SessionStore};
use tower_sessions_sqlx_store::{sqlx, PostgresStore, SqliteStore};

/// Cookie rules for every backend: HttpOnly, SameSite=Lax, a week of inactivity ends it.
fn layer<S: SessionStore + Clone>(store: S) -> SessionManagerLayer<S> {
    SessionManagerLayer::new(store)
        .with_name("herald_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        // Herald serves plain HTTP on 127.0.0.1 by default; behind TLS, the proxy should set Secure.
        .with_secure(false)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(7)))
}

pub async fn sqlite_sessions(url: &str) -> anyhow::Result<SessionManagerLayer<SqliteStore>> {
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .busy_timeout(std::time::Duration::from_secs(5));
    let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
    let store = SqliteStore::new(pool);
    store.migrate().await?;
    Ok(layer(store))
}

pub async fn postgres_sessions(url: &str) -> anyhow::Result<SessionManagerLayer<PostgresStore>> {
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(4).connect(url).await?;
    let store = PostgresStore::new(pool);
    store.migrate().await?;
    Ok(layer(store))
}

/// Console pages that need a signed-in user. Server functions check for themselves
/// (the sign-in function must be reachable signed out), so they are not listed.
fn is_protected_page(path: &str) -> bool {
    path == "/" || path == "/accounts" || path.starts_with("/accounts/") || path == "/settings"
}

/// Sends signed-out visitors of console pages to the sign-in page, and `/` to the accounts.
pub async fn require_sign_in(session: Session, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !is_protected_page(path) {
        return next.run(req).await;
    }
    let signed_in = app::session_user(&session).await.is_some();
    match (signed_in, path) {
        (false, _) => Redirect::to("/login").into_response(),
        (true, "/") => Redirect::to("/accounts").into_response(),
        (true, _) => next.run(req).await,
    }
}

/// `GET /sign-in/{token}`: the one-time link printed on first start.
pub async fn redeem_sign_in_link(State(state): State<AppState>, session: Session, Path(token): Path<String>) -> Response {
    match state.messaging.redeem_sign_in_token(&token).await {
        Ok(user) => match app::start_session(&session, &user).await {
            Ok(()) => Redirect::to("/settings").into_response(),
            Err(e) => {
                tracing::error!(error = %e, "could not start a session");
                Redirect::to("/login").into_response()
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, "refused a sign-in link");
            Redirect::to("/login?link=invalid").into_response()
        }
    }
}
