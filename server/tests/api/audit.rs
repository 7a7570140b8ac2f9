//! Issue 10's owner tools over the console's own server functions: the audit log (who did what,
//! console and REST), console sessions (listed, ended one by one or everywhere, ended when idle),
//! settings saved in the console and applied at once, and rotating the secret key.

use crate::helpers::*;
use crate::posts::save_draft;
use serde_json::{json, Value};

/// Accepts an invitation link with a good password; answers the new user's session cookie.
async fn accept(app: &TestApp, link: &str) -> String {
    accept_invitation(app, link, "correct horse battery staple").await.expect("accepted")
}

async fn audit(app: &TestApp, cookie: &str, form: &[(&str, &str)]) -> Vec<Value> {
    let res = server_fn(app, "audit_page", form, Some(cookie)).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// (actor, action, account) of each event, newest first.
fn lines(events: &[Value]) -> Vec<(String, String, String)> {
    events
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("").to_owned();
            (s("actor"), s("action"), s("account"))
        })
        .collect()
}

#[tokio::test]
async fn the_audit_log_names_who_invited_published_and_disabled_and_what_rest_changed() {
    let app = spawn_app().await;
    let a = app.an_account("owner", "@TOA#_audita", "Audit A").await; // by REST
    let admin = signed_in(&app).await;
    let res = server_fn(&app, "invite_user", &[("username", "editor.one"), ("role", "editor"), ("accounts", &a)], Some(&admin)).await;
    let link: String = res.json().await.unwrap();
    let editor = accept(&app, &link).await;
    let draft = save_draft(&app, &editor, &a, "From the editor").await;
    let res = server_fn(&app, "publish_post", &[("account", &a), ("id", &draft)], Some(&editor)).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(
        server_fn(&app, "audit_page", &[("user", ""), ("account", "")], Some(&editor)).await.status(),
        403,
        "the log is the platform owner's"
    );
    let res = server_fn(&app, "set_user_disabled", &[("username", "editor.one"), ("disabled", "true")], Some(&admin)).await;
    assert!(res.status().is_success());
    let wrong = server_fn(&app, "sign_in", &[("username", "admin"), ("password", "not it")], None).await;
    assert_eq!(wrong.status(), 403);

    let all = lines(&audit(&app, &admin, &[("user", ""), ("account", "")]).await);
    let has = |actor: &str, action: &str, account: &str| all.contains(&(actor.into(), action.into(), account.into()));
    assert!(has(ADMIN, "account.created", &a), "REST changes are the REST administrator's: {all:?}");
    assert!(has("admin", "user.invited", &a), "{all:?}");
    assert!(has("editor.one", "user.invitation_accepted", ""), "{all:?}");
    assert!(has("editor.one", "sign_in.succeeded", ""), "{all:?}");
    assert!(has("editor.one", "post.published", &a), "{all:?}");
    assert!(has("admin", "user.disabled", ""), "{all:?}");
    assert!(has("admin", "sign_in.failed", ""), "a failed sign-in names the user it tried: {all:?}");
    let order: Vec<&str> = all.iter().map(|(_, action, _)| action.as_str()).collect();
    let pos = |x: &str| order.iter().position(|a| *a == x).unwrap();
    assert!(pos("user.disabled") < pos("post.published") && pos("post.published") < pos("user.invited"), "newest first: {order:?}");
    let event = &audit(&app, &admin, &[("user", "admin"), ("account", "")]).await[0];
    assert_eq!(event["address"], "127.0.0.1", "from which address");

    // Filters, and keyset pages.
    let by_editor = lines(&audit(&app, &admin, &[("user", "editor.one"), ("account", "")]).await);
    assert!(!by_editor.is_empty() && by_editor.iter().all(|(who, _, _)| who == "editor.one"), "{by_editor:?}");
    let on_a = lines(&audit(&app, &admin, &[("user", ""), ("account", &a)]).await);
    assert!(on_a.len() >= 3 && on_a.iter().all(|(_, _, acc)| *acc == a), "{on_a:?}");
    let first = audit(&app, &admin, &[("user", ""), ("account", "")]).await;
    let second_id = first[1]["id"].as_i64().unwrap().to_string();
    let older = audit(&app, &admin, &[("user", ""), ("account", ""), ("before", &second_id)]).await;
    assert_eq!(older[0]["id"], first[2]["id"], "a page goes on after the event it names");
}

