//! The client protocol over a real WebSocket (docs/client-protocol.md): every op's success and refusals,
//! each event on each of a user's connections, the delivery rules, reconnecting without losing
//! or repeating, and a client that never reads.

use crate::helpers::*;
use crate::ws::*;
use serde_json::{json, Value};
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(700);

/// A server whose broadcast frequency limits do not get in the way of these tests.
pub async fn unlimited() -> TestApp {
    spawn_app_with(|c| {
        c.broadcasts_per_second = Some(100_000);
        c.broadcasts_per_hour = Some(1_000_000);
        c.rest_calls_per_second = Some(100_000);
    })
    .await
}

async fn broadcast(app: &TestApp, account: &str, text_: &str) -> String {
    let r = app.send(json!({ "Official_Account": account, "Random": rand_u32(), "MsgBody": text(text_) })).await;
    assert_ok(&r);
    r["MsgKey"].as_str().unwrap().to_owned()
}

fn rand_u32() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1000);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn text_of(message: &Value) -> &str {
    message["msgBody"][0]["MsgContent"]["Text"].as_str().unwrap_or("")
}

#[tokio::test]
async fn a_bad_usersig_or_an_unknown_user_is_refused_with_401_before_the_upgrade() {
    let app = unlimited().await;
    app.account_import("alice").await;
    let refused = |url: String| async move {
        let r = reqwest::get(url.replacen("ws://", "http://", 1)).await.unwrap();
        assert_eq!(r.status(), 401);
        r.json::<Value>().await.unwrap()["code"].as_u64().unwrap()
    };
    let wrong_key = messaging::usersig::sign(SDKAPPID, "another-key", "alice", 3600, now());
    assert_eq!(refused(client_url(&app.base, "alice", &wrong_key)).await, 70009);
    assert_eq!(refused(client_url(&app.base, "alice", "garbage")).await, 70003);
    assert_eq!(refused(client_url(&app.base, "alice", &sig_for("bob"))).await, 70013);
    let expired = messaging::usersig::sign(SDKAPPID, KEY, "alice", 10, now() - 100);
    assert_eq!(refused(client_url(&app.base, "alice", &expired)).await, 70001);
    assert_eq!(refused(client_url(&app.base, "ghost", &sig_for("ghost"))).await, 70107);
    // The same UserSig that passes these checks upgrades.
    let mut ws = Ws::connect(&app.base, "alice").await;
    ws.ok("ping", json!({})).await;
}

#[tokio::test]
async fn a_broadcast_reaches_both_of_a_subscribers_connections_with_the_unread_total() {
    let app = unlimited().await;
    let account = app.an_account_with_subscribers("@TOA#_live", &["alice"]).await;
    let mut phone = Ws::connect(&app.base, "alice").await;
    let mut laptop = Ws::connect(&app.base, "alice").await;
    let key = broadcast(&app, &account, "Hello, subscribers").await;
    for ws in [&mut phone, &mut laptop] {
        let m = ws.event("onRecvNewMessage").await["message"].clone();
        assert_eq!(m["msgKey"], key.as_str());
        assert_eq!(m["conversationID"], conversation(&account));
        assert_eq!(m["isBroadcast"], true);
        assert_eq!(m["sender"], account.as_str());
        assert_eq!(text_of(&m), "Hello, subscribers");
        assert_eq!(ws.event("onTotalUnreadMessageCountChanged").await["totalUnreadCount"], 1);
    }
    let info = phone.ok("getOfficialAccountsInfo", json!({ "officialAccountIDList": [] })).await;
    let only = &info["results"][0];
    assert_eq!(only["resultCode"], 0);
    assert_eq!(only["officialAccountInfo"]["officialAccountID"], account.as_str());
    assert_eq!(only["officialAccountInfo"]["unreadCount"], 1);
    assert_eq!(only["officialAccountInfo"]["msgFlag"], "AcceptAndNotify");
    assert!(only["officialAccountInfo"]["subscribeTime"].as_i64().unwrap() > 0);
    // Reading on the phone clears the laptop's count too.
    let read = phone.ok("markConversationRead", json!({ "conversationID": conversation(&account) })).await;
    assert_eq!(read["unreadCount"], 0);
    assert_eq!(laptop.event("onTotalUnreadMessageCountChanged").await["totalUnreadCount"], 0);
}

