//! Live delivery across server processes: two nodes on one PostgreSQL (a client on node B hears
//! what node A's REST did), and a server killed with SIGKILL under connected clients (they
//! reconnect to the restarted server and catch up with nothing lost or repeated).

use crate::crash::{call, free_port, start_server, start_server_with};
use crate::helpers::*;
use crate::ws::*;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_on_node_b_hears_a_post_its_edit_a_recall_and_a_subscription_made_through_node_a() {
    if std::env::var("HERALD_TEST_BACKEND").as_deref() != Ok("postgres") {
        eprintln!("two nodes need PostgreSQL: this test runs in the PostgreSQL pass of scripts/test.sh");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = database_url(&dir).await;
    let (port_a, port_b) = (free_port(), free_port());
    let mut node_a = start_server(&db, port_a).await;
    let mut node_b = start_server(&db, port_b).await;
    let client = reqwest::Client::new();
    let rest = |path: &'static str, body: Value| {
        let client = client.clone();
        async move {
            let r = call(&client, port_a, path, body).await.unwrap();
            assert_ok(&r);
            r
        }
    };
    rest("im_open_login_svc/multiaccount_import", json!({ "Accounts": ["owner", "alice"] })).await;
    rest(
        "official_account_open_http_svc/create_official_account",
        json!({ "Owner_Account": "owner", "OfficialAccountUserID": "@TOA#_nodes", "Name": "Nodes" }),
    )
    .await;

    let mut alice = Ws::connect(&format!("http://127.0.0.1:{port_b}"), "alice").await;
    rest(
        "official_account_open_http_svc/add_subscriber",
        json!({ "Official_Account": "@TOA#_nodes", "SubscriberList": [{ "Subscriber_Account": "alice" }] }),
    )
    .await;
    let info = alice.event("onOfficialAccountSubscribed").await;
    assert_eq!(info["officialAccountInfo"]["officialAccountID"], "@TOA#_nodes");

    let sent = rest(
        "official_account_open_http_svc/send_official_account_msg",
        json!({ "Official_Account": "@TOA#_nodes", "Random": 1, "MsgBody": text("from node A") }),
    )
    .await;
    let key = sent["MsgKey"].as_str().unwrap();
    let m = alice.event("onRecvNewMessage").await["message"].clone();
    assert_eq!(m["msgKey"], key);
    assert_eq!(m["msgBody"][0]["MsgContent"]["Text"], "from node A");

    // An edit made through node A reaches the client on node B, once (docs/rest-api.md §9).
    let edited = rest(
        "herald_open_http_svc/official_account_msg_modify",
        json!({ "Official_Account": "@TOA#_nodes", "MsgKey": key, "MsgBody": text("edited on node A") }),
    )
    .await;
    assert_eq!(edited["MsgVersion"], 2);
    let modified = alice.events_within("onRecvMessageModified", Duration::from_millis(1500)).await;
    assert_eq!(modified.len(), 1, "{modified:?}");
    assert_eq!(modified[0]["message"]["msgBody"][0]["MsgContent"]["Text"], "edited on node A");

    rest(
        "official_account_open_http_svc/official_account_msg_recall",
        json!({ "Official_Account": "@TOA#_nodes", "MsgKeyList": [{ "MsgKey": key }] }),
    )
    .await;
    assert_eq!(alice.event("onRecvMessageRevoked").await["msgKey"], key);

    // And the other way round: alice's message through node B reaches REST on node A.
    alice.ok("sendMessage", json!({ "conversationID": "c2c_@TOA#_nodes", "msgBody": text("hello from B") })).await;
    let roam = rest(
        "openim/admin_getroammsg",
        json!({ "Operator_Account": "@TOA#_nodes", "Peer_Account": "alice", "MaxCnt": 5, "MinTime": 0, "MaxTime": now() + 10 }),
    )
    .await;
    assert_eq!(roam["MsgList"][0]["MsgBody"][0]["MsgContent"]["Text"], "hello from B");
    node_a.kill().unwrap();
    node_b.kill().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_sigkill_clients_reconnect_and_catch_up_with_nothing_lost_or_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let db = database_url(&dir).await;
    let port = free_port();
    let mut server = start_server(&db, port).await;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    call(&client, port, "im_open_login_svc/multiaccount_import", json!({ "Accounts": ["owner", "alice"] })).await.unwrap();
    let r = call(
        &client,
        port,
        "official_account_open_http_svc/create_official_account",
        json!({ "Owner_Account": "owner", "OfficialAccountUserID": "@TOA#_kill", "Name": "Kill" }),
    )
    .await
    .unwrap();
    assert_ok(&r);
    let r = call(
        &client,
        port,
        "official_account_open_http_svc/add_subscriber",
        json!({ "Official_Account": "@TOA#_kill", "SubscriberList": [{ "Subscriber_Account": "alice" }] }),
    )
    .await
    .unwrap();
    assert_ok(&r);
    let mut alice = Ws::connect(&base, "alice").await;

    // Senders fire until the server dies under them; the acknowledged keys are what must survive.
    let mut senders = Vec::new();
    for w in 0..4u32 {
        let client = client.clone();
        senders.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0..10_000u32 {
                let body = json!({ "Official_Account": "@TOA#_kill", "Random": w * 100_000 + i, "MsgBody": text(&format!("{w}-{i}")) });
                match call(&client, port, "official_account_open_http_svc/send_official_account_msg", body).await {
                    Ok(r) if r["ErrorCode"] == 0 => acknowledged.push(r["MsgKey"].as_str().unwrap().to_owned()),
                    Ok(r) => panic!("refused: {r}"),
                    Err(_) => break,
                }
            }
            acknowledged
        }));
    }
    // Let some arrive live, let the senders run on a little, then kill.
    let mut live = Vec::new();
    while live.len() < 5 {
        let e = alice.event("onRecvNewMessage").await;
        live.push(e["message"]["msgKey"].as_str().unwrap().to_owned());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    let mut acknowledged = HashSet::new();
    for s in senders {
        acknowledged.extend(s.await.unwrap());
    }
    // Whatever else was already queued to alice arrives or is cut; keep what did arrive.
    while let Some(e) = alice.try_event("onRecvNewMessage", Duration::from_millis(200)).await {
        live.push(e["message"]["msgKey"].as_str().unwrap().to_owned());
    }
    assert!(alice.closed_within(Duration::from_secs(5)).await, "the connection ended with the server");

    let mut server = start_server(&db, port).await;
    let mut alice = Ws::connect(&base, "alice").await;
    // The client library's catch-up: page back until the newest key it already has.
    let newest_seen = live.last().cloned().unwrap();
    let mut fetched = Vec::new();
    let mut last: Option<String> = None;
    'paging: loop {
        let mut data = json!({ "conversationID": "c2c_@TOA#_kill", "count": 100 });
        if let Some(k) = &last {
            data["lastMsgKey"] = json!(k);
        }
        let page = alice.ok("getMessageList", data).await;
        for m in page["messages"].as_array().unwrap() {
            let k = m["msgKey"].as_str().unwrap().to_owned();
            if k == newest_seen {
                break 'paging;
            }
            last = Some(k.clone());
            fetched.push(k);
        }
        if page["isFinished"] == true {
            break;
        }
    }
    let mut all: Vec<String> = live.clone();
    all.extend(fetched.iter().cloned());
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "no message reaches the client twice");
    for key in &acknowledged {
        assert!(unique.contains(key), "acknowledged {key} reached the client live or on catch-up");
    }
    eprintln!("{} acknowledged before SIGKILL: {} live, {} caught up after the restart", acknowledged.len(), live.len(), fetched.len());
    server.kill().unwrap();
}

