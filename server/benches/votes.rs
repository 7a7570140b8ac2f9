//! Poll votes under load (issue "Post lifecycle", docs/benchmarks.md): the release server in a
//! process of its own, one poll in an account with 1,000,000 subscribers, and this process as
//! the load: voters on their own client connections voting at a paced rate (each under the
//! per-connection budget), a REST sender publishing meanwhile, and one more subscriber counting
//! the `onPollChanged` frames it gets each second. SQLite, and PostgreSQL when
//! HERALD_TEST_PG_URL is set. Prints numbers beside the targets; asserts nothing.
//!
//!     cargo bench -p server --bench votes    (HERALD_VOTES_PER_SEC, HERALD_VOTE_SECS to change)
//!
//! The load and the server share the machine's two cores: the numbers are a floor.

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite::Message;

const SDKAPPID: u64 = 1_400_000_997;
const KEY: &str = "bench-key";
const ADMIN: &str = "administrator";
const ACCOUNT: &str = "@TOA#_votes";
const SUBSCRIBERS: i64 = 1_000_000;
const VOTERS: usize = 400;
const TARGET_PER_SEC: f64 = 10_000.0;

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn sig(user: &str) -> String {
    messaging::usersig::sign(SDKAPPID, KEY, user, 86_400, now())
}

struct Server {
    child: Child,
    port: u16,
    client: reqwest::Client,
}