#[tokio::test]
async fn subscribing_and_unsubscribing_are_told_to_every_device_and_unknown_accounts_are_10010() {
    let app = unlimited().await;
    let account = app.an_account("owner", "@TOA#_news", "News").await;
    app.account_import("alice").await;
    let mut phone = Ws::connect(&app.base, "alice").await;
    let mut laptop = Ws::connect(&app.base, "alice").await;
    phone.ok("subscribeOfficialAccount", json!({ "officialAccountID": account })).await;
    for ws in [&mut phone, &mut laptop] {
        let info = ws.event("onOfficialAccountSubscribed").await["officialAccountInfo"].clone();
        assert_eq!(info["officialAccountID"], account.as_str());
        assert_eq!(info["officialAccountName"], "News");
        assert_eq!(info["subscriberCount"], 1);
    }
    let r = phone.request("subscribeOfficialAccount", json!({ "officialAccountID": "@TOA#_missing" })).await;
    assert_eq!(r["code"], 10010, "{r}");
    let r = phone.request("getOfficialAccountsInfo", json!({ "officialAccountIDList": [account, "@TOA#_missing"] })).await;
    assert_eq!(r["data"]["results"][0]["resultCode"], 0);
    assert_eq!(r["data"]["results"][1]["resultCode"], 10010);
    // An admin's REST delete_subscriber is an unsubscription too.
    let r = app
        .call(
            "official_account_open_http_svc/delete_subscriber",
            json!({ "Official_Account": account, "SubscriberList": [{ "Subscriber_Account": "alice" }] }),
        )
        .await;
    assert_ok(&r);
    for ws in [&mut phone, &mut laptop] {
        assert_eq!(ws.event("onOfficialAccountUnsubscribed").await["officialAccountID"], account.as_str());
    }
    // And an admin's add_subscriber a subscription.
    app.call(
        "official_account_open_http_svc/add_subscriber",
        json!({ "Official_Account": account, "SubscriberList": [{ "Subscriber_Account": "alice" }] }),
    )
    .await;
    assert_eq!(laptop.event("onOfficialAccountSubscribed").await["officialAccountInfo"]["officialAccountID"], account.as_str());
    laptop.ok("unsubscribeOfficialAccount", json!({ "officialAccountID": account })).await;
    assert_eq!(phone.event("onOfficialAccountUnsubscribed").await["officialAccountID"], account.as_str());
}

#[tokio::test]
async fn bad_frames_unknown_ops_and_bad_fields_are_refused_and_the_connection_stays() {
    let app = unlimited().await;
    let account = app.an_account_with_subscribers("@TOA#_rules", &["alice"]).await;
    app.account_import("bob").await;
    let mut ws = Ws::connect(&app.base, "alice").await;
    ws.send_text("this is not json").await;
    let r = ws.next_frame(WAIT).await.unwrap();
    assert_eq!(r["id"], Value::Null);
    assert_eq!(r["code"], 60003);
    let r = ws.request("fly", json!({})).await;
    assert_eq!(r["code"], 60009, "{r}");
    let r = ws.request("getMessageList", json!({ "conversationID": conversation(&account), "count": 101 })).await;
    assert_eq!(r["code"], 10004, "{r}");
    assert!(r["desc"].as_str().unwrap().contains("count"), "{r}");
    let r = ws.request("getMessageList", json!({ "conversationID": "nonsense", "count": 10 })).await;
    assert_eq!(r["code"], 10004, "{r}");
    let r = ws.request("setMessageReceiveOption", json!({ "officialAccountID": account, "msgFlag": "Loud" })).await;
    assert_eq!(r["code"], 10004, "{r}");
    let key = broadcast(&app, &account, "react to me").await;
    let long = "x".repeat(33);
    let r = ws.request("addMessageReaction", json!({ "conversationID": conversation(&account), "msgKey": key, "reactionID": long })).await;
    assert_eq!(r["code"], 10004, "{r}");
    assert!(r["desc"].as_str().unwrap().contains("reactionID"), "{r}");
    // Still open and answering.
    ws.ok("ping", json!({})).await;
    // Bob does not subscribe: the conversation is not his.
    let mut bob = Ws::connect(&app.base, "bob").await;
    let r = bob.request("getMessageList", json!({ "conversationID": conversation(&account), "count": 10 })).await;
    assert_eq!(r["code"], 10007, "{r}");
    let r = bob.request("sendMessage", json!({ "conversationID": conversation(&account), "msgBody": text("hi") })).await;
    assert_eq!(r["code"], 10007, "{r}");
}

