//! `/healthz` and `/readyz` (docs/operations.md), and the drain a stop signal starts.
//!
//! * `/healthz`: the process answers (`200 {"status":"ok"}`), nothing more: a liveness probe
//!   must not restart a node because its database is slow.
//! * `/readyz`: whether a load balancer should send this node traffic: the database answers
//!   within 1 s, every migration of this build is applied, LISTEN is in place (PostgreSQL) and
//!   the node is not draining. `200 {"ready":true,…}` or `503 {"ready":false,"reason":…}`,
//!   each check listed.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use messaging::operations::health::Check;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a stop signal came: readiness fails, new client connections are refused.
#[derive(Default)]
pub struct Drain(AtomicBool);

impl Drain {
    pub fn begin(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn draining(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

pub async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    let mut checks = state.messaging.operations().readiness().await;
    checks.push(if state.drain.draining() {
        Check::fail("draining", "the node is stopping: its clients reconnect elsewhere")
    } else {
        Check::pass("draining")
    });
    let failed: Vec<String> =
        checks.iter().filter(|c| !c.ok).map(|c| format!("{}: {}", c.name, c.reason.as_deref().unwrap_or("failed"))).collect();
    let ready = failed.is_empty();
    let body = json!({
        "ready": ready,
        "reason": if ready { serde_json::Value::Null } else { failed.join("; ").into() },
        "checks": checks,
    });
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, [(axum::http::header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}
