//! Herald's REST benchmarks (docs/benchmarks.md), on SQLite and, when HERALD_TEST_PG_URL is set,
//! PostgreSQL. Prints numbers beside their targets; asserts nothing.
//!
//!     cargo bench -p server --bench rest
//!
//! The load comes from this same process (reqwest), so client and server share the 2 cores:
//! the numbers are a floor for what the server alone can do.

use serde_json::{json, Value};
use server::config::Config;
use server::startup::Application;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SDKAPPID: u64 = 1_400_000_999;
const KEY: &str = "bench-key";
const ADMIN: &str = "administrator";
const CONSOLE_PASSWORD: &str = "bench-console-password";

struct Target {
    base: String,
    client: reqwest::Client,
    query: String,
}

impl Target {
    async fn call(&self, path: &str, body: &Value) -> Value {
        let res = self.client.post(format!("{}/v4/{path}?{}", self.base, self.query)).body(body.to_string()).send().await.unwrap();
        res.json().await.unwrap()
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

async fn start(database_url: &str) -> (Target, messaging::Messaging) {
    let mut c = Config::for_tests(database_url);
    c.admin_password = Some(CONSOLE_PASSWORD.into());
    c.sdkappid = Some(SDKAPPID);
    c.secret_key = Some(KEY.into());
    c.broadcasts_per_second = Some(1_000_000);
    c.broadcasts_per_hour = Some(1_000_000);
    c.rest_calls_per_second = Some(10_000_000);
    let app = Application::build(c).await.unwrap();
    let base = format!("http://{}", app.addr());
    tokio::spawn(app.run_until_stopped());
    // A second handle on the same database, for seeding.
    let m = messaging::Messaging::open(database_url).await.unwrap();
    let sig = messaging::usersig::sign(SDKAPPID, KEY, ADMIN, 86_400, now());
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    (Target { base, client, query: format!("sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={sig}&random=1") }, m)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn publish_latency(t: &Target, account: &str, n: usize) -> (Duration, Duration) {
    static SENT: AtomicU64 = AtomicU64::new(0);
    let mut took = Vec::with_capacity(n);
    for _ in 0..n {
        let i = SENT.fetch_add(1, Ordering::Relaxed);
        let body = json!({ "Official_Account": account, "Random": i as u32, "MsgBody": [{ "MsgType": "TIMTextElem", "MsgContent": { "Text": format!("post {i}") } }] });
        let start = Instant::now();
        let r = t.call("official_account_open_http_svc/send_official_account_msg", &body).await;
        took.push(start.elapsed());
        assert_eq!(r["ErrorCode"], 0, "{r}");
    }
    took.sort();
    (percentile(&took, 0.5), percentile(&took, 0.99))
}

async fn run(label: &str, database_url: &str) {
    println!("\n== {label} ==");
    let (t, m) = start(database_url).await;
    let t = Arc::new(t);
    t.call("im_open_login_svc/account_import", &json!({ "UserID": "owner" })).await;
    for (id, name) in [("@TOA#_small", "Ten"), ("@TOA#_huge", "Million"), ("@TOA#_subs", "Subs")] {
        let r = t
            .call(
                "official_account_open_http_svc/create_official_account",
                &json!({ "Owner_Account": "owner", "OfficialAccountUserID": id, "Name": name, "MaxSubscriberNum": 10_000_000 }),
            )
            .await;
        assert_eq!(r["ErrorCode"], 0, "{r}");
    }

    // 1. add_subscriber throughput: 100 per call, 8 concurrent callers.
    let users = 100_000usize;
    for chunk in (0..users).collect::<Vec<_>>().chunks(100) {
        let ids: Vec<String> = chunk.iter().map(|i| format!("u{i}")).collect();
        t.call("im_open_login_svc/multiaccount_import", &json!({ "Accounts": ids })).await;
    }
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (t, next) = (t.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let batch = next.fetch_add(1, Ordering::Relaxed) as usize;
                if batch * 100 >= users {
                    break;
                }
                let list: Vec<Value> = (batch * 100..batch * 100 + 100).map(|i| json!({ "Subscriber_Account": format!("u{i}") })).collect();
                let r = t
                    .call(
                        "official_account_open_http_svc/add_subscriber",
                        &json!({ "Official_Account": "@TOA#_subs", "SubscriberList": list }),
                    )
                    .await;
                assert_eq!(r["ErrorCode"], 0, "{r}");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let rate = users as f64 / start.elapsed().as_secs_f64();
    println!("add_subscriber (100 per call, 8 callers): {rate:>9.0} subscriptions/s   target >= 50,000");

    // 2. Publish latency: 10 subscribers vs 1,000,000.
    let seed = Instant::now();
    let small = messaging::OfficialAccountId::parse("x", "@TOA#_small").unwrap();
    let huge = messaging::OfficialAccountId::parse("x", "@TOA#_huge").unwrap();
    m.seed_subscribers_for_benchmark(&small, 10).await.unwrap();
    m.seed_subscribers_for_benchmark(&huge, 1_000_000).await.unwrap();
    println!("(seeded 1,000,000 subscribers in {:.1} s)", seed.elapsed().as_secs_f64());
    for (id, label) in [("@TOA#_small", "10 subscribers"), ("@TOA#_huge", "1,000,000 subscribers")] {
        let (p50, p99) = publish_latency(&t, id, 300).await;
        println!(
            "publish to {label:<22} p50 {:>7.2} ms  p99 {:>7.2} ms   target < 10 ms, independent of subscribers",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
    }

    // 3. get_official_account_info with 32 concurrent connections for 5 s.
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(5);
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (t, done) = (t.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({ "OfficialAccountIdList": [{ "Official_Account": "@TOA#_huge" }] });
            while Instant::now() < until {
                let r = t.call("official_account_open_http_svc/get_official_account_info", &body).await;
                assert_eq!(r["ErrorCode"], 0);
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let rps = done.load(Ordering::Relaxed) as f64 / 5.0;
    println!("get_official_account_info (32 connections): {rps:>9.0} requests/s   target >= 20,000");

    // 4. A console page (SSR) on one kept-alive connection, as a browser navigates.
    let browser = reqwest::Client::builder().pool_max_idle_per_host(1).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let signed_in = browser
        .post(format!("{}/api/sign_in", t.base))
        .header("origin", &t.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=admin&password={CONSOLE_PASSWORD}"))
        .send()
        .await
        .unwrap();
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let mut took = Vec::new();
    for _ in 0..300 {
        let start = Instant::now();
        let page = browser.get(format!("{}/accounts", t.base)).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(page.status(), 200);
        page.bytes().await.unwrap();
        took.push(start.elapsed());
    }
    took.sort();
    println!(
        "console /accounts, one kept-alive connection: p50 {:>7.2} ms  p99 {:>7.2} ms   target < 5 ms at the median",
        percentile(&took, 0.5).as_secs_f64() * 1e3,
        percentile(&took, 0.99).as_secs_f64() * 1e3
    );

    // 5. The cost of a send with the hourly limit raised: after 10,000 sends in the past hour
    //    against a fresh account (the limits are kept in O(1) per send).
    for (id, name) in [("@TOA#_busy", "Busy"), ("@TOA#_fresh", "Fresh")] {
        t.call(
            "official_account_open_http_svc/create_official_account",
            &json!({ "Owner_Account": "owner", "OfficialAccountUserID": id, "Name": name }),
        )
        .await;
    }
    publish_latency(&t, "@TOA#_busy", 10_000).await;
    for (id, label) in [("@TOA#_busy", "after 10,000 sends this hour"), ("@TOA#_fresh", "fresh account")] {
        let (p50, p99) = publish_latency(&t, id, 300).await;
        println!(
            "publish, {label:<28} p50 {:>7.2} ms  p99 {:>7.2} ms   (should not differ)",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
    }

    // 6. The Posts page (SSR) of an account with 1,000 posts: 800 sent, 200 drafts; one
    //    kept-alive connection, as in 4.
    t.call(
        "official_account_open_http_svc/create_official_account",
        &json!({ "Owner_Account": "owner", "OfficialAccountUserID": "@TOA#_writer", "Name": "Writer" }),
    )
    .await;
    publish_latency(&t, "@TOA#_writer", 800).await;
    let writer = messaging::OfficialAccountId::parse("Official_Account", "@TOA#_writer").unwrap();
    for i in 0..200 {
        let content = messaging::post::PostContent {
            kind: messaging::post::PostKind::Text,
            body: format!("Draft **{i}** with [a link](https://herald.example/{i})"),
            images: vec![],
            poll: None,
        };
        m.save_post(&writer, None, &content, "admin").await.unwrap();
    }
    let mut took = Vec::new();
    for _ in 0..300 {
        let start = Instant::now();
        let page = browser.get(format!("{}/accounts/%40TOA%23_writer/posts", t.base)).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        took.push(start.elapsed());
        assert!(html.contains("Draft 199"), "the page lists the drafts");
    }
    took.sort();
    println!(
        "console Posts page, 1,000 posts (800 sent, 200 drafts): p50 {:>7.2} ms  p99 {:>7.2} ms   target < 5 ms at the median",
        percentile(&took, 0.5).as_secs_f64() * 1e3,
        percentile(&took, 0.99).as_secs_f64() * 1e3
    );

    // 7. Insights of the account with 1,000,000 subscribers, given 1,000 posts and 90 days of
    //    history: REST and the console's tab, and what each of their queries reads.
    m.insights().seed_history_for_benchmark(&huge, 1_000, 90).await.unwrap();
    let today = messaging::insights::Day::of_time(now());
    let range = json!({ "Official_Account": "@TOA#_huge", "From": today.plus(-89).to_string(), "To": today.to_string() });
    let history = t
        .call(
            "official_account_open_http_svc/official_account_msg_get_simple",
            &json!({ "Official_Account": "@TOA#_huge", "ReqMsgNumber": 100 }),
        )
        .await;
    let keys: Vec<Value> = history["RspMsgList"].as_array().unwrap().iter().map(|m| json!({ "MsgKey": m["MsgKey"] })).collect();
    let posts = json!({ "Official_Account": "@TOA#_huge", "MsgKeyList": keys });
    let timed = |label: &'static str, target: &'static str, took: &mut Vec<Duration>| {
        took.sort();
        println!(
            "{label:<58} p50 {:>7.2} ms  p99 {:>7.2} ms   {target}",
            percentile(took, 0.5).as_secs_f64() * 1e3,
            percentile(took, 0.99).as_secs_f64() * 1e3
        );
    };
    for (command, body, label) in [
        ("herald_open_http_svc/get_account_insights", &range, "get_account_insights, 90 days, 1,000,000 subscribers"),
        ("herald_open_http_svc/get_post_insights", &posts, "get_post_insights, 100 posts of 1,000"),
    ] {
        let mut took = Vec::new();
        for _ in 0..200 {
            let start = Instant::now();
            let r = t.call(command, body).await;
            took.push(start.elapsed());
            assert_eq!(r["ErrorCode"], 0, "{r}");
        }
        timed(label, "target < 20 ms", &mut took);
    }
    let mut took = Vec::new();
    for _ in 0..100 {
        let start = Instant::now();
        let page =
            browser.get(format!("{}/accounts/%40TOA%23_huge/insights?days=90", t.base)).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        took.push(start.elapsed());
        assert!(html.contains("Subscribers over time"), "the page has its charts");
    }
    timed("console Insights tab (SSR), 90 days, 1,000 posts", "target < 20 ms", &mut took);
    let plans = m.insights().query_plans_for_benchmark(&huge).await.unwrap();
    let mut touches_subscriptions = false;
    for (name, lines) in &plans {
        println!("  plan of {name}: {}", lines.join(" | "));
        touches_subscriptions |= lines.iter().any(|l| l.contains("subscription"));
    }
    println!("  a plan reads the subscription table: {touches_subscriptions} (must be false)");
    m.close().await;
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    run("SQLite", &format!("sqlite://{}/bench.db", dir.path().display())).await;
    if let Ok(url) = std::env::var("HERALD_TEST_PG_URL") {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
        let name = format!("herald_bench_{}", now());
        sqlx::query(&format!("create database {name}")).execute(&mut admin).await.unwrap();
        let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&url);
        run("PostgreSQL", &format!("{base}/{name}")).await;
        sqlx::query(&format!("drop database if exists {name} with (force)")).execute(&mut admin).await.unwrap();
    } else {
        println!("\n(HERALD_TEST_PG_URL unset: PostgreSQL skipped)");
    }
}
