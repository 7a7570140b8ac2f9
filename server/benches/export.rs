//! An account's export under size (issue "Operations", docs/benchmarks.md): the release server
//! in a process of its own, one account with 1,000,000 subscribers and 500 posts, and this
//! process downloading `/accounts/{id}/export.zip` as its owner while it samples the server's
//! RSS every 50 ms. Prints time, size and memory beside the target (memory bounded: the ZIP is
//! streamed); Python's `zipfile` then counts the subscribers' rows. SQLite, and PostgreSQL when
//! HERALD_TEST_PG_URL is set.
//!
//!     cargo bench -p server --bench export

use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SDKAPPID: u64 = 1_400_000_996;
const KEY: &str = "bench-key";
const ADMIN: &str = "administrator";
const PASSWORD: &str = "bench-password-long-enough";
const ACCOUNT: &str = "@TOA#_export";
const SUBSCRIBERS: i64 = 1_000_000;
const POSTS: usize = 500;

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib: f64 =
        status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0.0);
    kib / 1024.0
}

async fn call(client: &reqwest::Client, port: u16, path: &str, body: Value) -> Value {
    let sig = messaging::usersig::sign(SDKAPPID, KEY, ADMIN, 86_400, now());
    let q = format!("sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={sig}&random=1");
    let v: Value =
        client.post(format!("http://127.0.0.1:{port}/v4/{path}?{q}")).body(body.to_string()).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["ErrorCode"], 0, "{path}: {v}");
    v
}

async fn run(label: &str, db: &str) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("HERALD_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", db)
        .env("HERALD_SDKAPPID", SDKAPPID.to_string())
        .env("HERALD_SECRET_KEY", KEY)
        .env("HERALD_ADMIN_PASSWORD", PASSWORD)
        .env("HERALD_BROADCASTS_PER_SECOND", "100000")
        .env("HERALD_BROADCASTS_PER_HOUR", "1000000")
        .env("HERALD_REST_CALLS_PER_SECOND", "1000000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let base = format!("http://127.0.0.1:{port}");
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    call(&client, port, "im_open_login_svc/account_import", json!({ "UserID": "owner" })).await;
    call(
        &client,
        port,
        "official_account_open_http_svc/create_official_account",
        json!({ "Owner_Account": "owner", "OfficialAccountUserID": ACCOUNT, "Name": "Export" }),
    )
    .await;
    let m = messaging::Messaging::open(db).await.unwrap();
    let id = messaging::OfficialAccountId::parse("a", ACCOUNT).unwrap();
    m.seed_subscribers_for_benchmark(&id, SUBSCRIBERS).await.unwrap();
    m.close().await;
    for i in 0..POSTS {
        let text = format!("Post {i}: {}", "words of a post ".repeat(20));
        let body = json!([{ "MsgType": "TIMTextElem", "MsgContent": { "Text": text } }]);
        call(
            &client,
            port,
            "official_account_open_http_svc/send_official_account_msg",
            json!({ "Official_Account": ACCOUNT, "Random": i, "MsgBody": body }),
        )
        .await;
    }

    let signed = client
        .post(format!("{base}/api/sign_in"))
        .header("origin", &base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=admin&password={PASSWORD}"))
        .send()
        .await
        .unwrap();
    let cookie = signed.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let idle = rss_mib(child.id());
    let started = Instant::now();
    let res = client.get(format!("{base}/accounts/%40TOA%23_export/export.zip")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let first_byte = started.elapsed();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.zip");
    let mut file = std::fs::File::create(&path).unwrap();
    let (mut bytes, mut peak) = (0usize, idle);
    let mut sampled = Instant::now();
    let mut res = res;
    while let Some(piece) = res.chunk().await.unwrap() {
        bytes += piece.len();
        std::io::Write::write_all(&mut file, &piece).unwrap();
        if sampled.elapsed() >= Duration::from_millis(50) {
            peak = peak.max(rss_mib(child.id()));
            sampled = Instant::now();
        }
    }
    let took = started.elapsed();
    let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nrows = sum(1 for _ in z.open('subscribers.csv'))\n\
                  posts = sum(1 for _ in z.open('posts.jsonl'))\nprint(rows - 1, posts, z.testzip())";
    let out = Command::new("python3").args(["-c", script, path.to_str().unwrap()]).output().unwrap();
    let read = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    println!(
        "{label}: export of {SUBSCRIBERS} subscribers and {POSTS} posts: {:.1} MB in {:.1} s (first byte {:.0} ms); server RSS {idle:.0} MiB idle, \
         peak {peak:.0} MiB while exporting (+{:.0} MiB; target: bounded, not growing with the account); zipfile reads subscribers, posts, bad member: {read}",
        bytes as f64 / 1e6,
        took.as_secs_f64(),
        first_byte.as_secs_f64() * 1000.0,
        peak - idle
    );
    child.kill().unwrap();
    let _ = child.wait();
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    run("SQLite", &format!("sqlite://{}/export.db", dir.path().display())).await;
    if let Ok(url) = std::env::var("HERALD_TEST_PG_URL") {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
        let name = format!("herald_bench_export_{}", std::process::id());
        sqlx::query(&format!("create database {name}")).execute(&mut admin).await.unwrap();
        let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&url);
        run("PostgreSQL", &format!("{base}/{name}")).await;
        sqlx::query(&format!("drop database {name} with (force)")).execute(&mut admin).await.unwrap();
    }
}
