//! Broadcasts: send (every field, limits, duplicates, frequency), history and recall.

use crate::helpers::*;
use serde_json::{json, Value};

const RECALL: &str = "official_account_open_http_svc/official_account_msg_recall";

/// A server whose frequency limits stay out of the way unless a test is about them.
async fn roomy_app() -> TestApp {
    spawn_app_with(|c| {
        c.broadcasts_per_second = Some(1000);
        c.broadcasts_per_hour = Some(1000);
    })
    .await
}

async fn newest(app: &TestApp, id: &str, n: i64) -> Value {
    let r = app.history(json!({ "Official_Account": id, "ReqMsgNumber": n })).await;
    assert_ok(&r);
    r
}

fn keys(history: &Value) -> Vec<String> {
    history["RspMsgList"].as_array().unwrap().iter().map(|m| m["MsgKey"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_sample_requests_are_accepted_verbatim() {
    let app = roomy_app().await;
    let id = app.an_account_with_subscribers("@TOA#_samples", &["user1"]).await;
    // Text + face elements.
    let r = app
        .send(json!({
            "Official_Account": id, "Random": 1287657,
            "MsgBody": [
                { "MsgType": "TIMTextElem", "MsgContent": { "Text": "hi, beauty" } },
                { "MsgType": "TIMFaceElem", "MsgContent": { "Index": 1, "Data": "content" } }
            ],
            "CloudCustomData": "your cloud custom data",
            "OfflinePushInfo": { "PushFlag": 0, "Title": "News", "Desc": "Offline push", "Ext": "ext" }
        }))
        .await;
    assert_ok(&r);
    assert!(r["MsgKey"].as_str().unwrap().starts_with("1_1_"), "{r}");
    assert!(r["MsgTime"].as_i64().unwrap() >= now() - 60);
    // With NoLastMsg.
    assert_ok(&app.send(json!({ "Official_Account": id, "Random": 2, "MsgBody": text("quiet"), "SendMsgControl": ["NoLastMsg"] })).await);
    // With ForbidCallbackControl.
    assert_ok(
        &app.send(json!({ "Official_Account": id, "Random": 3, "MsgBody": text("no callbacks"),
        "ForbidCallbackControl": ["ForbidBeforeSendMsgCallback", "ForbidAfterSendMsgCallback"] }))
            .await,
    );
    // With OnlineOnlyFlag: answered, but not stored.
    let online = app.send(json!({ "Official_Account": id, "Random": 4, "MsgBody": text("live only"), "OnlineOnlyFlag": 1 })).await;
    assert_ok(&online);

    let h = newest(&app, &id, 10).await;
    let texts: Vec<&str> =
        h["RspMsgList"].as_array().unwrap().iter().map(|m| m["MsgBody"][0]["MsgContent"]["Text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["no callbacks", "quiet", "hi, beauty"], "newest first, online-only not stored");
    let first = &h["RspMsgList"][2];
    assert_eq!(first["From_Account"], id.as_str());
    assert_eq!(first["MsgSeq"], 1);
    assert_eq!(first["MsgRandom"], 1287657);
    assert_eq!(first["CloudCustomData"], "your cloud custom data");
    assert_eq!(first["MsgBody"][1]["MsgType"], "TIMFaceElem");
    assert_eq!(first["IsPlaceMsg"], 0);
    assert_eq!(h["IsFinished"], 1);
}

#[tokio::test]
async fn msg_keys_carry_a_per_account_sequence() {
    let app = roomy_app().await;
    let a = app.an_account("o", "@TOA#_seqa", "A").await;
    let b = app.an_account("o", "@TOA#_seqb", "B").await;
    let seq = |r: &Value| r["MsgKey"].as_str().unwrap().split('_').next().unwrap().parse::<i64>().unwrap();
    let mut got = Vec::new();
    for (i, id) in [&a, &a, &b, &a].iter().enumerate() {
        let r = app.send(json!({ "Official_Account": id, "Random": i, "MsgBody": text(&format!("m{i}")) })).await;
        let key = r["MsgKey"].as_str().unwrap().to_owned();
        assert_eq!(key, format!("{}_1_{}", seq(&r), r["MsgTime"]), "{{seq}}_1_{{time}}");
        got.push(seq(&r));
    }
    assert_eq!(got, [1, 2, 1, 3]);
}

#[tokio::test]
async fn no_last_msg_leaves_last_msg_time_alone() {
    let app = roomy_app().await;
    let id = app.an_account("o", "@TOA#_nolast", "N").await;
    assert_ok(&app.send(json!({ "Official_Account": id, "Random": 1, "MsgBody": text("x"), "SendMsgControl": ["NoLastMsg"] })).await);
    assert_eq!(app.get_official_account_info(&[&id]).await["OfficialAccountInfoList"][0]["LastMsgTime"], 0);
    let r = app.send(json!({ "Official_Account": id, "Random": 2, "MsgBody": text("y") })).await;
    assert_eq!(app.get_official_account_info(&[&id]).await["OfficialAccountInfoList"][0]["LastMsgTime"], r["MsgTime"]);
    let both = app
        .send(json!({ "Official_Account": id, "Random": 3, "MsgBody": text("z"), "SendMsgControl": ["NoLastMsg"], "OnlineOnlyFlag": 1 }))
        .await;
    assert_fails(&both, 10004);
}

#[tokio::test]
async fn a_message_of_12_kb_is_accepted_and_one_byte_more_is_80002() {
    let app = roomy_app().await;
    let id = app.an_account("o", "@TOA#_big", "Big").await;
    let overhead = text("").to_string().len() + "cc".len();
    let fill = "x".repeat(12 * 1024 - overhead);
    assert_ok(&app.send(json!({ "Official_Account": id, "Random": 1, "MsgBody": text(&fill), "CloudCustomData": "cc" })).await);
    let r = app.send(json!({ "Official_Account": id, "Random": 2, "MsgBody": text(&format!("{fill}y")), "CloudCustomData": "cc" })).await;
    assert_fails(&r, 80002);
    assert_eq!(keys(&newest(&app, &id, 10).await).len(), 1, "the refused message was not stored");
}

#[tokio::test]
async fn bad_send_parameters_are_refused_and_nothing_is_stored() {
    let app = roomy_app().await;
    let id = app.an_account("o", "@TOA#_bad", "Bad").await;
    for (body, code) in [
        (json!({ "Official_Account": id, "MsgBody": text("no random") }), 10004),
        (json!({ "Official_Account": id, "Random": -1, "MsgBody": text("x") }), 60003),
        (json!({ "Official_Account": id, "Random": 4294967296u64, "MsgBody": text("x") }), 60003),
        (json!({ "Official_Account": id, "Random": 1 }), 10004),
        (json!({ "Official_Account": id, "Random": 1, "MsgBody": [] }), 10004),
        (json!({ "Official_Account": id, "Random": 1, "MsgBody": [{ "MsgType": "TIMNope", "MsgContent": {} }] }), 10004),
        (json!({ "Official_Account": id, "Random": 1, "MsgBody": text("x"), "SendMsgControl": ["Loud"] }), 10004),
        // Send's own codes (docs/rest-api.md §1): 10010 missing, 10015 malformed.
        (json!({ "Official_Account": "@TOA#_nope", "Random": 1, "MsgBody": text("x") }), 10010),
        (json!({ "Official_Account": "nope", "Random": 1, "MsgBody": text("x") }), 10015),
    ] {
        assert_fails(&app.send(body).await, code);
    }
    assert!(keys(&newest(&app, &id, 10).await).is_empty());
}

#[tokio::test]
async fn a_duplicate_within_five_minutes_gets_the_first_key_and_is_stored_once() {
    let app = spawn_app().await; // default limits: a duplicate must not count against them
    let id = app.an_account("o", "@TOA#_dup", "Dup").await;
    let first = app.send(json!({ "Official_Account": id, "Random": 42, "MsgBody": text("same") })).await;
    assert_ok(&first);
    let again = app.send(json!({ "Official_Account": id, "Random": 42, "MsgBody": text("same") })).await;
    assert_ok(&again);
    assert_eq!((&again["MsgKey"], &again["MsgTime"]), (&first["MsgKey"], &first["MsgTime"]));
    assert_eq!(keys(&newest(&app, &id, 10).await), [first["MsgKey"].as_str().unwrap()]);
}

#[tokio::test]
async fn the_per_second_limit_refuses_with_10023() {
    let app = spawn_app_with(|c| {
        c.broadcasts_per_second = Some(1);
        c.broadcasts_per_hour = Some(100);
    })
    .await;
    let id = app.an_account("o", "@TOA#_fast", "Fast").await;
    // Three sends in well under two seconds: two of them share a second.
    let mut codes = Vec::new();
    for i in 0..3 {
        codes.push(
            app.send(json!({ "Official_Account": id, "Random": i, "MsgBody": text(&format!("{i}")) })).await["ErrorCode"].as_u64().unwrap(),
        );
    }
    assert!(codes.contains(&10023), "{codes:?}");
    let stored = codes.iter().filter(|c| **c == 0).count();
    assert_eq!(keys(&newest(&app, &id, 10).await).len(), stored);
}

#[tokio::test]
async fn the_hourly_limit_refuses_the_third_broadcast_by_default() {
    let app = spawn_app_with(|c| c.broadcasts_per_second = Some(10)).await; // default: 2 per hour
    let id = app.an_account("o", "@TOA#_hourly", "Hourly").await;
    assert_ok(&app.send(json!({ "Official_Account": id, "Random": 1, "MsgBody": text("1") })).await);
    assert_ok(&app.send(json!({ "Official_Account": id, "Random": 2, "MsgBody": text("2") })).await);
    let third = app.send(json!({ "Official_Account": id, "Random": 3, "MsgBody": text("3") })).await;
    assert_fails(&third, 10023);
    assert!(third["ErrorInfo"].as_str().unwrap().contains("per hour"), "{third}");
    assert_eq!(keys(&newest(&app, &id, 10).await).len(), 2);
}

#[tokio::test]
async fn history_pages_backwards_from_last_msg_key() {
    let app = roomy_app().await;
    let id = app.an_account("o", "@TOA#_hist", "Hist").await;
    for i in 1..=5 {
        app.send(json!({ "Official_Account": id, "Random": i, "MsgBody": text(&format!("m{i}")) })).await;
    }
    let mut all = Vec::new();
    let mut last = String::new();
    loop {
        let r = app.history(json!({ "Official_Account": id, "ReqMsgNumber": 2, "LastMsgKey": last })).await;
        assert_ok(&r);
        all.extend(r["RspMsgList"].as_array().unwrap().iter().map(|m| m["MsgSeq"].as_i64().unwrap()));
        last = r["LastMsgKey"].as_str().unwrap().to_owned();
        if r["IsFinished"] == 1 {
            break;
        }
    }
    assert_eq!(all, [5, 4, 3, 2, 1]);
    assert_fails(&app.history(json!({ "Official_Account": id, "ReqMsgNumber": 0 })).await, 10004);
    assert_fails(&app.history(json!({ "Official_Account": id, "ReqMsgNumber": 101 })).await, 10004);
    assert_ok(&app.history(json!({ "Official_Account": id, "ReqMsgNumber": 100 })).await);
    assert_fails(&app.history(json!({ "Official_Account": id, "ReqMsgNumber": 1, "LastMsgKey": "junk" })).await, 10004);
}

#[tokio::test]
async fn a_recalled_message_leaves_history_unless_asked_for_then_it_is_a_placeholder() {
    let app = roomy_app().await;
    let id = app.an_account("o", "@TOA#_recall", "Recall").await;
    let a = app.send(json!({ "Official_Account": id, "Random": 1, "MsgBody": text("keep") })).await;
    let b = app.send(json!({ "Official_Account": id, "Random": 2, "MsgBody": text("oops") })).await;
    let r = app
        .call(
            RECALL,
            json!({ "Official_Account": id, "MsgKeyList": [{ "MsgKey": b["MsgKey"] }, { "MsgKey": "99_1_1" }], "Reason": "typo" }),
        )
        .await;
    assert_ok(&r);
    assert_eq!(r["RecallRetList"], json!([{ "MsgKey": b["MsgKey"], "RetCode": 0 }, { "MsgKey": "99_1_1", "RetCode": 10030 }]));

    assert_eq!(keys(&newest(&app, &id, 10).await), [a["MsgKey"].as_str().unwrap()]);
    let with = app.history(json!({ "Official_Account": id, "ReqMsgNumber": 10, "WithRecalledMsg": 1 })).await;
    assert_eq!(with["RspMsgList"][0]["MsgKey"], b["MsgKey"]);
    assert_eq!(with["RspMsgList"][0]["IsPlaceMsg"], 2);
    assert_eq!(with["RspMsgList"][1]["IsPlaceMsg"], 0);

    let eleven: Vec<Value> = (0..11).map(|i| json!({ "MsgKey": format!("{i}_1_1") })).collect();
    assert_fails(&app.call(RECALL, json!({ "Official_Account": id, "MsgKeyList": eleven })).await, 10004);
    assert_fails(
        &app.call(RECALL, json!({ "Official_Account": id, "MsgKeyList": [{ "MsgKey": a["MsgKey"] }], "Reason": "r".repeat(101) })).await,
        10004,
    );
    assert_fails(&app.call(RECALL, json!({ "Official_Account": "@TOA#_gone", "MsgKeyList": [{ "MsgKey": "1_1_1" }] })).await, 10010);
    assert_eq!(keys(&newest(&app, &id, 10).await).len(), 1, "refused recalls recalled nothing");
}

#[tokio::test]
async fn over_the_rest_call_rate_is_60007() {
    let app = spawn_app_with(|c| c.rest_calls_per_second = Some(2)).await;
    // Five calls within two seconds: one second sees at least three.
    let mut codes = Vec::new();
    for _ in 0..5 {
        let r = app.call("im_open_login_svc/account_check", json!({ "CheckItem": [{ "UserID": "x" }] })).await;
        codes.push(r["ErrorCode"].as_u64().unwrap());
    }
    assert!(codes.contains(&60007), "{codes:?}");
}

#[tokio::test]
async fn tencents_documented_sample_shapes_are_accepted_verbatim() {
    let app = roomy_app().await;
    // Tencent's samples use a generated-looking ID; as a custom ID it is legal.
    let id = app.an_account_with_subscribers("@TOA#_2C5SZEAEF", &["user1"]).await;
    let basic = json!({
        "Official_Account": "@TOA#_2C5SZEAEF",
        "Random": 9875,
        "MsgBody": [
            { "MsgType": "TIMTextElem", "MsgContent": { "Text": "red packet" } },
            { "MsgType": "TIMFaceElem", "MsgContent": { "Index": 6, "Data": "abc\u{0000}\u{0001}" } }
        ],
        "CloudCustomData": "your cloud custom data",
        "OfflinePushInfo": {
            "PushFlag": 0,
            "Desc": "Offline Push Content",
            "Ext": "This is the transmitted content",
            "AndroidInfo": { "Sound": "android.mp3" },
            "ApnsInfo": { "Sound": "apns.mp3", "BadgeMode": 1, "Title": "apns title", "SubTitle": "apns subtitle", "Image": "www.image.com" }
        }
    });
    let r = app.send(basic).await;
    assert_ok(&r);
    let no_last_msg = json!({
        "Official_Account": "@TOA#_2C5SZEAEF",
        "Random": 9875,
        "SendMsgControl": ["NoLastMsg"],
        "MsgBody": [{ "MsgType": "TIMTextElem", "MsgContent": { "Text": "red packet 2" } }],
        "CloudCustomData": "your cloud custom data"
    });
    assert_ok(&app.send(no_last_msg).await);
    let forbid = json!({
        "Official_Account": "@TOA#_2C5SZEAEF",
        "Random": 9876,
        "ForbidCallbackControl": ["ForbidBeforeSendMsgCallback", "ForbidAfterSendMsgCallback"],
        "MsgBody": [{ "MsgType": "TIMTextElem", "MsgContent": { "Text": "red packet 3" } }]
    });
    assert_ok(&app.send(forbid).await);
    let online_only = json!({
        "Official_Account": "@TOA#_2C5SZEAEF",
        "Random": 9877,
        "OnlineOnlyFlag": 1,
        "MsgBody": [{ "MsgType": "TIMTextElem", "MsgContent": { "Text": "red packet 4" } }]
    });
    assert_ok(&app.send(online_only).await);

    let h = newest(&app, &id, 10).await;
    let texts: Vec<&str> =
        h["RspMsgList"].as_array().unwrap().iter().map(|m| m["MsgBody"][0]["MsgContent"]["Text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["red packet 3", "red packet 2", "red packet"]);
    let first = &h["RspMsgList"][2];
    assert_eq!(first["MsgBody"][1]["MsgContent"]["Data"], "abc\u{0000}\u{0001}", "control characters survive storage");
    assert_eq!(first["MsgKey"], r["MsgKey"]);
    let info = app.get_official_account_info(&[&id]).await;
    assert_eq!(info["OfficialAccountInfoList"][0]["LastMsgTime"], r["MsgTime"], "NoLastMsg left LastMsgTime at the first");
}

#[tokio::test]
async fn nul_characters_are_refused_by_name_on_every_backend() {
    let app = roomy_app().await;
    let id = app.an_account_with_subscribers("@TOA#_nul", &["user1"]).await;
    let r = app.send(json!({ "Official_Account": id, "Random": 1, "MsgBody": text("x"), "CloudCustomData": "a\u{0000}b" })).await;
    assert_fails(&r, 10004);
    assert!(r["ErrorInfo"].as_str().unwrap().contains("CloudCustomData"), "{r}");
    let r = app
        .call("official_account_open_http_svc/modify_official_account_base_info", json!({ "Official_Account": id, "Name": "a\u{0000}b" }))
        .await;
    assert_fails(&r, 10004);
    assert!(r["ErrorInfo"].as_str().unwrap().contains("Name"), "{r}");
    let h = newest(&app, &id, 10).await;
    assert_eq!(h["RspMsgList"].as_array().unwrap().len(), 0, "nothing stored");
}

#[tokio::test]
async fn a_bad_push_flag_is_10004_and_nothing_is_sent() {
    let app = roomy_app().await;
    let id = app.an_account_with_subscribers("@TOA#_flag", &["user1"]).await;
    let r = app.send(json!({ "Official_Account": id, "Random": 1, "MsgBody": text("x"), "OfflinePushInfo": { "PushFlag": 2 } })).await;
    assert_fails(&r, 10004);
    assert!(r["ErrorInfo"].as_str().unwrap().contains("OfflinePushInfo: PushFlag"), "{r}");
    let r = app.send(json!({ "Official_Account": id, "Random": 1, "MsgBody": text("x"), "OfflinePushInfo": "push" })).await;
    assert_fails(&r, 60003);
    assert_eq!(newest(&app, &id, 10).await["RspMsgList"].as_array().unwrap().len(), 0);
}
