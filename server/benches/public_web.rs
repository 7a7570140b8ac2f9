//! The public web under load (issue "Audience growth", docs/benchmarks.md): `wrk`, a separate
//! process, against one node's `/c/{handle}` with 20 posts, its Atom feed, a post's page, and the
//! feed asked conditionally with its ETag (answered 304 without rendering). SQLite, and
//! PostgreSQL when HERALD_TEST_PG_URL is set. Prints numbers beside the target; asserts nothing.
//!
//!     cargo bench -p server --bench public_web       (needs `wrk` on the PATH)
//!
//! wrk and the server share the machine's cores: the numbers are a floor for the server alone.

use serde_json::{json, Value};
use server::config::Config;
use server::startup::Application;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

const SDKAPPID: u64 = 1_400_000_998;
const KEY: &str = "bench-key";
const ADMIN: &str = "administrator";
const TARGET_PER_SEC: f64 = 5_000.0;
const SECONDS: &str = "10";

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

struct Rest {
    base: String,
    query: String,
    client: reqwest::Client,
}

impl Rest {
    async fn call(&self, path: &str, body: Value) -> Value {
        let r = self.client.post(format!("{}/v4/{path}?{}", self.base, self.query)).body(body.to_string()).send().await.unwrap();
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["ErrorCode"], 0, "{path}: {v}");
        v
    }
}

/// `wrk`'s requests per second and median latency (ms) for `url`, with `header` if given.
fn wrk(url: &str, header: Option<&str>) -> (f64, f64) {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "-c32", "-d", SECONDS, "--latency"]);
    if let Some(h) = header {
        cmd.args(["-H", h]);
    }
    let out = cmd.arg(url).output().expect("wrk runs (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout);
    let per_sec = text.lines().find_map(|l| l.strip_prefix("Requests/sec:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0.0);
    let median = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("50%"))
        .map(|v| {
            let v = v.trim();
            let (n, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len()));
            let n: f64 = n.parse().unwrap_or(f64::NAN);
            match unit {
                "us" => n / 1000.0,
                "s" => n * 1000.0,
                _ => n,
            }
        })
        .unwrap_or(f64::NAN);
    let non_2xx = text.lines().find(|l| l.contains("Non-2xx")).map(str::trim).unwrap_or("");
    if !non_2xx.is_empty() && header.is_none() {
        println!("    ({non_2xx})");
    }
    (per_sec, median)
}

fn report(what: &str, (per_sec, median): (f64, f64)) {
    let verdict = if per_sec >= TARGET_PER_SEC { "met" } else { "NOT met" };
    println!("  {what:<44} {per_sec:>9.0} req/s  median {median:>6.2} ms   (target ≥ {TARGET_PER_SEC:.0}/s: {verdict})");
}

async fn run(label: &str, database_url: &str) {
    let mut c = Config::for_tests(database_url);
    c.sdkappid = Some(SDKAPPID);
    c.secret_key = Some(KEY.into());
    c.broadcasts_per_second = Some(1_000_000);
    c.broadcasts_per_hour = Some(1_000_000);
    c.rest_calls_per_second = Some(1_000_000);
    // wrk is one client address: the per-address bound is lifted for the measurement.
    c.public_requests_per_second = 10_000_000;
    let app = Application::build(c).await.unwrap();
    let base = format!("http://{}", app.addr());
    tokio::spawn(app.run_until_stopped());
    let sig = messaging::usersig::sign(SDKAPPID, KEY, ADMIN, 86_400, now());
    let rest = Rest {
        base: base.clone(),
        query: format!("sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={sig}&random=1"),
        client: reqwest::Client::new(),
    };
    rest.call("im_open_login_svc/account_import", json!({ "UserID": "owner" })).await;
    rest.call(
        "official_account_open_http_svc/create_official_account",
        json!({ "Owner_Account": "owner", "OfficialAccountUserID": "@TOA#_bench", "Name": "Bench news", "Introduction": "Twenty posts" }),
    )
    .await;
    for i in 1..=20 {
        let text = format!(
            "## Post {i}\n\nSome **news** with [a link](https://example.com/{i}) and a list:\n\n- one\n- two\n- three\n\n{}",
            "Words of the post. ".repeat(20)
        );
        let body =
            messaging::post::PostContent { kind: messaging::post::PostKind::Text, body: text, images: vec![], poll: None }.to_msg_body();
        rest.call(
            "official_account_open_http_svc/send_official_account_msg",
            json!({ "Official_Account": "@TOA#_bench", "Random": i, "MsgBody": body }),
        )
        .await;
    }
    rest.call("herald_open_http_svc/set_public_page", json!({ "Official_Account": "@TOA#_bench", "Handle": "bench", "Enabled": 1 })).await;
    let feed = reqwest::get(format!("{base}/c/bench/feed.atom")).await.unwrap();
    let etag = feed.headers()["etag"].to_str().unwrap().to_owned();
    let again = reqwest::Client::new().get(format!("{base}/c/bench/feed.atom")).header("if-none-match", &etag).send().await.unwrap();
    println!("{label}: one node, wrk -t2 -c32 -d{SECONDS}s from its own process");
    println!("  a conditional feed request with its ETag answers {}", again.status().as_u16());
    report("/c/{handle} (20 posts)", wrk(&format!("{base}/c/bench"), None));
    report("/c/{handle}/feed.atom (20 posts)", wrk(&format!("{base}/c/bench/feed.atom"), None));
    report("/c/{handle}/feed.rss", wrk(&format!("{base}/c/bench/feed.rss"), None));
    report("/c/{handle}/{seq} (a post's page)", wrk(&format!("{base}/c/bench/20"), None));
    report("feed.atom with If-None-Match (304)", wrk(&format!("{base}/c/bench/feed.atom"), Some(&format!("If-None-Match: {etag}"))));
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    run("SQLite", &format!("sqlite://{}/bench.db", dir.path().display())).await;
    if let Ok(url) = std::env::var("HERALD_TEST_PG_URL") {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
        let name = format!("herald_bench_public_{}", now());
        sqlx::query(&format!("create database {name}")).execute(&mut admin).await.unwrap();
        let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&url);
        run("PostgreSQL", &format!("{base}/{name}")).await;
        sqlx::query(&format!("drop database if exists {name} with (force)")).execute(&mut admin).await.unwrap();
    } else {
        println!("\n(HERALD_TEST_PG_URL unset: PostgreSQL skipped)");
    }
}
