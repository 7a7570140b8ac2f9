//! The post lifecycle (docs/rest-api.md §9) from outside: an edit over REST reaching every device of a
//! subscriber once, history with the edited body and its version, each refusal as a sentence;
//! pinning and unpinning (and a recall unpinning); polls sent over REST in the wire form of §8,
//! voted in, changed and withdrawn over the client protocol, coalesced `onPollChanged`, results
//! in `get_post_insights`, and a closing time honoured by the delivery clock.

use crate::client::unlimited;
use crate::helpers::*;
use crate::ws::*;
use serde_json::{json, Value};
use std::time::Duration;

const MODIFY: &str = "herald_open_http_svc/official_account_msg_modify";
const PIN: &str = "herald_open_http_svc/set_pinned_msg";
const POST_INSIGHTS: &str = "herald_open_http_svc/get_post_insights";

async fn post(app: &TestApp, account: &str, body: Value) -> String {
    let r = app.send(json!({ "Official_Account": account, "Random": rand_u32(), "MsgBody": body })).await;
    assert_ok(&r);
    r["MsgKey"].as_str().unwrap().to_owned()
}

async fn edit(app: &TestApp, account: &str, key: &str, body: Value) -> Value {
    app.call(MODIFY, json!({ "Official_Account": account, "MsgKey": key, "MsgBody": body })).await
}

/// A poll in the wire form of docs/rest-api.md §9, written out by hand (not by Herald's encoder).
fn poll_body(question: &str, options: &[&str], multiple: bool, closes_at: i64) -> Value {
    let options: Vec<Value> =
        options.iter().enumerate().map(|(i, t)| json!({ "id": char::from(b'a' + i as u8).to_string(), "text": t })).collect();
    let data = json!({ "herald": "poll", "v": 1, "question": question, "options": options, "multiple": multiple, "closesAt": closes_at });
    json!([
        { "MsgType": "TIMTextElem", "MsgContent": { "Text": question } },
        { "MsgType": "TIMCustomElem", "MsgContent": { "Data": data.to_string(), "Desc": question } },
    ])
}

