//! `official_account_open_http_svc`: create, get info, modify, destroy — each limit at its edge
//! and one past it, and after every refusal a read showing nothing changed.

use crate::helpers::*;
use serde_json::{json, Value};

const MODIFY: &str = "official_account_open_http_svc/modify_official_account_base_info";
const DESTROY: &str = "official_account_open_http_svc/destroy_official_account";

async fn info(app: &TestApp, id: &str) -> Value {
    let r = app.get_official_account_info(&[id]).await;
    assert_ok(&r);
    r["OfficialAccountInfoList"][0].clone()
}

#[tokio::test]
async fn an_account_is_created_and_read_back_with_every_field() {
    let app = spawn_app().await;
    app.account_import("owner").await;
    let r = app
        .create_official_account(json!({
            "Owner_Account": "owner", "Name": "Daily 新闻", "Introduction": "intro", "FaceUrl": "https://e.x/a.png",
            "Organization": "Org", "CustomString": "cs", "MaxSubscriberNum": 5000
        }))
        .await;
    assert_ok(&r);
    let id = r["OfficialAccountUserID"].as_str().unwrap();
    assert!(id.starts_with("@TOA#_@TOA#"), "{id}");
    let item = info(&app, id).await;
    assert_eq!(item["ActionStatus"], "OK");
    assert_eq!(item["Official_Account"], id);
    assert_eq!(item["Owner_Account"], "owner");
    assert_eq!(item["Name"], "Daily 新闻");
    assert_eq!(item["Introduction"], "intro");
    assert_eq!(item["FaceUrl"], "https://e.x/a.png");
    assert_eq!(item["Organization"], "Org");
    assert_eq!(item["CustomString"], "cs");
    assert_eq!(item["MaxSubscriberNum"], 5000);
    assert_eq!(item["SubscriberNum"], 0);
    assert!(item["CreateTime"].as_i64().unwrap() >= now() - 60);
    assert_eq!(item["LastMsgTime"], 0);
}

#[tokio::test]
async fn an_unknown_owner_is_70107_and_nothing_is_created() {
    let app = spawn_app().await;
    let r = app.create_official_account(json!({ "Owner_Account": "nobody", "OfficialAccountUserID": "@TOA#_n", "Name": "N" })).await;
    assert_fails(&r, 70107);
    assert_eq!(app.get_official_account_info(&["@TOA#_n"]).await["OfficialAccountInfoList"][0]["ErrorCode"], 130004);
}

#[tokio::test]
async fn a_name_of_150_bytes_is_accepted_and_151_refused_with_10004() {
    let app = spawn_app().await;
    app.account_import("o").await;
    let ok =
        app.create_official_account(json!({ "Owner_Account": "o", "OfficialAccountUserID": "@TOA#_a", "Name": "新".repeat(50) })).await;
    assert_ok(&ok);
    let r = app
        .create_official_account(
            json!({ "Owner_Account": "o", "OfficialAccountUserID": "@TOA#_b", "Name": format!("{}x", "新".repeat(50)) }),
        )
        .await;
    assert_fails(&r, 10004);
    assert_eq!(r["ErrorInfo"], "Name: longer than 150 bytes (got 151)");
    assert_fails(&app.create_official_account(json!({ "Owner_Account": "o", "OfficialAccountUserID": "@TOA#_c" })).await, 10004);
    assert_eq!(app.get_official_account_info(&["@TOA#_b"]).await["OfficialAccountInfoList"][0]["ErrorCode"], 130004);
}

#[tokio::test]
async fn every_other_text_limit_and_max_subscribers_hold_at_the_edge() {
    let app = spawn_app().await;
    app.account_import("o").await;
    for (field, max) in [("Introduction", 400), ("FaceUrl", 500), ("Organization", 500), ("CustomString", 3000)] {
        let mut at = json!({ "Owner_Account": "o", "Name": "n" });
        at[field] = json!("x".repeat(max));
        assert_ok(&app.create_official_account(at).await);
        let mut past = json!({ "Owner_Account": "o", "Name": "n" });
        past[field] = json!("x".repeat(max + 1));
        let r = app.create_official_account(past).await;
        assert_fails(&r, 10004);
        assert!(r["ErrorInfo"].as_str().unwrap().starts_with(field), "{r}");
    }
    assert_ok(&app.create_official_account(json!({ "Owner_Account": "o", "Name": "n", "MaxSubscriberNum": 10_000_000 })).await);
    assert_fails(&app.create_official_account(json!({ "Owner_Account": "o", "Name": "n", "MaxSubscriberNum": 10_000_001 })).await, 10004);
    assert_fails(&app.create_official_account(json!({ "Owner_Account": "o", "Name": "n", "MaxSubscriberNum": 0 })).await, 10004);
}

