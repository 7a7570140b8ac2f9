//! `openim/sendmsg` and `admin_getroammsg`: one-to-one between an account and a subscriber.

use crate::helpers::*;
use serde_json::json;

const SEND: &str = "openim/sendmsg";
const ROAM: &str = "openim/admin_getroammsg";

#[tokio::test]
async fn the_account_and_a_subscriber_talk_and_history_shows_both_ways() {
    let app = spawn_app().await;
    let id = app.an_account_with_subscribers("@TOA#_desk", &["alice"]).await;
    let out = app.call(SEND, json!({ "From_Account": id, "To_Account": "alice", "MsgRandom": 7, "MsgBody": text("hello alice") })).await;
    assert_ok(&out);
    assert!(out["MsgKey"].as_str().unwrap().starts_with("1_7_"), "{out}");
    let back = app.call(SEND, json!({ "From_Account": "alice", "To_Account": id, "MsgRandom": 8, "MsgBody": text("hi desk") })).await;
    assert_ok(&back);

    let r = app.call(ROAM, json!({ "Operator_Account": id, "Peer_Account": "alice", "MaxCnt": 10 })).await;
    assert_ok(&r);
    assert_eq!(r["Complete"], 1);
    assert_eq!(r["MsgCnt"], 2);
    assert_eq!(r["MsgList"][0]["From_Account"], "alice");
    assert_eq!(r["MsgList"][0]["To_Account"], id.as_str());
    assert_eq!(r["MsgList"][1]["MsgBody"][0]["MsgContent"]["Text"], "hello alice");
    assert_eq!(r["MsgList"][1]["MsgKey"], out["MsgKey"]);

    let page = app.call(ROAM, json!({ "Operator_Account": "alice", "Peer_Account": id, "MaxCnt": 1 })).await;
    assert_eq!(page["Complete"], 0);
    let rest =
        app.call(ROAM, json!({ "Operator_Account": "alice", "Peer_Account": id, "MaxCnt": 1, "LastMsgKey": page["LastMsgKey"] })).await;
    assert_eq!(rest["MsgList"][0]["MsgKey"], out["MsgKey"]);
    assert_eq!(rest["Complete"], 1);
}

#[tokio::test]
async fn a_non_subscriber_cannot_be_messaged_and_nothing_is_stored() {
    let app = spawn_app().await;
    let id = app.an_account_with_subscribers("@TOA#_desk2", &["alice"]).await;
    app.account_import("bob").await;
    let r = app.call(SEND, json!({ "From_Account": id, "To_Account": "bob", "MsgRandom": 1, "MsgBody": text("hi") })).await;
    assert_fails(&r, 10007);
    assert!(r["ErrorInfo"].as_str().unwrap().contains("not a subscriber"), "{r}");
    let h = app.call(ROAM, json!({ "Operator_Account": id, "Peer_Account": "bob", "MaxCnt": 10 })).await;
    assert_eq!(h["MsgCnt"], 0);
    assert_fails(
        &app.call(SEND, json!({ "From_Account": "alice", "To_Account": "bob", "MsgRandom": 1, "MsgBody": text("hi") })).await,
        10004,
    );
    assert_fails(
        &app.call(SEND, json!({ "From_Account": "@TOA#_none", "To_Account": "alice", "MsgRandom": 1, "MsgBody": text("hi") })).await,
        130004,
    );
}

#[tokio::test]
async fn size_life_time_and_required_fields() {
    let app = spawn_app().await;
    let id = app.an_account_with_subscribers("@TOA#_desk3", &["alice"]).await;
    let overhead = text("").to_string().len();
    let fill = "x".repeat(12 * 1024 - overhead);
    assert_ok(&app.call(SEND, json!({ "From_Account": id, "To_Account": "alice", "MsgRandom": 1, "MsgBody": text(&fill) })).await);
    let big =
        app.call(SEND, json!({ "From_Account": id, "To_Account": "alice", "MsgRandom": 2, "MsgBody": text(&format!("{fill}y")) })).await;
    assert_fails(&big, 93000);
    // MsgLifeTime 0: online only, not stored.
    assert_ok(
        &app.call(SEND, json!({ "From_Account": id, "To_Account": "alice", "MsgRandom": 3, "MsgBody": text("now"), "MsgLifeTime": 0 }))
            .await,
    );
    assert_fails(
        &app.call(SEND, json!({ "From_Account": id, "To_Account": "alice", "MsgRandom": 4, "MsgBody": text("x"), "MsgLifeTime": 604801 }))
            .await,
        10004,
    );
    assert_fails(&app.call(SEND, json!({ "From_Account": id, "To_Account": "alice", "MsgBody": text("x") })).await, 10004);
    let h = app.call(ROAM, json!({ "Operator_Account": id, "Peer_Account": "alice", "MaxCnt": 100 })).await;
    assert_eq!(h["MsgCnt"], 1, "{h}");
    assert_fails(&app.call(ROAM, json!({ "Operator_Account": id, "Peer_Account": "alice", "MaxCnt": 101 })).await, 10004);
}