fn desc(r: &Value) -> String {
    r["ErrorInfo"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_edit_reaches_both_devices_of_a_subscriber_once_and_history_returns_the_edited_body() {
    let app = unlimited().await;
    let account = app.an_account_with_subscribers("@TOA#_edit", &["alice"]).await;
    let c = conversation(&account);
    let mut phone = Ws::connect(&app.base, "alice").await;
    let mut desk = Ws::connect(&app.base, "alice").await;
    let key = post(&app, &account, text("Sale ends Friday at $10")).await;
    for ws in [&mut phone, &mut desk] {
        assert_eq!(ws.event("onRecvNewMessage").await["message"]["isEdited"], false);
    }
    let before = phone.ok("getOfficialAccountsInfo", json!({ "officialAccountIDList": [account] })).await;
    assert_eq!(before["results"][0]["officialAccountInfo"]["unreadCount"], 1);

    let r = edit(&app, &account, &key, text("Sale ends Friday at $12")).await;
    assert_ok(&r);
    assert_eq!(r["MsgVersion"], 2);
    let edit_time = r["EditTime"].as_i64().unwrap();
    assert!((edit_time - now()).abs() < 5);

    for ws in [&mut phone, &mut desk] {
        let events = ws.events_within("onRecvMessageModified", Duration::from_millis(800)).await;
        assert_eq!(events.len(), 1, "one event per connection: {events:?}");
        let m = &events[0]["message"];
        assert_eq!(m["msgKey"], key.as_str());
        assert_eq!(m["msgBody"][0]["MsgContent"]["Text"], "Sale ends Friday at $12");
        assert_eq!((m["isEdited"].as_bool(), m["editTime"].as_i64()), (Some(true), Some(edit_time)));
        // An edit notifies nobody anew and moves no unread count.
        assert!(ws.try_event("onRecvNewMessage", Duration::from_millis(100)).await.is_none());
        assert!(ws.try_event("onTotalUnreadMessageCountChanged", Duration::from_millis(100)).await.is_none());
    }
    let after = phone.ok("getOfficialAccountsInfo", json!({ "officialAccountIDList": [account] })).await;
    assert_eq!(after["results"][0]["officialAccountInfo"]["unreadCount"], 1);

    // History, client protocol: the current body, once.
    let page = desk.ok("getMessageList", json!({ "conversationID": c, "count": 10 })).await;
    let messages = page["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "no duplicate: {messages:?}");
    assert_eq!(messages[0]["msgBody"][0]["MsgContent"]["Text"], "Sale ends Friday at $12");
    assert_eq!(messages[0]["editTime"], edit_time);
    // History, REST: the same, with Herald's MsgVersion and EditTime.
    let h = app.history(json!({ "Official_Account": account, "ReqMsgNumber": 10 })).await;
    let list = h["RspMsgList"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["MsgBody"][0]["MsgContent"]["Text"], "Sale ends Friday at $12");
    assert_eq!((list[0]["MsgVersion"].as_i64(), list[0]["EditTime"].as_i64()), (Some(2), Some(edit_time)));

    // Every version is kept, with who made it.
    let versions = app.node().post_versions(&messaging::OfficialAccountId::parse("a", &account).unwrap(), &key).await.unwrap();
    let bodies: Vec<String> = versions.iter().map(|v| v.body.clone()).collect();
    assert!(bodies[0].contains("$10") && bodies[1].contains("$12"), "{bodies:?}");
    assert_eq!((versions[0].made_by.as_str(), versions[1].made_by.as_str()), ("", ADMIN));

    // A second edit is version 3; an unedited post shows no version on REST.
    assert_eq!(edit(&app, &account, &key, text("Sale ends Saturday")).await["MsgVersion"], 3);
    post(&app, &account, text("another")).await;
    let h = app.history(json!({ "Official_Account": account, "ReqMsgNumber": 10 })).await;
    assert!(h["RspMsgList"][0].get("MsgVersion").is_none(), "{}", h["RspMsgList"][0]);
}

#[tokio::test]
async fn each_edit_refusal_is_a_sentence_saying_why() {
    let app = spawn_app_with(|c| {
        c.broadcasts_per_second = Some(1000);
        c.broadcasts_per_hour = Some(1000);
        c.edit_window_days = Some(1);
    })
    .await;
    let account = app.an_account_with_subscribers("@TOA#_refuse", &["alice"]).await;
    let key = post(&app, &account, text("first")).await;

    let r = edit(&app, "@TOA#_nobody", &key, text("x")).await;
    assert_fails(&r, 130004);
    assert_fails(&edit(&app, "bad id", &key, text("x")).await, 130007);
    let r = edit(&app, &account, "99_1_99", text("x")).await;
    assert_fails(&r, 10004);
    assert!(desc(&r).contains("no post 99_1_99"), "{r}");
    let r = edit(&app, &account, &key, json!([])).await;
    assert_fails(&r, 10004);
    assert!(desc(&r).contains("MsgBody"), "{r}");
    let r = edit(&app, &account, &key, text(&"x".repeat(13_000))).await;
    assert_fails(&r, 80002);
    let r = edit(&app, &account, &key, poll_body("Now a poll?", &["yes", "no"], false, 0)).await;
    assert_fails(&r, 10004);
    assert!(desc(&r).contains("cannot become a poll"), "{r}");

    let poll = post(&app, &account, poll_body("Lunch?", &["pizza", "salad"], false, 0)).await;
    let r = edit(&app, &account, &poll, poll_body("Lunch?", &["pizza", "salad", "soup"], false, 0)).await;
    assert_fails(&r, 10004);
    assert!(desc(&r).contains("not change its options"), "{r}");
    assert_ok(&edit(&app, &account, &poll, poll_body("Lunch today?", &["pizza", "green salad"], false, 0)).await);
    let r = edit(&app, &account, &poll, text("no longer a poll")).await;
    assert!(desc(&r).contains("stays a poll"), "{r}");

    let recalled = post(&app, &account, text("oops")).await;
    assert_ok(
        &app.call(
            "official_account_open_http_svc/official_account_msg_recall",
            json!({ "Official_Account": account, "MsgKeyList": [{ "MsgKey": recalled }] }),
        )
        .await,
    );
    let r = edit(&app, &account, &recalled, text("fixed")).await;
    assert_fails(&r, 10004);
    assert!(desc(&r).contains("recalled"), "{r}");

    // Past the window (1 day here), by the server's clock.
    app.node().advance_clock(86_400 + 60);
    let r = edit(&app, &account, &key, text("too late")).await;
    assert_fails(&r, 10004);
    assert!(desc(&r).contains("can be edited for 1 days"), "{r}");
    let h = app.history(json!({ "Official_Account": account, "ReqMsgNumber": 10, "WithRecalledMsg": 1 })).await;
    let texts: Vec<&str> =
        h["RspMsgList"].as_array().unwrap().iter().filter_map(|m| m["MsgBody"][0]["MsgContent"]["Text"].as_str()).collect();
    assert!(texts.contains(&"first"), "nothing refused changed the post: {texts:?}");

    let off = spawn_app_with(|c| c.edit_window_days = Some(0)).await;
    let account = off.an_account("o", "@TOA#_off", "Off").await;
    let key = post(&off, &account, text("fixed forever")).await;
    let r = edit(&off, &account, &key, text("changed")).await;
    assert!(desc(&r).contains("turned off"), "{r}");
}

#[tokio::test]
async fn the_before_send_webhook_may_refuse_an_edit_and_the_after_modify_callback_reports_it() {
    let (hooks, url) = crate::receiver::receiver().await;
    let app = spawn_app_with(move |c| {
        c.webhook_url = Some(url);
        c.broadcasts_per_second = Some(1000);
        c.broadcasts_per_hour = Some(1000);
    })
    .await;
    let account = app.an_account("o", "@TOA#_hooked", "Hooked").await;
    let key = post(&app, &account, text("v1")).await;
    hooks.answer("OfficialAccount.CallbackBeforeSendMsg", Duration::ZERO, json!({ "ErrorCode": 1 }));
    assert_fails(&edit(&app, &account, &key, text("refused")).await, 10016);
    hooks.answer("OfficialAccount.CallbackBeforeSendMsg", Duration::ZERO, json!({ "ErrorCode": 0 }));
    assert_ok(&edit(&app, &account, &key, text("v2")).await);
    let calls = app.deliveries(&hooks, "OfficialAccount.CallbackAfterMsgModify", 1).await;
    assert_eq!(calls.len(), 1);
    let body = &calls[0].body;
    assert_eq!((body["MsgKey"].as_str(), body["MsgVersion"].as_i64()), (Some(key.as_str()), Some(2)));
    assert_eq!(body["MsgBody"][0]["MsgContent"]["Text"], "v2");
}

#[tokio::test]
async fn pinning_is_told_to_subscribers_and_a_recall_unpins() {
    let app = unlimited().await;
    let account = app.an_account_with_subscribers("@TOA#_pin", &["alice"]).await;
    let mut alice = Ws::connect(&app.base, "alice").await;
    let first = post(&app, &account, text("rules")).await;
    let second = post(&app, &account, text("news")).await;
    let pinned = |info: &Value| info["officialAccountInfo"]["pinnedMsgKey"].as_str().unwrap().to_owned();

    assert_ok(&app.call(PIN, json!({ "Official_Account": account, "MsgKey": first })).await);
    assert_eq!(pinned(&alice.event("onOfficialAccountInfoChanged").await), first);
    let info = alice.ok("getOfficialAccountsInfo", json!({ "officialAccountIDList": [account] })).await;
    assert_eq!(pinned(&info["results"][0]), first);

    assert_ok(&app.call(PIN, json!({ "Official_Account": account, "MsgKey": second })).await);
    assert_eq!(pinned(&alice.event("onOfficialAccountInfoChanged").await), second, "one pinned post: the new one replaces it");
    assert_ok(&app.call(PIN, json!({ "Official_Account": account, "MsgKey": "" })).await);
    assert_eq!(pinned(&alice.event("onOfficialAccountInfoChanged").await), "");

    assert_ok(&app.call(PIN, json!({ "Official_Account": account, "MsgKey": second })).await);
    alice.event("onOfficialAccountInfoChanged").await;
    let recall = json!({ "Official_Account": account, "MsgKeyList": [{ "MsgKey": second }] });
    assert_ok(&app.call("official_account_open_http_svc/official_account_msg_recall", recall).await);
    assert_eq!(pinned(&alice.event("onOfficialAccountInfoChanged").await), "", "recalling the pinned post unpins it");

    let r = app.call(PIN, json!({ "Official_Account": account, "MsgKey": second })).await;
    assert_fails(&r, 10004);
    assert!(desc(&r).contains("recalled"), "{r}");
    assert_fails(&app.call(PIN, json!({ "Official_Account": account, "MsgKey": "5_1_5" })).await, 10004);
    assert_fails(&app.call(PIN, json!({ "Official_Account": account })).await, 10004);
    assert_fails(&app.call(PIN, json!({ "Official_Account": "@TOA#_none", "MsgKey": "" })).await, 130004);
}

#[tokio::test]
async fn a_poll_sent_over_rest_is_voted_in_changed_and_withdrawn_with_the_counts_everywhere() {
    let app = unlimited().await;
    let account = app.an_account_with_subscribers("@TOA#_poll", &["alice", "bob", "carol"]).await;
    let c = conversation(&account);
    let mut alice = Ws::connect(&app.base, "alice").await;
    let mut bob = Ws::connect(&app.base, "bob").await;
    let mut carol = Ws::connect(&app.base, "carol").await;
    let key = post(&app, &account, poll_body("Where next?", &["Paris", "Rome", "Oslo"], true, 0)).await;
    let m = alice.event("onRecvNewMessage").await["message"].clone();
    assert_eq!(m["msgBody"][0]["MsgContent"]["Text"], "Where next?", "a client that knows no polls still has the text");
    assert_eq!(
        m["poll"],
        json!({ "question": "Where next?", "options": [
            { "optionID": "a", "text": "Paris", "voteCount": 0 },
            { "optionID": "b", "text": "Rome", "voteCount": 0 },
            { "optionID": "c", "text": "Oslo", "voteCount": 0 }],
            "allowMultiple": true, "closesAt": 0, "isClosed": false, "myVotes": [], "totalVoters": 0 })
    );
    let vote = |ids: &[&str]| json!({ "conversationID": c, "msgKey": key, "optionIDs": ids });

    let mine = alice.ok("votePoll", vote(&["a", "b"])).await;
    assert_eq!(mine["poll"]["myVotes"], json!(["a", "b"]));
    bob.ok("votePoll", vote(&["b"])).await;
    carol.ok("votePoll", vote(&["c"])).await;
    let changed = alice.ok("votePoll", vote(&["b"])).await; // replaces a, b
    assert_eq!(changed["poll"]["options"][0]["voteCount"], 0);
    assert_eq!(changed["poll"]["options"][1]["voteCount"], 2);
    let withdrawn = carol.ok("votePoll", vote(&[])).await;
    assert_eq!((withdrawn["poll"]["totalVoters"].as_i64(), withdrawn["poll"]["myVotes"].clone()), (Some(2), json!([])));

    // Events are coalesced (at most one a second) and the last says the final counts, with
    // each reader's own choice.
    let events = bob.events_within("onPollChanged", Duration::from_millis(2200)).await;
    assert!(!events.is_empty() && events.len() <= 3, "{} events", events.len());
    let last = events.last().unwrap();
    assert_eq!(last["msgKey"], key.as_str());
    assert_eq!(last["poll"]["options"][1]["voteCount"], 2);
    assert_eq!(last["poll"]["myVotes"], json!(["b"]));
    assert_eq!(last["poll"]["totalVoters"], 2);

    let page = carol.ok("getMessageList", json!({ "conversationID": c, "count": 1 })).await;
    assert_eq!(page["messages"][0]["poll"]["options"][1]["voteCount"], 2);
    assert_eq!(page["messages"][0]["poll"]["myVotes"], json!([]));
    let insights = app.call(POST_INSIGHTS, json!({ "Official_Account": account, "MsgKeyList": [{ "MsgKey": key }] })).await;
    assert_eq!(
        insights["Posts"][0]["Poll"],
        json!({ "Options": [
            { "OptionID": "a", "Text": "Paris", "Votes": 0 },
            { "OptionID": "b", "Text": "Rome", "Votes": 2 },
            { "OptionID": "c", "Text": "Oslo", "Votes": 0 }], "Voters": 2 })
    );
    let plain = post(&app, &account, text("not a poll")).await;
    let insights = app.call(POST_INSIGHTS, json!({ "Official_Account": account, "MsgKeyList": [{ "MsgKey": plain }] })).await;
    assert!(insights["Posts"][0].get("Poll").is_none());

    // Refusals.
    let r = alice.request("votePoll", vote(&["z"])).await;
    assert_eq!(r["code"], 10004, "{r}");
    let r = alice.request("votePoll", json!({ "conversationID": c, "msgKey": plain, "optionIDs": ["a"] })).await;
    assert_eq!(r["code"], 10004, "{r}");
    assert!(r["desc"].as_str().unwrap().contains("no poll"), "{r}");
}

#[tokio::test]
async fn a_single_choice_poll_takes_one_option_and_closes_at_its_time_by_the_delivery_clock() {
    let app = unlimited().await;
    let account = app.an_account_with_subscribers("@TOA#_close", &["alice"]).await;
    let c = conversation(&account);
    let mut alice = Ws::connect(&app.base, "alice").await;
    let closes = app.node().now() + 3600;
    let key = post(&app, &account, poll_body("Meet at?", &["9", "10"], false, closes)).await;
    let vote = |ids: &[&str]| json!({ "conversationID": c, "msgKey": key, "optionIDs": ids });
    let r = alice.request("votePoll", vote(&["a", "b"])).await;
    assert_eq!(r["code"], 10004);
    assert!(r["desc"].as_str().unwrap().contains("one option"), "{r}");
    alice.ok("votePoll", vote(&["a"])).await;
    app.node().advance_clock(3601);
    let r = alice.request("votePoll", vote(&["b"])).await;
    assert_eq!(r["code"], 10004);
    assert!(r["desc"].as_str().unwrap().contains("closed"), "{r}");
    let page = alice.ok("getMessageList", json!({ "conversationID": c, "count": 1 })).await;
    assert_eq!(
        (page["messages"][0]["poll"]["isClosed"].as_bool(), page["messages"][0]["poll"]["myVotes"].clone()),
        (Some(true), json!(["a"]))
    );
}

#[tokio::test]
async fn invalid_polls_are_refused_naming_the_problem() {
    let app = unlimited().await;
    let account = app.an_account("o", "@TOA#_badpoll", "Bad polls").await;
    let send = |body: Value| app.send(json!({ "Official_Account": account, "Random": rand_u32(), "MsgBody": body }));
    let thirteen: Vec<String> = (0..13).map(|i| format!("option {i}")).collect();
    let thirteen: Vec<&str> = thirteen.iter().map(String::as_str).collect();
    for (body, says) in [
        (poll_body("One?", &["only"], false, 0), "2 to 12 options"),
        (poll_body("Many?", &thirteen, false, 0), "2 to 12 options"),
        (poll_body("", &["a", "b"], false, 0), "needs a question"),
        (poll_body(&"q".repeat(256), &["a", "b"], false, 0), "256 bytes"),
        (poll_body("Long?", &["a", &"o".repeat(101)], false, 0), "101 bytes"),
        (poll_body("Twice?", &["same", "same"], false, 0), "repeats"),
        (poll_body("Past?", &["a", "b"], false, 1_000), "has passed"),
        (json!([{ "MsgType": "TIMCustomElem", "MsgContent": { "Data": "{\"herald\":\"poll\",\"v\":1,\"question\":\"q\"}" } }]), "options"),
    ] {
        let r = send(body).await;
        assert_fails(&r, 10004);
        assert!(desc(&r).contains(says), "{says}: {r}");
    }
    let r = app
        .send(
            json!({ "Official_Account": account, "Random": 1, "MsgBody": poll_body("Live?", &["a", "b"], false, 0), "OnlineOnlyFlag": 1 }),
        )
        .await;
    assert_fails(&r, 10004);
}

/// Counts of every option and voters, as the stored votes imply them (read behind the server's back).
async fn stored_votes(db: &str) -> (Vec<(String, i64)>, i64) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(db).await.unwrap();
    let per_option: Vec<(String, i64)> =
        sqlx::query_as("select option_id, count(*) from poll_vote group by option_id order by option_id").fetch_all(&pool).await.unwrap();
    let (voters,): (i64,) = sqlx::query_as("select count(distinct user_id) from poll_vote").fetch_one(&pool).await.unwrap();
    pool.close().await;
    (per_option, voters)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_sigkill_in_a_burst_of_votes_the_counts_equal_the_stored_votes() {
    use crate::crash::{call, free_port, start_server};
    let dir = tempfile::tempdir().unwrap();
    let db = database_url(&dir).await;
    let port = free_port();
    let mut server = start_server(&db, port).await;
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let users: Vec<String> = (0..16).map(|i| format!("voter{i}")).collect();
    let mut everyone = users.clone();
    everyone.push("o".into());
    assert_ok(&call(&client, port, "im_open_login_svc/multiaccount_import", json!({ "Accounts": everyone })).await.unwrap());
    let create = json!({ "Owner_Account": "o", "OfficialAccountUserID": "@TOA#_votes", "Name": "Votes" });
    assert_ok(&call(&client, port, "official_account_open_http_svc/create_official_account", create).await.unwrap());
    let list: Vec<Value> = users.iter().map(|u| json!({ "Subscriber_Account": u })).collect();
    let add = json!({ "Official_Account": "@TOA#_votes", "SubscriberList": list });
    assert_ok(&call(&client, port, "official_account_open_http_svc/add_subscriber", add).await.unwrap());
    let send = json!({ "Official_Account": "@TOA#_votes", "Random": 1, "MsgBody": poll_body("Best?", &["a", "b", "c", "d"], true, 0) });
    let sent = call(&client, port, "official_account_open_http_svc/send_official_account_msg", send).await.unwrap();
    let key = sent["MsgKey"].as_str().unwrap().to_owned();

    // Sixteen voters change their minds as fast as they can until the server dies under them.
    // A voter's task ends in a panic when the server dies under it (no answer): what it had
    // acknowledged is counted as it goes.
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut voters = Vec::new();
    for (n, user) in users.iter().enumerate() {
        let (base, user, key, acked) = (base.clone(), user.clone(), key.clone(), acked.clone());
        voters.push(tokio::spawn(async move {
            let mut ws = Ws::connect(&base, &user).await;
            let choices = [vec!["a"], vec!["b", "c"], vec![], vec!["d", "a", "b"]];
            for i in n.. {
                let vote = json!({ "conversationID": "c2c_@TOA#_votes", "msgKey": key, "optionIDs": choices[i % 4] });
                match tokio::time::timeout(Duration::from_secs(2), ws.request("votePoll", vote)).await {
                    Ok(r) if r["code"] == 0 => _ = acked.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                    Ok(r) if r["code"] == 60007 => tokio::time::sleep(Duration::from_millis(20)).await,
                    _ => break,
                }
            }
        }));
    }
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(10) && stored_votes(&db).await.1 < 8 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill().expect("SIGKILL");
    server.wait().unwrap();
    for v in voters {
        let _ = v.await;
    }
    let acked = acked.load(std::sync::atomic::Ordering::Relaxed);
    assert!(acked > 50, "the burst got going before the kill ({acked} votes acknowledged)");

    let _server = start_server(&db, port).await;
    let (per_option, voters) = stored_votes(&db).await;
    let r =
        call(&client, port, POST_INSIGHTS, json!({ "Official_Account": "@TOA#_votes", "MsgKeyList": [{ "MsgKey": key }] })).await.unwrap();
    let poll = &r["Posts"][0]["Poll"];
    assert_eq!(poll["Voters"], voters, "{poll}");
    for option in poll["Options"].as_array().unwrap() {
        let id = option["OptionID"].as_str().unwrap();
        let stored = per_option.iter().find(|(o, _)| o == id).map_or(0, |(_, n)| *n);
        assert_eq!(option["Votes"], stored, "option {id}: {poll}");
    }
}

#[tokio::test]
async fn the_public_page_shows_the_pinned_post_first_an_edited_mark_and_a_poll_as_text() {
    let app = unlimited().await;
    let account = app.an_account("o", "@TOA#_public_life", "Public life").await;
    assert_ok(
        &app.call("herald_open_http_svc/set_public_page", json!({ "Official_Account": account, "Handle": "publiclife", "Enabled": 1 }))
            .await,
    );
    let old = post(&app, &account, text("house rules")).await;
    post(&app, &account, poll_body("<b>Lunch</b>?", &["Soup", "Salad"], false, 0)).await;
    post(&app, &account, text("newest")).await;
    assert_ok(&edit(&app, &account, &old, text("house rules, revised")).await);
    assert_ok(&app.call(PIN, json!({ "Official_Account": account, "MsgKey": old })).await);

    let html = client().get(format!("{}/c/publiclife", app.base)).send().await.unwrap().text().await.unwrap();
    let doc = scraper::Html::parse_document(&html);
    let articles: Vec<String> =
        doc.select(&scraper::Selector::parse("article.post").unwrap()).map(|a| a.text().collect::<String>()).collect();
    assert_eq!(articles.len(), 3, "the pinned post is not shown twice: {articles:?}");
    assert!(
        articles[0].contains("Pinned") && articles[0].contains("house rules, revised") && articles[0].contains("edited"),
        "{articles:?}"
    );
    assert!(articles[1].contains("newest") && !articles[1].contains("edited"), "{articles:?}");
    assert!(articles[2].contains("<b>Lunch</b>?") && articles[2].contains("Soup"), "the poll's text, escaped: {articles:?}");
    assert!(!html.contains("<b>Lunch"), "no markup from a post reaches the page");
}