#[tokio::test]
async fn msg_flags_decide_who_hears_a_broadcast_live() {
    let app = unlimited().await;
    let account = app.an_account_with_subscribers("@TOA#_flags", &["loud", "quiet", "off"]).await;
    let mut loud = Ws::connect(&app.base, "loud").await;
    let mut quiet = Ws::connect(&app.base, "quiet").await;
    let mut off = Ws::connect(&app.base, "off").await;
    quiet.ok("setMessageReceiveOption", json!({ "officialAccountID": account, "msgFlag": "AcceptNotNotify" })).await;
    off.ok("setMessageReceiveOption", json!({ "officialAccountID": account, "msgFlag": "Discard" })).await;
    let key = broadcast(&app, &account, "flags").await;
    assert_eq!(loud.event("onRecvNewMessage").await["message"]["msgKey"], key.as_str());
    assert_eq!(quiet.event("onRecvNewMessage").await["message"]["msgKey"], key.as_str());
    assert!(off.try_event("onRecvNewMessage", QUIET).await.is_none(), "Discard hears nothing live");
    // … but can still read the history.
    let page = off.ok("getMessageList", json!({ "conversationID": conversation(&account), "count": 10 })).await;
    assert_eq!(page["messages"][0]["msgKey"], key.as_str());
}

#[tokio::test]
async fn an_online_only_broadcast_reaches_connected_clients_and_never_history() {
    let app = unlimited().await;
    let account = app.an_account_with_subscribers("@TOA#_online", &["alice"]).await;
    let mut ws = Ws::connect(&app.base, "alice").await;
    let r = app.send(json!({ "Official_Account": account, "Random": 9, "MsgBody": text("right now"), "OnlineOnlyFlag": 1 })).await;
    assert_ok(&r);
    let m = ws.event("onRecvNewMessage").await["message"].clone();
    assert_eq!(text_of(&m), "right now");
    let page = ws.ok("getMessageList", json!({ "conversationID": conversation(&account), "count": 10 })).await;
    assert_eq!(page["messages"], json!([]));
    assert_eq!(page["isFinished"], true);
}

#[tokio::test]
async fn a_recall_is_an_event_and_history_shows_the_message_recalled() {
    let app = unlimited().await;
    let account = app.an_account_with_subscribers("@TOA#_recall", &["alice"]).await;
    let mut ws = Ws::connect(&app.base, "alice").await;
    let key = broadcast(&app, &account, "oops").await;
    ws.event("onRecvNewMessage").await;
    let r = app
        .call(
            "official_account_open_http_svc/official_account_msg_recall",
            json!({ "Official_Account": account, "MsgKeyList": [{ "MsgKey": key }] }),
        )
        .await;
    assert_ok(&r);
    let e = ws.event("onRecvMessageRevoked").await;
    assert_eq!(e["msgKey"], key.as_str());
    assert_eq!(e["conversationID"], conversation(&account));
    assert_eq!(ws.event("onTotalUnreadMessageCountChanged").await["totalUnreadCount"], 0);
    let page = ws.ok("getMessageList", json!({ "conversationID": conversation(&account), "count": 10 })).await;
    assert_eq!(page["messages"][0]["isRevoked"], true);
    assert_eq!(page["messages"][0]["msgBody"], json!([]));
}

