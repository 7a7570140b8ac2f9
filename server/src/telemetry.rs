//! Logging. `RUST_LOG` filters (default `info`); tests stay quiet unless `TEST_LOG=1`.
//!
//! `HERALD_LOG_FORMAT=json` writes one JSON object a line (tracing-subscriber's JSON layer) for
//! a log pipeline: the event's fields at the top level, and the request's span (method,
//! redacted URI, `request_id`) under `span` on every line logged while a request is served.

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init(),
    };
}
