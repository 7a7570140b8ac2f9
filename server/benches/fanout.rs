//! Live fan-out (issue 9, product.md §5): the release server in its own process, this process
//! as the load generator holding HERALD_FANOUT_CLIENTS (default 19,000) WebSocket clients, all
//! subscribers of one account, spread over loopback addresses 127.0.0.2… (each process here is
//! held to 20,000 open files). Prints, against the targets:
//! * one broadcast until the last client has the frame, p50/p99 over 20 broadcasts (< 0.2 s);
//! * the server's memory per idle connection (< 20 KB) and its CPU while idle;
//! * REST send latency with and without the clients connected;
//! * one client's round trip for getOfficialAccountsInfo with 20 subscriptions, meanwhile.
//! Asserts nothing; stops by itself.
//!
//!     scripts/build.sh && cargo bench -p server --bench fanout

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

const SDKAPPID: u64 = 1_400_000_997;
const KEY: &str = "fanout-key";
const ACCOUNT: &str = "@TOA#_fanout";
const BROADCASTS: usize = 20;

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn proc_status(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix(field)).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0.0)
}

/// utime + stime of `pid`, in seconds.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, r)| r.split_whitespace().collect()).unwrap_or_default();
    let ticks: f64 = fields.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0) + fields.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn connect(port: u16, user: &str, source: std::net::IpAddr) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    let sig: String = form_urlencoded::byte_serialize(messaging::usersig::sign(SDKAPPID, KEY, user, 86_400, now()).as_bytes()).collect();
    let url = format!("ws://127.0.0.1:{port}/v1/client?sdkappid={SDKAPPID}&identifier={user}&usersig={sig}");
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind((source, 0).into()).unwrap();
    let stream = socket.connect(([127, 0, 0, 1], port).into()).await.expect("connect");
    let (ws, _) = tokio_tungstenite::client_async(url, stream).await.expect("upgrade");
    ws
}

