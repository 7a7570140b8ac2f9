//! The client protocol's front door (product.md §4): `GET /v1/client` upgraded to a WebSocket,
//! for end users' apps. The UserSig is checked before the upgrade (a refusal is HTTP 401 with
//! the REST code); then each request frame becomes one `messaging` call ([`ops`]) and each
//! change the node's hub hears becomes an event frame.
//!
//! The socket task owns the connection: it answers requests in order, forwards the hub's frames,
//! pings every 30 s and closes a connection silent for 90 s. When the hub drops the connection
//! (its queue filled up: the client does not read) or the server stops, it closes the socket.

mod inbox;
mod ops;

pub use inbox::live as inbox_live;

use crate::state::AppState;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::{SinkExt, StreamExt};
use messaging::delivery::hub::Hub;
use messaging::delivery::{OpBudget, PING_EVERY_SECS, SILENCE_MAX_SECS};
use messaging::usersig::UserSigError;
use messaging::{Messaging, UserId};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/client", get(upgrade))
}

/// Largest request frame read; anything larger closes the connection (1009).
const FRAME_MAX_BYTES: usize = 64 * 1024;
/// Read buffer per connection, and how much a write gathers before it goes out.
const SOCKET_BUFFER_BYTES: usize = 4 * 1024;
/// Waiting frames sent in one write at most.
const WRITE_BATCH_MAX: usize = 16;

fn refusal(code: u32, desc: impl Into<String>) -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({ "code": code, "desc": desc.into() }))).into_response()
}

async fn upgrade(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    RawQuery(query): RawQuery,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let params: HashMap<String, String> = form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let param = |name: &str| params.get(name).filter(|v| !v.is_empty()).cloned();
    let (Some(sdkappid), Some(identifier), Some(usersig)) = (param("sdkappid"), param("identifier"), param("usersig")) else {
        return refusal(60002, "sdkappid, identifier and usersig are required in the query");
    };
    let Ok(sdkappid) = sdkappid.parse::<u64>() else { return refusal(60002, "sdkappid must be a number") };
    if sdkappid != state.messaging.sdkappid() {
        return refusal(70014, "sdkappid is not this server's app");
    }
    if let Err(e) = state.messaging.check_usersig(&usersig, sdkappid, &identifier, unix_now()) {
        let code = match e {
            UserSigError::Expired => 70001,
            UserSigError::Malformed => 70003,
            UserSigError::BadSignature => 70009,
            UserSigError::IdentifierMismatch => 70013,
            UserSigError::AppIdMismatch => 70014,
        };
        return refusal(code, e.to_string());
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
            return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "code": 10002, "desc": "internal error, retry later" }))).into_response();
        }
    }
    let Ok(ws) = ws else {
        return (StatusCode::UPGRADE_REQUIRED, Json(json!({ "code": 60002, "desc": "this address takes a WebSocket upgrade" }))).into_response();
    };
    let (m, hub) = (state.messaging.clone(), state.hub.clone());
    // Registered before the upgrade is answered: once the client sees the socket open, every
    // change reaches it (a test, or an app, may act at once).
    let conn = match hub.connect(user.as_str()).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, %user, "a client connection could not be registered");
            return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "code": 10002, "desc": "internal error, retry later" }))).into_response();
        }
    };
    // tungstenite's buffers default to 128 KiB each way, per connection: far more than an idle
    // client needs (larger frames are still read and written, in several pieces).
    ws.max_message_size(FRAME_MAX_BYTES)
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        .on_failed_upgrade({
            let (hub, user, id) = (hub.clone(), user.clone(), conn.id);
            move |e| {
                tracing::debug!(error = %e, %user, "a client's upgrade failed");
                hub.disconnect(user.as_str(), id);
            }
        })
        .on_upgrade(move |socket| {
            // The user acts on their own behalf: the audit log and webhooks' ClientIP say so.
            let actor = messaging::audit::Actor { name: user.to_string(), address: peer.ip().to_string() };
            messaging::audit::acting_as(actor, session(socket, m, hub, user, conn))
        })
}

async fn session(socket: WebSocket, m: Messaging, hub: Arc<Hub>, user: UserId, mut conn: messaging::delivery::hub::Connection) {
    tracing::debug!(%user, id = conn.id, "client connected");
    let (mut sink, mut stream) = socket.split();
    let mut budget = OpBudget::default();
    let mut ping = tokio::time::interval(Duration::from_secs(PING_EVERY_SECS));
    ping.tick().await;
    let mut heard = Instant::now();
    let ctx = ops::Context { m: &m, user: &user, origin: &conn.origin };
    loop {
        tokio::select! {
            incoming = stream.next() => {
                let Some(Ok(incoming)) = incoming else { break };
                heard = Instant::now();
                match incoming {
                    Message::Text(text) => {
                        let answer = ops::answer(&ctx, &mut budget, text.as_str()).await;
                        if !send(&mut sink, &conn.dropped, Message::Text(answer.into())).await {
                            break;
                        }
                    }
                    Message::Binary(_) => {
                        let answer = ops::not_a_request("frames are JSON text, not binary");
                        if !send(&mut sink, &conn.dropped, Message::Text(answer.into())).await {
                            break;
                        }
                    }
                    Message::Close(_) => break,
                    Message::Ping(_) | Message::Pong(_) => {}
                }
            }
            frame = conn.frames.recv() => {
                let Some(frame) = frame else { break };
                // Frames already waiting go out in the same write (a broadcast and the unread
                // total that follows it, say): one system call, not one per frame.
                let mut batch = vec![frame];
                while batch.len() < WRITE_BATCH_MAX {
                    match conn.frames.try_recv() {
                        Ok(f) => batch.push(f),
                        Err(_) => break,
                    }
                }
                if !send_all(&mut sink, &conn.dropped, batch).await {
                    break;
                }
            }
            _ = conn.dropped.notified() => {
                let _ = sink.send(close(1008, "the connection was dropped: it did not read its events, or the server is stopping")).await;
                break;
            }
            _ = ping.tick() => {
                if heard.elapsed() > Duration::from_secs(SILENCE_MAX_SECS) {
                    let _ = sink.send(close(1001, "silent for too long")).await;
                    break;
                }
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
        }
    }
    hub.disconnect(user.as_str(), conn.id);
    tracing::debug!(%user, id = conn.id, "client disconnected");
}

/// Sends one frame unless the hub drops the connection meanwhile (a client that does not read
/// leaves the send waiting on a full socket: the drop must not wait behind it). False: stop.
async fn send(sink: &mut futures::stream::SplitSink<WebSocket, Message>, dropped: &tokio::sync::Notify, message: Message) -> bool {
    tokio::select! {
        sent = sink.send(message) => sent.is_ok(),
        _ = dropped.notified() => false,
    }
}

/// [`send`] for several frames, flushed once.
async fn send_all(sink: &mut futures::stream::SplitSink<WebSocket, Message>, dropped: &tokio::sync::Notify, frames: Vec<Arc<str>>) -> bool {
    let write = async {
        for f in frames {
            sink.feed(Message::Text(Utf8Bytes::from(&*f))).await?;
        }
        sink.flush().await
    };
    tokio::select! {
        sent = write => sent.is_ok(),
        _ = dropped.notified() => false,
    }
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame { code, reason: reason.into() }))
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