#[tokio::test]
async fn sessions_are_listed_and_end_one_by_one_or_everywhere() {
    let app = spawn_app().await;
    let first = signed_in(&app).await;
    let second = signed_in(&app).await;
    let sessions: Vec<Value> = server_fn(&app, "my_sessions", &[], Some(&first)).await.json().await.unwrap();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert_eq!(sessions[0]["address"], "127.0.0.1");
    let other = sessions.iter().find(|s| s["current"] == false).unwrap()["handle"].as_str().unwrap().to_owned();
    assert!(other.len() < 20, "a page gets a handle, not the session's ID");

    let res = server_fn(&app, "end_session", &[("handle", &other)], Some(&first)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(server_fn(&app, "my_sessions", &[], Some(&second)).await.status(), 401, "the ended session is signed out");
    assert_eq!(server_fn(&app, "my_sessions", &[], Some(&first)).await.status(), 200, "the other one is not");
    let page = client().get(format!("{}/accounts", app.base)).header("cookie", &second).send().await.unwrap();
    assert!(page.status().is_redirection(), "its next page is the sign-in page");

    let third = signed_in(&app).await;
    let res = server_fn(&app, "sign_out_everywhere", &[], Some(&first)).await;
    assert!(res.status().is_success() || res.status().is_redirection(), "{}", res.status());
    for cookie in [&first, &third] {
        assert_eq!(server_fn(&app, "my_sessions", &[], Some(cookie)).await.status(), 401);
    }
}

#[tokio::test]
async fn a_session_unused_for_longer_than_the_idle_setting_ends() {
    let app = spawn_app().await;
    let cookie = signed_in(&app).await;
    assert_eq!(server_fn(&app, "my_sessions", &[], Some(&cookie)).await.status(), 200);
    // Twelve hours and a minute pass without a request (the default limit is 12 h).
    let db = app.db.clone().unwrap();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db).await.unwrap();
    sqlx::query("update console_session set last_used_at = last_used_at - 43260").execute(&pool).await.unwrap();
    assert_eq!(server_fn(&app, "my_sessions", &[], Some(&cookie)).await.status(), 401);
    // With the limit raised to a day, the same gap is fine.
    let cookie = signed_in(&app).await;
    save_settings(&app, &cookie, &[("form[session_idle_hours]", "24")]).await.unwrap();
    sqlx::query("update console_session set last_used_at = last_used_at - 43260").execute(&pool).await.unwrap();
    assert_eq!(server_fn(&app, "my_sessions", &[], Some(&cookie)).await.status(), 200);
}

/// Saves the Settings form with the defaults except `changes`; the error's body on a refusal.
async fn save_settings(app: &TestApp, cookie: &str, changes: &[(&str, &str)]) -> Result<(), String> {
    let mut form = vec![
        ("form[webhook_url]", ""),
        ("form[webhook_secret]", ""),
        ("form[push_url]", ""),
        ("form[broadcasts_per_second]", "1"),
        ("form[broadcasts_per_hour]", "2"),
        ("form[rest_calls_per_second]", "200"),
        ("form[session_idle_hours]", "12"),
    ];
    for (k, v) in changes {
        form.iter_mut().find(|(name, _)| name == k).unwrap().1 = v;
    }
    let res = server_fn(app, "save_app_settings", &form, Some(cookie)).await;
    if res.status().is_success() {
        Ok(())
    } else {
        Err(format!("{} {}", res.status(), res.text().await.unwrap()))
    }
}