#[tokio::main]
async fn main() {
    let clients: usize = std::env::var("HERALD_FANOUT_CLIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(19_000);
    let dir = tempfile::tempdir().unwrap();
    let db = std::env::var("HERALD_FANOUT_DB").unwrap_or_else(|_| format!("sqlite://{}/fanout.db", dir.path().display()));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/server"))
        .env("DATABASE_URL", &db)
        .env("HERALD_ADDR", format!("127.0.0.1:{port}"))
        .env("HERALD_SDKAPPID", SDKAPPID.to_string())
        .env("HERALD_SECRET_KEY", KEY)
        .env("HERALD_ADMIN_PASSWORD", "fanout-console-password")
        .env("HERALD_BROADCASTS_PER_SECOND", "1000000")
        .env("HERALD_BROADCASTS_PER_HOUR", "1000000")
        .env("HERALD_REST_CALLS_PER_SECOND", "10000000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("target/release/server exists (scripts/build.sh)");
    let pid = child.id();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let admin = format!("sdkappid={SDKAPPID}&identifier=administrator&usersig={}&random=1", messaging::usersig::sign(SDKAPPID, KEY, "administrator", 86_400, now()));
    let rest = |command: &str, body: Value| {
        let (http, url) = (http.clone(), format!("{base}/v4/{command}?{admin}"));
        async move {
            let r: Value = http.post(url).body(body.to_string()).send().await.unwrap().json().await.unwrap();
            assert_eq!(r["ErrorCode"], 0, "{r}");
            r
        }
    };
    println!("fan-out bench: {clients} clients, database {}", if db.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" });
    // The account, its subscribers, and a probe user subscribed to 20 accounts.
    rest("im_open_login_svc/multiaccount_import", json!({ "Accounts": ["owner", "probe"] })).await;
    rest("official_account_open_http_svc/create_official_account", json!({ "Owner_Account": "owner", "OfficialAccountUserID": ACCOUNT, "Name": "Fan-out", "MaxSubscriberNum": 1_000_000 })).await;
    for i in 0..20 {
        let id = format!("@TOA#_probe{i}");
        rest("official_account_open_http_svc/create_official_account", json!({ "Owner_Account": "owner", "OfficialAccountUserID": id, "Name": format!("Probe {i}") })).await;
        rest("official_account_open_http_svc/add_subscriber", json!({ "Official_Account": id, "SubscriberList": [{ "Subscriber_Account": "probe" }] })).await;
    }
    let users: Vec<String> = (0..clients).map(|i| format!("u{i}")).collect();
    for chunk in users.chunks(100) {
        rest("im_open_login_svc/multiaccount_import", json!({ "Accounts": chunk })).await;
        let list: Vec<Value> = chunk.iter().map(|u| json!({ "Subscriber_Account": u })).collect();
        rest("official_account_open_http_svc/add_subscriber", json!({ "Official_Account": ACCOUNT, "SubscriberList": list })).await;
    }
    let send = |random: usize| {
        let rest = rest.clone();
        async move {
            let started = Instant::now();
            let r = rest("official_account_open_http_svc/send_official_account_msg", json!({ "Official_Account": ACCOUNT, "Random": random, "MsgBody": [{ "MsgType": "TIMTextElem", "MsgContent": { "Text": format!("post {random}") } }] })).await;
            (r["MsgKey"].as_str().unwrap().to_owned(), started.elapsed().as_secs_f64() * 1000.0)
        }
    };
    let mut rest_without: Vec<f64> = Vec::new();
    for i in 0..BROADCASTS {
        rest_without.push(send(1_000_000 + i).await.1);
    }
    rest_without.sort_by(f64::total_cmp);

    let rss_before = proc_status(pid, "VmRSS:");
    // Connect everyone, 200 at a time, over 127.0.0.2… (10,000 per source address).
    let (got, mut arrivals) = mpsc::unbounded_channel::<(String, Instant)>();
    let started = Instant::now();
    let connected = Arc::new(tokio::sync::Semaphore::new(200));
    let mut tasks = Vec::with_capacity(clients);
    for (i, user) in users.iter().enumerate() {
        let permit = connected.clone().acquire_owned().await.unwrap();
        let (user, got) = (user.clone(), got.clone());
        let source = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2 + (i / 10_000) as u8));
        tasks.push(tokio::spawn(async move {
            let ws = connect(port, &user, source).await;
            drop(permit);
            let (mut sink, mut stream) = ws.split();
            while let Some(Ok(frame)) = stream.next().await {
                match frame {
                    Message::Text(t) if t.as_str().contains("\"onRecvNewMessage\"") => {
                        // A string search, not a parse: the load generator shares the two cores.
                        let at = Instant::now();
                        let key = t.as_str().split("\"msgKey\":\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("").to_owned();
                        let _ = got.send((key, at));
                    }
                    Message::Ping(p) => {
                        let _ = sink.send(Message::Pong(p)).await;
                    }
                    _ => {}
                }
            }
        }));
    }
    let _ = connected.acquire_many(200).await.unwrap();
    println!("connected {clients} clients in {:.1} s", started.elapsed().as_secs_f64());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_connected = proc_status(pid, "VmRSS:");
    let cpu_start = cpu_secs(pid);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let idle_cpu = (cpu_secs(pid) - cpu_start) / 10.0 * 100.0;

    let mut probe = connect(port, "probe", std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 9))).await;
    let mut last_frame: Vec<f64> = Vec::new();
    let mut rest_with: Vec<f64> = Vec::new();
    let mut probe_rtt: Vec<f64> = Vec::new();
    for i in 0..BROADCASTS {
        let sent_at = Instant::now();
        let (key, rest_ms) = send(i).await;
        rest_with.push(rest_ms);
        // The probe's round trip while the frames go out.
        let asked = Instant::now();
        probe.send(Message::text(json!({ "id": i, "op": "getOfficialAccountsInfo", "data": { "officialAccountIDList": [] } }).to_string())).await.unwrap();
        while let Some(Ok(f)) = probe.next().await {
            if let Message::Text(t) = f {
                if t.as_str().contains("\"results\"") {
                    break;
                }
            }
        }
        probe_rtt.push(asked.elapsed().as_secs_f64() * 1000.0);
        let mut n = 0;
        let mut last = sent_at;
        while n < clients {
            let (k, at) = tokio::time::timeout(Duration::from_secs(30), arrivals.recv()).await.expect("every client gets the broadcast").unwrap();
            if k == key {
                n += 1;
                last = last.max(at);
            }
        }
        last_frame.push((last - sent_at).as_secs_f64() * 1000.0);
    }
    for v in [&mut last_frame, &mut rest_with, &mut probe_rtt] {
        v.sort_by(f64::total_cmp);
    }
    let per_conn_kb = (rss_connected - rss_before) / clients as f64;
    println!("| measure | p50 | p99 | target |");
    println!("|---|---|---|---|");
    println!("| broadcast → last of {clients} clients has the frame | {:.0} ms | {:.0} ms | < 200 ms |", percentile(&last_frame, 0.5), percentile(&last_frame, 0.99));
    println!("| REST send, no clients connected | {:.2} ms | {:.2} ms | < 10 ms p99 |", percentile(&rest_without, 0.5), percentile(&rest_without, 0.99));
    println!("| REST send, {clients} clients connected | {:.2} ms | {:.2} ms | unchanged |", percentile(&rest_with, 0.5), percentile(&rest_with, 0.99));
    println!("| getOfficialAccountsInfo (20 subscriptions) round trip under load | {:.2} ms | {:.2} ms | |", percentile(&probe_rtt, 0.5), percentile(&probe_rtt, 0.99));
    println!("server memory per idle connection: {per_conn_kb:.1} KB (RSS {:.0} → {:.0} MiB; target < 20 KB)", rss_before / 1024.0, rss_connected / 1024.0);
    println!("server CPU while {clients} clients sit idle: {idle_cpu:.1}% of one core");
    let _ = child.kill();
    for t in tasks {
        t.abort();
    }
}
