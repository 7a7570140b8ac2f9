//! Subscribers: add/delete in batches, the counter, MaxSubscriberNum, keyset paging, modify,
//! and the accounts one user follows.

use crate::helpers::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const ADD: &str = "official_account_open_http_svc/add_subscriber";
const DEL: &str = "official_account_open_http_svc/delete_subscriber";
const GET: &str = "official_account_open_http_svc/get_subscriber_info";
const MODIFY: &str = "official_account_open_http_svc/modify_subscriber_info";
const MINE: &str = "official_account_open_http_svc/get_subscribed_official_account_list";

fn subs(users: &[&str]) -> Value {
    json!(users.iter().map(|u| json!({ "Subscriber_Account": u })).collect::<Vec<_>>())
}

async fn subscriber_num(app: &TestApp, id: &str) -> i64 {
    app.get_official_account_info(&[id]).await["OfficialAccountInfoList"][0]["SubscriberNum"].as_i64().unwrap()
}

#[tokio::test]
async fn add_reports_each_user_and_keeps_the_counter() {
    let app = spawn_app().await;
    let id = app.an_account("o", "@TOA#_subs", "Subs").await;
    app.call("im_open_login_svc/multiaccount_import", json!({ "Accounts": ["a", "b"] })).await;
    let r = app.call(ADD, json!({ "Official_Account": id, "SubscriberList": subs(&["a", "b", "ghost"]) })).await;
    assert_ok(&r);
    assert_eq!(
        r["SubscriberList"],
        json!([
            { "Subscriber_Account": "a", "Result": 1 },
            { "Subscriber_Account": "b", "Result": 1 },
            { "Subscriber_Account": "ghost", "Result": 0 }
        ])
    );
    let again = app.call(ADD, json!({ "Official_Account": id, "SubscriberList": subs(&["a"]) })).await;
    assert_eq!(again["SubscriberList"][0]["Result"], 2);
    assert_eq!(subscriber_num(&app, &id).await, 2);

    let r = app.call(DEL, json!({ "Official_Account": id, "SubscriberToDel_Account": ["a", "zed"] })).await;
    assert_ok(&r);
    assert_eq!(r["SubscriberList"], json!([{ "Subscriber_Account": "a", "Result": 1 }, { "Subscriber_Account": "zed", "Result": 2 }]));
    // The alias shape works too.
    let r = app.call(DEL, json!({ "Official_Account": id, "SubscriberList": subs(&["b"]) })).await;
    assert_eq!(r["SubscriberList"][0]["Result"], 1);
    assert_eq!(subscriber_num(&app, &id).await, 0);
}

#[tokio::test]
async fn max_subscriber_num_is_enforced() {
    let app = spawn_app().await;
    app.account_import("o").await;
    let r = app
        .create_official_account(
            json!({ "Owner_Account": "o", "OfficialAccountUserID": "@TOA#_small", "Name": "Small", "MaxSubscriberNum": 2 }),
        )
        .await;
    assert_ok(&r);
    app.call("im_open_login_svc/multiaccount_import", json!({ "Accounts": ["a", "b", "c"] })).await;
    let r = app.call(ADD, json!({ "Official_Account": "@TOA#_small", "SubscriberList": subs(&["a", "b", "c"]) })).await;
    let results: Vec<i64> = r["SubscriberList"].as_array().unwrap().iter().map(|i| i["Result"].as_i64().unwrap()).collect();
    assert_eq!(results, [1, 1, 0]);
    assert_eq!(subscriber_num(&app, "@TOA#_small").await, 2);
}

#[tokio::test]
async fn batches_take_100_and_refuse_101_without_change() {
    let app = spawn_app().await;
    let id = app.an_account("o", "@TOA#_batch", "Batch").await;
    let users: Vec<String> = (0..101).map(|i| format!("u{i:03}")).collect();
    app.call("im_open_login_svc/multiaccount_import", json!({ "Accounts": users[..100] })).await;
    app.call("im_open_login_svc/multiaccount_import", json!({ "Accounts": [users[100]] })).await;
    let refs: Vec<&str> = users.iter().map(String::as_str).collect();
    let r = app.call(ADD, json!({ "Official_Account": id, "SubscriberList": subs(&refs) })).await;
    assert_fails(&r, 10004);
    assert_eq!(subscriber_num(&app, &id).await, 0);
    assert_ok(&app.call(ADD, json!({ "Official_Account": id, "SubscriberList": subs(&refs[..100]) })).await);
    assert_eq!(subscriber_num(&app, &id).await, 100);
    assert_fails(&app.call(ADD, json!({ "Official_Account": "@TOA#_none", "SubscriberList": subs(&["u000"]) })).await, 130004);
    assert_fails(&app.call(ADD, json!({ "Official_Account": "none", "SubscriberList": subs(&["u000"]) })).await, 130007);
}