#[tokio::test]
async fn malformed_custom_ids_are_130007_and_a_used_id_is_130008() {
    let app = spawn_app().await;
    app.account_import("o").await;
    let max_id = format!("@TOA#_{}", "a".repeat(42));
    for bad in ["news", "@TOA#_@TOA#mine", "@TOA#_新闻", &format!("{max_id}a")] {
        let r = app.create_official_account(json!({ "Owner_Account": "o", "OfficialAccountUserID": bad, "Name": "n" })).await;
        assert_fails(&r, 130007);
        assert!(r["ErrorInfo"].as_str().unwrap().contains("OfficialAccountUserID"), "{r}");
    }
    app.an_account("o", &max_id, "Longest").await;
    let dup = app.create_official_account(json!({ "Owner_Account": "o", "OfficialAccountUserID": max_id, "Name": "Dup" })).await;
    assert_fails(&dup, 130008);
    assert_eq!(info(&app, &max_id).await["Name"], "Longest", "the first account is untouched");
}

#[tokio::test]
async fn get_info_fails_only_the_missing_items_and_applies_the_filter() {
    let app = spawn_app().await;
    let id = app.an_account("o", "@TOA#_here", "Here").await;
    let r = app
        .call(
            "official_account_open_http_svc/get_official_account_info",
            json!({
                "OfficialAccountIdList": [{ "Official_Account": id }, { "Official_Account": "@TOA#_missing" }, { "Official_Account": "bad" }],
                "ResponseFilter": { "OfficialAccountBaseInfoFilter": ["Name", "SubscriberNum"] }
            }),
        )
        .await;
    assert_ok(&r);
    let list = r["OfficialAccountInfoList"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["ActionStatus"], "OK");
    assert_eq!(list[0]["Name"], "Here");
    assert_eq!(list[0]["SubscriberNum"], 0);
    assert!(list[0].get("Introduction").is_none(), "filtered out: {}", list[0]);
    assert_eq!(list[1]["ErrorCode"], 130004);
    assert_eq!(list[1]["Official_Account"], "@TOA#_missing");
    assert_eq!(list[2]["ErrorCode"], 130007);
}

#[tokio::test]
async fn get_info_takes_50_ids_and_refuses_51() {
    let app = spawn_app().await;
    let ids: Vec<String> = (0..51).map(|i| format!("@TOA#_{i}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_ok(&app.get_official_account_info(&refs[..50]).await);
    assert_fails(&app.get_official_account_info(&refs).await, 10004);
    assert_fails(&app.get_official_account_info(&[]).await, 10004);
}

#[tokio::test]
async fn modify_changes_the_given_fields_and_refuses_broken_ones_without_change() {
    let app = spawn_app().await;
    let id = app.an_account("o", "@TOA#_mod", "Before").await;
    assert_ok(&app.call(MODIFY, json!({ "Official_Account": id, "Introduction": "new intro" })).await);
    // The alias `OfficialAccount` works too.
    assert_ok(&app.call(MODIFY, json!({ "OfficialAccount": id, "Name": "After" })).await);
    let item = info(&app, &id).await;
    assert_eq!((item["Name"].as_str(), item["Introduction"].as_str()), (Some("After"), Some("new intro")));

    let r = app.call(MODIFY, json!({ "Official_Account": id, "Name": "n".repeat(151), "Introduction": "x" })).await;
    assert_fails(&r, 10004);
    let item = info(&app, &id).await;
    assert_eq!((item["Name"].as_str(), item["Introduction"].as_str()), (Some("After"), Some("new intro")));
    assert_fails(&app.call(MODIFY, json!({ "Official_Account": id })).await, 10004);
    assert_fails(&app.call(MODIFY, json!({ "Official_Account": "@TOA#_none", "Name": "x" })).await, 130004);
    assert_fails(&app.call(MODIFY, json!({ "Official_Account": "none", "Name": "x" })).await, 130007);
}

#[tokio::test]
async fn a_destroyed_account_is_gone_and_its_id_never_comes_back() {
    let app = spawn_app().await;
    let id = app.an_account("o", "@TOA#_bye", "Bye").await;
    assert_ok(&app.call(DESTROY, json!({ "Official_Account": id })).await);
    assert_eq!(app.get_official_account_info(&[&id]).await["OfficialAccountInfoList"][0]["ErrorCode"], 130004);
    assert_fails(&app.call(DESTROY, json!({ "Official_Account": id })).await, 130004);
    let again = app.create_official_account(json!({ "Owner_Account": "o", "OfficialAccountUserID": id, "Name": "Again" })).await;
    assert_fails(&again, 130008);
}