#[tokio::test]
async fn a_subscriber_writes_to_the_account_and_the_conversation_merges_both_sides() {
    let app = unlimited().await;
    let account = app.an_account_with_subscribers("@TOA#_chat", &["alice"]).await;
    let mut phone = Ws::connect(&app.base, "alice").await;
    let mut laptop = Ws::connect(&app.base, "alice").await;
    let first = broadcast(&app, &account, "broadcast one").await;
    let sent = phone
        .ok("sendMessage", json!({ "conversationID": conversation(&account), "msgBody": text("hello account"), "cloudCustomData": "c" }))
        .await;
    let mine = sent["message"].clone();
    assert_eq!(mine["sender"], "alice");
    assert_eq!(mine["isBroadcast"], false);
    // The other device hears it; the sending one has it in its response only.
    let heard = laptop.event("onRecvNewMessage").await;
    let heard = if heard["message"]["msgKey"] == first.as_str() { laptop.event("onRecvNewMessage").await } else { heard };
    assert_eq!(heard["message"]["msgKey"], mine["msgKey"]);
    let repeats: Vec<Value> = phone.events_within("onRecvNewMessage", QUIET).await;
    assert!(repeats.iter().all(|e| e["message"]["msgKey"] != mine["msgKey"]), "not delivered twice on one connection: {repeats:?}");
    // The account's side sees it in REST roaming history.
    let roam = app
        .call(
            "openim/admin_getroammsg",
            json!({ "Operator_Account": account, "Peer_Account": "alice", "MaxCnt": 10, "MinTime": 0, "MaxTime": now() + 10 }),
        )
        .await;
    assert_ok(&roam);
    assert_eq!(roam["MsgList"][0]["MsgKey"], mine["msgKey"], "{roam}");
    // A reply from the account over REST, then the merged conversation, newest first.
    let r = app
        .call("openim/sendmsg", json!({ "From_Account": account, "To_Account": "alice", "MsgRandom": 77, "MsgBody": text("hello alice") }))
        .await;
    assert_ok(&r);
    assert_eq!(text_of(&phone.event("onRecvNewMessage").await["message"]), "hello alice");
    let page = phone.ok("getMessageList", json!({ "conversationID": conversation(&account), "count": 10 })).await;
    let texts: Vec<&str> = page["messages"].as_array().unwrap().iter().map(text_of).collect();
    assert_eq!(texts, ["hello alice", "hello account", "broadcast one"]);
    // Paged one by one, nothing is lost or repeated.
    let mut last: Option<String> = None;
    let mut paged = Vec::new();
    loop {
        let mut data = json!({ "conversationID": conversation(&account), "count": 1 });
        if let Some(k) = &last {
            data["lastMsgKey"] = json!(k);
        }
        let page = phone.ok("getMessageList", data).await;
        for m in page["messages"].as_array().unwrap() {
            paged.push(text_of(m).to_owned());
            last = Some(m["msgKey"].as_str().unwrap().to_owned());
        }
        if page["isFinished"] == true {
            break;
        }
    }
    assert_eq!(paged, texts);
}

#[tokio::test]
async fn reactions_are_counted_per_user_and_told_with_reacted_by_me() {
    let app = unlimited().await;
    let account = app.an_account_with_subscribers("@TOA#_react", &["alice", "bob"]).await;
    let mut alice = Ws::connect(&app.base, "alice").await;
    let mut bob = Ws::connect(&app.base, "bob").await;
    let key = broadcast(&app, &account, "react!").await;
    let c = conversation(&account);
    alice.ok("addMessageReaction", json!({ "conversationID": c, "msgKey": key, "reactionID": "👍" })).await;
    alice.ok("addMessageReaction", json!({ "conversationID": c, "msgKey": key, "reactionID": "👍" })).await; // twice: once
    bob.ok("addMessageReaction", json!({ "conversationID": c, "msgKey": key, "reactionID": "👍" })).await;
    bob.ok("addMessageReaction", json!({ "conversationID": c, "msgKey": key, "reactionID": "🎉" })).await;
    let got = alice.ok("getMessageReactions", json!({ "conversationID": c, "msgKeyList": [key] })).await;
    assert_eq!(
        got["results"][0]["reactions"],
        json!([{ "reactionID": "👍", "totalUserCount": 2, "reactedByMe": true }, { "reactionID": "🎉", "totalUserCount": 1, "reactedByMe": false }])
    );
    // Events: coalesced, each telling its recipient what they did.
    let mut last_for_alice = Value::Null;
    for e in alice.events_within("onMessageReactionsChanged", Duration::from_millis(2500)).await {
        last_for_alice = e;
    }
    assert_eq!(last_for_alice["msgKey"], key.as_str());
    assert_eq!(last_for_alice["reactions"][0], json!({ "reactionID": "👍", "totalUserCount": 2, "reactedByMe": true }));
    let mut last_for_bob = Value::Null;
    for e in bob.events_within("onMessageReactionsChanged", Duration::from_millis(500)).await {
        last_for_bob = e;
    }
    assert_eq!(last_for_bob["reactions"][1], json!({ "reactionID": "🎉", "totalUserCount": 1, "reactedByMe": true }));
    bob.ok("removeMessageReaction", json!({ "conversationID": c, "msgKey": key, "reactionID": "🎉" })).await;
    let page = bob.ok("getMessageList", json!({ "conversationID": c, "count": 1 })).await;
    assert_eq!(page["messages"][0]["reactions"], json!([{ "reactionID": "👍", "totalUserCount": 2, "reactedByMe": true }]));
    let r = bob.request("addMessageReaction", json!({ "conversationID": c, "msgKey": "9_1_9", "reactionID": "👍" })).await;
    assert_eq!(r["code"], 10004, "{r}");
}

