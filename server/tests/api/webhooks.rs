//! Webhooks against a small HTTP receiver started by the test: refusal, rewrite, discard,
//! timeout, order, retry after the receiver comes back, and no loss across a restart.

use crate::helpers::*;
use crate::receiver::{receiver, serve_receiver};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::{Duration, Instant};

const SECRET: &str = "hook-secret";

async fn app_calling(url: &str) -> TestApp {
    let url = url.to_owned();
    spawn_app_with(move |c| {
        c.webhook_url = Some(url);
        c.webhook_secret = Some(SECRET.into());
        c.broadcasts_per_second = Some(1000);
        c.broadcasts_per_hour = Some(1000);
    })
    .await
}

fn text_of(history: &Value, i: usize) -> &str {
    history["RspMsgList"][i]["MsgBody"][0]["MsgContent"]["Text"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_refusal_before_create_is_20006_and_creates_nothing() {
    let (hooks, url) = receiver().await;
    let app = app_calling(&url).await;
    app.account_import("o").await;
    hooks.answer("OfficialAccount.CallbackBeforeCreateOfficialAccount", Duration::ZERO, json!({ "ErrorCode": 1 }));
    let r = app.create_official_account(json!({ "Owner_Account": "o", "OfficialAccountUserID": "@TOA#_no", "Name": "No" })).await;
    assert_fails(&r, 20006);
    let asked = &hooks.calls("OfficialAccount.CallbackBeforeCreateOfficialAccount")[0];
    assert_eq!(asked.query["ClientIP"], "127.0.0.1");
    assert_eq!(asked.body["Owner_Account"], "o");
    assert_eq!(asked.body["Name"], "No");
    assert_eq!(asked.body["Operator_Account"], ADMIN);
    assert_eq!(app.get_official_account_info(&["@TOA#_no"]).await["OfficialAccountInfoList"][0]["ErrorCode"], 130004);
}

#[tokio::test]
async fn after_callbacks_arrive_in_order_and_are_signed() {
    let (hooks, url) = receiver().await;
    let app = app_calling(&url).await;
    let id = app.an_account_with_subscribers("@TOA#_order", &["s1"]).await;
    app.call("official_account_open_http_svc/modify_official_account_base_info", json!({ "Official_Account": id, "Name": "Renamed" }))
        .await;
    let sent = app.send(json!({ "Official_Account": id, "Random": 1, "MsgBody": text("hi") })).await;
    app.call(
        "official_account_open_http_svc/official_account_msg_recall",
        json!({ "Official_Account": id, "MsgKeyList": [{ "MsgKey": sent["MsgKey"] }] }),
    )
    .await;
    app.call("official_account_open_http_svc/delete_subscriber", json!({ "Official_Account": id, "SubscriberToDel_Account": ["s1"] }))
        .await;
    app.call("official_account_open_http_svc/destroy_official_account", json!({ "Official_Account": id })).await;
    hooks.wait_for("OfficialAccount.CallbackAfterOfficialAccountDestroyed", 1, 10).await;

    let after: Vec<String> = hooks.commands().into_iter().filter(|c| c.contains("After")).collect();
    assert_eq!(
        after,
        [
            "OfficialAccount.CallbackAfterCreateOfficialAccount",
            "OfficialAccount.CallbackAfterAddSubscriber",
            "OfficialAccount.CallbackAfterOfficialAccountInfoChanged",
            "OfficialAccount.CallbackAfterSendMsg",
            "OfficialAccount.CallbackAfterMsgWithDraw",
            "OfficialAccount.CallbackAfterDeleteSubscriber",
            "OfficialAccount.CallbackAfterOfficialAccountDestroyed",
        ]
    );
    let changed = &hooks.calls("OfficialAccount.CallbackAfterOfficialAccountInfoChanged")[0];
    assert_eq!(changed.body["Name"], "Renamed");
    let after_send = &hooks.calls("OfficialAccount.CallbackAfterSendMsg")[0];
    assert_eq!(after_send.body["MsgKey"], sent["MsgKey"]);
    assert!(after_send.body["EventTime"].as_i64().unwrap() > 1_700_000_000_000, "EventTime is in ms");

    // Signed: Tencent's Sign in the query, and an HMAC of the body in a header.
    let t = &after_send.query["RequestTime"];
    use sha2::Digest;
    assert_eq!(after_send.query["Sign"], hex::encode(Sha256::digest(format!("{SECRET}{t}").as_bytes())));
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", after_send.raw).as_bytes());
    assert_eq!(after_send.signature.as_deref(), Some(format!("sha256={}", hex::encode(mac.finalize().into_bytes())).as_str()));
    assert_eq!(after_send.query["SdkAppid"], SDKAPPID.to_string());
    assert_eq!(after_send.query["OptPlatform"], "RESTAPI");
    assert_eq!(after_send.query["ClientIP"], "127.0.0.1", "the address of the REST caller");
    let added = &hooks.calls("OfficialAccount.CallbackAfterAddSubscriber")[0];
    assert_eq!(added.query["ClientIP"], "127.0.0.1", "also for adds written by a group commit");
}

#[tokio::test]
async fn before_add_may_refuse_members_and_a_full_account_is_reported() {
    let (hooks, url) = receiver().await;
    let app = app_calling(&url).await;
    app.account_import("o").await;
    app.create_official_account(json!({ "Owner_Account": "o", "OfficialAccountUserID": "@TOA#_full", "Name": "F", "MaxSubscriberNum": 1 }))
        .await;
    app.call("im_open_login_svc/multiaccount_import", json!({ "Accounts": ["a", "b", "c"] })).await;
    hooks.answer("OfficialAccount.CallbackBeforeAddSubscriber", Duration::ZERO, json!({ "ErrorCode": 0, "RefusedMembers_Account": ["a"] }));
    let r = app.call("official_account_open_http_svc/add_subscriber",
        json!({ "Official_Account": "@TOA#_full", "SubscriberList": [{ "Subscriber_Account": "a" }, { "Subscriber_Account": "b" }, { "Subscriber_Account": "c" }] })).await;
    let results: Vec<i64> = r["SubscriberList"].as_array().unwrap().iter().map(|i| i["Result"].as_i64().unwrap()).collect();
    assert_eq!(results, [0, 1, 0], "a refused by the app, c over MaxSubscriberNum");
    let full = hooks.wait_for("OfficialAccount.CallbackAfterOfficialAccountFull", 1, 10).await;
    assert_eq!(full[0].body["Official_Account"], "@TOA#_full");
    let added = hooks.wait_for("OfficialAccount.CallbackAfterAddSubscriber", 1, 10).await;
    assert_eq!(added[0].body["SubscribeAccountList"], json!([{ "Subscriber_Account": "b" }]));
}

#[tokio::test]
async fn before_send_can_refuse_discard_or_rewrite() {
    let (hooks, url) = receiver().await;
    let app = app_calling(&url).await;
    let id = app.an_account("o", "@TOA#_gate", "Gate").await;
    let before = "OfficialAccount.CallbackBeforeSendMsg";

    hooks.answer(before, Duration::ZERO, json!({ "ErrorCode": 1 }));
    assert_fails(&app.send(json!({ "Official_Account": id, "Random": 1, "MsgBody": text("refused") })).await, 10016);

    hooks.answer(before, Duration::ZERO, json!({ "ErrorCode": 2 }));
    assert_ok(&app.send(json!({ "Official_Account": id, "Random": 2, "MsgBody": text("discarded") })).await);

    hooks.answer(before, Duration::ZERO, json!({ "ErrorCode": 0, "MsgBody": text("rewritten") }));
    assert_ok(&app.send(json!({ "Official_Account": id, "Random": 3, "MsgBody": text("original") })).await);

    // Forbidden callback: not asked at all.
    let asked = hooks.calls(before).len();
    assert_ok(&app.send(json!({ "Official_Account": id, "Random": 4, "MsgBody": text("unasked"), "ForbidCallbackControl": ["ForbidBeforeSendMsgCallback"] })).await);
    assert_eq!(hooks.calls(before).len(), asked);
    assert_eq!(hooks.calls(before)[0].body["MsgBody"][0]["MsgContent"]["Text"], "refused");

    let h = app.history(json!({ "Official_Account": id, "ReqMsgNumber": 10 })).await;
    assert_eq!(h["RspMsgList"].as_array().unwrap().len(), 2, "{h}");
    assert_eq!((text_of(&h, 0), text_of(&h, 1)), ("unasked", "rewritten"));
}

#[tokio::test]
async fn a_slow_before_send_webhook_is_given_two_seconds_then_the_message_goes() {
    let (hooks, url) = receiver().await;
    let app = app_calling(&url).await;
    let id = app.an_account("o", "@TOA#_slow", "Slow").await;
    hooks.answer("OfficialAccount.CallbackBeforeSendMsg", Duration::from_secs(5), json!({ "ErrorCode": 1 }));
    let started = Instant::now();
    assert_ok(&app.send(json!({ "Official_Account": id, "Random": 1, "MsgBody": text("late") })).await);
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(4), "allowed after the 2 s timeout, waited {waited:?}");
    let h = app.history(json!({ "Official_Account": id, "ReqMsgNumber": 10 })).await;
    assert_eq!(text_of(&h, 0), "late");
}

#[tokio::test]
async fn after_callbacks_wait_for_a_dead_receiver_and_arrive_when_it_comes_back() {
    // A port with nothing behind it yet.
    let addr = unused_addr();
    let app = app_calling(&format!("http://{addr}/hook")).await;
    let id = app.an_account("o", "@TOA#_later", "Later").await;
    let started = Instant::now();
    for i in 0..3 {
        assert_ok(&app.send(json!({ "Official_Account": id, "Random": i, "MsgBody": text(&format!("m{i}")) })).await);
    }
    assert!(started.elapsed() < Duration::from_secs(2), "a dead endpoint never slows a send");

    let hooks = serve_receiver(tokio::net::TcpListener::bind(addr).await.unwrap());
    let sends = app.deliveries(&hooks, "OfficialAccount.CallbackAfterSendMsg", 3).await;
    let texts: Vec<&str> = sends.iter().map(|c| c.body["MsgBody"][0]["MsgContent"]["Text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["m0", "m1", "m2"]);
    assert_eq!(hooks.calls("OfficialAccount.CallbackAfterCreateOfficialAccount").len(), 1, "nothing lost, nothing twice");
}

#[tokio::test]
async fn queued_callbacks_survive_a_restart() {
    let addr = unused_addr();
    let server = Restartable::new(move |c| c.webhook_url = Some(format!("http://{addr}/hook"))).await;
    // First life: the receiver is down.
    let first = server.start().await;
    first.account_import("o").await;
    let r = first.create_official_account(json!({ "Owner_Account": "o", "Name": "Survivor" })).await;
    assert_ok(&r);
    first.stop().await;

    // Second life on the same database: the receiver is up, and gets the event.
    let hooks = serve_receiver(tokio::net::TcpListener::bind(addr).await.unwrap());
    let _second = server.start().await;
    let created = hooks.wait_for("OfficialAccount.CallbackAfterCreateOfficialAccount", 1, 20).await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].body["Official_Account"], r["OfficialAccountUserID"]);
}

#[tokio::test]
async fn c2c_before_send_may_refuse_with_20006() {
    let (hooks, url) = receiver().await;
    let app = app_calling(&url).await;
    let id = app.an_account_with_subscribers("@TOA#_c2c", &["alice"]).await;
    hooks.answer("C2C.CallbackBeforeSendMsg", Duration::ZERO, json!({ "ErrorCode": 1 }));
    let r = app.call("openim/sendmsg", json!({ "From_Account": id, "To_Account": "alice", "MsgRandom": 1, "MsgBody": text("no") })).await;
    assert_fails(&r, 20006);
    hooks.answer("C2C.CallbackBeforeSendMsg", Duration::ZERO, json!({ "ErrorCode": 0 }));
    let r = app.call("openim/sendmsg", json!({ "From_Account": id, "To_Account": "alice", "MsgRandom": 2, "MsgBody": text("yes") })).await;
    assert_ok(&r);
    let after = hooks.wait_for("C2C.CallbackAfterSendMsg", 1, 10).await;
    assert_eq!(after[0].body["MsgKey"], r["MsgKey"]);
    assert_eq!(after[0].body["To_Account"], "alice");

    // ForbidCallbackControl: neither asked before nor told after.
    hooks.answer("C2C.CallbackBeforeSendMsg", Duration::ZERO, json!({ "ErrorCode": 1 }));
    let forbid = json!(["ForbidBeforeSendMsgCallback", "ForbidAfterSendMsgCallback"]);
    let quiet = app
        .call(
            "openim/sendmsg",
            json!({ "From_Account": id, "To_Account": "alice", "MsgRandom": 3, "MsgBody": text("quiet"), "ForbidCallbackControl": forbid }),
        )
        .await;
    assert_ok(&quiet);
    let last = app.call("openim/sendmsg", json!({ "From_Account": "alice", "To_Account": id, "MsgRandom": 4, "MsgBody": text("last"), "ForbidCallbackControl": ["ForbidBeforeSendMsgCallback"] })).await;
    assert_ok(&last);
    let after = hooks.wait_for("C2C.CallbackAfterSendMsg", 2, 10).await;
    let keys: Vec<&Value> = after.iter().map(|c| &c.body["MsgKey"]).collect();
    assert_eq!(keys, [&r["MsgKey"], &last["MsgKey"]], "the forbidden after-callback was never queued");
    assert_eq!(hooks.calls("C2C.CallbackBeforeSendMsg").len(), 2, "the forbidden before-callback was not asked");
}

#[tokio::test]
async fn an_event_rejected_too_often_goes_to_the_dead_letters_and_the_next_ones_arrive() {
    let (hooks, url) = receiver().await;
    let app = spawn_app_with(move |c| {
        c.webhook_url = Some(url);
        c.delivery_max_attempts = 2;
    })
    .await;
    // Two "before create" calls (a failure there means allow) and two attempts at the first
    // "after create" event; the second event waits behind the first until it is given up.
    hooks.fail_next(4);
    app.an_account("o", "@TOA#_first", "First").await;
    app.an_account("o", "@TOA#_second", "Second").await;
    let created = app.deliveries(&hooks, "OfficialAccount.CallbackAfterCreateOfficialAccount", 1).await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].body["Official_Account"], "@TOA#_second", "the refused event no longer blocks the next");

    // The Settings page lists it and retries it.
    let cookie = signed_in(&app).await;
    let console = |function: &str| {
        reqwest::Client::new()
            .post(format!("{}/api/{function}", app.base))
            .header("origin", &app.base)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &cookie)
            .send()
    };
    let listed = console("failed_deliveries").await.unwrap().text().await.unwrap();
    assert!(listed.contains("CallbackAfterCreateOfficialAccount") && listed.contains("\"attempts\":2"), "{listed}");
    let retried = console("retry_failed_deliveries").await.unwrap();
    assert_eq!(retried.status(), 200);
    let created = hooks.wait_for("OfficialAccount.CallbackAfterCreateOfficialAccount", 2, 20).await;
    assert_eq!(created.len(), 2);
    assert_eq!(created[1].body["Official_Account"], "@TOA#_first", "retried from the dead letters");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_on_one_postgresql_deliver_each_webhook_once() {
    let Ok(pg) = std::env::var("HERALD_TEST_PG_URL") else {
        eprintln!("HERALD_TEST_PG_URL unset: skipped (scripts/test.sh sets it)");
        return;
    };
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&pg).await.expect("PostgreSQL at HERALD_TEST_PG_URL");
    let name = format!("herald_api_nodes_{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    sqlx::query(&format!("create database {name}")).execute(&mut admin).await.unwrap();
    let url = format!("{}/{name}", pg.rsplit_once('/').map(|(b, _)| b).unwrap_or(&pg));

    let (hooks, hook_url) = receiver().await;
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let mut config = server::config::Config::for_tests(&url);
        config.sdkappid = Some(SDKAPPID);
        config.secret_key = Some(KEY.into());
        config.admin_password = Some("test-password".into());
        config.webhook_url = Some(hook_url.clone());
        let app = server::startup::Application::build(config).await.unwrap();
        let base = format!("http://{}", app.addr());
        let node = Some(app.messaging());
        tokio::spawn(app.run_until_stopped());
        nodes.push(TestApp { base, client: reqwest::Client::new(), _dir: None, db: None, node });
    }
    for i in 0..20 {
        let node = &nodes[i % 2];
        node.an_account("o", &format!("@TOA#_n{i}"), "Node").await;
    }
    let created = hooks.wait_for("OfficialAccount.CallbackAfterCreateOfficialAccount", 20, 30).await;
    for node in &nodes {
        node.deliveries_settled().await; // nothing left anywhere for a second delivery
    }
    let created = if created.len() == 20 { hooks.calls("OfficialAccount.CallbackAfterCreateOfficialAccount") } else { created };
    let mut ids: Vec<String> = created.iter().map(|c| c.event_id.clone().unwrap()).collect();
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!((total, ids.len()), (20, 20), "each event once");
    drop(admin);
}
