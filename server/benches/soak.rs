//! The soak with live clients (issue "Operations", docs/benchmarks.md): the release server in
//! its own process (SQLite, one node; PostgreSQL with HERALD_TEST_PG_URL, two nodes), and this
//! process as the load for HERALD_SOAK_SECS (default 600):
//! * 5,000 subscribers connected over `/v1/client` (split over the nodes), reading each post
//!   (`markConversationRead`, one in five) and reacting (`addMessageReaction`, one in ten);
//! * a REST mix at 500 calls/s (account info, history, imports with subscriptions, the console);
//! * a broadcast every 10 s to all of them.
//!
//! Each minute: the servers' RSS, errors, p50/p99 per operation and the fan-out time (send to the
//! last of the 5,000 receiving it). Flat memory and no errors is the goal; asserts nothing.
//!
//!     scripts/build.sh && cargo bench -p server --bench soak

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite::Message;

const SDKAPPID: u64 = 1_400_000_998;
const KEY: &str = "soak-key";
const PASSWORD: &str = "soak-console-password";
const ACCOUNT: &str = "@TOA#_soak";
const CLIENTS: usize = 5_000;
const REST_PER_SEC: u64 = 500;
const BROADCAST_EVERY: Duration = Duration::from_secs(10);

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn sig(user: &str) -> String {
    messaging::usersig::sign(SDKAPPID, KEY, user, 86_400, now())
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib: f64 =
        status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0.0);
    kib / 1024.0
}