#[tokio::test]
async fn paging_is_stable_while_others_subscribe_and_unsubscribe() {
    let app = spawn_app().await;
    let original = ["b1", "b2", "b3", "b4", "b5", "b6", "b7"];
    let id = app.an_account_with_subscribers("@TOA#_page", &original).await;
    app.call("im_open_login_svc/multiaccount_import", json!({ "Accounts": ["a0", "c9", "b35"] })).await;

    let mut seen = Vec::new();
    let mut next = String::new();
    let mut pages = 0;
    loop {
        let r = app.call(GET, json!({ "Official_Account": id, "Limit": 2, "Next": next })).await;
        assert_ok(&r);
        for s in r["SubscriberList"].as_array().unwrap() {
            seen.push(s["Subscriber_Account"].as_str().unwrap().to_owned());
            assert_eq!(s["MsgFlag"], "AcceptAndNotify");
        }
        next = r["Next"].as_str().unwrap().to_owned();
        pages += 1;
        if pages == 1 {
            // Between pages: new subscribers before, inside and after the cursor; one leaves.
            app.call(ADD, json!({ "Official_Account": id, "SubscriberList": subs(&["a0", "b35", "c9"]) })).await;
            app.call(DEL, json!({ "Official_Account": id, "SubscriberToDel_Account": ["b6"] })).await;
        }
        if next.is_empty() {
            break;
        }
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "nobody twice: {seen:?}");
    for who in ["b1", "b2", "b3", "b4", "b5", "b7"] {
        assert!(seen.iter().any(|s| s == who), "{who} was there all along: {seen:?}");
    }
    assert_fails(&app.call(GET, json!({ "Official_Account": id, "Limit": 201, "Next": "" })).await, 10004);
    assert_fails(&app.call(GET, json!({ "Official_Account": id, "Limit": 2, "Next": "!!" })).await, 10004);
    let r = app.call(GET, json!({ "Official_Account": id, "Limit": 200, "Next": "" })).await;
    assert_eq!(r["SubscriberNum"], 9);
}

#[tokio::test]
async fn modify_sets_custom_string_and_msg_flag() {
    let app = spawn_app().await;
    let id = app.an_account_with_subscribers("@TOA#_mod", &["ann"]).await;
    assert_ok(
        &app.call(MODIFY, json!({ "Official_Account": id, "Subscriber_Account": "ann", "CustomString": "vip", "MsgFlag": "Discard" }))
            .await,
    );
    let r = app.call(GET, json!({ "Official_Account": id, "Limit": 10, "Next": "" })).await;
    assert_eq!(r["SubscriberList"][0]["CustomString"], "vip");
    assert_eq!(r["SubscriberList"][0]["MsgFlag"], "Discard");

    assert_fails(&app.call(MODIFY, json!({ "Official_Account": id, "Subscriber_Account": "ann", "MsgFlag": "Loud" })).await, 10004);
    assert_fails(
        &app.call(MODIFY, json!({ "Official_Account": id, "Subscriber_Account": "ann", "CustomString": "x".repeat(3001) })).await,
        10004,
    );
    assert_fails(&app.call(MODIFY, json!({ "Official_Account": id, "Subscriber_Account": "bob", "CustomString": "x" })).await, 10007);
    let r = app.call(GET, json!({ "Official_Account": id, "Limit": 10, "Next": "" })).await;
    assert_eq!(r["SubscriberList"][0]["MsgFlag"], "Discard", "refused changes changed nothing");
}

