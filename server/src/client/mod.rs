//! The client protocol's front door (docs/client-protocol.md): `GET /v1/client` upgraded to a WebSocket,
//! for end users' apps. The UserSig is checked before the upgrade (a refusal is HTTP 401 with
//! the REST code); then each request frame becomes one `messaging` call ([`ops`]) and each
//! change the node's hub hears becomes an event frame.
//!
//! The hub writes event frames to the connection's [`socket::Socket`] itself; the connection's
//! task answers requests in order, flushes what the socket could not take at once and tells the
//! hub of every frame it reads (the hub pings every 30 s and drops a connection silent for
//! 90 s). When the hub drops the connection (it fell too far behind: the client does not read;
//! it went silent; or the server stops), the task closes the socket: 1008, 1001, or 1012 when
//! the node drains (the client reconnects, to another node, and catches up).

mod inbox;
mod ops;
mod socket;

pub use inbox::live as inbox_live;

use crate::state::AppState;
use axum::extract::{RawQuery, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::{SinkExt, StreamExt};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use messaging::delivery::hub::Hub;
use messaging::delivery::OpBudget;
use messaging::{Messaging, UserId};
use serde_json::json;
use socket::Socket;
use std::collections::HashMap;
use std::sync::Arc;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/client", get(upgrade))
}

/// Largest request frame read; anything larger closes the connection (1009).
const FRAME_MAX_BYTES: usize = 64 * 1024;
/// Read buffer per connection.
const SOCKET_BUFFER_BYTES: usize = 4 * 1024;

fn refusal(code: u32, desc: impl Into<String>) -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({ "code": code, "desc": desc.into() }))).into_response()
}

async fn upgrade(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    RawQuery(query): RawQuery,
    mut req: Request,
) -> Response {
    let params: HashMap<String, String> = form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let param = |name: &str| params.get(name).filter(|v| !v.is_empty()).cloned();
    if state.drain.draining() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            Json(json!({ "code": 10002, "desc": "this server is restarting: connect again (to another node)" })),
        )
            .into_response();
    }
    let (Some(sdkappid), Some(identifier), Some(usersig)) = (param("sdkappid"), param("identifier"), param("usersig")) else {
        return refusal(60002, "sdkappid, identifier and usersig are required in the query");
    };
    let Ok(sdkappid) = sdkappid.parse::<u64>() else { return refusal(60002, "sdkappid must be a number") };
    if sdkappid != state.messaging.sdkappid() {
        return refusal(70014, "sdkappid is not this server's app");
    }
    if let Err(e) = state.messaging.check_usersig(&usersig, sdkappid, &identifier, state.messaging.now()) {
        return refusal(crate::rest::usersig_code(&e), e.to_string());
    }
    let user = match UserId::parse("identifier", &identifier) {
        Ok(u) => u,
        Err(e) => return refusal(70107, e.to_string()),
    };
    match state.messaging.user_exists(&user).await {
        Ok(true) => {}
        Ok(false) => return refusal(70107, format!("user {user} was never imported")),
        Err(e) => {
            tracing::error!(error = %e, "checking a client's user failed");
            return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "code": 10002, "desc": "internal error, retry later" })))
                .into_response();
        }
    }
    let Some((answer, on_upgrade)) = switch_protocols(&mut req) else {
        return (StatusCode::UPGRADE_REQUIRED, Json(json!({ "code": 60002, "desc": "this address takes a WebSocket upgrade" })))
            .into_response();
    };
    let (m, hub) = (state.messaging.clone(), state.hub.clone());
    // Registered before the upgrade is answered: once the client sees the socket open, every
    // change reaches it (a test, or an app, may act at once); what comes before the upgrade
    // completes waits in the socket.
    let socket = Socket::new();
    let conn = match hub.connect(user.as_str(), socket.clone()).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, %user, "a client connection could not be registered");
            return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "code": 10002, "desc": "internal error, retry later" })))
                .into_response();
        }
    };
    tokio::spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(u) => u,
            Err(e) => {
                tracing::debug!(error = %e, %user, "a client's upgrade failed");
                hub.disconnect(user.as_str(), conn.id);
                return;
            }
        };
        socket.attach(TokioIo::new(upgraded));
        // tungstenite's buffers default to 128 KiB each way, per connection: far more than an
        // idle client needs (larger frames are still read and written, in several pieces).
        let config = WebSocketConfig::default()
            .max_message_size(Some(FRAME_MAX_BYTES))
            .max_frame_size(Some(FRAME_MAX_BYTES))
            .read_buffer_size(SOCKET_BUFFER_BYTES)
            .write_buffer_size(0);
        let ws = WebSocketStream::from_raw_socket(socket::Io(socket.clone()), Role::Server, Some(config)).await;
        // The user acts on their own behalf: the audit log and webhooks' ClientIP say so.
        let actor = messaging::audit::Actor { name: user.to_string(), address: peer.ip().to_string() };
        messaging::audit::acting_as(actor, session(ws, socket, m, hub, user, conn)).await
    });
    answer
}

