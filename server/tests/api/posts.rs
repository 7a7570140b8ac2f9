//! Posts published from the console go through the REST send path; scheduled posts are
//! published by the server itself, exactly once, across a restart.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::Duration;

/// Saves a draft through the composer's server function; answers its ID.
pub async fn save_draft(app: &TestApp, cookie: &str, account: &str, body: &str) -> String {
    let res = client()
        .post(format!("{}/api/save_post", app.base))
        .header("origin", &app.base)
        .header("cookie", cookie)
        .json(&json!({ "account": account, "id": null, "content": { "kind": "Text", "body": body, "images": [] } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

async fn sent_messages(app: &TestApp, account: &str) -> Vec<Value> {
    let page = app.history(json!({ "Official_Account": account, "ReqMsgNumber": 20 })).await;
    page["RspMsgList"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_published_post_is_a_broadcast_with_the_markdown_text_and_the_post_marker() {
    let app = spawn_app().await;
    let cookie = signed_in(&app).await;
    let account = app.an_account("poster", "@TOA#_poster", "Poster").await;
    let draft = save_draft(&app, &cookie, &account, "**Big** news").await;
    let res = server_fn(&app, "publish_post", &[("account", &account), ("id", &draft)], Some(&cookie)).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let messages = sent_messages(&app, &account).await;
    assert_eq!(messages.len(), 1);
    let body = &messages[0]["MsgBody"];
    assert_eq!(body[0], json!({ "MsgType": "TIMTextElem", "MsgContent": { "Text": "**Big** news" } }));
    assert_eq!(body[1]["MsgType"], "TIMCustomElem");
    assert_eq!(body[1]["MsgContent"]["Desc"], "Big news");

    // Published once: publishing it again is refused and sends nothing.
    let again = server_fn(&app, "publish_post", &[("account", &account), ("id", &draft)], Some(&cookie)).await;
    assert_eq!(again.status(), 409);
    assert_eq!(sent_messages(&app, &account).await.len(), 1);
    // Signed out, nothing is published.
    let other = save_draft(&app, &cookie, &account, "second").await;
    let signed_out = server_fn(&app, "publish_post", &[("account", &account), ("id", &other)], None).await;
    assert_eq!(signed_out.status(), 401);
}

#[tokio::test]
async fn a_scheduled_post_is_published_exactly_once_across_a_restart() {
    let server = Restartable::new(|_| {}).await;
    let first = server.start().await;
    let cookie = signed_in(&first).await;
    let account = first.an_account("scheduler", "@TOA#_scheduler", "Scheduler").await;
    let draft = save_draft(&first, &cookie, &account, "Due while the server was down").await;
    let at = (unix_now() + 2).to_string();
    let res = server_fn(&first, "schedule_post", &[("account", &account), ("id", &draft), ("at", &at)], Some(&cookie)).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    first.stop().await;

    // Due while nobody runs: the restarted server's clock is moved past the time.
    let second = server.start().await;
    second.node.as_ref().unwrap().advance_clock(3);
    let mut sent = Vec::new();
    for _ in 0..50 {
        sent = sent_messages(&second, &account).await;
        if !sent.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sent.len(), 1, "published by the restarted server without any request");
    second.stop().await;
    let third = server.start().await;
    let node = third.node.as_ref().unwrap();
    node.advance_clock(3600); // long past the time and any claim on it
    assert_eq!(node.publish_due_posts().await.unwrap(), 0, "nothing is due any more");
    assert_eq!(sent_messages(&third, &account).await.len(), 1, "and never again");
    third.stop().await;
}