#[tokio::test]
async fn settings_saved_in_the_console_apply_at_once_and_the_environment_wins() {
    let app = spawn_app_with(|c| c.broadcasts_per_hour = Some(1000)).await;
    let admin = signed_in(&app).await;
    let view: Value = server_fn(&app, "get_rest_settings", &[], Some(&admin)).await.json().await.unwrap();
    assert_eq!(view["app"]["from_environment"], json!([{ "field": "BroadcastsPerHour", "variable": "HERALD_BROADCASTS_PER_HOUR" }]));
    assert_eq!(view["app"]["values"]["rest_calls_per_second"], 200);

    let refused = save_settings(&app, &admin, &[("form[broadcasts_per_hour]", "5")]).await.unwrap_err();
    assert!(refused.starts_with("422") && refused.contains("HERALD_BROADCASTS_PER_HOUR"), "{refused}");
    let refused = save_settings(&app, &admin, &[("form[broadcasts_per_hour]", "1000"), ("form[webhook_url]", "javascript:alert(1)")])
        .await
        .unwrap_err();
    assert!(refused.contains("webhook_url"), "{refused}");

    save_settings(&app, &admin, &[("form[broadcasts_per_hour]", "1000"), ("form[rest_calls_per_second]", "1")]).await.unwrap();
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(
            app.call("im_open_login_svc/account_check", json!({ "CheckItem": [{ "UserID": "x" }] })).await["ErrorCode"].as_u64().unwrap(),
        );
    }
    assert!(codes.contains(&60007), "one call per second now: {codes:?}");
    assert_eq!(server_fn(&app, "get_rest_settings", &[], None).await.status(), 401);
}

#[tokio::test]
async fn a_rotated_key_works_for_its_grace_period_and_a_key_with_no_grace_stops_at_once() {
    let app = spawn_app_with(|c| c.secret_key = None).await;
    let admin = signed_in(&app).await;
    let key_of = |res: reqwest::Response| async move { res.json::<String>().await.unwrap() };
    let first = key_of(server_fn(&app, "reveal_secret_key", &[], Some(&admin)).await).await;
    assert_eq!(app.error_code_with_key(&first).await, 0);

    let second = key_of(server_fn(&app, "rotate_secret_key", &[("grace_hours", "24")], Some(&admin)).await).await;
    assert_ne!(second, first);
    assert_eq!(app.error_code_with_key(&first).await, 0, "the old key works during the grace period");
    assert_eq!(app.error_code_with_key(&second).await, 0);
    let view: Value = server_fn(&app, "get_rest_settings", &[], Some(&admin)).await.json().await.unwrap();
    assert!(view["previous_key_until"].as_i64().unwrap() > now() + 23 * 3600);

    let third = key_of(server_fn(&app, "rotate_secret_key", &[("grace_hours", "0")], Some(&admin)).await).await;
    assert_eq!(app.error_code_with_key(&second).await, 70009, "no grace: the key before stops at once");
    assert_eq!(app.error_code_with_key(&first).await, 70009, "and the one before that is long gone");
    assert_eq!(app.error_code_with_key(&third).await, 0);
    let events = audit(&app, &admin, &[("user", "admin"), ("account", "")]).await;
    assert_eq!(events.iter().filter(|e| e["action"] == "settings.key_rotated").count(), 2);
    assert!(events.iter().any(|e| e["action"] == "settings.key_revealed"));
}

#[tokio::test]
async fn a_webhook_url_saved_in_the_console_is_called_at_once_and_the_test_callback_reports_it() {
    let (receiver, url) = crate::receiver::receiver().await;
    let app = spawn_app().await;
    let admin = signed_in(&app).await;
    let none = server_fn(&app, "send_test_callback", &[], Some(&admin)).await;
    assert_eq!(none.status(), 422, "no URL yet: said, not sent");

    save_settings(&app, &admin, &[("form[webhook_url]", &url), ("form[webhook_secret]", "hook-secret")]).await.unwrap();
    let view: Value = server_fn(&app, "get_rest_settings", &[], Some(&admin)).await.json().await.unwrap();
    assert_eq!(view["app"]["webhook_secret_set"], true);
    assert!(!view.to_string().contains("hook-secret"), "the secret never goes back to a page");

    let tested: Value = server_fn(&app, "send_test_callback", &[], Some(&admin)).await.json().await.unwrap();
    assert_eq!(tested["status"], 200, "{tested}");
    assert!(tested["millis"].as_u64().is_some());
    let calls = receiver.wait_for("Herald.TestCallback", 1, 5).await;
    assert!(calls[0].signature.is_some(), "signed with the saved secret");

    // No restart: the next REST change is called back.
    app.an_account("hooked", "@TOA#_hooked", "Hooked").await;
    receiver.wait_for("OfficialAccount.CallbackAfterCreateOfficialAccount", 1, 10).await;
}