/// The `101 Switching Protocols` answer to a WebSocket upgrade request (RFC 6455 §4.2), and the
/// upgrade to await; None when `req` is not one.
fn switch_protocols(req: &mut Request) -> Option<(Response, OnUpgrade)> {
    let headers = req.headers();
    let has = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|v| v.to_str().is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token))))
    };
    if req.method() != Method::GET
        || !has(header::CONNECTION, "upgrade")
        || !has(header::UPGRADE, "websocket")
        || !has(header::SEC_WEBSOCKET_VERSION, "13")
    {
        return None;
    }
    let accept = derive_accept_key(headers.get(header::SEC_WEBSOCKET_KEY)?.as_bytes());
    let on_upgrade = req.extensions_mut().remove::<OnUpgrade>()?;
    let answer = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept)
        .body(axum::body::Body::empty())
        .ok()?;
    Some((answer, on_upgrade))
}

type Ws = WebSocketStream<socket::Io>;

async fn session(mut ws: Ws, socket: Arc<Socket>, m: Messaging, hub: Arc<Hub>, user: UserId, conn: messaging::delivery::hub::Connection) {
    tracing::debug!(%user, id = conn.id, "client connected");
    let mut budget = OpBudget::default();
    let ctx = ops::Context { m: &m, user: &user, origin: &conn.origin };
    loop {
        tokio::select! {
            biased;
            // Bytes the socket could not take at once (a slow reader, or a large frame).
            _ = socket.has_waiting.notified() => {
                let flushed = tokio::select! {
                    biased;
                    flushed = std::future::poll_fn(|cx| socket.poll_flush_waiting(cx)) => flushed.is_ok(),
                    _ = conn.dropped.notified() => false,
                };
                if !flushed {
                    break;
                }
            }
            incoming = ws.next() => {
                let Some(Ok(incoming)) = incoming else { break };
                conn.heard();
                let answer = match incoming {
                    Message::Text(text) => ops::answer(&ctx, &mut budget, text.as_str()).await,
                    Message::Binary(_) => ops::not_a_request("frames are JSON text, not binary"),
                    Message::Close(_) => break,
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
                };
                if ws.send(Message::Text(answer.into())).await.is_err() {
                    break;
                }
            }
            _ = conn.dropped.notified() => {
                let why = if conn.went_silent() {
                    close(1001, "silent for too long")
                } else if hub.is_stopping() {
                    // 1012 "service restart": reconnect (to another node) and catch up.
                    close(1012, "the server is restarting: connect again and catch up")
                } else {
                    close(1008, "the connection was dropped: it did not read its events")
                };
                let _ = ws.send(why).await;
                let _ = std::future::poll_fn(|cx| socket.poll_flush_waiting(cx)).await;
                break;
            }
        }
    }
    socket.close();
    hub.disconnect(user.as_str(), conn.id);
    tracing::debug!(%user, id = conn.id, "client disconnected");
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame { code: code.into(), reason: reason.into() }))
}
