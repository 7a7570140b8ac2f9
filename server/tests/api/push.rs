//! Offline push against a live receiver: who is pushed (MsgFlag, PushFlag, OnlineOnlyFlag,
//! subscribed later), keyset batches with each subscriber once, retries, recall, and a restart.

use crate::helpers::*;
use crate::receiver::{receiver, serve_receiver, Call};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

const PUSH: &str = "Herald.CallbackOfflinePush";

async fn app_pushing_to(url: &str) -> TestApp {
    let url = url.to_owned();
    spawn_app_with(move |c| {
        c.push_url = Some(url);
        c.webhook_secret = Some("push-secret".into());
        c.broadcasts_per_second = Some(1000);
        c.broadcasts_per_hour = Some(1000);
    })
    .await
}

fn to_accounts(call: &Call) -> Vec<String> {
    call.body["To_Account"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

async fn set_flag(app: &TestApp, id: &str, user: &str, flag: &str) {
    let r = app
        .call(
            "official_account_open_http_svc/modify_subscriber_info",
            json!({ "Official_Account": id, "Subscriber_Account": user, "MsgFlag": flag }),
        )
        .await;
    assert_ok(&r);
}

/// Imports `n` users `{prefix}0000…` and subscribes them to `id`, 100 per call.
async fn subscribe_many(app: &TestApp, id: &str, prefix: &str, n: usize) -> Vec<String> {
    let users: Vec<String> = (0..n).map(|i| format!("{prefix}{i:04}")).collect();
    for chunk in users.chunks(100) {
        app.call("im_open_login_svc/multiaccount_import", json!({ "Accounts": chunk })).await;
        let list: Vec<Value> = chunk.iter().map(|u| json!({ "Subscriber_Account": u })).collect();
        assert_ok(
            &app.call("official_account_open_http_svc/add_subscriber", json!({ "Official_Account": id, "SubscriberList": list })).await,
        );
    }
    users
}

#[tokio::test]
async fn only_accept_and_notify_subscribers_from_before_the_message_are_pushed() {
    let (hooks, url) = receiver().await;
    let app = app_pushing_to(&url).await;
    let id = app.an_account_with_subscribers("@TOA#_push", &["notify", "quiet", "discard"]).await;
    set_flag(&app, &id, "quiet", "AcceptNotNotify").await;
    set_flag(&app, &id, "discard", "Discard").await;
    let push_info = json!({ "PushFlag": 0, "Title": "News", "Desc": "Something happened", "Ext": "x" });
    let first = app.send(json!({ "Official_Account": id, "Random": 1, "MsgBody": text("one"), "OfflinePushInfo": push_info })).await;
    assert_ok(&first);

    let pushes = hooks.wait_for(PUSH, 1, 10).await;
    assert_eq!(pushes.len(), 1);
    let p = &pushes[0];
    assert_eq!(to_accounts(p), ["notify"], "AcceptNotNotify and Discard subscribers are not pushed");
    assert_eq!(p.body["Official_Account"], id);
    assert_eq!(p.body["MsgKey"], first["MsgKey"]);
    assert_eq!(p.body["MsgTime"], first["MsgTime"]);
    assert_eq!(p.body["MsgBody"], text("one"));
    assert_eq!(p.body["OfflinePushInfo"], push_info);
    assert!(p.query.contains_key("Sign") && p.signature.is_some(), "signed like the webhooks");

    // Subscribed after the first message: pushed for later ones only.
    app.account_import("late").await;
    app.call(
        "official_account_open_http_svc/add_subscriber",
        json!({ "Official_Account": id, "SubscriberList": [{ "Subscriber_Account": "late" }] }),
    )
    .await;
    let no_push = json!({ "Official_Account": id, "Random": 2, "MsgBody": text("two"), "OfflinePushInfo": { "PushFlag": 1 } });
    assert_ok(&app.send(no_push).await);
    assert_ok(&app.send(json!({ "Official_Account": id, "Random": 3, "MsgBody": text("three"), "OnlineOnlyFlag": 1 })).await);
    let third = app.send(json!({ "Official_Account": id, "Random": 4, "MsgBody": text("four") })).await;

    // Jobs go out in order, so once the last one is here, the ones before it were decided.
    let pushes = hooks.wait_for(PUSH, 2, 10).await;
    assert_eq!(pushes.len(), 2, "PushFlag 1 and OnlineOnlyFlag messages are not pushed");
    assert_eq!(pushes[1].body["MsgKey"], third["MsgKey"]);
    assert_eq!(to_accounts(&pushes[1]), ["late", "notify"]);
    assert_eq!(pushes[1].body["OfflinePushInfo"], Value::Null);
}

#[tokio::test]
async fn a_large_account_is_pushed_in_keyset_batches_with_each_subscriber_once() {
    let (hooks, url) = receiver().await;
    let app = app_pushing_to(&url).await;
    let id = app.an_account("owner", "@TOA#_many", "Many").await;
    let users = subscribe_many(&app, &id, "u", 1205).await;
    assert_ok(&app.send(json!({ "Official_Account": id, "Random": 1, "MsgBody": text("to all") })).await);

    let pushes = hooks.wait_for(PUSH, 3, 20).await;
    let sizes: Vec<usize> = pushes.iter().map(|c| to_accounts(c).len()).collect();
    assert_eq!(sizes, [500, 500, 205]);
    let pushed: Vec<String> = pushes.iter().flat_map(to_accounts).collect();
    assert_eq!(pushed, users, "every subscriber once, in subscriber-ID order");
    let ids: HashSet<_> = pushes.iter().map(|c| c.event_id.clone().unwrap()).collect();
    assert_eq!(ids.len(), 3, "each batch has its own event ID");
}

#[tokio::test]
async fn a_batch_the_gateway_refuses_is_retried_and_nothing_is_pushed_twice() {
    let (hooks, url) = receiver().await;
    let app = app_pushing_to(&url).await;
    let id = app.an_account("owner", "@TOA#_retry", "Retry").await;
    let users = subscribe_many(&app, &id, "r", 600).await;
    hooks.fail_next(2);
    let sent = app.send(json!({ "Official_Account": id, "Random": 1, "MsgBody": text("again") })).await;
    assert_ok(&sent);

    // Refused twice (then 1 s and 2 s of backoff, on the delivery clock), then taken; the
    // second batch follows.
    let pushes = app.deliveries(&hooks, PUSH, 2).await;
    let pushed: Vec<String> = pushes.iter().flat_map(to_accounts).collect();
    assert_eq!(pushed, users);
    app.deliveries_settled().await;
    assert_eq!(hooks.calls(PUSH).len(), 2, "no batch is sent again once taken");
    // Insights count each subscriber pushed once, however often a batch was tried.
    let r = app
        .call("herald_open_http_svc/get_post_insights", json!({ "Official_Account": id, "MsgKeyList": [{ "MsgKey": sent["MsgKey"] }] }))
        .await;
    assert_eq!(r["Posts"][0]["Pushed"], 600, "{r}");
    assert_eq!(r["Posts"][0]["Recipients"], 600, "{r}");
}

#[tokio::test]
async fn a_message_recalled_before_its_push_is_not_pushed() {
    let (hooks, url) = receiver().await;
    let app = app_pushing_to(&url).await;
    let id = app.an_account_with_subscribers("@TOA#_oops", &["a"]).await;
    hooks.fail_next(1);
    let oops = app.send(json!({ "Official_Account": id, "Random": 1, "MsgBody": text("oops") })).await;
    let r = app
        .call(
            "official_account_open_http_svc/official_account_msg_recall",
            json!({ "Official_Account": id, "MsgKeyList": [{ "MsgKey": oops["MsgKey"] }] }),
        )
        .await;
    assert_eq!(r["RecallRetList"][0]["RetCode"], 0, "{r}");
    app.deliveries_settled().await; // past the first retry: the job found nothing to push
    let fine = app.send(json!({ "Official_Account": id, "Random": 2, "MsgBody": text("fine") })).await;

    let pushes = app.deliveries(&hooks, PUSH, 1).await;
    app.deliveries_settled().await;
    let keys: Vec<Value> = hooks.calls(PUSH).iter().map(|c| c.body["MsgKey"].clone()).collect();
    assert_eq!(keys, [fine["MsgKey"].clone()], "{pushes:?}");
}

#[tokio::test]
async fn a_push_waiting_for_a_dead_gateway_survives_a_restart() {
    let addr = unused_addr();
    let server = Restartable::new(move |c| c.push_url = Some(format!("http://{addr}/hook"))).await;
    // First life: the push gateway is down.
    let first = server.start().await;
    let id = first.an_account_with_subscribers("@TOA#_later", &["s"]).await;
    let sent = first.send(json!({ "Official_Account": id, "Random": 1, "MsgBody": text("kept") })).await;
    assert_ok(&sent);
    tokio::time::sleep(Duration::from_millis(300)).await; // the worker tries and fails
    first.stop().await;

    // Second life: the gateway is up and gets the push.
    let hooks = serve_receiver(tokio::net::TcpListener::bind(addr).await.unwrap());
    let second = server.start().await;
    let pushes = second.deliveries(&hooks, PUSH, 1).await;
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].body["MsgKey"], sent["MsgKey"]);
    assert_eq!(to_accounts(&pushes[0]), ["s"]);
}

