//! The console's HTTP plumbing: sessions in the database, the sign-in guard for pages, the
//! status of server-function refusals, and one-time sign-in links. The pages themselves and
//! their server functions live in `app`.

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::str::FromStr;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, Session, SessionManagerLayer, SessionStore};
use tower_sessions_sqlx_store::{sqlx, PostgresStore, SqliteStore};

/// Expired sessions are deleted this often (the store's own task).
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Cookie rules for every backend: HttpOnly, SameSite=Lax, `Secure` as configured (on by
/// default when the public URL is https), a week of inactivity ends it. Starts the store's
/// pruning of expired sessions.
fn layer<S: SessionStore + Clone + ExpiredDeletion>(store: S, secure: bool) -> SessionManagerLayer<S> {
    tokio::spawn(store.clone().continuously_delete_expired(PRUNE_EVERY));
    SessionManagerLayer::new(store)
        .with_name("herald_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(7)))
}

pub async fn sqlite_sessions(url: &str, secure: bool) -> anyhow::Result<SessionManagerLayer<SqliteStore>> {
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .busy_timeout(std::time::Duration::from_secs(5));
    let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
    let store = SqliteStore::new(pool);
    store.migrate().await?;
    Ok(layer(store, secure))
}

pub async fn postgres_sessions(url: &str, secure: bool) -> anyhow::Result<SessionManagerLayer<PostgresStore>> {
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(4).connect(url).await?;
    let store = PostgresStore::new(pool);
    store.migrate().await?;
    Ok(layer(store, secure))
}

/// Finds who is asking, once per request: the console session named by the cookie session, if
/// it is still open. Puts [`app::SignedIn`] in the request's extensions (pages, server functions
/// and console endpoints read it there), and runs the request as that user for the audit log.
pub async fn identify(State(state): State<AppState>, session: Session, mut req: Request, next: Next) -> Response {
    match app::resolve_session(&state.messaging, &session).await {
        Ok(Some(signed_in)) => {
            let actor = messaging::audit::Actor { name: signed_in.user.username.clone(), address: crate::layers::peer_ip(&req) };
            req.extensions_mut().insert(signed_in);
            messaging::audit::acting_as(actor, next.run(req)).await
        }
        Ok(None) => {
            // Nobody signed in: only the address is known (an invitation being accepted).
            let actor = messaging::audit::Actor { name: String::new(), address: crate::layers::peer_ip(&req) };
            messaging::audit::acting_as(actor, next.run(req)).await
        }
        Err(e) => {
            tracing::error!(error = %e, "reading a console session failed");
            axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Refuses signed-out calls of server functions that are not public ([`app::is_public_server_fn`])
/// with 401 before their arguments are read, sends signed-out visitors of console pages to the
/// sign-in page, and `/` to the accounts.
/// Which pages need a session is decided by `app::is_protected_page`, next to the routes.
/// `/settings/` is `/settings`: a trailing slash is dropped first. A session that ended (signed
/// out elsewhere, idle too long, the user disabled) was not identified: its next page is the
/// sign-in page.
pub async fn require_sign_in(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/") {
        if req.extensions().get::<app::SignedIn>().is_none() && !app::is_public_server_fn(path) {
            return signed_out_server_fn(path);
        }
        return next.run(req).await;
    }
    if path.len() > 1 && path.ends_with('/') && app::is_protected_page(path) {
        let trimmed = path.trim_end_matches('/');
        let to = if trimmed.is_empty() { "/" } else { trimmed };
        return Redirect::permanent(to).into_response();
    }
    if !app::is_protected_page(path) {
        return next.run(req).await;
    }
    let signed_in = req.extensions().get::<app::SignedIn>().is_some();
    match (signed_in, path) {
        (false, _) => Redirect::to("/login").into_response(),
        (true, "/") => Redirect::to("/accounts").into_response(),
        (true, _) => next.run(req).await,
    }
}

/// A server function's refusal of a signed-out caller, as the function itself would answer
/// [`app::error::ConsoleError::SignedOut`]: 401, the error as JSON, Leptos's error header.
fn signed_out_server_fn(path: &str) -> Response {
    let body = serde_json::to_string(&app::error::ConsoleError::SignedOut).unwrap_or_default();
    let mut response = (axum::http::StatusCode::UNAUTHORIZED, body).into_response();
    let headers = response.headers_mut();
    headers.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    if let Ok(value) = axum::http::HeaderValue::from_str(path) {
        headers.insert("serverfnerror", value);
    }
    response
}

/// Gives a server function's error response the status its [`app::error::ConsoleError`] calls
/// for (Leptos answers every server-function error with 500): a wrong password is a 403, an
/// invalid field a 422, so only real failures show up as 5xx.
pub async fn server_fn_status(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let response = next.run(req).await;
    if response.status() != axum::http::StatusCode::INTERNAL_SERVER_ERROR || !response.headers().contains_key("serverfnerror") {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "server function error").into_response();
    };
    if let Ok(error) = serde_json::from_slice::<app::error::ConsoleError>(&bytes) {
        if let Ok(status) = axum::http::StatusCode::from_u16(error.status_code()) {
            parts.status = status;
        }
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// `GET /sign-in/{token}`: the one-time link printed on first start.
pub async fn redeem_sign_in_link(
    State(state): State<AppState>,
    session: Session,
    headers: axum::http::HeaderMap,
    req: Request,
) -> Response {
    let token = req.uri().path().trim_start_matches("/sign-in/").to_owned();
    let address = crate::layers::peer_ip(&req);
    let agent = headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    match state.messaging.console().redeem_sign_in_token(&token).await {
        Ok(user) => match app::start_session(&state.messaging, &session, &user, &address, agent, "one-time link").await {
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