#[tokio::test]
async fn a_client_that_reconnects_after_missing_three_broadcasts_loses_none_and_repeats_none() {
    let app = unlimited().await;
    let account = app.an_account_with_subscribers("@TOA#_gap", &["alice"]).await;
    let c = conversation(&account);
    let mut ws = Ws::connect(&app.base, "alice").await;
    let seen = broadcast(&app, &account, "seen").await;
    assert_eq!(ws.event("onRecvNewMessage").await["message"]["msgKey"], seen.as_str());
    drop(ws);
    let mut missed = Vec::new();
    for i in 0..3 {
        missed.push(broadcast(&app, &account, &format!("missed {i}")).await);
    }
    let mut ws = Ws::connect(&app.base, "alice").await;
    // What the client library does: fetch newer than the last message it has.
    let page = ws.ok("getMessageList", json!({ "conversationID": c, "count": 20 })).await;
    let keys: Vec<&str> = page["messages"].as_array().unwrap().iter().map(|m| m["msgKey"].as_str().unwrap()).collect();
    let newer: Vec<&str> = keys.iter().take_while(|k| **k != seen).copied().collect();
    assert_eq!(newer, missed.iter().rev().map(String::as_str).collect::<Vec<_>>());
    assert!(ws.try_event("onRecvNewMessage", QUIET).await.is_none(), "nothing is replayed as a live event");
    let after = broadcast(&app, &account, "after").await;
    assert_eq!(ws.event("onRecvNewMessage").await["message"]["msgKey"], after.as_str());
}

#[tokio::test]
async fn a_client_that_never_reads_is_dropped_and_does_not_slow_the_others() {
    let app = unlimited().await;
    let account = app.an_account_with_subscribers("@TOA#_slow", &["slow", "fast"]).await;
    let mut slow = Ws::connect(&app.base, "slow").await;
    let mut fast = Ws::connect(&app.base, "fast").await;
    // ~10 KB per broadcast: the slow client's socket buffers and its queue fill up.
    let big = "x".repeat(10_000);
    let total = 2500;
    let sender = {
        let (base, account, big) = (app.base.clone(), account.clone(), big.clone());
        tokio::spawn(async move {
            let app = TestApp { base, client: reqwest::Client::new(), _dir: None, db: None, node: None };
            for i in 0..total {
                let r = app.send(json!({ "Official_Account": account, "Random": i, "MsgBody": text(&big) })).await;
                assert_ok(&r);
            }
        })
    };
    let mut received = 0;
    while received < total {
        let e = fast.try_event("onRecvNewMessage", WAIT).await.expect("the fast client keeps receiving");
        assert!(e["message"]["msgKey"].is_string());
        received += 1;
    }
    sender.await.unwrap();
    assert_eq!(received, total);
    assert!(slow.closed_within(WAIT * 3).await, "the slow client was dropped");
}

#[tokio::test]
async fn rest_sees_who_is_online_and_the_same_unread_counts_and_read_positions_as_clients() {
    let app = unlimited().await;
    let account = app.an_account_with_subscribers("@TOA#_rest", &["alice", "bob"]).await;
    let mut alice = Ws::connect(&app.base, "alice").await;
    // Presence is written in batches (a quarter of a second).
    tokio::time::sleep(Duration::from_millis(600)).await;
    let r = app.call("openim/query_online_status", json!({ "To_Account": ["alice", "bob", "ghost"], "IsNeedDetail": 1 })).await;
    assert_ok(&r);
    assert_eq!(r["QueryResult"][0]["To_Account"], "alice");
    assert_eq!(r["QueryResult"][0]["Status"], "Online");
    assert_eq!(r["QueryResult"][0]["Detail"].as_array().unwrap().len(), 1);
    assert_eq!(r["QueryResult"][1]["Status"], "Offline");
    assert_eq!(r["ErrorList"][0], json!({ "To_Account": "ghost", "ErrorCode": 70107 }));

    broadcast(&app, &account, "one").await;
    broadcast(&app, &account, "two").await;
    let r = app.call("openim/get_c2c_unread_msg_num", json!({ "To_Account": "alice", "Peer_Account": [account] })).await;
    assert_ok(&r);
    assert_eq!(r["AllC2CUnreadMsgNum"], 2);
    assert_eq!(r["C2CUnreadMsgNumList"][0], json!({ "Peer_Account": account, "C2CUnreadMsgNum": 2 }));
    let r = app.call("openim/admin_set_msg_read", json!({ "Report_Account": "alice", "Peer_Account": account })).await;
    assert_ok(&r);
    let mut total = Value::Null;
    for e in alice.events_within("onTotalUnreadMessageCountChanged", QUIET).await {
        total = e["totalUnreadCount"].clone();
    }
    assert_eq!(total, 0, "the client hears the read position REST moved");
    let r = app.call("openim/get_c2c_unread_msg_num", json!({ "To_Account": "alice" })).await;
    assert_eq!(r["AllC2CUnreadMsgNum"], 0, "{r}");

    drop(alice);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let r = app.call("openim/query_online_status", json!({ "To_Account": ["alice"] })).await;
    assert_eq!(r["QueryResult"][0]["Status"], "Offline", "{r}");
}

