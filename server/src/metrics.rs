//! Prometheus metrics (docs/operations.md): `/metrics` on a listener of its own
//! (`HERALD_METRICS_ADDR`; unset, nothing is recorded), in the text format written by
//! `metrics-exporter-prometheus`.
//!
//! What is counted where it happens goes through the `metrics` facade (`messaging` counts
//! broadcasts, fan-out, frames, slow clients, read marks, client connections and LISTEN
//! reconnects; [`http_layer`] and the REST envelope count requests). What lives in storage
//! (outboxes, dead letters, scheduled posts due) and the pool are read by [`sample`] every few
//! seconds, so a scrape costs the database nothing.

use crate::state::AppState;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How often the stored gauges are read.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// Request and fan-out times, in seconds.
const LATENCY_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Installs the recorder once per process (tests may build several applications).
pub fn install() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_duration_seconds".into()), LATENCY_BUCKETS)?
        .install_recorder()?;
    describe();
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// HELP texts, and every counter at 0 so a scrape shows it before its first event.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_histogram!(
        "herald_http_request_duration_seconds",
        Unit::Seconds,
        "HTTP requests by route and status, until the response head."
    );
    describe_counter!("herald_rest_commands_total", "REST calls by command and ErrorCode (command \"-\": refused before it was known).");
    describe_gauge!("herald_client_connections", "Client protocol connections open on this node.");
    describe_counter!("herald_broadcasts_total", "Broadcasts accepted by this node (duplicates not counted).");
    describe_histogram!(
        "herald_fanout_duration_seconds",
        Unit::Seconds,
        "From hearing a broadcast to its last write to this node's connections."
    );
    describe_counter!("herald_frames_written_total", "Event frames written to client connections.");
    describe_counter!("herald_slow_clients_dropped_total", "Client connections dropped because they did not read their events.");
    describe_counter!("herald_read_marks_total", "Conversations marked read.");
    describe_gauge!("herald_webhook_outbox_events", "\"After\" webhook events waiting to be delivered.");
    describe_gauge!("herald_webhook_outbox_oldest_age_seconds", Unit::Seconds, "Age of the oldest waiting webhook event (0: none).");
    describe_gauge!("herald_push_outbox_jobs", "Offline push jobs waiting.");
    describe_gauge!("herald_push_outbox_oldest_age_seconds", Unit::Seconds, "Age of the oldest waiting push job (0: none).");
    describe_gauge!("herald_dead_letters", "Webhook events and push jobs given up on, by kind.");
    describe_gauge!("herald_scheduled_posts_due", "Scheduled posts whose time has come, not yet published.");
    describe_gauge!("herald_db_pool_connections", "Database pool connections by state (idle, busy).");
    describe_gauge!("herald_db_pool_max_connections", "The database pool's size limit.");
    describe_gauge!("herald_db_pool_acquire_seconds", Unit::Seconds, "How long taking a pool connection took at the last sample.");
    describe_gauge!("herald_listening", "1 while this node hears every node's changes (LISTEN on PostgreSQL; always 1 on SQLite).");
    describe_counter!("herald_listen_reconnects_total", "Times the LISTEN connection was lost and taken up again.");
    for counter in [
        "herald_broadcasts_total",
        "herald_frames_written_total",
        "herald_slow_clients_dropped_total",
        "herald_read_marks_total",
        "herald_listen_reconnects_total",
    ] {
        metrics::counter!(counter).increment(0);
    }
    metrics::gauge!("herald_client_connections").increment(0.0);
}

/// Serves `/metrics` on `listener` until `stop` completes.
pub fn serve(listener: tokio::net::TcpListener, handle: PrometheusHandle, stop: impl std::future::Future<Output = ()> + Send + 'static) {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!("metrics on http://{addr}/metrics");
    }
    let router = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let handle = handle.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()) }
        }),
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(stop).await {
            tracing::warn!(error = %e, "the metrics listener stopped");
        }
    });
}

/// Times each request by its route (the router's pattern, so the label set stays bounded).
pub async fn http_layer(matched: Option<MatchedPath>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let response = next.run(req).await;
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str).to_owned();
    let status = response.status().as_u16().to_string();
    metrics::histogram!("herald_http_request_duration_seconds", "route" => route, "status" => status)
        .record(started.elapsed().as_secs_f64());
    response
}

/// One REST call's outcome (`command` is None when it was refused before it was known).
pub fn count_rest(command: Option<String>, code: u32) {
    metrics::counter!("herald_rest_commands_total", "command" => command.unwrap_or_else(|| "-".into()), "error_code" => code.to_string())
        .increment(1);
}

/// Reads the stored gauges and the pool every [`SAMPLE_EVERY`] until the node stops.
pub async fn sample(state: AppState, handle: PrometheusHandle) {
    let ops = state.messaging.operations().clone();
    let mut tick = tokio::time::interval(SAMPLE_EVERY);
    loop {
        tick.tick().await;
        if state.hub.is_stopping() {
            return;
        }
        handle.run_upkeep();
        let pool = ops.pool_gauges();
        metrics::gauge!("herald_db_pool_connections", "state" => "idle").set(f64::from(pool.idle));
        metrics::gauge!("herald_db_pool_connections", "state" => "busy").set(f64::from(pool.size.saturating_sub(pool.idle)));
        metrics::gauge!("herald_db_pool_max_connections").set(f64::from(pool.max));
        match ops.pool_wait().await {
            Ok(waited) => metrics::gauge!("herald_db_pool_acquire_seconds").set(waited.as_secs_f64()),
            Err(e) => tracing::warn!(error = %e, "the metrics sampler could not take a database connection"),
        }
        match ops.stored_gauges().await {
            Ok(g) => {
                metrics::gauge!("herald_webhook_outbox_events").set(g.webhook_outbox as f64);
                metrics::gauge!("herald_webhook_outbox_oldest_age_seconds").set(g.webhook_oldest_secs as f64);
                metrics::gauge!("herald_push_outbox_jobs").set(g.push_outbox as f64);
                metrics::gauge!("herald_push_outbox_oldest_age_seconds").set(g.push_oldest_secs as f64);
                metrics::gauge!("herald_dead_letters", "kind" => "webhook").set(g.webhook_dead_letters as f64);
                metrics::gauge!("herald_dead_letters", "kind" => "push").set(g.push_dead_letters as f64);
                metrics::gauge!("herald_scheduled_posts_due").set(g.scheduled_due as f64);
            }
            Err(e) => tracing::warn!(error = %e, "the metrics sampler could not read the outboxes"),
        }
    }
}
