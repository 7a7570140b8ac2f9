//! Server-only helpers for the console's server functions: the shared state, and who is
//! signed in (a `console_session` row named by the tower-sessions session).

use crate::error::ConsoleError;
use leptos::prelude::*;
use messaging::{ConsoleUser, Messaging};
use tower_sessions::Session;

/// What server functions need; the server provides it as Leptos context.
#[derive(Clone)]
pub struct ConsoleState {
    pub messaging: Messaging,
    pub admin_identifier: String,
    /// `HERALD_PUBLIC_URL` without a trailing `/`: the public web's links shown in the console.
    pub public_url: Option<String>,
}

/// The browser's session holds only the ID of its `console_session` row (`messaging`).
const SESSION_KEY: &str = "console_session";

/// Who a request comes from, found once per request by the server's `identify` layer and kept
/// in the request's extensions for pages and server functions.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: ConsoleUser,
    pub session_id: String,
}

/// The signed-in user of `session`, if its console session is still open (not ended, not idle
/// too long, the user not disabled). A session whose row is gone is cleared.
pub async fn resolve_session(messaging: &Messaging, session: &Session) -> messaging::Result<Option<SignedIn>> {
    let Some(session_id) = session.get::<String>(SESSION_KEY).await.ok().flatten() else {
        return Ok(None);
    };
    match messaging.console().console_session_user(&session_id).await? {
        Some(user) => Ok(Some(SignedIn { user, session_id })),
        None => {
            let _ = session.flush().await;
            Ok(None)
        }
    }
}

/// Signs `user` in: a console session row (with its audit event), a new cookie session ID (no
/// fixation) holding the row's ID. `how` says how they signed in, for the audit log.
pub async fn start_session(
    messaging: &Messaging,
    session: &Session,
    user: &ConsoleUser,
    address: &str,
    user_agent: &str,
    how: &str,
) -> Result<(), ConsoleError> {
    let id = messaging.console().open_console_session(user, address, user_agent, how).await?;
    session.cycle_id().await.map_err(|e| ConsoleError::Server(e.to_string()))?;
    session.insert(SESSION_KEY, &id).await.map_err(|e| ConsoleError::Server(e.to_string()))
}

/// [`start_session`] from inside a server function (address and browser from the request).
pub async fn start_session_here(user: &ConsoleUser, how: &str) -> Result<(), ConsoleError> {
    let state = state()?;
    let session = session().await?;
    let address = client_address().await;
    let agent = user_agent().await;
    start_session(&state.messaging, &session, user, &address, &agent, how).await
}

/// The browser's User-Agent header, as sent.
pub async fn user_agent() -> String {
    leptos_axum::extract::<http::HeaderMap>()
        .await
        .ok()
        .and_then(|h| h.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned))
        .unwrap_or_default()
}

pub fn state() -> Result<ConsoleState, ConsoleError> {
    use_context::<ConsoleState>().ok_or_else(|| ConsoleError::Server("console state missing".into()))
}

/// The address of the browser making this request (the TCP peer; behind a proxy, the proxy).
pub async fn client_address() -> String {
    use axum::extract::ConnectInfo;
    leptos_axum::extract::<ConnectInfo<std::net::SocketAddr>>().await.map(|ConnectInfo(peer)| peer.ip().to_string()).unwrap_or_default()
}

pub async fn session() -> Result<Session, ConsoleError> {
    leptos_axum::extract::<Session>().await.map_err(|e| ConsoleError::Server(e.to_string()))
}

/// The signed-in console user, or [`ConsoleError::SignedOut`].
pub async fn signed_in() -> Result<(ConsoleState, ConsoleUser), ConsoleError> {
    let (state, signed_in) = signed_in_session().await?;
    Ok((state, signed_in.user))
}

/// The signed-in user with their session's ID (the Your account page marks it), or
/// [`ConsoleError::SignedOut`].
pub async fn signed_in_session() -> Result<(ConsoleState, SignedIn), ConsoleError> {
    let state = state()?;
    match leptos_axum::extract::<axum::Extension<SignedIn>>().await {
        Ok(axum::Extension(signed_in)) => Ok((state, signed_in)),
        Err(_) => Err(ConsoleError::SignedOut),
    }
}

/// An account ID from a page or a server-function argument.
pub fn account_id(raw: &str) -> Result<messaging::OfficialAccountId, ConsoleError> {
    messaging::OfficialAccountId::parse("Official_Account", raw).map_err(|e| messaging::Error::MalformedAccountId(e).into())
}

/// The signed-in console user, when their role allows `action` (on `account`, if it concerns
/// one); `messaging` decides, and a refusal is a 403 with its sentence.
pub async fn allowed(
    action: messaging::Action,
    account: Option<&messaging::OfficialAccountId>,
) -> Result<(ConsoleState, ConsoleUser), ConsoleError> {
    let (state, user) = signed_in().await?;
    state.messaging.console().authorize(&user, action, account).await?;
    Ok((state, user))
}