#[tokio::test]
async fn admin_msgwithdraw_recalls_a_one_to_one_message_and_roaming_accepts_the_older_field_names() {
    let app = unlimited().await;
    let account = app.an_account_with_subscribers("@TOA#_withdraw", &["alice"]).await;
    let mut alice = Ws::connect(&app.base, "alice").await;
    let r = app
        .call("openim/sendmsg", json!({ "From_Account": account, "To_Account": "alice", "MsgRandom": 5, "MsgBody": text("take me back") }))
        .await;
    assert_ok(&r);
    let key = r["MsgKey"].as_str().unwrap().to_owned();
    // The older spelling From_Account / To_Account works as Operator_Account / Peer_Account.
    let roam = app.call("openim/admin_getroammsg", json!({ "From_Account": account, "To_Account": "alice", "MaxCnt": 10 })).await;
    assert_ok(&roam);
    assert_eq!(roam["MsgList"][0]["MsgKey"], key.as_str());
    let withdraw = json!({ "From_Account": account, "To_Account": "alice", "MsgKey": key });
    assert_ok(&app.call("openim/admin_msgwithdraw", withdraw.clone()).await);
    let e = alice.event("onRecvMessageRevoked").await;
    assert_eq!(e["msgKey"], key.as_str());
    assert_fails(&app.call("openim/admin_msgwithdraw", withdraw).await, 20023);
    let unknown = json!({ "From_Account": account, "To_Account": "alice", "MsgKey": "99_5_1700000000" });
    assert_fails(&app.call("openim/admin_msgwithdraw", unknown).await, 20022);
    let roam = app.call("openim/admin_getroammsg", json!({ "Operator_Account": account, "Peer_Account": "alice", "MaxCnt": 10 })).await;
    assert_eq!(roam["MsgList"], json!([]), "a recalled message leaves roaming history");
    let page = alice.ok("getMessageList", json!({ "conversationID": conversation(&account), "count": 10 })).await;
    assert_eq!(page["messages"][0]["isRevoked"], true);
}

