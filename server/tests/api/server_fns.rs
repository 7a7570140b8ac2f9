//! Every console server function, found in the server's own registry (so a new one cannot be
//! missed): signed out it answers 401 unless it is one of the few public ones, and a call
//! without its fields is the caller's mistake (400), never a server fault (500).

use crate::helpers::{client, signed_in, spawn_app, TestApp};

/// Server functions that take no arguments: an empty call is a whole call for them.
const NO_ARGUMENTS: &[&str] = &[
    "who_am_i",
    "my_sessions",
    "sign_out_everywhere",
    "list_team",
    "get_rest_settings",
    "reveal_secret_key",
    "send_test_callback",
    "failed_deliveries",
    "retry_failed_deliveries",
    "try_sdkappid",
    "sign_out",
];

/// Signed out, these must work (signing in, accepting an invitation, the `/try` page's helpers).
const PUBLIC: &[&str] = &["sign_in", "sign_out", "accept_invitation", "rate_new_password", "try_sdkappid", "try_render"];

/// Calls that end the caller's session: left out of the signed-in pass, which needs it.
const ENDS_THE_SESSION: &[&str] = &["sign_out", "sign_out_everywhere"];

/// Every registered server function's path (`/api/…`) with its name (the path without the
/// prefix and, for functions without an explicit endpoint, without Leptos's numeric suffix).
fn every_server_fn() -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _method)| {
            let name = path.trim_start_matches("/api/").trim_end_matches(|c: char| c.is_ascii_digit()).to_owned();
            (path.to_owned(), name)
        })
        .collect();
    all.sort();
    assert!(all.len() >= 45, "the registry lists every server function, not {}", all.len());
    all
}

async fn call(app: &TestApp, path: &str, cookie: Option<&str>) -> (reqwest::StatusCode, String) {
    let mut req = client()
        .post(format!("{}{path}", app.base))
        .header("origin", &app.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.text().await.unwrap_or_default())
}

#[tokio::test]
async fn every_server_function_but_the_public_ones_refuses_a_signed_out_caller_with_401() {
    let app = spawn_app().await;
    let mut public_seen = Vec::new();
    for (path, name) in every_server_fn() {
        let (status, body) = call(&app, &path, None).await;
        if PUBLIC.contains(&name.as_str()) {
            public_seen.push(name.clone());
            assert_ne!(status, 401, "{name} is public");
            assert!(status.as_u16() < 500, "{name}: {status} {body}");
        } else {
            assert_eq!(status, 401, "{name} answered {status} to a signed-out caller: {body}");
            assert!(body.contains("SignedOut"), "{name}: the console's error, as JSON: {body}");
        }
    }
    public_seen.sort();
    let mut expected: Vec<String> = PUBLIC.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(public_seen, expected, "every public server function exists");
}

#[tokio::test]
async fn a_call_without_its_fields_is_answered_400_with_a_sentence_never_500() {
    let app = spawn_app().await;
    let cookie = signed_in(&app).await;
    let mut malformed = 0;
    for (path, name) in every_server_fn() {
        if ENDS_THE_SESSION.contains(&name.as_str()) {
            continue;
        }
        let (status, body) = call(&app, &path, Some(&cookie)).await;
        if NO_ARGUMENTS.contains(&name.as_str()) {
            assert!(status.as_u16() < 500, "{name}: {status} {body}");
        } else {
            assert_eq!(status, 400, "{name} answered {status} to a call without its fields: {body}");
            assert!(body.contains("BadRequest") && body.contains("The request is malformed"), "{name}: {body}");
            malformed += 1;
        }
    }
    assert!(malformed >= 30, "most server functions take fields ({malformed})");
}