#[tokio::test]
async fn every_sendmsg_field_is_taken_and_unknown_controls_are_refused_by_name() {
    let app = spawn_app().await;
    let id = app.an_account_with_subscribers("@TOA#_desk4", &["alice"]).await;
    let full = json!({
        "SyncOtherMachine": 2,
        "From_Account": id, "To_Account": "alice", "MsgLifeTime": 60, "MsgRandom": 1287657,
        "MsgBody": [{ "MsgType": "TIMTextElem", "MsgContent": { "Text": "hi, beauty" } }],
        "CloudCustomData": "your cloud custom data",
        "SendMsgControl": ["NoUnread", "NoLastMsg"],
        "ForbidCallbackControl": ["ForbidBeforeSendMsgCallback", "ForbidAfterSendMsgCallback"],
        "OfflinePushInfo": { "PushFlag": 0, "Desc": "Offline push content", "Ext": "ext", "ApnsInfo": { "BadgeMode": 1 } }
    });
    assert_ok(&app.call(SEND, full).await);
    let r = app
        .call(
            SEND,
            json!({ "From_Account": id, "To_Account": "alice", "MsgRandom": 2, "MsgBody": text("x"), "SendMsgControl": ["NoPush"] }),
        )
        .await;
    assert_fails(&r, 10004);
    assert!(r["ErrorInfo"].as_str().unwrap().contains("SendMsgControl"), "{r}");
    let r = app
        .call(
            SEND,
            json!({ "From_Account": id, "To_Account": "alice", "MsgRandom": 3, "MsgBody": text("x"), "ForbidCallbackControl": ["Nope"] }),
        )
        .await;
    assert_fails(&r, 10004);
    let r = app.call(SEND, json!({ "From_Account": id, "To_Account": "alice", "MsgRandom": 4, "MsgBody": text("x"), "OfflinePushInfo": { "PushFlag": 3 } })).await;
    assert_fails(&r, 10004);
    let h = app.call(ROAM, json!({ "Operator_Account": id, "Peer_Account": "alice", "MaxCnt": 100 })).await;
    assert_eq!(h["MsgCnt"], 1, "only the valid message is stored: {h}");
    assert_eq!(h["MsgList"][0]["CloudCustomData"], "your cloud custom data");
}

#[tokio::test]
async fn a_message_sent_with_no_last_msg_is_not_the_inbox_conversations_last_message() {
    let app = spawn_app().await;
    let id = app.an_account_with_subscribers("@TOA#_last", &["alice", "bob"]).await;
    assert_ok(
        &app.call(SEND, json!({ "From_Account": "alice", "To_Account": id, "MsgRandom": 1, "MsgBody": text("hello from alice") })).await,
    );
    // MsgTime has whole seconds: bob writes in a later one.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_ok(&app.call(SEND, json!({ "From_Account": "bob", "To_Account": id, "MsgRandom": 2, "MsgBody": text("hi, bob here") })).await);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let quiet = json!({ "From_Account": id, "To_Account": "alice", "MsgRandom": 3, "MsgBody": text("a receipt nobody needs to see"), "SendMsgControl": ["NoLastMsg"] });
    assert_ok(&app.call(SEND, quiet).await);

    let cookie = signed_in(&app).await;
    let inbox = |cookie: String| {
        let (app, id) = (&app, id.clone());
        async move {
            let res = server_fn(app, "list_inbox", &[("account", &id)], Some(&cookie)).await;
            assert_eq!(res.status(), 200);
            let rows: Vec<serde_json::Value> = res.json().await.unwrap();
            rows.iter()
                .map(|r| (r["subscriber"].as_str().unwrap().to_owned(), r["last_text"].as_str().unwrap().to_owned()))
                .collect::<Vec<_>>()
        }
    };
    // Bob's message stays the newest last message; alice's is still her own.
    assert_eq!(
        inbox(cookie.clone()).await,
        [("bob".to_owned(), "hi, bob here".to_owned()), ("alice".to_owned(), "hello from alice".to_owned())]
    );
    // The message in the history all the same.
    let r = app.call(ROAM, json!({ "Operator_Account": id, "Peer_Account": "alice", "MaxCnt": 10 })).await;
    assert_eq!(r["MsgCnt"], 2);

    // A reply without the control is the last message and moves the conversation up.
    assert_ok(
        &app.call(SEND, json!({ "From_Account": id, "To_Account": "alice", "MsgRandom": 4, "MsgBody": text("thanks, alice") })).await,
    );
    assert_eq!(inbox(cookie).await[0], ("alice".to_owned(), "thanks, alice".to_owned()));
}