#[tokio::test]
async fn a_user_lists_the_accounts_they_follow_with_offset_paging() {
    let app = spawn_app().await;
    for id in ["@TOA#_f1", "@TOA#_f2", "@TOA#_f3"] {
        app.an_account_with_subscribers(id, &["fan"]).await;
    }
    let r = app
        .call(
            MINE,
            json!({ "Subscriber_Account": "fan", "Limit": 2, "Offset": 0,
        "ResponseFilter": { "OfficialAccountBaseInfoFilter": ["Name"], "SelfInfoFilter": ["MsgFlag"] } }),
        )
        .await;
    assert_ok(&r);
    assert_eq!(r["TotalCount"], 3);
    assert_eq!(r["CompleteFlag"], 0);
    assert_eq!(r["Next"], 2);
    let first = &r["OfficialAccountInfoList"][0];
    assert_eq!(first["Name"], "Account");
    assert_eq!(first["SelfInfo"], json!({ "MsgFlag": "AcceptAndNotify" }));
    assert!(first.get("Introduction").is_none());
    let r = app.call(MINE, json!({ "Subscriber_Account": "fan", "Limit": 2, "Offset": 2 })).await;
    assert_eq!(r["OfficialAccountInfoList"].as_array().unwrap().len(), 1);
    assert_eq!(r["CompleteFlag"], 1);
    assert!(r["OfficialAccountInfoList"][0]["SelfInfo"]["SubscribeTime"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn concurrent_adds_share_max_subscriber_num_and_each_user_is_added_once() {
    let app = std::sync::Arc::new(spawn_app().await);
    app.account_import("o").await;
    let r = app
        .create_official_account(
            json!({ "Owner_Account": "o", "OfficialAccountUserID": "@TOA#_race", "Name": "Race", "MaxSubscriberNum": 250 }),
        )
        .await;
    assert_ok(&r);
    let users: Vec<String> = (0..400).map(|i| format!("r{i:03}")).collect();
    for chunk in users.chunks(100) {
        app.call("im_open_login_svc/multiaccount_import", json!({ "Accounts": chunk })).await;
    }
    // Eight callers at once, each 100 users, every user asked for by two callers.
    let calls = (0..8).map(|c| {
        let app = app.clone();
        let mine: Vec<&str> = (0..100).map(|i| users[(c * 50 + i) % 400].as_str()).collect();
        let body = json!({ "Official_Account": "@TOA#_race", "SubscriberList": subs(&mine) });
        tokio::spawn(async move { app.call(ADD, body).await })
    });
    let mut added = std::collections::HashMap::<String, usize>::new();
    let mut failed = 0;
    for call in calls.collect::<Vec<_>>() {
        let r = call.await.unwrap();
        assert_ok(&r);
        for item in r["SubscriberList"].as_array().unwrap() {
            match item["Result"].as_i64().unwrap() {
                1 => *added.entry(item["Subscriber_Account"].as_str().unwrap().to_owned()).or_default() += 1,
                0 => failed += 1,
                _ => {}
            }
        }
    }
    assert_eq!(added.len(), 250, "exactly MaxSubscriberNum added");
    assert!(added.values().all(|n| *n == 1), "no user reported added twice");
    assert!(failed > 0, "the rest failed as over the limit");
    assert_eq!(subscriber_num(&app, "@TOA#_race").await, 250);
    let page = app
        .call("official_account_open_http_svc/get_subscriber_info", json!({ "Official_Account": "@TOA#_race", "Limit": 200, "Next": "" }))
        .await;
    let next = page["Next"].as_str().unwrap().to_owned();
    let rest = app
        .call("official_account_open_http_svc/get_subscriber_info", json!({ "Official_Account": "@TOA#_race", "Limit": 200, "Next": next }))
        .await;
    let stored = page["SubscriberList"].as_array().unwrap().len() + rest["SubscriberList"].as_array().unwrap().len();
    assert_eq!(stored, 250, "the rows agree with the counter");
}

#[tokio::test]
async fn subscribers_are_listed_in_subscribe_order_not_by_name() {
    let app = spawn_app().await;
    let id = app.an_account_with_subscribers("@TOA#_order", &["zoe", "mia"]).await;
    app.call("im_open_login_svc/multiaccount_import", json!({ "Accounts": ["amy", "bob"] })).await;
    // SubscribeTime has whole seconds: the later ones subscribe in a later second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_ok(&app.call(ADD, json!({ "Official_Account": id, "SubscriberList": subs(&["bob", "amy"]) })).await);

    let mut seen = Vec::new();
    let mut next = String::new();
    loop {
        let r = app.call(GET, json!({ "Official_Account": id, "Limit": 1, "Next": next })).await;
        assert_ok(&r);
        seen.extend(r["SubscriberList"].as_array().unwrap().iter().map(|s| s["Subscriber_Account"].as_str().unwrap().to_owned()));
        next = r["Next"].as_str().unwrap().to_owned();
        if next.is_empty() {
            break;
        }
    }
    // Those of one second by user ID.
    assert_eq!(seen, ["mia", "zoe", "amy", "bob"]);
}
