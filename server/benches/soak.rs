//! A mixed soak (issue 7, item 14): the release server in its own process, driven for
//! HERALD_SOAK_SECS (default 600) by 16 clients mixing reads, sends, subscriptions, history and
//! console pages, on SQLite and (with HERALD_TEST_PG_URL) PostgreSQL. Prints per-call p50/p99,
//! throughput and the server's RSS over time; asserts nothing.
//!
//!     scripts/build.sh && cargo bench -p server --bench soak

use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SDKAPPID: u64 = 1_400_000_998;
const KEY: &str = "soak-key";
const PASSWORD: &str = "soak-console-password";
const KINDS: [&str; 5] =
    ["get_official_account_info", "send_official_account_msg", "import 10 + add_subscriber", "msg_get_simple", "console /accounts"];

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib: f64 =
        status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0.0);
    kib / 1024.0
}

fn start_server(database_url: &str, port: u16) -> Child {
    let binary = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/server");
    Command::new(binary)
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

async fn run(label: &str, database_url: &str, secs: u64) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = start_server(database_url, port);
    let pid = child.id();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sig = messaging::usersig::sign(SDKAPPID, KEY, "administrator", 86_400, now());
    let query = format!("sdkappid={SDKAPPID}&identifier=administrator&usersig={sig}&random=1");
    let call = {
        let (client, base, query) = (client.clone(), base.clone(), query.clone());
        move |path: &'static str, body: Value| {
            let (client, url) = (client.clone(), format!("{base}/v4/{path}?{query}"));
            async move { client.post(url).body(body.to_string()).send().await.unwrap().json::<Value>().await.unwrap() }
        }
    };
    call("im_open_login_svc/account_import", json!({ "UserID": "owner" })).await;
    for i in 0..10 {
        call("official_account_open_http_svc/create_official_account",
            json!({ "Owner_Account": "owner", "OfficialAccountUserID": format!("@TOA#_soak{i}"), "Name": format!("Soak {i}"), "MaxSubscriberNum": 10_000_000 })).await;
    }
    let signed_in = client
        .post(format!("{base}/api/sign_in"))
        .header("origin", &base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=admin&password={PASSWORD}"))
        .send()
        .await
        .unwrap();
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();

    println!("\n== {label}: {secs} s, 16 clients ==");
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let latencies: Arc<Mutex<Vec<Vec<Duration>>>> = Arc::new(Mutex::new(vec![Vec::new(); KINDS.len()]));
    let counter = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for worker in 0..16u64 {
        let (call, latencies, counter, client, base, cookie) =
            (call.clone(), latencies.clone(), counter.clone(), client.clone(), base.clone(), cookie.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine: Vec<Vec<Duration>> = vec![Vec::new(); KINDS.len()];
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let account = format!("@TOA#_soak{}", n % 10);
                let kind = match n % 10 {
                    0..=3 => 0,
                    4 | 5 => 1,
                    6 | 7 => 2,
                    8 => 3,
                    _ => 4,
                };
                let t = Instant::now();
                match kind {
                    0 => {
                        call(
                            "official_account_open_http_svc/get_official_account_info",
                            json!({ "OfficialAccountIdList": [{ "Official_Account": account }] }),
                        )
                        .await;
                    }
                    1 => {
                        call(
                            "official_account_open_http_svc/send_official_account_msg",
                            json!({ "Official_Account": account, "Random": n as u32,
                            "MsgBody": [{ "MsgType": "TIMTextElem", "MsgContent": { "Text": format!("soak {n}") } }] }),
                        )
                        .await;
                    }
                    2 => {
                        let users: Vec<String> = (0..10).map(|i| format!("soak-{worker}-{n}-{i}")).collect();
                        call("im_open_login_svc/multiaccount_import", json!({ "Accounts": users })).await;
                        let list: Vec<Value> = users.iter().map(|u| json!({ "Subscriber_Account": u })).collect();
                        call(
                            "official_account_open_http_svc/add_subscriber",
                            json!({ "Official_Account": account, "SubscriberList": list }),
                        )
                        .await;
                    }
                    3 => {
                        call(
                            "official_account_open_http_svc/official_account_msg_get_simple",
                            json!({ "Official_Account": account, "ReqMsgNumber": 20 }),
                        )
                        .await;
                    }
                    _ => {
                        client.get(format!("{base}/accounts")).header("cookie", &cookie).send().await.unwrap().bytes().await.unwrap();
                    }
                }
                mine[kind].push(t.elapsed());
            }
            let mut all = latencies.lock().unwrap();
            for (k, v) in mine.into_iter().enumerate() {
                all[k].extend(v);
            }
        }));
    }
    let rss_start = rss_mib(pid);
    let mut rss_max = rss_start;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let rss = rss_mib(pid);
        rss_max = rss_max.max(rss);
        if started.elapsed().as_secs() % 60 < 10 {
            println!("  {:>4} s: RSS {rss:.0} MiB, {} calls so far", started.elapsed().as_secs(), counter.load(Ordering::Relaxed));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut all = latencies.lock().unwrap();
    for (k, v) in all.iter_mut().enumerate() {
        v.sort();
        if v.is_empty() {
            continue;
        }
        let p = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1e3;
        println!(
            "  {:<28} {:>8} calls  {:>7.0} /s  p50 {:>6.2} ms  p99 {:>6.2} ms",
            KINDS[k],
            v.len(),
            v.len() as f64 / secs as f64,
            p(0.5),
            p(0.99)
        );
    }
    println!("  server RSS: start {rss_start:.0} MiB, max {rss_max:.0} MiB, end {:.0} MiB", rss_mib(pid));
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::main]
async fn main() {
    let secs: u64 = std::env::var("HERALD_SOAK_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(600);
    let dir = tempfile::tempdir().unwrap();
    run("SQLite", &format!("sqlite://{}/soak.db", dir.path().display()), secs).await;
    if let Ok(url) = std::env::var("HERALD_TEST_PG_URL") {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
        let name = format!("herald_soak_{}", now());
        sqlx::query(&format!("create database {name}")).execute(&mut admin).await.unwrap();
        let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&url);
        run("PostgreSQL", &format!("{base}/{name}"), secs).await;
        sqlx::query(&format!("drop database if exists {name} with (force)")).execute(&mut admin).await.unwrap();
    }
}
