//! A real WebSocket client for the client protocol (docs/client-protocol.md), as an app would hold one.

use crate::helpers::*;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Stream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a test waits for a frame that must come.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct Ws {
    stream: Stream,
    next_id: u64,
    /// Events read while waiting for a response, in order.
    events: VecDeque<Value>,
}

pub fn client_url(base: &str, user: &str, usersig: &str) -> String {
    let ws = base.replacen("http://", "ws://", 1);
    let sig: String = form_urlencoded::byte_serialize(usersig.as_bytes()).collect();
    format!("{ws}/v1/client?sdkappid={SDKAPPID}&identifier={user}&usersig={sig}")
}

impl Ws {
    /// Connects as `user` (signed with the app's key) to the server at `base`.
    pub async fn connect(base: &str, user: &str) -> Ws {
        let (stream, _) = tokio_tungstenite::connect_async(client_url(base, user, &sig_for(user))).await.expect("the upgrade succeeds");
        Ws { stream, next_id: 1, events: VecDeque::new() }
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream.send(Message::text(text)).await.unwrap();
    }

    /// The next JSON frame, or None when the connection ended or nothing came within `wait`.
    pub async fn next_frame(&mut self, wait: Duration) -> Option<Value> {
        loop {
            match tokio::time::timeout(wait, self.stream.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => return Some(serde_json::from_str(t.as_str()).expect("frames are JSON")),
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                _ => return None,
            }
        }
    }

    /// Sends a request and returns its response (events that arrive meanwhile are kept).
    pub async fn request(&mut self, op: &str, data: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send_text(&json!({ "id": id, "op": op, "data": data }).to_string()).await;
        loop {
            let frame = self.next_frame(WAIT).await.unwrap_or_else(|| panic!("no response to {op}"));
            if frame.get("event").is_some() {
                self.events.push_back(frame);
            } else {
                assert_eq!(frame["id"], id, "responses come with their request's id");
                return frame;
            }
        }
    }

    /// `request` that must succeed; returns its `data`.
    pub async fn ok(&mut self, op: &str, data: Value) -> Value {
        let r = self.request(op, data).await;
        assert_eq!(r["code"], 0, "{op}: {r}");
        r["data"].clone()
    }

    /// Waits for the next event named `name` (others before it are dropped); panics if none.
    pub async fn event(&mut self, name: &str) -> Value {
        self.try_event(name, WAIT).await.unwrap_or_else(|| panic!("no {name} event"))
    }

    pub async fn try_event(&mut self, name: &str, wait: Duration) -> Option<Value> {
        while let Some(e) = self.events.pop_front() {
            if e["event"] == name {
                return Some(e["data"].clone());
            }
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.next_frame(left).await?;
            if frame["event"] == name {
                return Some(frame["data"].clone());
            }
        }
    }

    /// Every event of `name` that arrives within `wait`.
    pub async fn events_within(&mut self, name: &str, wait: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(e) = self.try_event(name, wait).await {
            out.push(e);
        }
        out
    }

    /// Whether the server closed the connection (a Close frame or the end) within `wait`.
    pub async fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.stream.next()).await {
                Err(_) => return false,
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }
}

/// What a client saw of the connection's control frames over a while.
pub struct Control {
    pub pings: usize,
    /// The Close frame's code, if the server closed the connection.
    pub closed_with: Option<u16>,
}

impl Ws {
    /// Reads for `wait` (answering pings, as any WebSocket client does while it reads): how
    /// many pings came and whether the server closed the connection, with which code.
    pub async fn control_within(&mut self, wait: Duration) -> Control {
        let deadline = tokio::time::Instant::now() + wait;
        let mut seen = Control { pings: 0, closed_with: None };
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.stream.next()).await {
                Ok(Some(Ok(Message::Ping(_)))) => seen.pings += 1,
                Ok(Some(Ok(Message::Close(frame)))) => {
                    seen.closed_with = frame.map(|f| u16::from(f.code));
                    return seen;
                }
                Ok(Some(Ok(_))) => continue,
                Err(_) | Ok(None | Some(Err(_))) => return seen,
            }
        }
    }
}

/// A client that connects as `user` and then neither reads nor writes (its app hung, or its
/// network went away without a word): a bare TCP stream after the upgrade, which answers no
/// ping (a WebSocket library would, as soon as it reads).
pub async fn silent_client(base: &str, user: &str) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = client_url(base, user, &sig_for(user));
    let rest = url.strip_prefix("ws://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut tcp = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    // The 101 answer, byte by byte so that nothing after its blank line is consumed.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.unwrap());
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
    tcp
}

/// Reads what the server wrote to a [`silent_client`] until it closes the connection (or
/// `wait` passes): the frames are unmasked and small, so each is two header bytes and its
/// payload.
pub async fn control_of_silent(tcp: &mut tokio::net::TcpStream, wait: Duration) -> Control {
    use tokio::io::AsyncReadExt;
    let mut bytes = Vec::new();
    let _ = tokio::time::timeout(wait, tcp.read_to_end(&mut bytes)).await;
    let mut seen = Control { pings: 0, closed_with: None };
    let mut at = 0;
    while at + 2 <= bytes.len() {
        let (opcode, len) = (bytes[at] & 0x0f, usize::from(bytes[at + 1] & 0x7f));
        let payload = &bytes[at + 2..(at + 2 + len).min(bytes.len())];
        match opcode {
            0x9 => seen.pings += 1,
            0x8 if payload.len() >= 2 => seen.closed_with = Some(u16::from_be_bytes([payload[0], payload[1]])),
            _ => {}
        }
        at += 2 + len;
    }
    seen
}

pub fn conversation(account: &str) -> String {
    format!("c2c_{account}")
}