#[tokio::test]
async fn a_one_to_one_message_from_the_account_is_pushed_to_its_subscriber_if_they_want_it() {
    let (hooks, url) = receiver().await;
    let app = app_pushing_to(&url).await;
    let id = app.an_account_with_subscribers("@TOA#_desk", &["alice", "bob"]).await;
    set_flag(&app, &id, "bob", "Discard").await;
    let send = |from: &str, to: &str, random: u32, text_: &str| json!({ "From_Account": from, "To_Account": to, "MsgRandom": random, "MsgBody": text(text_) });
    assert_ok(&app.call("openim/sendmsg", send(&id, "bob", 1, "not pushed: Discard")).await);
    assert_ok(&app.call("openim/sendmsg", send("alice", &id, 2, "not pushed: to the account")).await);
    let mut online = send(&id, "alice", 3, "not pushed: online only");
    online["MsgLifeTime"] = json!(0);
    assert_ok(&app.call("openim/sendmsg", online).await);
    let pushed = app.call("openim/sendmsg", send(&id, "alice", 4, "pushed")).await;
    assert_ok(&pushed);

    let pushes = app.deliveries(&hooks, PUSH, 1).await;
    app.deliveries_settled().await;
    assert_eq!(hooks.calls(PUSH).len(), 1, "{pushes:?}");
    let p = &pushes[0];
    assert_eq!(to_accounts(p), ["alice"]);
    assert_eq!(p.body["MsgKey"], pushed["MsgKey"]);
    assert_eq!(p.body["From_Account"], id);
    assert_eq!(p.body["ConversationID"], format!("c2c_{id}"));
    assert_eq!(p.body["MsgBody"], text("pushed"));
}

#[tokio::test]
async fn a_subscriber_with_an_open_client_connection_is_not_pushed_and_is_again_once_it_closes() {
    let (hooks, url) = receiver().await;
    let app = app_pushing_to(&url).await;
    let id = app.an_account_with_subscribers("@TOA#_online", &["away", "here"]).await;
    let here = crate::ws::Ws::connect(&app.base, "here").await;
    // Presence is written in batches (a quarter of a second).
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_ok(&app.send(json!({ "Official_Account": id, "Random": 1, "MsgBody": text("one") })).await);
    let pushes = hooks.wait_for(PUSH, 1, 10).await;
    assert_eq!(to_accounts(&pushes[0]), ["away"], "the connected subscriber got it live, not by push");
    drop(here);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_ok(&app.send(json!({ "Official_Account": id, "Random": 2, "MsgBody": text("two") })).await);
    let pushes = hooks.wait_for(PUSH, 2, 10).await;
    assert_eq!(to_accounts(&pushes[1]), ["away", "here"]);
}