#[tokio::test]
async fn a_test_usersig_needs_the_platform_owner_and_connects_the_user_it_imports() {
    let app = unlimited().await;
    let refused = server_fn(&app, "try_usersig", &[("user_id", "tester")], None).await;
    assert!(refused.status().is_client_error(), "signed out: {}", refused.status());
    let cookie = signed_in(&app).await;
    let minted = server_fn(&app, "try_usersig", &[("user_id", "tester")], Some(&cookie)).await;
    assert!(minted.status().is_success(), "{}", minted.status());
    let minted: Value = minted.json().await.unwrap();
    assert_eq!(minted["sdk_app_id"], SDKAPPID);
    let usersig = minted["user_sig"].as_str().unwrap();
    let (mut ws, _) =
        tokio_tungstenite::connect_async(client_url(&app.base, "tester", usersig)).await.expect("the minted UserSig upgrades");
    use futures::SinkExt;
    ws.send(tokio_tungstenite::tungstenite::Message::text(r#"{"id":1,"op":"ping","data":{}}"#)).await.unwrap();
}

#[tokio::test]
async fn the_renderer_behind_try_shows_raw_html_as_text() {
    let app = unlimited().await;
    let body = json!([{ "MsgType": "TIMTextElem", "MsgContent": { "Text": "<script>alert(1)</script> **bold**" } }]).to_string();
    let r = server_fn(&app, "try_render", &[("msg_body", &body)], None).await;
    assert!(r.status().is_success(), "{}", r.status());
    let html: String = r.json().await.unwrap();
    assert!(!html.contains("<script"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
}

#[tokio::test]
async fn the_inbox_socket_refuses_the_signed_out_and_other_sites() {
    let app = unlimited().await;
    let account = app.an_account("owner", "@TOA#_inbox", "Inbox").await;
    let url = format!("{}/accounts/{}/inbox/live", app.base, account.replace('@', "%40").replace('#', "%23"));
    let upgrade = |cookie: Option<&str>, origin: &str| {
        let mut req = client()
            .get(&url)
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("origin", origin);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send()
    };
    let signed_out = upgrade(None, &app.base).await.unwrap();
    assert!(signed_out.status().is_client_error() || signed_out.status().is_redirection(), "{}", signed_out.status());
    let cookie = signed_in(&app).await;
    assert_eq!(upgrade(Some(&cookie), "https://evil.example").await.unwrap().status(), 403);
    assert_eq!(upgrade(Some(&cookie), &app.base).await.unwrap().status(), 101);
}

#[tokio::test]
async fn profile_changes_and_deletion_reach_every_device_of_every_connected_subscriber() {
    let app = unlimited().await;
    let account = app.an_account_with_subscribers("@TOA#_profile", &["alice", "bob"]).await;
    let mut phone = Ws::connect(&app.base, "alice").await;
    let mut laptop = Ws::connect(&app.base, "alice").await;
    let mut bob = Ws::connect(&app.base, "bob").await;
    bob.ok("setMessageReceiveOption", json!({ "officialAccountID": account, "msgFlag": "Discard" })).await;
    let r = app
        .call("official_account_open_http_svc/modify_official_account_base_info", json!({ "Official_Account": account, "Name": "Renamed" }))
        .await;
    assert_ok(&r);
    for ws in [&mut phone, &mut laptop, &mut bob] {
        let info = ws.event("onOfficialAccountInfoChanged").await["officialAccountInfo"].clone();
        assert_eq!(info["officialAccountName"], "Renamed");
        assert_eq!(info["officialAccountID"], account.as_str());
    }
    let r = app.call("official_account_open_http_svc/destroy_official_account", json!({ "Official_Account": account })).await;
    assert_ok(&r);
    for ws in [&mut phone, &mut laptop, &mut bob] {
        assert_eq!(ws.event("onOfficialAccountDeleted").await["officialAccountID"], account.as_str());
    }
    let info = phone.ok("getOfficialAccountsInfo", json!({ "officialAccountIDList": [] })).await;
    assert_eq!(info["results"], json!([]), "a destroyed account is no longer listed");
}

#[tokio::test]
async fn the_server_pings_every_client_and_closes_one_that_stays_silent_with_1001() {
    let app = spawn_app_with(|c| {
        c.client_ping_secs = 1;
        c.client_silence_secs = 3;
    })
    .await;
    app.account_import("alice").await;
    app.account_import("bob").await;
    let mut alice = Ws::connect(&app.base, "alice").await;
    let mut bob = silent_client(&app.base, "bob").await;
    // Alice's client reads all along, so it answers each ping: past the silence limit she is
    // still connected. Bob's reads nothing and answers nothing.
    let alice_saw = alice.control_within(Duration::from_secs(5)).await;
    assert!(alice_saw.pings >= 3, "a ping a second: {} in 5 s", alice_saw.pings);
    assert_eq!(alice_saw.closed_with, None);
    alice.ok("ping", json!({})).await;
    let bob_saw = control_of_silent(&mut bob, WAIT).await;
    assert!(bob_saw.pings >= 2, "bob was pinged until he was dropped: {} pings", bob_saw.pings);
    assert_eq!(bob_saw.closed_with, Some(1001), "silent for too long");
}

#[tokio::test]
async fn the_server_refuses_to_start_with_a_silence_limit_no_longer_than_the_ping_period() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = server::config::Config::for_tests(&database_url(&dir).await);
    config.client_ping_secs = 30;
    config.client_silence_secs = 30;
    let Err(e) = server::startup::Application::build(config).await else { panic!("the server started") };
    let said = format!("{e:#}");
    assert!(said.contains("HERALD_CLIENT_SILENCE_SECS") && said.contains("must be longer than the ping period (30 s)"), "{said}");
}
