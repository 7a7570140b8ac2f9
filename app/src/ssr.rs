//! Server-only helpers for the console's server functions: the shared state, and who is
//! signed in (from the tower-sessions session).

use crate::error::ConsoleError;
use leptos::prelude::*;
use messaging::{AppIdentity, ConsoleUser, Messaging};
use tower_sessions::Session;

/// What server functions need; the server provides it as Leptos context.
#[derive(Clone)]
pub struct ConsoleState {
    pub messaging: Messaging,
    pub identity: AppIdentity,
    pub admin_identifier: String,
}

const USER_KEY: &str = "console_user";

/// The signed-in user name, if any.
pub async fn session_user(session: &Session) -> Option<String> {
    session.get::<String>(USER_KEY).await.ok().flatten()
}

/// Signs `user` in: a new session ID (no fixation), then the user name.
pub async fn start_session(session: &Session, user: &ConsoleUser) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session.insert(USER_KEY, &user.username).await
}

pub fn state() -> Result<ConsoleState, ConsoleError> {
    use_context::<ConsoleState>().ok_or_else(|| ConsoleError::Server("console state missing".into()))
}

/// The address of the browser making this request (the TCP peer; behind a proxy, the proxy).
pub async fn client_address() -> String {
    use axum::extract::ConnectInfo;
    leptos_axum::extract::<ConnectInfo<std::net::SocketAddr>>()
        .await
        .map(|ConnectInfo(peer)| peer.ip().to_string())
        .unwrap_or_default()
}

pub async fn session() -> Result<Session, ConsoleError> {
    leptos_axum::extract::<Session>().await.map_err(|e| ConsoleError::Server(e.to_string()))
}

/// The signed-in console user, or [`ConsoleError::SignedOut`].
pub async fn signed_in() -> Result<(ConsoleState, ConsoleUser), ConsoleError> {
    let state = state()?;
    let session = session().await?;
    let Some(username) = session_user(&session).await else {
        return Err(ConsoleError::SignedOut);
    };
    let user = state.messaging.console_user(&username).await?.ok_or(ConsoleError::SignedOut)?;
    Ok((state, user))
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
    state.messaging.authorize(&user, action, account).await?;
    Ok((state, user))
}