/// A node whose secret key and quotas are not in its environment, so the console can change
/// them (the SDKAppID still is).
const CONSOLE_NODE: &[(&str, &str)] = &[("HERALD_ADMIN_PASSWORD", PASSWORD)];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn settings_and_a_key_rotation_made_on_node_a_apply_on_node_b_without_a_restart() {
    if std::env::var("HERALD_TEST_BACKEND").as_deref() != Ok("postgres") {
        eprintln!("two nodes need PostgreSQL: this test runs in the PostgreSQL pass of scripts/test.sh");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = database_url(&dir).await;
    let (port_a, port_b) = (free_port(), free_port());
    let mut node_a = start_server_with(&db, port_a, CONSOLE_NODE).await;
    let mut node_b = start_server_with(&db, port_b, CONSOLE_NODE).await;
    let a = TestApp { base: format!("http://127.0.0.1:{port_a}"), client: reqwest::Client::new(), _dir: None, db: None, node: None };
    let b = TestApp { base: format!("http://127.0.0.1:{port_b}"), client: reqwest::Client::new(), _dir: None, db: None, node: None };
    let admin = signed_in(&a).await;
    let key: String = server_fn(&a, "reveal_secret_key", &[], Some(&admin)).await.json().await.unwrap();
    assert_eq!(b.error_code_with_key(&key).await, 0, "both nodes share the stored key");

    // A rotation without grace on A: B refuses the old key and takes the new one.
    let new_key: String = server_fn(&a, "rotate_secret_key", &[("grace_hours", "0")], Some(&admin)).await.json().await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while b.error_code_with_key(&key).await == 0 {
        assert!(std::time::Instant::now() < deadline, "node B still takes the old key");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(b.error_code_with_key(&key).await, 70009);
    assert_eq!(b.error_code_with_key(&new_key).await, 0);

    // Settings saved on A: B's REST quota follows.
    let form = [
        ("form[webhook_url]", ""),
        ("form[webhook_secret]", ""),
        ("form[push_url]", ""),
        ("form[broadcasts_per_second]", "1"),
        ("form[broadcasts_per_hour]", "2"),
        ("form[rest_calls_per_second]", "1"),
        ("form[session_idle_hours]", "12"),
    ];
    assert_eq!(server_fn(&a, "save_app_settings", &form, Some(&admin)).await.status(), 200);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let codes = [b.error_code_with_key(&new_key).await, b.error_code_with_key(&new_key).await, b.error_code_with_key(&new_key).await];
        if codes.contains(&60007) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "node B never applied the new quota: {codes:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    node_a.kill().unwrap();
    node_b.kill().unwrap();
}

/// Runs `sql` on the PostgreSQL server as its administrator (not through the node's pool).
async fn pg_admin(sql: &str) -> u64 {
    use sqlx::Connection;
    let url = std::env::var("HERALD_TEST_PG_URL").unwrap();
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query(sql).execute(&mut admin).await.unwrap().rows_affected()
}

/// The node on `database` loses its LISTEN connection while its pool keeps working, and cannot
/// listen again until [`listen_again`] (a failover, a network blip).
async fn lose_listen(database: &str) {
    pg_admin(&format!("alter database {database} allow_connections false")).await;
    let terminated =
        pg_admin(&format!("select pg_terminate_backend(pid) from pg_stat_activity where datname = '{database}' and query ilike 'listen%'"))
            .await;
    assert_eq!(terminated, 1, "the node's LISTEN connection");
}

async fn listen_again(database: &str) {
    pg_admin(&format!("alter database {database} allow_connections true")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_connected_through_a_lost_listen_connection_gets_what_was_sent_meanwhile_exactly_once() {
    if std::env::var("HERALD_TEST_BACKEND").as_deref() != Ok("postgres") {
        eprintln!("LISTEN needs PostgreSQL: this test runs in the PostgreSQL pass of scripts/test.sh");
        return;
    }
    let app = crate::client::unlimited().await;
    let database = app.db.clone().unwrap().rsplit_once('/').unwrap().1.to_owned();
    let account = app.an_account_with_subscribers("@TOA#_gap", &["alice"]).await;
    let mut alice = Ws::connect(&app.base, "alice").await;
    let send = |words: &'static str| {
        let (app, account) = (&app, account.clone());
        async move {
            let r = app.send(json!({ "Official_Account": account, "Random": rand::random::<u32>(), "MsgBody": text(words) })).await;
            assert_ok(&r);
            r["MsgKey"].as_str().unwrap().to_owned()
        }
    };
    let first = send("post 1").await;
    assert_eq!(alice.event("onRecvNewMessage").await["message"]["msgKey"], first);

    // The node loses its LISTEN connection while its pool keeps working, and cannot listen again
    // until connections are allowed (a failover, a network blip).
    lose_listen(&database).await;
    let second = send("post 2").await;
    listen_again(&database).await;

    // Within a few seconds of listening again the node sends what its client missed, unasked.
    let caught_up = alice.try_event("onRecvNewMessage", Duration::from_secs(5)).await.expect("the missed post arrives live");
    assert_eq!(caught_up["message"]["msgKey"], second);
    let third = send("post 3").await;
    let rest: Vec<Value> = alice.events_within("onRecvNewMessage", Duration::from_secs(2)).await;
    let keys: Vec<&str> = rest.iter().filter_map(|e| e["message"]["msgKey"].as_str()).collect();
    assert_eq!(keys, [third.as_str()], "post 3 once, post 2 not again");
}

/// A PostgreSQL of the test's own (`initdb` into a temporary folder, `pg_ctl` on a free port), so
/// that restarting it leaves the machine's server alone. Stopped when dropped.
struct OwnPostgres {
    dir: tempfile::TempDir,
    port: u16,
    bin: std::path::PathBuf,
}

impl OwnPostgres {
    fn tool(&self, name: &str, args: &[&str]) {
        let tool = self.bin.join(name);
        // PostgreSQL refuses to run as root: as root, run its tools as the postgres user.
        let root = std::process::Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
        let mut command = if root {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&tool);
            c
        } else {
            std::process::Command::new(&tool)
        };
        let out = command.args(args).output().unwrap();
        assert!(out.status.success(), "{name} {args:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }

    fn start_args(&self) -> Vec<String> {
        let data = self.dir.path().join("data");
        vec![
            "-D".into(),
            data.display().to_string(),
            "-o".into(),
            format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.path().display()),
            "-l".into(),
            self.dir.path().join("log").display().to_string(),
            "-w".into(),
        ]
    }

    async fn start() -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| Some(e.ok()?.path().join("bin")))
            .find(|b| b.join("initdb").exists())?;
        let dir = tempfile::tempdir().unwrap();
        std::process::Command::new("chown").args(["-R", "postgres", dir.path().to_str().unwrap()]).status().ok();
        let pg = OwnPostgres { port: free_port(), dir, bin };
        let data = pg.dir.path().join("data").display().to_string();
        pg.tool("initdb", &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync"]);
        let mut args: Vec<String> = pg.start_args();
        args.push("start".into());
        pg.tool("pg_ctl", &args.iter().map(String::as_str).collect::<Vec<_>>());
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&format!("{}/postgres", pg.base())).await.unwrap();
        sqlx::query("create database herald").execute(&mut admin).await.unwrap();
        Some(pg)
    }

    fn base(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    fn restart(&self) {
        let mut args: Vec<String> = self.start_args();
        args.extend(["-m".into(), "fast".into(), "restart".into()]);
        self.tool("pg_ctl", &args.iter().map(String::as_str).collect::<Vec<_>>());
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data").display().to_string();
        self.tool("pg_ctl", &["-D", &data, "-m", "immediate", "stop"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_postgresql_restarts_under_two_nodes_every_client_ends_with_every_broadcast_exactly_once() {
    if std::env::var("HERALD_TEST_BACKEND").as_deref() != Ok("postgres") {
        eprintln!("this test restarts a PostgreSQL of its own: it runs in the PostgreSQL pass of scripts/test.sh");
        return;
    }
    let pg = OwnPostgres::start().await.expect("PostgreSQL's initdb and pg_ctl (the postgresql package)");
    let db = format!("{}/herald", pg.base());
    let (port_a, port_b) = (free_port(), free_port());
    let mut node_a = start_server(&db, port_a).await;
    let mut node_b = start_server(&db, port_b).await;
    let client = reqwest::Client::new();
    for (path, body) in [
        ("im_open_login_svc/multiaccount_import", json!({ "Accounts": ["owner", "r1", "r2", "r3", "r4"] })),
        (
            "official_account_open_http_svc/create_official_account",
            json!({ "Owner_Account": "owner", "OfficialAccountUserID": "@TOA#_restart", "Name": "Restart" }),
        ),
        ("official_account_open_http_svc/add_subscriber", {
            let list: Vec<Value> = ["r1", "r2", "r3", "r4"].iter().map(|u| json!({ "Subscriber_Account": u })).collect();
            json!({ "Official_Account": "@TOA#_restart", "SubscriberList": list })
        }),
    ] {
        assert_ok(&call(&client, port_a, path, body).await.unwrap());
    }
    let mut clients = [
        Ws::connect(&format!("http://127.0.0.1:{port_a}"), "r1").await,
        Ws::connect(&format!("http://127.0.0.1:{port_a}"), "r2").await,
        Ws::connect(&format!("http://127.0.0.1:{port_b}"), "r3").await,
        Ws::connect(&format!("http://127.0.0.1:{port_b}"), "r4").await,
    ];

    // Broadcasts through both nodes, every 40 ms, while PostgreSQL restarts under them.
    let sending = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sender = {
        let (client, sending) = (client.clone(), sending.clone());
        tokio::spawn(async move {
            let mut accepted = Vec::new();
            let mut i = 0u32;
            while sending.load(std::sync::atomic::Ordering::Relaxed) {
                let port = if i.is_multiple_of(2) { port_a } else { port_b };
                let body = json!({ "Official_Account": "@TOA#_restart", "Random": i, "MsgBody": text(&format!("n{i}")) });
                if let Ok(r) = call(&client, port, "official_account_open_http_svc/send_official_account_msg", body).await {
                    if r["ErrorCode"] == 0 {
                        accepted.push(r["MsgKey"].as_str().unwrap().to_owned());
                    }
                }
                i += 1;
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            accepted
        })
    };
    tokio::time::sleep(Duration::from_millis(600)).await;
    let pg = std::sync::Arc::new(pg);
    tokio::task::spawn_blocking({
        let pg = pg.clone();
        move || pg.restart()
    })
    .await
    .unwrap();
    // Sends succeed again once both nodes' pools reconnect.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    sending.store(false, std::sync::atomic::Ordering::Relaxed);
    let accepted = sender.await.unwrap();
    assert!(accepted.len() >= 20, "{} accepted", accepted.len());

    // Within 2 s of listening again (the nodes retry every second), every client has caught up.
    let history = call(
        &client,
        port_b,
        "official_account_open_http_svc/official_account_msg_get_simple",
        json!({ "Official_Account": "@TOA#_restart", "ReqMsgNumber": 100 }),
    )
    .await
    .unwrap();
    assert_ok(&history);
    let stored: HashSet<String> =
        history["RspMsgList"].as_array().unwrap().iter().map(|m| m["MsgKey"].as_str().unwrap().to_owned()).collect();
    for key in &accepted {
        assert!(stored.contains(key), "accepted {key} is stored");
    }
    for (i, c) in clients.iter_mut().enumerate() {
        let got: Vec<String> = c
            .events_within("onRecvNewMessage", Duration::from_secs(4))
            .await
            .iter()
            .map(|e| e["message"]["msgKey"].as_str().unwrap().to_owned())
            .collect();
        let once: HashSet<&String> = got.iter().collect();
        assert_eq!(once.len(), got.len(), "client {i} got a broadcast twice: {got:?}");
        let missing: Vec<&String> = stored.iter().filter(|k| !once.contains(k)).collect();
        assert!(missing.is_empty(), "client {i} missed {missing:?} of {}", stored.len());
        assert_eq!(once.len(), stored.len(), "client {i} got only stored broadcasts");
    }
    node_a.kill().unwrap();
    node_b.kill().unwrap();
    drop(pg);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_connected_through_a_lost_listen_connection_hears_of_the_recall_and_the_edit_made_meanwhile() {
    if std::env::var("HERALD_TEST_BACKEND").as_deref() != Ok("postgres") {
        eprintln!("LISTEN needs PostgreSQL: this test runs in the PostgreSQL pass of scripts/test.sh");
        return;
    }
    let app = crate::client::unlimited().await;
    let database = app.db.clone().unwrap().rsplit_once('/').unwrap().1.to_owned();
    let account = app.an_account_with_subscribers("@TOA#_gap2", &["bea"]).await;
    let mut bea = Ws::connect(&app.base, "bea").await;
    let mut keys = Vec::new();
    for words in ["to be recalled", "to be edited"] {
        let r = app.send(json!({ "Official_Account": account, "Random": rand::random::<u32>(), "MsgBody": text(words) })).await;
        assert_ok(&r);
        keys.push(r["MsgKey"].as_str().unwrap().to_owned());
        bea.event("onRecvNewMessage").await;
    }

    lose_listen(&database).await;
    let recall = app
        .call(
            "official_account_open_http_svc/official_account_msg_recall",
            json!({ "Official_Account": account, "MsgKeyList": [{ "MsgKey": keys[0] }] }),
        )
        .await;
    assert_ok(&recall);
    let edit = app
        .call(
            "herald_open_http_svc/official_account_msg_modify",
            json!({ "Official_Account": account, "MsgKey": keys[1], "MsgBody": text("edited in the gap") }),
        )
        .await;
    assert_ok(&edit);
    listen_again(&database).await;

    let revoked = bea.try_event("onRecvMessageRevoked", Duration::from_secs(5)).await.expect("the recall arrives after the gap");
    assert_eq!(revoked["msgKey"], keys[0]);
    let modified = bea.try_event("onRecvMessageModified", Duration::from_secs(3)).await.expect("the edit arrives after the gap");
    assert_eq!(modified["message"]["msgBody"][0]["MsgContent"]["Text"], "edited in the gap");
    // The unread total is what is stored: the edited post only.
    let totals = bea.events_within("onTotalUnreadMessageCountChanged", Duration::from_secs(1)).await;
    let info = bea.ok("getOfficialAccountsInfo", json!({ "officialAccountIDList": [] })).await;
    let stored = info["results"][0]["officialAccountInfo"]["unreadCount"].clone();
    assert_eq!(stored, 1, "{info}");
    if let Some(last) = totals.last() {
        assert_eq!(last["totalUnreadCount"], 1, "{totals:?}");
    }
}