fn start_server(database_url: &str, port: u16) -> Child {
    Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/server"))
        .env("DATABASE_URL", database_url)
        .env("HERALD_ADDR", format!("127.0.0.1:{port}"))
        .env("HERALD_SDKAPPID", SDKAPPID.to_string())
        .env("HERALD_SECRET_KEY", KEY)
        .env("HERALD_ADMIN_PASSWORD", PASSWORD)
        .env("HERALD_BROADCASTS_PER_SECOND", "1000000")
        .env("HERALD_BROADCASTS_PER_HOUR", "1000000")
        .env("HERALD_REST_CALLS_PER_SECOND", "10000000")
        .env("LEPTOS_SITE_ROOT", concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("target/release/server exists (scripts/build.sh)")
}

/// What the load measured since the last minute's print.
#[derive(Default)]
struct Stats {
    latencies: Mutex<HashMap<&'static str, Vec<Duration>>>,
    errors: AtomicU64,
    /// Per broadcast number: (receipts, the latest receipt's delay after the send).
    receipts: Mutex<HashMap<u64, (usize, Duration)>>,
}

impl Stats {
    fn record(&self, kind: &'static str, took: Duration) {
        self.latencies.lock().unwrap().entry(kind).or_default().push(took);
    }
}

/// HERALD_SOAK_CLIENT_OPS=0: clients only read their frames (to tell where a cost comes from).
fn client_ops() -> bool {
    std::env::var("HERALD_SOAK_CLIENT_OPS").as_deref() != Ok("0")
}

/// HERALD_SOAK_REST_PER_SEC: the REST mix's rate (default 500; 0: none).
fn rest_per_sec() -> u64 {
    std::env::var("HERALD_SOAK_REST_PER_SEC").ok().and_then(|v| v.parse().ok()).unwrap_or(REST_PER_SEC)
}

fn pct(v: &[Duration], q: f64) -> f64 {
    v[((v.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1e3
}

/// One subscriber on its own connection: reads every post, marks some read, reacts to some.
async fn subscriber(url: String, i: usize, started: Instant, stats: Arc<Stats>) {
    let (mut ws, _) = match tokio_tungstenite::connect_async(&url).await {
        Ok(c) => c,
        Err(_) => {
            stats.errors.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    let mut pending: HashMap<u64, (&'static str, Instant)> = HashMap::new();
    let mut next_id = 1u64;
    while let Some(Ok(frame)) = ws.next().await {
        let Message::Text(text) = frame else { continue };
        let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else { continue };
        if let Some(id) = v["id"].as_u64() {
            if let Some((kind, at)) = pending.remove(&id) {
                stats.record(kind, at.elapsed());
                if v["code"].as_i64().unwrap_or(0) != 0 {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            continue;
        }
        if v["event"] != "onRecvNewMessage" {
            continue;
        }
        let message = &v["data"]["message"];
        let text = message["msgBody"][0]["MsgContent"]["Text"].as_str().unwrap_or("");
        // "soak {n} at {µs since the start}"
        let mut words = text.split(' ');
        let (Some(n), Some(at)) = (words.nth(1).and_then(|w| w.parse::<u64>().ok()), words.nth(1).and_then(|w| w.parse::<u64>().ok()))
        else {
            continue;
        };
        let delay = started.elapsed().saturating_sub(Duration::from_micros(at));
        {
            let mut receipts = stats.receipts.lock().unwrap();
            let r = receipts.entry(n).or_default();
            r.0 += 1;
            r.1 = r.1.max(delay);
        }
        let key = message["msgKey"].as_str().unwrap_or_default();
        let conversation = format!("c2c_{ACCOUNT}");
        let mut ask = |op: &'static str, data: Value| {
            let id = next_id;
            next_id += 1;
            pending.insert(id, (op, Instant::now()));
            json!({ "id": id, "op": op, "data": data }).to_string()
        };
        if !client_ops() {
            continue;
        }
        if (i + n as usize).is_multiple_of(5) {
            let req = ask("markConversationRead", json!({ "conversationID": conversation }));
            let _ = ws.send(Message::Text(req.into())).await;
        }
        if (i + n as usize) % 10 == 3 {
            let req = ask("addMessageReaction", json!({ "conversationID": conversation, "msgKey": key, "reactionID": "like" }));
            let _ = ws.send(Message::Text(req.into())).await;
        }
    }
}

async fn run(label: &str, database_url: &str, nodes: usize, secs: u64) {
    let ports: Vec<u16> = (0..nodes).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()).collect();
    let mut children: Vec<Child> = Vec::new();
    for &port in &ports {
        children.push(start_server(database_url, port));
        while reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.is_err() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    let query = format!("sdkappid={SDKAPPID}&identifier=administrator&usersig={}&random=1", sig("administrator"));
    let call = {
        let (client, query) = (client.clone(), query.clone());
        move |port: u16, path: &'static str, body: Value| {
            let (client, url) = (client.clone(), format!("http://127.0.0.1:{port}/v4/{path}?{query}"));
            async move {
                match client.post(url).body(body.to_string()).send().await {
                    Ok(r) => r.json::<Value>().await.ok().filter(|v| v["ErrorCode"] == 0),
                    Err(_) => None,
                }
            }
        }
    };
    let users: Vec<String> = (0..CLIENTS).map(|i| format!("s{i}")).collect();
    call(ports[0], "im_open_login_svc/account_import", json!({ "UserID": "owner" })).await.unwrap();
    call(
        ports[0],
        "official_account_open_http_svc/create_official_account",
        json!({ "Owner_Account": "owner", "OfficialAccountUserID": ACCOUNT, "Name": "Soak", "MaxSubscriberNum": 10_000_000 }),
    )
    .await
    .unwrap();
    for chunk in users.chunks(100) {
        call(ports[0], "im_open_login_svc/multiaccount_import", json!({ "Accounts": chunk })).await.unwrap();
        let list: Vec<Value> = chunk.iter().map(|u| json!({ "Subscriber_Account": u })).collect();
        call(ports[0], "official_account_open_http_svc/add_subscriber", json!({ "Official_Account": ACCOUNT, "SubscriberList": list }))
            .await
            .unwrap();
    }
    let signed_in = client
        .post(format!("http://127.0.0.1:{}/api/sign_in", ports[0]))
        .header("origin", format!("http://127.0.0.1:{}", ports[0]))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=admin&password={PASSWORD}"))
        .send()
        .await
        .unwrap();
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();

    let started = Instant::now();
    let stats = Arc::new(Stats::default());
    for (i, user) in users.iter().enumerate() {
        let port = ports[i % nodes];
        let s: String =
            sig(user).bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
        let url = format!("ws://127.0.0.1:{port}/v1/client?sdkappid={SDKAPPID}&identifier={user}&usersig={s}");
        tokio::spawn(subscriber(url, i, started, stats.clone()));
        if i % 200 == 199 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    println!(
        "\n== {label}: {secs} s, {CLIENTS} connected subscribers on {nodes} node(s), REST {}/s, a broadcast every {} s ==",
        rest_per_sec(),
        BROADCAST_EVERY.as_secs()
    );
    let deadline = Instant::now() + Duration::from_secs(secs);

    // The broadcasts, through the first node.
    let broadcaster = {
        let (call, port) = (call.clone(), ports[0]);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(BROADCAST_EVERY);
            let mut n = 0u64;
            while Instant::now() < deadline {
                tick.tick().await;
                let text = format!("soak {n} at {}", started.elapsed().as_micros());
                let body = json!({ "Official_Account": ACCOUNT, "Random": n, "MsgBody": [{ "MsgType": "TIMTextElem", "MsgContent": { "Text": text } }] });
                let _ = call(port, "official_account_open_http_svc/send_official_account_msg", body).await;
                n += 1;
            }
        })
    };
    // The REST mix, paced, over every node.
    let rest = {
        let (call, stats, ports, client, cookie) = (call.clone(), stats.clone(), ports.clone(), client.clone(), cookie.clone());
        tokio::spawn(async move {
            if rest_per_sec() == 0 {
                return;
            }
            let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rest_per_sec()));
            let permits = Arc::new(tokio::sync::Semaphore::new(128));
            let mut n = 0u64;
            while Instant::now() < deadline {
                tick.tick().await;
                let permit = permits.clone().acquire_owned().await.unwrap();
                let (call, stats, client, cookie) = (call.clone(), stats.clone(), client.clone(), cookie.clone());
                let port = ports[n as usize % ports.len()];
                tokio::spawn(async move {
                    let t = Instant::now();
                    // HERALD_SOAK_REST_ONLY=8 or 9: every call of that slot's kind (import, console).
                    let slot = std::env::var("HERALD_SOAK_REST_ONLY").ok().and_then(|v| v.parse().ok()).unwrap_or(n % 10);
                    let (kind, ok) = match slot {
                        0..=4 => (
                            "REST get_official_account_info",
                            call(
                                port,
                                "official_account_open_http_svc/get_official_account_info",
                                json!({ "OfficialAccountIdList": [{ "Official_Account": ACCOUNT }] }),
                            )
                            .await
                            .is_some(),
                        ),
                        5..=7 => (
                            "REST msg_get_simple",
                            call(
                                port,
                                "official_account_open_http_svc/official_account_msg_get_simple",
                                json!({ "Official_Account": ACCOUNT, "ReqMsgNumber": 20 }),
                            )
                            .await
                            .is_some(),
                        ),
                        8 => {
                            let users: Vec<String> = (0..10).map(|i| format!("new-{n}-{i}")).collect();
                            let a = call(port, "im_open_login_svc/multiaccount_import", json!({ "Accounts": users })).await.is_some();
                            let list: Vec<Value> = users.iter().map(|u| json!({ "Subscriber_Account": u })).collect();
                            (
                                "REST import 10 + add_subscriber",
                                a && call(
                                    port,
                                    "official_account_open_http_svc/add_subscriber",
                                    json!({ "Official_Account": ACCOUNT, "SubscriberList": list }),
                                )
                                .await
                                .is_some(),
                            )
                        }
                        _ => {
                            let r = client.get(format!("http://127.0.0.1:{port}/accounts")).header("cookie", &cookie).send().await;
                            ("console /accounts", matches!(r, Ok(r) if r.status().is_success()))
                        }
                    };
                    stats.record(kind, t.elapsed());
                    if !ok {
                        stats.errors.fetch_add(1, Ordering::Relaxed);
                    }
                    drop(permit);
                });
                n += 1;
            }
        })
    };

    let pids: Vec<u32> = children.iter().map(Child::id).collect();
    let rss = |pids: &[u32]| pids.iter().map(|p| format!("{:.0}", rss_mib(*p))).collect::<Vec<_>>().join(" + ");
    println!("  start: server RSS {} MiB", rss(&pids));
    let mut minute = 0;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(60).min(deadline.saturating_duration_since(Instant::now()))).await;
        minute += 1;
        let latencies = std::mem::take(&mut *stats.latencies.lock().unwrap());
        let errors = stats.errors.swap(0, Ordering::Relaxed);
        let mut fanout: Vec<Duration> = {
            let mut receipts = stats.receipts.lock().unwrap();
            let done: Vec<u64> = receipts.iter().filter(|(_, (count, _))| *count >= CLIENTS).map(|(n, _)| *n).collect();
            done.iter().filter_map(|n| receipts.remove(n)).map(|(_, d)| d).collect()
        };
        fanout.sort();
        let partial = stats.receipts.lock().unwrap().len();
        println!("  minute {minute}: server RSS {} MiB, errors {errors}", rss(&pids));
        if !fanout.is_empty() {
            println!(
                "    fan-out to all {CLIENTS}: p50 {:.1} ms, max {:.1} ms ({} broadcasts; {partial} not yet complete)",
                pct(&fanout, 0.5),
                pct(&fanout, 1.0),
                fanout.len()
            );
        }
        let mut kinds: Vec<_> = latencies.into_iter().collect();
        kinds.sort_by_key(|(k, _)| *k);
        for (kind, mut v) in kinds {
            v.sort();
            println!("    {kind:<34} {:>7} calls  p50 {:>7.2} ms  p99 {:>7.2} ms", v.len(), pct(&v, 0.5), pct(&v, 0.99));
        }
    }
    let _ = broadcaster.await;
    let _ = rest.await;
    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
}

#[tokio::main]
async fn main() {
    let secs: u64 = std::env::var("HERALD_SOAK_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(600);
    let dir = tempfile::tempdir().unwrap();
    run("SQLite, one node", &format!("sqlite://{}/soak.db", dir.path().display()), 1, secs).await;
    if let Ok(url) = std::env::var("HERALD_TEST_PG_URL") {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
        let name = format!("herald_soak_{}", now());
        sqlx::query(&format!("create database {name}")).execute(&mut admin).await.unwrap();
        let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&url);
        run("PostgreSQL, two nodes", &format!("{base}/{name}"), 2, secs).await;
        sqlx::query(&format!("drop database if exists {name} with (force)")).execute(&mut admin).await.unwrap();
    }
}
