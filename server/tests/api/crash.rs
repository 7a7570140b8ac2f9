//! A crash in the middle of a burst of sends: the real binary, killed with SIGKILL. After a
//! restart every acknowledged MsgKey is in history exactly once, and resending an acknowledged
//! message (same Random, same content) is recognised instead of stored again.

use crate::helpers::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts target/…/server on `db` and waits until it answers: the test identity, a fixed admin
/// password and quotas no test reaches, all from the environment.
pub async fn start_server(db: &str, port: u16) -> Child {
    let key = KEY.to_string();
    start_server_with(
        db,
        port,
        &[
            ("HERALD_SECRET_KEY", &key),
            ("HERALD_ADMIN_PASSWORD", "crash-test-password"),
            ("HERALD_BROADCASTS_PER_SECOND", "100000"),
            ("HERALD_BROADCASTS_PER_HOUR", "100000"),
            ("HERALD_REST_CALLS_PER_SECOND", "100000"),
        ],
    )
    .await
}

/// Starts target/…/server on `db` with the test SDKAppID and `env`, and waits until it answers.
pub async fn start_server_with(db: &str, port: u16, env: &[(&str, &str)]) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("HERALD_ADDR", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", db)
        .env("HERALD_SDKAPPID", SDKAPPID.to_string())
        .envs(env.iter().copied())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.is_err() {
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child
}

pub async fn call(client: &reqwest::Client, port: u16, path: &str, body: Value) -> Result<Value, reqwest::Error> {
    let q = format!("sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={}&random=1", sig_for(ADMIN));
    client.post(format!("http://127.0.0.1:{port}/v4/{path}?{q}")).body(body.to_string()).send().await?.json().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_broadcast_survives_a_sigkill_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = database_url(&dir).await; // SQLite, or PostgreSQL when the suite runs on it
    let port = free_port();
    let mut server = start_server(&db, port).await;
    let client = reqwest::Client::new();
    call(&client, port, "im_open_login_svc/account_import", json!({ "UserID": "o" })).await.unwrap();
    let r = call(
        &client,
        port,
        "official_account_open_http_svc/create_official_account",
        json!({ "Owner_Account": "o", "OfficialAccountUserID": "@TOA#_crash", "Name": "Crash" }),
    )
    .await
    .unwrap();
    assert_ok(&r);

    // Eight senders fire until the server dies under them.
    let mut senders = Vec::new();
    for w in 0..8u32 {
        let client = client.clone();
        senders.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..10_000u32 {
                let random = w * 100_000 + i;
                let body = json!({ "Official_Account": "@TOA#_crash", "Random": random, "MsgBody": text(&format!("w{w} m{i}")) });
                match call(&client, port, "official_account_open_http_svc/send_official_account_msg", body).await {
                    Ok(r) if r["ErrorCode"] == 0 => acked.push((random, format!("w{w} m{i}"), r["MsgKey"].as_str().unwrap().to_owned())),
                    Ok(r) => panic!("refused: {r}"),
                    Err(_) => break, // the server is gone
                }
            }
            acked
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill().expect("SIGKILL"); // std's kill() is SIGKILL on Unix
    server.wait().unwrap();
    let mut acked = Vec::new();
    for s in senders {
        acked.extend(s.await.unwrap());
    }
    assert!(acked.len() > 20, "the burst got going before the kill ({} acknowledged)", acked.len());

    let mut server = start_server(&db, port).await;
    let mut in_history: HashMap<String, usize> = HashMap::new();
    let mut last = String::new();
    loop {
        let r = call(
            &client,
            port,
            "official_account_open_http_svc/official_account_msg_get_simple",
            json!({ "Official_Account": "@TOA#_crash", "ReqMsgNumber": 100, "LastMsgKey": last }),
        )
        .await
        .unwrap();
        assert_ok(&r);
        for m in r["RspMsgList"].as_array().unwrap() {
            *in_history.entry(m["MsgKey"].as_str().unwrap().to_owned()).or_default() += 1;
        }
        last = r["LastMsgKey"].as_str().unwrap().to_owned();
        if r["IsFinished"] == 1 {
            break;
        }
    }
    for (_, _, key) in &acked {
        assert_eq!(in_history.get(key), Some(&1), "acknowledged {key} is in history exactly once");
    }
    assert!(in_history.values().all(|n| *n == 1), "no message stored twice");

    // A client that did not hear the answer resends: it gets the same key, nothing new is stored.
    let (random, content, key) = &acked[acked.len() / 2];
    let again = call(
        &client,
        port,
        "official_account_open_http_svc/send_official_account_msg",
        json!({ "Official_Account": "@TOA#_crash", "Random": random, "MsgBody": text(content) }),
    )
    .await
    .unwrap();
    assert_eq!(again["MsgKey"].as_str(), Some(key.as_str()));
    server.kill().unwrap();
    server.wait().unwrap();
}
