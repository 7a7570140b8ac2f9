//! Operations (docs/operations.md), from outside: the release binary in its own process where
//! the process is what is tested (metrics, drain, logs, backup and restore), parsed by
//! independent readers (promtool and Prometheus' Python client for metrics, Python's `zipfile`).

use crate::crash::{call, free_port, start_server_with};
use crate::hardening::process::{rss_mib, sigterm};
use crate::helpers::*;
use crate::ws::Ws;
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const UNLIMITED: [(&str, &str); 5] = [
    ("HERALD_SECRET_KEY", KEY),
    ("HERALD_ADMIN_PASSWORD", PASSWORD),
    ("HERALD_BROADCASTS_PER_SECOND", "100000"),
    ("HERALD_BROADCASTS_PER_HOUR", "100000"),
    ("HERALD_REST_CALLS_PER_SECOND", "100000"),
];

fn process_app(port: u16) -> TestApp {
    TestApp { base: format!("http://127.0.0.1:{port}"), client: reqwest::Client::new(), _dir: None, db: None, node: None }
}

async fn exited_within(child: &mut std::process::Child, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn scrape(port: u16) -> String {
    let res = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    res.text().await.unwrap()
}

/// Every sample of an exposition as Prometheus' own Python client reads it (`prometheus_client`).
fn samples(text: &str) -> Vec<Value> {
    use std::io::Write;
    let script = "import json, sys\nfrom prometheus_client.parser import text_string_to_metric_families as parse\n\
                  print(json.dumps([{'name': s.name, 'labels': s.labels, 'value': s.value} for f in parse(sys.stdin.read()) for s in f.samples]))";
    let mut child =
        Command::new("python3").args(["-c", script]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the exposition does not parse: {}\n{text}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The value of the sample `name` having every label of `labels`.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples(text).iter().find(|s| s["name"] == name && labels.iter().all(|(k, v)| s["labels"][k] == *v)).and_then(|s| s["value"].as_f64())
}

/// Scrapes until `name` reads `expected` (connections register and close asynchronously).
async fn until_metric(port: u16, name: &str, expected: f64) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = scrape(port).await;
        if value(&text, name, &[]) == Some(expected) || Instant::now() > deadline {
            assert_eq!(value(&text, name, &[]), Some(expected), "{name} in\n{text}");
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `promtool check metrics`: exit 0 and no complaint.
fn promtool_accepts(text: &str) {
    use std::io::Write;
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is installed (scripts/setup.sh --for-tests)");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "promtool: {said}\n{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_follow_connections_broadcasts_and_rest_calls_and_promtool_accepts_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = database_url(&dir).await;
    let (port, metrics_port) = (free_port(), free_port());
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let mut env = UNLIMITED.to_vec();
    env.push(("HERALD_METRICS_ADDR", &metrics_addr));
    let mut server = start_server_with(&db, port, &env).await;
    let app = process_app(port);
    let account = app.an_account_with_subscribers("@TOA#_metrics", &["m1", "m2", "m3"]).await;

    let text = until_metric(metrics_port, "herald_client_connections", 0.0).await;
    assert!(text.contains("# HELP herald_client_connections "), "{text}");
    let mut clients = vec![Ws::connect(&app.base, "m1").await, Ws::connect(&app.base, "m2").await, Ws::connect(&app.base, "m3").await];
    until_metric(metrics_port, "herald_client_connections", 3.0).await;

    let r = app.send(json!({ "Official_Account": account, "Random": 7, "MsgBody": crate::helpers::text("hello") })).await;
    assert_ok(&r);
    for c in &mut clients {
        c.event("onRecvNewMessage").await;
    }
    // A refused call, and one whose command no caller may invent labels for.
    let refused = app.send(json!({ "Official_Account": "@TOA#_nobody", "Random": 8, "MsgBody": crate::helpers::text("to nobody") })).await;
    assert_fails(&refused, 10010);
    let forged = reqwest::Client::new()
        .post(format!("{}/v4/made_up/{}?sdkappid=1&identifier=x&usersig=y&random=1", app.base, "x".repeat(40)))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 200);

    drop(clients.pop());
    drop(clients.pop());
    let text = until_metric(metrics_port, "herald_client_connections", 1.0).await;
    assert_eq!(value(&text, "herald_broadcasts_total", &[]), Some(1.0), "{text}");
    assert_eq!(value(&text, "herald_fanout_duration_seconds_count", &[]), Some(1.0), "{text}");
    assert!(value(&text, "herald_frames_written_total", &[]).unwrap() >= 3.0, "{text}");
    let send = [("command", "official_account_open_http_svc/send_official_account_msg"), ("error_code", "0")];
    assert_eq!(value(&text, "herald_rest_commands_total", &send), Some(1.0), "{text}");
    let refusal = [("command", "official_account_open_http_svc/send_official_account_msg"), ("error_code", "10010")];
    assert_eq!(value(&text, "herald_rest_commands_total", &refusal), Some(1.0), "{text}");
    assert!(!text.contains("made_up"), "an unauthenticated caller named a label: {text}");
    assert!(value(&text, "herald_rest_commands_total", &[("command", "-")]).is_some(), "{text}");
    let route = [("route", "/v4/{service}/{command}"), ("status", "200")];
    assert!(value(&text, "herald_http_request_duration_seconds_count", &route).unwrap() >= 4.0, "{text}");
    // The sampled gauges are there from the first sample (taken when the server starts).
    for gauge in [
        "herald_webhook_outbox_events",
        "herald_push_outbox_jobs",
        "herald_scheduled_posts_due",
        "herald_db_pool_max_connections",
        "herald_listening",
    ] {
        assert!(value(&text, gauge, &[]).is_some(), "{gauge} in\n{text}");
    }
    assert_eq!(value(&text, "herald_listening", &[]), Some(1.0));
    for name in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        assert!(name.starts_with("herald_"), "{name}");
    }
    promtool_accepts(&text);
    server.kill().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_sigterm_readiness_fails_clients_get_1012_new_ones_are_refused_and_the_process_exits() {
    let dir = tempfile::tempdir().unwrap();
    let db = database_url(&dir).await;
    let port = free_port();
    let mut env = UNLIMITED.to_vec();
    env.push(("HERALD_DRAIN_SECS", "2"));
    let mut server = start_server_with(&db, port, &env).await;
    let app = process_app(port);
    app.an_account_with_subscribers("@TOA#_drain", &["d1"]).await;

    let ready = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["ready"], true, "{body}");
    let names: Vec<&str> = body["checks"].as_array().unwrap().iter().filter_map(|c| c["name"].as_str()).collect();
    assert!(names.contains(&"database") && names.contains(&"migrations") && names.contains(&"draining"), "{body}");
    let health: Value = reqwest::get(format!("{}/healthz", app.base)).await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");

    let mut client = Ws::connect(&app.base, "d1").await;
    let stopping = Instant::now();
    sigterm(&server);
    let seen = client.control_within(Duration::from_secs(3)).await;
    assert_eq!(seen.closed_with, Some(1012), "service restart: reconnect and catch up");

    let ready = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["ready"], false);
    assert!(body["reason"].as_str().unwrap().starts_with("draining: "), "{body}");
    // A new client is told to go elsewhere, before its UserSig is even read.
    let refused = reqwest::get(format!("{}/v1/client?sdkappid={SDKAPPID}&identifier=d1&usersig=x", app.base)).await.unwrap();
    assert_eq!(refused.status(), 503);
    // REST still answers during the drain (requests a load balancer had already sent).
    assert_ok(&app.get_official_account_info(&["@TOA#_drain"]).await);

    assert!(exited_within(&mut server, Duration::from_secs(8)).await, "still running after the drain");
    let took = stopping.elapsed();
    assert!(took >= Duration::from_secs(2), "the drain lasts HERALD_DRAIN_SECS: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_json_logs_every_line_parses_and_a_requests_lines_carry_its_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = database_url(&dir).await;
    let port = free_port();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("HERALD_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", &db)
        .env("HERALD_SDKAPPID", SDKAPPID.to_string())
        .env("HERALD_SECRET_KEY", KEY)
        .env("HERALD_ADMIN_PASSWORD", PASSWORD)
        .env("HERALD_LOG_FORMAT", "json")
        .env("HERALD_DRAIN_SECS", "0")
        .env("RUST_LOG", "info")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.is_err() {
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = call(
        &reqwest::Client::new(),
        port,
        "official_account_open_http_svc/get_official_account_info",
        json!({ "OfficialAccountIDList": ["@TOA#_none"] }),
    )
    .await
    .unwrap();
    let request_id = refused["RequestId"].as_str().unwrap().to_owned();
    sigterm(&server);
    assert!(exited_within(&mut server, Duration::from_secs(10)).await);

    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> =
        text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert!(lines.len() >= 3, "{text}");
    for line in &lines {
        assert!(line["timestamp"].is_string() && line["level"].is_string() && line["message"].is_string(), "{line}");
    }
    let of_request: Vec<&Value> = lines.iter().filter(|l| l["span"]["request_id"] == request_id.as_str()).collect();
    assert!(!of_request.is_empty(), "no line names request {request_id}:\n{text}");
    assert!(of_request.iter().any(|l| l["message"] == "REST call refused"), "{of_request:?}");
    assert!(!text.contains(KEY) && !text.contains(PASSWORD), "a secret reached the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn console_pages_abandoned_mid_stream_leave_memory_flat() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let db = database_url(&dir).await;
    let port = free_port();
    let mut server = start_server_with(&db, port, &UNLIMITED).await;
    let app = process_app(port);
    app.an_account_with_subscribers("@TOA#_abandoned", &["a1"]).await;
    let signed = client()
        .post(format!("{}/api/sign_in", app.base))
        .header("origin", &app.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=admin&password={PASSWORD}"))
        .send()
        .await
        .unwrap();
    let cookie = signed.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let request = format!("GET /accounts HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n");
    // Readers who close the tab as the page starts to arrive: the first bytes, then gone.
    let abandon = |n: usize| {
        let request = request.clone();
        async move {
            for _ in 0..n {
                let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                s.write_all(request.as_bytes()).await.unwrap();
                let mut first = [0u8; 200];
                let _ = s.read(&mut first).await.unwrap();
                assert!(first.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&first));
            }
        }
    };
    abandon(300).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_mib(server.id());
    abandon(2000).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_mib(server.id());
    // Before the fix each abandoned page kept about 9 KB: 2,000 of them, ~18 MiB and more.
    assert!(after - before < 6.0, "RSS {before:.1} → {after:.1} MiB after 2,000 abandoned pages");
    println!("RSS {before:.1} → {after:.1} MiB after 2,000 abandoned pages");
    server.kill().unwrap();
}
