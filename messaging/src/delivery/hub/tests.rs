//! The hub against a real SQLite database, its changes applied by hand (no tasks).

use super::*;
use crate::broadcasts::NewBroadcast;
use crate::delivery::writers::WRITE_SHARE;
use crate::message::MsgBody;
use crate::users::NewUser;
use crate::{AccountProfile, MsgKey, NewAccount, OfficialAccountId, ProfileFields, UnknownOwner, UserId};
use serde_json::Value;

/// An outbox that keeps what it is given.
#[derive(Default)]
struct Kept(Mutex<Vec<Value>>);

impl Outbox for Kept {
    fn push(&self, frames: &[&Frame]) -> bool {
        let mut kept = self.0.lock().unwrap();
        kept.extend(frames.iter().map(|f| serde_json::from_slice::<Value>(f).unwrap()));
        true
    }
}

fn totals(kept: &Kept) -> Vec<i64> {
    let kept = kept.0.lock().unwrap();
    kept.iter()
        .filter(|f| f["event"] == "onTotalUnreadMessageCountChanged")
        .map(|f| f["data"]["totalUnreadCount"].as_i64().unwrap())
        .collect()
}

/// A database with one account, `account`, owned by `owner`.
async fn with_account(dir: &tempfile::TempDir, owner: &str, account: &str) -> (Messaging, OfficialAccountId) {
    let m = Messaging::open(&format!("sqlite://{}/hub.db", dir.path().display())).await.unwrap();
    let owner = UserId::parse("user", owner).unwrap();
    m.import_user(&NewUser::bare(owner.clone())).await.unwrap();
    let profile = AccountProfile::parse(ProfileFields { name: Some("Live".into()), ..Default::default() }).unwrap();
    let id = OfficialAccountId::parse_custom("id", account).unwrap();
    m.create_account(NewAccount { owner, id: Some(id.clone()), profile }, UnknownOwner::Refuse, "admin").await.unwrap();
    (m, id)
}

/// Broadcasts `text` to `account`; answers its sequence number and MsgKey.
async fn broadcast(m: &Messaging, account: &OfficialAccountId, text: &str) -> (i64, String) {
    let body = MsgBody::parse("MsgBody", json!([{ "MsgType": "TIMTextElem", "MsgContent": { "Text": text } }])).unwrap();
    let new = NewBroadcast {
        account: account.clone(),
        random: 1,
        body,
        cloud_custom_data: String::new(),
        offline_push_info: None,
        online_only: false,
        no_last_msg: false,
        forbid_before_callback: true,
        forbid_after_callback: true,
    };
    let sent = m.send_broadcast(new).await.unwrap();
    (MsgKey::parse(&sent.msg_key).unwrap().seq, sent.msg_key)
}

#[tokio::test]
async fn a_change_applied_after_a_newer_reading_of_the_subscription_counts_no_message_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (m, id) = with_account(&dir, "alice", "@TOA#_live").await;
    let alice = UserId::parse("user", "alice").unwrap();
    let hub = Hub::new(m.clone(), crate::delivery::Keepalive::DEFAULT);
    let kept = Arc::new(Kept::default());
    hub.connect("alice", kept.clone()).await.unwrap();

    // Alice subscribes and a broadcast is committed; the hub hears of both only afterwards
    // (on PostgreSQL a NOTIFY can arrive that late).
    m.add_subscribers(&id, &[alice], "admin", crate::insights::Source::Api).await.unwrap();
    let (seq, msg_key) = broadcast(&m, &id, "hi").await;
    let account = id.clone();
    // The subscription read for the first change already counts the broadcast …
    hub.apply(&Change::Subscribed { account: account.clone(), users: vec!["alice".into()] }).await.unwrap();
    // … so the broadcast's own change delivers it without counting it again.
    hub.apply(&Change::Message { account, user: None, seq, origin: None }).await.unwrap();
    // The total after the subscription, then the one sent with the message: still 1.
    assert_eq!(totals(&kept), [1, 1]);
    let frames = kept.0.lock().unwrap();
    assert!(frames.iter().any(|f| f["event"] == "onRecvNewMessage" && f["data"]["message"]["msgKey"] == msg_key.as_str()));
}

/// An outbox that refuses everything (a client too far behind).
struct Full;

