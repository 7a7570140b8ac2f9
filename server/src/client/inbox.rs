//! `GET /accounts/{id}/inbox/live`: the console's Inbox page listens here (a WebSocket) for new
//! one-to-one messages of the account, from this node's hub. Signed-in console users only, with
//! the right to view the account, from Herald's own pages (cross-site upgrades are refused).

use crate::state::AppState;
use axum::extract::ws::{Message, Utf8Bytes, WebSocketUpgrade};
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};

pub async fn live(
    State(state): State<AppState>,
    signed_in: Option<Extension<app::SignedIn>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    if let Err(why) = crate::layers::same_site(&headers, state.public_origin.as_deref()) {
        return (StatusCode::FORBIDDEN, why).into_response();
    }
    let Some(Extension(app::SignedIn { user, .. })) = signed_in else {
        return (StatusCode::UNAUTHORIZED, "sign in first").into_response();
    };
    let Ok(account) = messaging::OfficialAccountId::parse("account", &id) else {
        return (StatusCode::BAD_REQUEST, "not an official account ID").into_response();
    };
    if let Err(e) = state.messaging.console().authorize(&user, messaging::Action::View, Some(&account)).await {
        return (StatusCode::FORBIDDEN, e.to_string()).into_response();
    }
    let hub = state.hub.clone();
    // Watching before the upgrade is answered, so nothing after it is missed.
    let (out, mut frames) = messaging::delivery::hub::queue();
    let conn = hub.watch_inbox(account.as_str(), out);
    let id = conn.id;
    ws.on_failed_upgrade({
        let (hub, account) = (hub.clone(), account.clone());
        move |_| hub.unwatch_inbox(account.as_str(), id)
    })
    .on_upgrade(move |socket| async move {
        let (mut sink, mut stream) = socket.split();
        loop {
            tokio::select! {
                incoming = stream.next() => match incoming {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
                frame = frames.recv() => {
                    let Some(frame) = frame else { break };
                    if sink.send(Message::Text(text(frame))).await.is_err() {
                        break;
                    }
                }
                _ = conn.dropped.notified() => break,
            }
        }
        hub.unwatch_inbox(account.as_str(), conn.id);
    })
}

/// A hub frame as a text message (the hub's frames are JSON: UTF-8 by construction).
fn text(frame: messaging::delivery::hub::Frame) -> Utf8Bytes {
    Utf8Bytes::try_from(frame).unwrap_or_else(|_| Utf8Bytes::from("{}"))
}
