//! Every UserSig and query error of docs/rest-api.md §1–2, over HTTP.

use crate::helpers::*;
use serde_json::json;

const CHECK: &str = "im_open_login_svc/account_check";
const BODY: &str = r#"{"CheckItem":[{"UserID":"x"}]}"#;

fn query(sdkappid: u64, identifier: &str, usersig: &str) -> String {
    format!("sdkappid={sdkappid}&identifier={identifier}&usersig={usersig}&random=7&contenttype=json")
}

#[tokio::test]
async fn a_valid_admin_usersig_is_accepted() {
    let app = spawn_app().await;
    assert_ok(&app.post_raw(CHECK, &app.admin_query(), BODY).await);
}

#[tokio::test]
async fn an_expired_usersig_is_70001() {
    let app = spawn_app().await;
    let old = messaging::usersig::sign(SDKAPPID, KEY, ADMIN, 60, now() - 3600);
    assert_fails(&app.post_raw(CHECK, &query(SDKAPPID, ADMIN, &old), BODY).await, 70001);
}

#[tokio::test]
async fn an_unparsable_usersig_is_70003() {
    let app = spawn_app().await;
    assert_fails(&app.post_raw(CHECK, &query(SDKAPPID, ADMIN, "not-a-usersig"), BODY).await, 70003);
    // Valid base64 + zlib, but not the JSON of a UserSig.
    let junk = "eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwhWZiflZpXlQqeKU7MSCgswUJStDEwMogMiU";
    assert_fails(&app.post_raw(CHECK, &query(SDKAPPID, ADMIN, junk), BODY).await, 70003);
}

#[tokio::test]
async fn a_usersig_signed_with_another_key_is_70009() {
    let app = spawn_app().await;
    let forged = messaging::usersig::sign(SDKAPPID, "not-the-key", ADMIN, 3600, now());
    assert_fails(&app.post_raw(CHECK, &query(SDKAPPID, ADMIN, &forged), BODY).await, 70009);
}

#[tokio::test]
async fn a_usersig_of_another_identifier_is_70013() {
    let app = spawn_app().await;
    let someone_elses = sig_for("someone");
    assert_fails(&app.post_raw(CHECK, &query(SDKAPPID, ADMIN, &someone_elses), BODY).await, 70013);
}

#[tokio::test]
async fn a_usersig_of_another_app_is_70014() {
    let app = spawn_app().await;
    let other_app = messaging::usersig::sign(SDKAPPID + 1, KEY, ADMIN, 3600, now());
    assert_fails(&app.post_raw(CHECK, &query(SDKAPPID, ADMIN, &other_app), BODY).await, 70014);
}

#[tokio::test]
async fn a_valid_usersig_of_a_non_admin_is_60010() {
    let app = spawn_app().await;
    assert_fails(&app.post_raw(CHECK, &query(SDKAPPID, "bob", &sig_for("bob")), BODY).await, 60010);
}

#[tokio::test]
async fn another_sdkappid_in_the_query_is_60006() {
    let app = spawn_app().await;
    assert_fails(&app.post_raw(CHECK, &query(SDKAPPID + 5, ADMIN, &sig_for(ADMIN)), BODY).await, 60006);
}

#[tokio::test]
async fn a_malformed_query_is_60002() {
    let app = spawn_app().await;
    let sig = sig_for(ADMIN);
    for q in [
        format!("identifier={ADMIN}&usersig={sig}&random=1"),
        format!("sdkappid={SDKAPPID}&usersig={sig}&random=1"),
        format!("sdkappid={SDKAPPID}&identifier={ADMIN}&random=1"),
        format!("sdkappid=abc&identifier={ADMIN}&usersig={sig}&random=1"),
        format!("sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={sig}&random=notanumber"),
        format!("sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={sig}&random=4294967296"),
    ] {
        assert_fails(&app.post_raw(CHECK, &q, BODY).await, 60002);
    }
}

#[tokio::test]
async fn a_get_is_refused_in_the_envelope_with_http_200() {
    let app = spawn_app().await;
    let res = app.client.get(format!("{}/v4/{CHECK}?{}", app.base, app.admin_query())).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_fails(&res.json().await.unwrap(), 60002);
}

#[tokio::test]
async fn broken_empty_or_non_object_bodies_are_60003() {
    let app = spawn_app().await;
    for body in ["", "   ", "{", "[1,2]", "\"text\"", "{\"CheckItem\": \"not an array\"}"] {
        assert_fails(&app.post_raw(CHECK, &app.admin_query(), body).await, 60003);
    }
}

#[tokio::test]
async fn a_wrong_json_type_names_the_field() {
    let app = spawn_app().await;
    let r = app.create_official_account(json!({ "Owner_Account": "a", "Name": 5 })).await;
    assert_fails(&r, 60003);
    assert!(r["ErrorInfo"].as_str().unwrap().contains("Name"), "{r}");
}

#[tokio::test]
async fn an_unknown_command_or_service_is_60009() {
    let app = spawn_app().await;
    assert_fails(&app.call("im_open_login_svc/no_such_command", json!({})).await, 60009);
    assert_fails(&app.call("no_such_svc/account_check", json!({})).await, 60009);
}