impl Server {
    async fn start(db: &str) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_server"))
            .env("HERALD_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", db)
            .env("HERALD_SDKAPPID", SDKAPPID.to_string())
            .env("HERALD_SECRET_KEY", KEY)
            .env("HERALD_ADMIN_PASSWORD", "bench-password-long-enough")
            .env("HERALD_BROADCASTS_PER_SECOND", "100000")
            .env("HERALD_BROADCASTS_PER_HOUR", "1000000")
            .env("HERALD_REST_CALLS_PER_SECOND", "1000000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        let deadline = Instant::now() + Duration::from_secs(60);
        while reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.is_err() {
            assert!(Instant::now() < deadline, "the server did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Server { child, port, client: reqwest::Client::new() }
    }

    async fn call(&self, path: &str, body: Value) -> Value {
        let q = format!("sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={}&random=1", sig(ADMIN));
        let r = self.client.post(format!("http://127.0.0.1:{}/v4/{path}?{q}", self.port)).body(body.to_string()).send().await.unwrap();
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["ErrorCode"], 0, "{path}: {v}");
        v
    }

    fn ws_url(&self, user: &str) -> String {
        let s: String = form_urlencoded_byte(&sig(user));
        format!("ws://127.0.0.1:{}/v1/client?sdkappid={SDKAPPID}&identifier={user}&usersig={s}", self.port)
    }
}

fn form_urlencoded_byte(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run(label: &str, db: &str) {
    let server = Server::start(db).await;
    let voters: Vec<String> = (0..VOTERS).map(|i| format!("voter{i}")).collect();
    let mut users = voters.clone();
    users.extend(["owner".to_string(), "observer".to_string()]);
    for chunk in users.chunks(100) {
        server.call("im_open_login_svc/multiaccount_import", json!({ "Accounts": chunk })).await;
    }
    server
        .call(
            "official_account_open_http_svc/create_official_account",
            json!({ "Owner_Account": "owner", "OfficialAccountUserID": ACCOUNT, "Name": "Votes" }),
        )
        .await;
    let mut subscribers: Vec<&String> = voters.iter().collect();
    let observer = "observer".to_string();
    subscribers.push(&observer);
    for chunk in subscribers.chunks(100) {
        let list: Vec<Value> = chunk.iter().map(|u| json!({ "Subscriber_Account": u })).collect();
        server.call("official_account_open_http_svc/add_subscriber", json!({ "Official_Account": ACCOUNT, "SubscriberList": list })).await;
    }
    let m = messaging::Messaging::open(db).await.unwrap();
    let id = messaging::OfficialAccountId::parse("a", ACCOUNT).unwrap();
    m.seed_subscribers_for_benchmark(&id, SUBSCRIBERS - subscribers.len() as i64).await.unwrap();
    m.close().await;
    let options: Vec<Value> =
        ["Red", "Green", "Blue", "Yellow"].iter().enumerate().map(|(i, t)| json!({ "id": format!("o{i}"), "text": t })).collect();
    let data = json!({ "herald": "poll", "v": 1, "question": "Favourite colour?", "options": options, "multiple": true, "closesAt": 0 });
    let body = json!([
        { "MsgType": "TIMTextElem", "MsgContent": { "Text": "Favourite colour?" } },
        { "MsgType": "TIMCustomElem", "MsgContent": { "Data": data.to_string() } },
    ]);
    let sent = server
        .call(
            "official_account_open_http_svc/send_official_account_msg",
            json!({ "Official_Account": ACCOUNT, "Random": 1, "MsgBody": body }),
        )
        .await;
    let key = sent["MsgKey"].as_str().unwrap().to_owned();

    let per_sec: f64 = std::env::var("HERALD_VOTES_PER_SEC").ok().and_then(|v| v.parse().ok()).unwrap_or(TARGET_PER_SEC);
    let secs: u64 = std::env::var("HERALD_VOTE_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let mut sockets = Vec::with_capacity(VOTERS);
    for v in &voters {
        let (ws, _) = tokio_tungstenite::connect_async(server.ws_url(v)).await.expect("a voter connects");
        sockets.push(ws);
    }
    let (mut obs, _) = tokio_tungstenite::connect_async(server.ws_url("observer")).await.unwrap();
    let start = Instant::now() + Duration::from_millis(500);
    let end = start + Duration::from_secs(secs);
    let refused = Arc::new(AtomicU64::new(0));

    // The observer: onPollChanged frames per second of the run.
    let observer = tokio::spawn(async move {
        let mut per_second = vec![0u32; secs as usize + 2];
        while let Ok(Some(Ok(frame))) = tokio::time::timeout_at((end + Duration::from_secs(2)).into(), obs.next()).await {
            if let Message::Text(t) = frame {
                if t.contains("\"onPollChanged\"") {
                    let at = Instant::now().saturating_duration_since(start).as_secs() as usize;
                    if at < per_second.len() {
                        per_second[at] += 1;
                    }
                }
            }
        }
        per_second
    });

    // Voters: each paced at per_sec / VOTERS, changing their choice every time.
    let interval = Duration::from_secs_f64(VOTERS as f64 / per_sec);
    let mut tasks = Vec::new();
    for (n, mut ws) in sockets.into_iter().enumerate() {
        let (key, refused) = (key.clone(), refused.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut next = start + interval.mul_f64(n as f64 / VOTERS as f64);
            let mut i = n;
            while next < end {
                tokio::time::sleep_until(next.into()).await;
                let choice = [vec!["o0"], vec!["o1", "o2"], vec!["o3"], vec![]][i % 4].clone();
                i += 1;
                let frame = json!({ "id": i, "op": "votePoll", "data": { "conversationID": format!("c2c_{ACCOUNT}"), "msgKey": key, "optionIDs": choice } });
                let asked = Instant::now();
                if ws.send(Message::text(frame.to_string())).await.is_err() {
                    break;
                }
                // The answer to this request (events in between are skipped).
                loop {
                    match ws.next().await {
                        Some(Ok(Message::Text(t))) if t.contains("\"code\"") => {
                            if !t.contains("\"code\":0") {
                                refused.fetch_add(1, Ordering::Relaxed);
                            } else {
                                latencies.push(asked.elapsed());
                            }
                            break;
                        }
                        Some(Ok(_)) => continue,
                        _ => return latencies,
                    }
                }
                next += interval;
                // Behind schedule: catch up without bursting past the budget.
                if next < Instant::now() {
                    next = Instant::now();
                }
            }
            latencies
        }));
    }

    // The REST sender: a post every 200 ms meanwhile.
    let sender = {
        let (port, client) = (server.port, server.client.clone());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 10u32;
            tokio::time::sleep_until(start.into()).await;
            while Instant::now() < end {
                n += 1;
                let q = format!("sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={}&random=1", sig(ADMIN));
                let body = json!({ "Official_Account": ACCOUNT, "Random": n, "MsgBody": [{ "MsgType": "TIMTextElem", "MsgContent": { "Text": format!("news {n}") } }] });
                let asked = Instant::now();
                let r = client
                    .post(format!("http://127.0.0.1:{port}/v4/official_account_open_http_svc/send_official_account_msg?{q}"))
                    .body(body.to_string())
                    .send()
                    .await;
                if r.is_ok() {
                    latencies.push(asked.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            latencies
        })
    };

    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let mut sends = sender.await.unwrap();
    let per_second = observer.await.unwrap();
    latencies.sort();
    sends.sort();
    let achieved = latencies.len() as f64 / secs as f64;
    let verdict = if achieved >= TARGET_PER_SEC * 0.98 { "met" } else { "NOT met" };
    let most_frames = per_second.iter().take(secs as usize).max().copied().unwrap_or(0);
    println!("\n{label}: {VOTERS} voters into one poll of an account with {SUBSCRIBERS} subscribers, {secs} s, offered {per_sec:.0}/s");
    println!(
        "  votes answered                {achieved:>9.0} /s   (target ≥ {TARGET_PER_SEC:.0}/s: {verdict}; {} refused)",
        refused.load(Ordering::Relaxed)
    );
    println!(
        "  vote latency                  p50 {:>7.2} ms   p99 {:>7.2} ms",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99))
    );
    println!(
        "  REST send meanwhile           p50 {:>7.2} ms   p99 {:>7.2} ms   ({} sends)",
        ms(percentile(&sends, 0.5)),
        ms(percentile(&sends, 0.99)),
        sends.len()
    );
    println!(
        "  onPollChanged to one client   at most {most_frames} in any second (target ≤ 1: {}); per second {:?}",
        if most_frames <= 1 { "met" } else { "NOT met" },
        &per_second[..secs as usize]
    );
    let mut child = server.child;
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    run("SQLite", &format!("sqlite://{}/votes.db", dir.path().display())).await;
    if let Ok(url) = std::env::var("HERALD_TEST_PG_URL") {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
        let name = format!("herald_bench_votes_{}", now());
        sqlx::query(&format!("create database {name}")).execute(&mut admin).await.unwrap();
        let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&url);
        run("PostgreSQL", &format!("{base}/{name}")).await;
        sqlx::query(&format!("drop database if exists {name} with (force)")).execute(&mut admin).await.unwrap();
    } else {
        println!("\n(HERALD_TEST_PG_URL unset: PostgreSQL skipped)");
    }
}
