//! `im_open_login_svc`: import, multi-import, check, delete.

use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn an_imported_user_is_reported_imported_and_others_not() {
    let app = spawn_app().await;
    assert_ok(&app.account_import("alice").await);
    // `Identifier` is accepted as an alias of `UserID`.
    assert_ok(&app.call("im_open_login_svc/account_import", json!({ "Identifier": "bob", "Nick": "Bob" })).await);
    let r = app
        .call("im_open_login_svc/account_check", json!({ "CheckItem": [{ "UserID": "alice" }, { "UserID": "bob" }, { "UserID": "zed" }] }))
        .await;
    assert_ok(&r);
    let status: Vec<&str> = r["ResultItem"].as_array().unwrap().iter().map(|i| i["AccountStatus"].as_str().unwrap()).collect();
    assert_eq!(status, ["Imported", "Imported", "NotImported"]);
    assert_eq!(r["ResultItem"][0]["UserID"], "alice");
    assert_eq!(r["ResultItem"][0]["ResultCode"], 0);
}

#[tokio::test]
async fn a_user_id_of_33_bytes_is_refused_and_32_accepted() {
    let app = spawn_app().await;
    assert_ok(&app.account_import(&"u".repeat(32)).await);
    let r = app.account_import(&"u".repeat(33)).await;
    assert_fails(&r, 10004);
    assert!(r["ErrorInfo"].as_str().unwrap().contains("UserID"), "{r}");
    assert_fails(&app.call("im_open_login_svc/account_import", json!({})).await, 10004);
}

#[tokio::test]
async fn multiaccount_import_returns_the_invalid_ids_and_imports_the_rest() {
    let app = spawn_app().await;
    let long = "x".repeat(33);
    let r = app.call("im_open_login_svc/multiaccount_import", json!({ "Accounts": ["m1", long, "m2"] })).await;
    assert_ok(&r);
    assert_eq!(r["FailAccounts"], json!([long]));
    let check = app.call("im_open_login_svc/account_check", json!({ "CheckItem": [{ "UserID": "m1" }, { "UserID": "m2" }] })).await;
    assert_eq!(check["ResultItem"][1]["AccountStatus"], "Imported");
}

#[tokio::test]
async fn batches_hold_100_users_and_refuse_101() {
    let app = spawn_app().await;
    let ids = |n: usize| (0..n).map(|i| format!("b{i}")).collect::<Vec<_>>();
    assert_ok(&app.call("im_open_login_svc/multiaccount_import", json!({ "Accounts": ids(100) })).await);
    let r = app.call("im_open_login_svc/multiaccount_import", json!({ "Accounts": ids(101) })).await;
    assert_fails(&r, 10004);
    assert!(r["ErrorInfo"].as_str().unwrap().contains("at most 100"), "{r}");
    let items = |n: usize| ids(n).into_iter().map(|u| json!({ "UserID": u })).collect::<Vec<_>>();
    assert_ok(&app.call("im_open_login_svc/account_check", json!({ "CheckItem": items(100) })).await);
    assert_fails(&app.call("im_open_login_svc/account_check", json!({ "CheckItem": items(101) })).await, 10004);
    assert_fails(&app.call("im_open_login_svc/account_delete", json!({ "DeleteItem": items(101) })).await, 10004);
    // Nothing of the refused 101-batch was imported.
    let r = app.call("im_open_login_svc/account_check", json!({ "CheckItem": [{ "UserID": "b100" }] })).await;
    assert_eq!(r["ResultItem"][0]["AccountStatus"], "NotImported");
}

#[tokio::test]
async fn account_delete_reports_each_user() {
    let app = spawn_app().await;
    app.account_import("gone").await;
    let r = app.call("im_open_login_svc/account_delete", json!({ "DeleteItem": [{ "UserID": "gone" }, { "UserID": "never" }] })).await;
    assert_ok(&r);
    assert_eq!(r["ResultItem"][0]["ResultCode"], 0);
    assert_eq!(r["ResultItem"][1]["ResultCode"], 70107);
    let check = app.call("im_open_login_svc/account_check", json!({ "CheckItem": [{ "UserID": "gone" }] })).await;
    assert_eq!(check["ResultItem"][0]["AccountStatus"], "NotImported");
}
