//! A small HTTP receiver for webhook and push tests: records every request (command, body,
//! query, signature, event ID) and answers as the test says (a JSON body after a delay, or 503).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Call {
    pub command: String,
    pub body: Value,
    pub raw: String,
    pub query: HashMap<String, String>,
    pub signature: Option<String>,
    pub event_id: Option<String>,
}

/// What the receiver answers to a command: a JSON body, after an optional delay.
#[derive(Clone, Default)]
pub struct Receiver {
    calls: Arc<Mutex<Vec<Call>>>,
    answers: Arc<Mutex<HashMap<String, (Duration, Value)>>>,
    /// Calls still to be answered with HTTP 503 (a receiver that is down for a while).
    failures_left: Arc<Mutex<usize>>,
}

impl Receiver {
    pub fn answer(&self, command: &str, delay: Duration, body: Value) {
        self.answers.lock().unwrap().insert(command.to_owned(), (delay, body));
    }
    /// Answers the next `n` calls with HTTP 503 (and does not record them).
    pub fn fail_next(&self, n: usize) {
        *self.failures_left.lock().unwrap() = n;
    }
    pub fn calls(&self, command: &str) -> Vec<Call> {
        self.calls.lock().unwrap().iter().filter(|c| c.command == command).cloned().collect()
    }
    pub fn commands(&self) -> Vec<String> {
        self.calls.lock().unwrap().iter().map(|c| c.command.clone()).collect()
    }
    /// Waits (up to `secs`) until `command` was received `n` times.
    pub async fn wait_for(&self, command: &str, n: usize, secs: u64) -> Vec<Call> {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.calls(command);
            if got.len() >= n || Instant::now() > end {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn hook(State(r): State<Receiver>, Query(query): Query<HashMap<String, String>>, headers: HeaderMap, raw: String) -> Response {
    {
        let mut left = r.failures_left.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    let command = query.get("CallbackCommand").cloned().unwrap_or_default();
    let call = Call {
        command: command.clone(),
        body: serde_json::from_str(&raw).unwrap_or(Value::Null),
        raw,
        query,
        signature: headers.get("x-herald-signature").map(|v| v.to_str().unwrap().to_owned()),
        event_id: headers.get("x-herald-event-id").map(|v| v.to_str().unwrap().to_owned()),
    };
    r.calls.lock().unwrap().push(call);
    let answer = r.answers.lock().unwrap().get(&command).cloned();
    let (delay, body) = answer.unwrap_or((Duration::ZERO, json!({ "ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "" })));
    tokio::time::sleep(delay).await;
    Json(body).into_response()
}

/// Starts a receiver on `listener`; returns its state.
pub fn serve_receiver(listener: tokio::net::TcpListener) -> Receiver {
    let r = Receiver::default();
    let app = axum::Router::new().route("/hook", axum::routing::post(hook)).with_state(r.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    r
}

pub async fn receiver() -> (Receiver, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    (serve_receiver(listener), url)
}