impl Outbox for Full {
    fn push(&self, _: &[&Frame]) -> bool {
        false
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_too_large_for_one_share_reaches_every_connection_once_and_drops_the_ones_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (m, id) = with_account(&dir, "owner", "@TOA#_big").await;
    // More connections than one share, and three of them behind.
    let n = 2 * WRITE_SHARE + 3;
    let users: Vec<UserId> = (0..n).map(|i| UserId::parse("user", &format!("u{i}")).unwrap()).collect();
    for chunk in users.chunks(100) {
        for u in chunk {
            m.import_user(&NewUser::bare(u.clone())).await.unwrap();
        }
        m.add_subscribers(&id, chunk, "admin", crate::insights::Source::Api).await.unwrap();
    }
    let hub = Hub::new(m.clone(), crate::delivery::Keepalive::DEFAULT);
    let mut kept = Vec::new();
    for (i, u) in users.iter().enumerate() {
        if i % 500 == 7 {
            hub.connect(u.as_str(), Arc::new(Full)).await.unwrap();
        } else {
            let k = Arc::new(Kept::default());
            hub.connect(u.as_str(), k.clone()).await.unwrap();
            kept.push(k);
        }
    }
    let (seq, msg_key) = broadcast(&m, &id, "to all").await;
    hub.apply(&Change::Message { account: id.clone(), user: None, seq, origin: None }).await.unwrap();
    for k in &kept {
        let frames = k.0.lock().unwrap();
        let messages: Vec<&Value> = frames.iter().filter(|f| f["event"] == "onRecvNewMessage").collect();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0]["data"]["message"]["msgKey"], msg_key.as_str());
    }
    assert_eq!(kept.iter().map(|k| totals(k)).collect::<HashSet<_>>(), HashSet::from([vec![1]]));
    assert_eq!(hub.connection_counts(), (kept.len(), kept.len()), "the connections behind are dropped");

    // An online-only broadcast to the account goes out the same way: once to each, no new total.
    let live = crate::delivery::objects::WireMessage {
        msg_key: "live-key".into(),
        conversation_id: crate::delivery::objects::conversation_id(id.as_str()),
        official_account_id: id.as_str().to_owned(),
        sender: id.as_str().to_owned(),
        is_broadcast: true,
        time: 1,
        msg_body: json!([]),
        cloud_custom_data: String::new(),
        is_revoked: false,
        reactions: vec![],
        is_edited: false,
        edit_time: 0,
        poll: None,
    };
    hub.apply(&Change::Live { account: id.clone(), user: None, message: Box::new(live) }).await.unwrap();
    for k in &kept {
        let frames = k.0.lock().unwrap();
        let lives = frames.iter().filter(|f| f["event"] == "onRecvNewMessage" && f["data"]["message"]["msgKey"] == "live-key").count();
        assert_eq!(lives, 1);
    }
    assert_eq!(kept.iter().map(|k| totals(k)).collect::<HashSet<_>>(), HashSet::from([vec![1]]));
}

/// The hub keeps each connected user's unread counts by increments from one reading of the
/// stored positions, while every other door counts them in SQL (`conversation::UNREAD`). Two
/// rules for one figure: random histories of broadcasts, recalls, read marks and receive options
/// (several seeds, the same each run), with the hub hearing exactly the changes they announce,
/// must leave the hub's last total equal to the stored one after every step.
#[tokio::test]
async fn the_hubs_unread_total_always_equals_what_the_stored_positions_imply() {
    use crate::message::MsgFlag;
    for seed in 1..=4u64 {
        let dir = tempfile::tempdir().unwrap();
        let (m, id) = with_account(&dir, "owner", "@TOA#_unread").await;
        let m = m.with_limits(crate::AppLimits { broadcasts_per_second: 10_000, broadcasts_per_hour: 100_000, ..Default::default() });
        let users: Vec<UserId> = ["alice", "bob"].iter().map(|u| UserId::parse("user", u).unwrap()).collect();
        for u in &users {
            m.import_user(&NewUser::bare(u.clone())).await.unwrap();
        }
        let hub = Hub::new(m.clone(), crate::delivery::Keepalive::DEFAULT);
        let mut heard = m.changes();
        let mut kept = Vec::new();
        for u in &users {
            let k = Arc::new(Kept::default());
            hub.connect(u.as_str(), k.clone()).await.unwrap();
            kept.push(k);
        }
        m.add_subscribers(&id, &users, "admin", crate::insights::Source::Api).await.unwrap();

        let mut rng = seed;
        let mut next = move |n: u64| {
            rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (rng >> 33) % n
        };
        let mut keys: Vec<String> = Vec::new();
        for step in 0..40 {
            let who = next(2) as usize;
            let user = &users[who];
            let op = match next(6) {
                0..=1 => {
                    keys.push(broadcast(&m, &id, &format!("post {seed}.{step}")).await.1);
                    "broadcast"
                }
                2 if !keys.is_empty() => {
                    let key = keys[next(keys.len() as u64) as usize].clone();
                    m.recall_broadcasts(&id, std::slice::from_ref(&key), "").await.unwrap();
                    "recall"
                }
                3 => {
                    let key = (!keys.is_empty() && next(2) == 0).then(|| keys[next(keys.len() as u64) as usize].clone());
                    m.mark_conversation_read(user, &id, key.as_deref()).await.unwrap();
                    "read"
                }
                4 => {
                    let flag = if next(2) == 0 { MsgFlag::Discard } else { MsgFlag::AcceptAndNotify };
                    m.set_receive_option(user, &id, flag).await.unwrap();
                    "receive option"
                }
                _ => "nothing",
            };
            while let Ok(change) = heard.try_recv() {
                hub.apply(&change).await.unwrap();
            }
            for (u, k) in users.iter().zip(&kept) {
                let stored: i64 = m.subscriptions_of(u.as_str()).await.unwrap().iter().map(|r| r.unread).sum();
                let live = totals(k).last().copied().unwrap_or(0);
                assert_eq!(live, stored, "seed {seed}, step {step} ({op} by {user}): {u}'s total");
            }
        }
    }
}
