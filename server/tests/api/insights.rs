//! Insights (docs/insights.md) from outside: a scripted history over two days, made over REST,
//! the client protocol and the console, and the exact figures both `herald_open_http_svc`
//! commands must answer for it; their refusals; and the figures after a SIGKILL in the middle
//! of a storm of read marks.

use crate::client::unlimited;
use crate::crash::{call, free_port, start_server};
use crate::helpers::*;
use crate::ws::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ACCOUNT_INSIGHTS: &str = "herald_open_http_svc/get_account_insights";
const POST_INSIGHTS: &str = "herald_open_http_svc/get_post_insights";
const DAY: i64 = 86_400;

fn date_of(unix: i64) -> String {
    messaging::insights::Day::of_time(unix).to_string()
}

async fn broadcast(app: &TestApp, account: &str, words: &str, random: u32) -> String {
    let r = app.send(json!({ "Official_Account": account, "Random": random, "MsgBody": text(words) })).await;
    assert_ok(&r);
    r["MsgKey"].as_str().unwrap().to_owned()
}

/// Asks again (the hub writes live deliveries and online counts just after the fact) until
/// `done` holds or 5 s pass; answers the last answer.
async fn eventually(app: &TestApp, path: &str, body: Value, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = app.call(path, body.clone()).await;
        if done(&r) || Instant::now() > deadline {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_scripted_history_gives_exactly_its_figures_per_day_per_source_per_post_and_now() {
    let app = unlimited().await;
    let node = app.node();
    let account = app.an_account("owner", "@TOA#_insight", "Insight").await;
    app.call("im_open_login_svc/multiaccount_import", json!({ "Accounts": ["a", "b", "c", "d", "e", "f"] })).await;
    let subscribe = |users: &[&str]| {
        let list: Vec<Value> = users.iter().map(|u| json!({ "Subscriber_Account": u })).collect();
        json!({ "Official_Account": account, "SubscriberList": list })
    };
    let day0 = node.now();
    // Day 0: three subscribe over REST, one from the app, one in the console.
    assert_ok(&app.call("official_account_open_http_svc/add_subscriber", subscribe(&["a", "b", "c"])).await);
    let mut d = Ws::connect(&app.base, "d").await;
    d.ok("subscribeOfficialAccount", json!({ "officialAccountID": account })).await;
    let admin = signed_in(&app).await;
    let added = server_fn(&app, "add_subscribers", &[("account", &account), ("user_ids", "e")], Some(&admin)).await;
    assert_eq!(added.status(), 200);
    for (user, flag) in [("c", "Discard"), ("e", "AcceptNotNotify")] {
        let r = app
            .call(
                "official_account_open_http_svc/modify_subscriber_info",
                json!({ "Official_Account": account, "Subscriber_Account": user, "MsgFlag": flag }),
            )
            .await;
        assert_ok(&r);
    }
    // a and c are connected too; c discards broadcasts, so it is not reached live.
    let mut a = Ws::connect(&app.base, "a").await;
    let mut c = Ws::connect(&app.base, "c").await;
    let post1 = broadcast(&app, &account, "one", 1).await;
    a.event("onRecvNewMessage").await;
    d.event("onRecvNewMessage").await;
    let conv = conversation(&account);
    let hour0 = messaging::insights::Day::hour_of(node.now());
    a.ok("markConversationRead", json!({ "conversationID": conv })).await;
    a.ok("markConversationRead", json!({ "conversationID": conv, "msgKey": post1 })).await; // again: counted once
    assert_ok(&app.call("openim/admin_set_msg_read", json!({ "Report_Account": "b", "Peer_Account": account })).await);
    let react = |reaction: &str| json!({ "conversationID": conv, "msgKey": post1, "reactionID": reaction });
    a.ok("addMessageReaction", react("👍")).await;
    d.ok("addMessageReaction", react("👍")).await;
    d.ok("addMessageReaction", react("🎉")).await;
    d.ok("removeMessageReaction", react("🎉")).await;
    d.ok("sendMessage", json!({ "conversationID": conv, "msgBody": text("a question") })).await;
    let reply = json!({ "From_Account": account, "To_Account": "d", "MsgRandom": 9, "MsgBody": text("an answer") });
    assert_ok(&app.call("openim/sendmsg", reply).await);

    // Day 1: d is gone; a new post; e catches up on both, a reads the new one; b leaves, f joins.
    drop(d);
    node.advance_clock(DAY);
    let day1 = node.now();
    let post2 = broadcast(&app, &account, "two", 2).await;
    a.event("onRecvNewMessage").await;
    let hour1 = messaging::insights::Day::hour_of(node.now());
    assert_ok(&app.call("openim/admin_set_msg_read", json!({ "Report_Account": "e", "Peer_Account": account })).await);
    a.ok("markConversationRead", json!({ "conversationID": conv })).await;
    let r = app.call("official_account_open_http_svc/delete_subscriber", subscribe(&["b"])).await;
    assert_ok(&r);
    assert_ok(&app.call("official_account_open_http_svc/add_subscriber", subscribe(&["f"])).await);

    let question = json!({ "Official_Account": account, "From": date_of(day0 - DAY), "To": date_of(day1) });
    // a and c are online (d left): the hub writes it within a second or so.
    let got = eventually(&app, ACCOUNT_INSIGHTS, question, |r| r["OnlineNow"] == 2).await;
    assert_ok(&got);
    let day = |date: i64, subscribed, unsubscribed, total, reads, reactions, messages_in, replies, posts| {
        json!({ "Date": date_of(date), "Subscribed": subscribed, "Unsubscribed": unsubscribed, "Total": total, "Reads": reads,
                "Reactions": reactions, "MessagesIn": messages_in, "Replies": replies, "Posts": posts })
    };
    assert_eq!(
        got["Days"],
        json!([day(day0 - DAY, 0, 0, 0, 0, 0, 0, 0, 0), day(day0, 5, 0, 5, 2, 3, 1, 1, 1), day(day1, 1, 1, 5, 3, 0, 0, 0, 1)])
    );
    assert_eq!(
        got["BySource"],
        json!([{ "Source": "api", "Subscribed": 4 }, { "Source": "app", "Subscribed": 1 }, { "Source": "console", "Subscribed": 1 }])
    );
    assert_eq!(got["MsgFlags"], json!({ "AcceptAndNotify": 3, "AcceptNotNotify": 1, "Discard": 1 }));
    let mut hours = vec![0; 24];
    hours[hour0 as usize] += 2;
    hours[hour1 as usize] += 3;
    assert_eq!(got["ReadsByHour"], json!(hours));
    assert_eq!(got["OnlineNow"], 2);

    let keys = json!({ "Official_Account": account, "MsgKeyList": [{ "MsgKey": post2 }, { "MsgKey": post1 }, { "MsgKey": "99_1_5" }] });
    let posts = eventually(&app, POST_INSIGHTS, keys, |r| r["Posts"][0]["DeliveredLive"] == 1).await;
    assert_ok(&posts);
    let time_of = |key: &str| key.rsplit('_').next().unwrap().parse::<i64>().unwrap();
    assert_eq!(
        posts["Posts"],
        json!([
            // Five subscribers at each send; a alone was connected for the second, a and d for the first.
            { "MsgKey": post2, "MsgTime": time_of(&post2), "Recipients": 5, "DeliveredLive": 1, "Pushed": 0, "Reads": 2, "Reactions": [] },
            { "MsgKey": post1, "MsgTime": time_of(&post1), "Recipients": 5, "DeliveredLive": 2, "Pushed": 0, "Reads": 3,
              "Reactions": [{ "ReactionID": "👍", "Count": 2 }] },
        ])
    );
    c.ok("ping", json!({})).await;
}

#[tokio::test]
async fn bad_questions_are_refused_with_the_field_named() {
    let app = spawn_app().await;
    let account = app.an_account("owner", "@TOA#_askme", "Ask").await;
    let ask = |body: Value| app.call(ACCOUNT_INSIGHTS, body);
    let r = ask(json!({ "Official_Account": "@TOA#_nobody", "From": "2026-01-01", "To": "2026-01-02" })).await;
    assert_fails(&r, 130004);
    let r = ask(json!({ "Official_Account": "not an account id", "From": "2026-01-01", "To": "2026-01-02" })).await;
    assert_fails(&r, 130007);
    for (from, to, field) in [("2026-1-1", "2026-01-02", "From"), ("2026-01-01", "", "To"), ("2025-01-01", "2026-01-02", "To")] {
        let r = ask(json!({ "Official_Account": account, "From": from, "To": to })).await;
        assert_fails(&r, 10004);
        assert!(r["ErrorInfo"].as_str().unwrap().contains(field), "{from}..{to}: {r}");
    }
    let r = ask(json!({ "Official_Account": account, "From": "2026-02-01", "To": "2026-01-01" })).await;
    assert_fails(&r, 10004);
    let r = ask(json!({ "Official_Account": account, "From": "2025-01-01", "To": "2025-12-31" })).await;
    assert_ok(&r);
    assert_eq!(r["Days"].as_array().unwrap().len(), 365);

    let posts = |list: Vec<Value>| app.call(POST_INSIGHTS, json!({ "Official_Account": account, "MsgKeyList": list }));
    let too_many: Vec<Value> = (1..=101).map(|i| json!({ "MsgKey": format!("{i}_1_1") })).collect();
    let r = posts(too_many).await;
    assert_fails(&r, 10004);
    assert!(r["ErrorInfo"].as_str().unwrap().contains("MsgKeyList"), "{r}");
    assert_fails(&posts(vec![]).await, 10004);
    assert_fails(&posts(vec![json!({ "MsgKey": "garbage" })]).await, 10004);
    assert_fails(&posts(vec![json!({ "Key": "1_1_1" })]).await, 10004);
    let r = app.call(POST_INSIGHTS, json!({ "Official_Account": "@TOA#_nobody", "MsgKeyList": [{ "MsgKey": "1_1_1" }] })).await;
    assert_fails(&r, 130004);
}

/// The real binary, killed with SIGKILL while subscribers mark posts read as fast as they can;
/// after a restart the reads equal what the stored read positions imply: each subscriber whose
/// position passed a post counts once for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_sigkill_during_a_storm_of_read_marks_the_reads_equal_the_stored_positions() {
    let dir = tempfile::tempdir().unwrap();
    let db = database_url(&dir).await;
    let port = free_port();
    let mut server = start_server(&db, port).await;
    let client = reqwest::Client::new();
    let users: Vec<String> = (0..40).map(|i| format!("reader{i}")).collect();
    let rest = |path: &'static str, body: Value| {
        let client = client.clone();
        async move {
            let r = call(&client, port, path, body).await.unwrap();
            assert_ok(&r);
            r
        }
    };
    rest("im_open_login_svc/multiaccount_import", json!({ "Accounts": users.iter().chain([&"owner".to_string()]).collect::<Vec<_>>() }))
        .await;
    rest(
        "official_account_open_http_svc/create_official_account",
        json!({ "Owner_Account": "owner", "OfficialAccountUserID": "@TOA#_storm", "Name": "Storm" }),
    )
    .await;
    let list: Vec<Value> = users.iter().map(|u| json!({ "Subscriber_Account": u })).collect();
    rest("official_account_open_http_svc/add_subscriber", json!({ "Official_Account": "@TOA#_storm", "SubscriberList": list })).await;
    let mut keys = Vec::new();
    for i in 0..5u32 {
        let r = rest(
            "official_account_open_http_svc/send_official_account_msg",
            json!({ "Official_Account": "@TOA#_storm", "Random": i, "MsgBody": text(&format!("post {i}")) }),
        )
        .await;
        keys.push(r["MsgKey"].as_str().unwrap().to_owned());
    }
    // Each reader reads the posts one by one, over and over, from its own connection.
    let base = format!("http://127.0.0.1:{port}");
    let mut storm = Vec::new();
    for user in &users {
        let (base, user, keys) = (base.clone(), user.clone(), keys.clone());
        storm.push(tokio::spawn(async move {
            let mut ws = Ws::connect(&base, &user).await;
            let conv = conversation("@TOA#_storm");
            for round in 0.. {
                let key = &keys[round % keys.len()];
                let r = ws.request("markConversationRead", json!({ "conversationID": conv, "msgKey": key })).await;
                if r.get("code").is_none() {
                    return;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    for s in storm {
        s.abort();
    }
    let server2 = start_server(&db, port).await;
    let r = rest(
        POST_INSIGHTS,
        json!({ "Official_Account": "@TOA#_storm", "MsgKeyList": keys.iter().map(|k| json!({ "MsgKey": k })).collect::<Vec<_>>() }),
    )
    .await;
    // What the stored positions imply, read behind the server's back.
    let positions = stored_read_positions(&db, "@TOA#_storm").await;
    assert_eq!(positions.len(), users.len());
    for (i, post) in r["Posts"].as_array().unwrap().iter().enumerate() {
        let seq = i as i64 + 1;
        let implied = positions.iter().filter(|p| **p >= seq).count();
        assert_eq!(post["Reads"], implied as i64, "post {seq}: {post}");
    }
    let today = date_of(now());
    let r = rest(ACCOUNT_INSIGHTS, json!({ "Official_Account": "@TOA#_storm", "From": today, "To": today })).await;
    let implied: i64 = positions.iter().sum();
    assert!(implied > users.len() as i64, "the storm moved read positions before the kill");
    assert_eq!(r["Days"][0]["Reads"], implied, "a day's reads are the posts passed: {r}");
    let mut server2 = server2;
    server2.kill().unwrap();
}

async fn stored_read_positions(db: &str, account: &str) -> Vec<i64> {
    use sqlx::Row;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(db).await.unwrap();
    let rows = sqlx::query("select read_seq from subscription where account_id = $1").bind(account).fetch_all(&pool).await.unwrap();
    pool.close().await;
    rows.iter().map(|r| r.get::<i64, _>(0)).collect()
}

/// Two server nodes on one PostgreSQL, a subscriber connected to each: a broadcast sent
/// through one node was delivered live by both, and both count their online subscribers.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn live_deliveries_and_online_subscribers_add_up_across_nodes() {
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
    let rest = |port: u16, path: &'static str, body: Value| {
        let client = client.clone();
        async move { call(&client, port, path, body).await.unwrap() }
    };
    assert_ok(&rest(port_a, "im_open_login_svc/multiaccount_import", json!({ "Accounts": ["owner", "alice", "bob", "carol"] })).await);
    let create = json!({ "Owner_Account": "owner", "OfficialAccountUserID": "@TOA#_twonodes", "Name": "Two" });
    assert_ok(&rest(port_a, "official_account_open_http_svc/create_official_account", create).await);
    let list = json!([{ "Subscriber_Account": "alice" }, { "Subscriber_Account": "bob" }, { "Subscriber_Account": "carol" }]);
    let add = json!({ "Official_Account": "@TOA#_twonodes", "SubscriberList": list });
    assert_ok(&rest(port_a, "official_account_open_http_svc/add_subscriber", add).await);
    let mut alice = Ws::connect(&format!("http://127.0.0.1:{port_a}"), "alice").await;
    let mut bob = Ws::connect(&format!("http://127.0.0.1:{port_b}"), "bob").await;
    let body = json!({ "Official_Account": "@TOA#_twonodes", "Random": 1, "MsgBody": text("to both nodes") });
    let sent = rest(port_a, "official_account_open_http_svc/send_official_account_msg", body).await;
    assert_ok(&sent);
    alice.event("onRecvNewMessage").await;
    bob.event("onRecvNewMessage").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let (mut post, mut account);
    loop {
        let keys = json!({ "Official_Account": "@TOA#_twonodes", "MsgKeyList": [{ "MsgKey": sent["MsgKey"] }] });
        post = rest(port_b, POST_INSIGHTS, keys).await;
        let today = date_of(now());
        let range = json!({ "Official_Account": "@TOA#_twonodes", "From": today, "To": today });
        account = rest(port_a, ACCOUNT_INSIGHTS, range).await;
        if (post["Posts"][0]["DeliveredLive"] == 2 && account["OnlineNow"] == 2) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(post["Posts"][0]["DeliveredLive"], 2, "alice through node A, bob through node B: {post}");
    assert_eq!(post["Posts"][0]["Recipients"], 3, "{post}");
    assert_eq!(account["OnlineNow"], 2, "{account}");
    node_a.kill().unwrap();
    node_b.kill().unwrap();
}
