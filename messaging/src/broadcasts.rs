//! Broadcasts (docs/rest-api.md §5): sending, history, recall. A broadcast is one row, whatever the
//! number of subscribers; subscribers read it through their position (fan-out on read).

use crate::audit::{record, AuditAction};
use crate::delivery::Change;
use crate::error::{Error, InvalidField, Result};
use crate::ids::OfficialAccountId;
use crate::limits::record_broadcast;
use crate::message::{content_hash, message_size, MsgBody, Outgoing, MESSAGE_MAX_BYTES};
use crate::profile::check_no_nul;
use crate::push::{enqueue_push, wants_push};
use crate::store::now;
use crate::webhooks::{enqueue, fields};
use crate::{Messaging, MsgKey};
use serde_json::json;
use serde_json::Value;

/// A duplicate is the same Random and content within this window.
const DUPLICATE_WINDOW_SECS: i64 = 5 * 60;
pub const HISTORY_PAGE_MAX: i64 = 100;
pub const RECALL_BATCH_MAX: usize = 10;
pub const RECALL_REASON_MAX_BYTES: usize = 100;

/// Whether a broadcast's `OnlineOnlyFlag` asks for online only: any number greater than 0,
/// however large (Tencent documents "greater than 0", not a 0/1 switch).
pub fn online_only_for_flag(flag: Option<f64>) -> bool {
    flag.is_some_and(|f| f > 0.0)
}

/// A broadcast as asked for, already parsed.
#[derive(Debug, Clone)]
pub struct NewBroadcast {
    pub account: OfficialAccountId,
    pub random: u32,
    pub body: MsgBody,
    pub cloud_custom_data: String,
    pub offline_push_info: Option<Value>,
    /// Deliver only to connected subscribers; not stored, not in history, no unread.
    pub online_only: bool,
    /// `SendMsgControl: ["NoLastMsg"]`: leave the conversation's last message alone.
    pub no_last_msg: bool,
    /// `ForbidCallbackControl`: skip the "before send" / "after send" webhooks.
    pub forbid_before_callback: bool,
    pub forbid_after_callback: bool,
}

/// What the sender is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub msg_key: String,
    pub msg_time: i64,
    /// True when this was a resend of a message sent in the last 5 minutes: nothing new stored.
    pub duplicate: bool,
}

/// One stored broadcast, as history shows it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoredBroadcast {
    pub seq: i64,
    pub msg_time: i64,
    pub random: i64,
    pub body: String,
    pub cloud_custom_data: String,
    pub recalled_at: Option<i64>,
    /// When the body was last edited (docs/rest-api.md §9); None: never.
    pub edited_at: Option<i64>,
    /// 1 as sent, one more per edit.
    pub version: i64,
}

impl StoredBroadcast {
    pub fn msg_key(&self) -> String {
        MsgKey::broadcast(self.seq, self.msg_time).to_string()
    }
    pub fn body_json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Array(vec![]))
    }
}

/// A page of history, newest first.
#[derive(Debug)]
pub struct HistoryPage {
    pub messages: Vec<StoredBroadcast>,
    /// No older message exists.
    pub finished: bool,
}

/// Per-key outcome of a recall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recall {
    Done,
    NotFound,
}

/// Takes the live account's row lock for the rest of `tx` (PostgreSQL row lock, SQLite write lock).
async fn lock_account(tx: &mut sqlx::AnyConnection, account: &OfficialAccountId) -> Result<()> {
    let locked = sqlx::query("update official_account set last_seq = last_seq where account_id = $1 and destroyed_at is null")
        .bind(account.as_str())
        .execute(tx)
        .await?;
    if locked.rows_affected() == 0 {
        return Err(Error::AccountNotFound(account.to_string()));
    }
    Ok(())
}

impl Messaging {
    #[tracing::instrument(name = "send broadcast", skip_all, fields(account = %b.account))]
    pub async fn send_broadcast(&self, mut b: NewBroadcast) -> Result<Sent> {
        Outgoing {
            body: &b.body,
            cloud_custom_data: &b.cloud_custom_data,
            offline_push_info: b.offline_push_info.as_ref(),
            online_only: b.online_only,
            no_last_msg: b.no_last_msg,
            online_only_said_as: "OnlineOnlyFlag",
        }
        .check(Error::BroadcastTooLarge)?;
        // A poll (docs/rest-api.md §9) is checked like the composer's; it needs a stored message.
        let poll = crate::polls::Poll::from_msg_body("MsgBody", b.body.as_json()).transpose()?;
        if let Some(poll) = &poll {
            poll.check("MsgBody", Some(self.now()))?;
            if b.online_only {
                return Err(InvalidField::new("OnlineOnlyFlag", "A poll cannot be sent online only: votes need a stored message.").into());
            }
        }
        self.account(&b.account).await?;
        // Duplicates are recognised by what the sender sent, even if the webhook rewrites it.
        let hash = content_hash(&b.body, &b.cloud_custom_data);
        if !b.forbid_before_callback {
            let answer = self
                .webhooks
                .before(
                    "OfficialAccount.CallbackBeforeSendMsg",
                    fields(vec![
                        ("Official_Account", json!(b.account.as_str())),
                        ("OnlineOnlyFlag", json!(u8::from(b.online_only))),
                        ("MsgBody", b.body.as_json().clone()),
                        ("CloudCustomData", json!(b.cloud_custom_data)),
                    ]),
                )
                .await;
            match answer.as_ref().and_then(|a| a.get("ErrorCode")).and_then(Value::as_i64).unwrap_or(0) {
                0 => {
                    if let Some(new_body) = answer.as_ref().and_then(|a| a.get("MsgBody")) {
                        match MsgBody::parse("MsgBody", new_body.clone()) {
                            Ok(body) if message_size(&body, &b.cloud_custom_data) <= MESSAGE_MAX_BYTES => b.body = body,
                            _ => tracing::warn!("the webhook's replacement MsgBody is invalid; sending the original"),
                        }
                    }
                }
                // Discard silently: the sender sees success, nobody receives it.
                2 => {
                    let at = now();
                    return Ok(Sent { msg_key: MsgKey::unstored(at).to_string(), msg_time: at, duplicate: false });
                }
                _ => return Err(Error::SendRefusedByWebhook),
            }
        }
        let at = now();
        let after_event = |key: &str| {
            fields(vec![
                ("Official_Account", json!(b.account.as_str())),
                ("MsgKey", json!(key)),
                ("MsgTime", json!(at)),
                ("OnlineOnlyFlag", json!(u8::from(b.online_only))),
                ("MsgBody", b.body.as_json().clone()),
                ("CloudCustomData", json!(b.cloud_custom_data)),
            ])
        };
        let mut tx = self.begin_write().await?;
        // Write first: it takes the account's lock, so a concurrent identical send waits and
        // then finds this one as its duplicate, and the frequency limits count sends in turn.
        lock_account(&mut tx, &b.account).await?;
        if b.online_only {
            // Not stored: no sequence number is spent, so unread counts stay right.
            record_broadcast(&mut tx, &self.limits(), b.account.as_str(), at).await?;
            let msg_key = MsgKey::unstored(at);
            let key = msg_key.to_string();
            if !b.forbid_after_callback {
                enqueue(&mut tx, &self.webhooks, "OfficialAccount.CallbackAfterSendMsg", after_event(&key)).await?;
            }
            let message = crate::delivery::objects::Message {
                key: msg_key,
                account: b.account.to_string(),
                conversation_user: None,
                sender: b.account.to_string(),
                time: at,
                body: b.body.as_json().clone(),
                cloud_custom_data: b.cloud_custom_data.clone(),
                revoked: false,
                reactions: vec![],
                edited_at: None,
                version: 1,
                poll: None,
            };
            let live = Change::Live { account: b.account.clone(), user: None, message: Box::new(message.to_wire()) };
            self.commit_announcing(tx, vec![live]).await?;
            self.webhook_queued();
            metrics::counter!("herald_broadcasts_total").increment(1);
            return Ok(Sent { msg_key: key, msg_time: at, duplicate: false });
        }
        let first: Option<(i64, i64)> = sqlx::query_as(
            "select seq, msg_time from broadcast where account_id = $1 and random = $2 and content_hash = $3 and msg_time >= $4 \
             order by seq limit 1",
        )
        .bind(b.account.as_str())
        .bind(i64::from(b.random))
        .bind(&hash)
        .bind(at - DUPLICATE_WINDOW_SECS)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((seq, time)) = first {
            tx.rollback().await?;
            return Ok(Sent { msg_key: MsgKey::broadcast(seq, time).to_string(), msg_time: time, duplicate: true });
        }
        record_broadcast(&mut tx, &self.limits(), b.account.as_str(), at).await?;
        let (seq, recipients): (i64, i64) = sqlx::query_as(
            "update official_account set last_seq = last_seq + 1, \
               last_msg_time = case when $2 = 1 then last_msg_time else $3 end \
             where account_id = $1 returning last_seq, subscriber_num",
        )
        .bind(b.account.as_str())
        .bind(i64::from(b.no_last_msg))
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "insert into broadcast (account_id, seq, msg_time, random, body, cloud_custom_data, offline_push_info, content_hash) \
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(b.account.as_str())
        .bind(seq)
        .bind(at)
        .bind(i64::from(b.random))
        .bind(b.body.to_json_string())
        .bind(&b.cloud_custom_data)
        .bind(b.offline_push_info.as_ref().map(Value::to_string))
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
        crate::insights::count_post(&mut tx, b.account.as_str(), seq, self.now(), recipients).await?;
        // The poll as sent (a webhook may have rewritten the body; what is stored is what counts).
        match crate::polls::Poll::from_msg_body("MsgBody", b.body.as_json()) {
            Some(Ok(poll)) => crate::polls::store_poll(&mut tx, b.account.as_str(), seq, &poll).await?,
            Some(Err(e)) => tracing::warn!(error = %e, "the webhook's replacement holds an invalid poll; it is sent without voting"),
            None => {}
        }
        let key = MsgKey::broadcast(seq, at).to_string();
        if !b.forbid_after_callback {
            enqueue(&mut tx, &self.webhooks, "OfficialAccount.CallbackAfterSendMsg", after_event(&key)).await?;
        }
        if wants_push(b.offline_push_info.as_ref()) {
            enqueue_push(&mut tx, &self.webhooks, b.account.as_str(), seq).await?;
        }
        record(&mut tx, AuditAction::BroadcastSent, Some(b.account.as_str()), &format!("broadcast {key}")).await?;
        self.commit_announcing(tx, vec![Change::Message { account: b.account.clone(), user: None, seq, origin: None }]).await?;
        self.account_cache.forget(b.account.as_str()); // LastMsgTime changed
        self.webhook_queued();
        self.push_queued();
        metrics::counter!("herald_broadcasts_total").increment(1);
        Ok(Sent { msg_key: key, msg_time: at, duplicate: false })
    }

    /// History newest first, older than `before` (a MsgKey) when given.
    pub async fn broadcast_history(
        &self,
        account: &OfficialAccountId,
        count: i64,
        before: Option<&str>,
        with_recalled: bool,
    ) -> Result<HistoryPage> {
        if !(1..=HISTORY_PAGE_MAX).contains(&count) {
            return Err(InvalidField::new("ReqMsgNumber", format!("must be between 1 and {HISTORY_PAGE_MAX} (got {count})")).into());
        }
        let before_seq = match before {
            None | Some("") => i64::MAX,
            Some(key) => MsgKey::parse(key).ok_or_else(|| InvalidField::new("LastMsgKey", "not a MsgKey of the form {seq}_1_{time}"))?.seq,
        };
        self.account(account).await?;
        let mut rows: Vec<StoredBroadcast> = sqlx::query_as(
            "select seq, msg_time, random, body, cloud_custom_data, recalled_at, edited_at, version from broadcast \
             where account_id = $1 and seq < $2 and ($3 = 1 or recalled_at is null) \
             order by seq desc limit $4",
        )
        .bind(account.as_str())
        .bind(before_seq)
        .bind(i64::from(with_recalled))
        .bind(count + 1)
        .fetch_all(&self.store.pool)
        .await?;
        let finished = rows.len() as i64 <= count;
        rows.truncate(count as usize);
        Ok(HistoryPage { messages: rows, finished })
    }

    /// One stored broadcast by its MsgKey (recalled ones too), if it exists.
    pub async fn broadcast(&self, account: &OfficialAccountId, key: &str) -> Result<Option<StoredBroadcast>> {
        let Some(MsgKey { seq, time, .. }) = MsgKey::parse(key) else { return Ok(None) };
        Ok(sqlx::query_as(
            "select seq, msg_time, random, body, cloud_custom_data, recalled_at, edited_at, version from broadcast \
             where account_id = $1 and seq = $2 and msg_time = $3",
        )
        .bind(account.as_str())
        .bind(seq)
        .bind(time)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    /// Recalls up to 10 broadcasts by MsgKey; each key gets its own outcome.
    pub async fn recall_broadcasts(&self, account: &OfficialAccountId, keys: &[String], reason: &str) -> Result<Vec<Recall>> {
        crate::batch::check_batch("MsgKeyList", keys.len(), RECALL_BATCH_MAX)?;
        if reason.len() > RECALL_REASON_MAX_BYTES {
            return Err(InvalidField::new("Reason", format!("longer than {RECALL_REASON_MAX_BYTES} bytes (got {})", reason.len())).into());
        }
        check_no_nul("Reason", reason)?;
        self.account(account).await?;
        let at = now();
        let mut tx = self.begin_write().await?;
        let mut out = Vec::with_capacity(keys.len());
        // Recalled by this call: only these are audited, called back and announced. Recalling a
        // recalled message again answers Done (Tencent's RetCode 0) and changes nothing: announced
        // twice, every hub would take it off its subscribers' unread totals twice.
        let mut newly = Vec::with_capacity(keys.len());
        let mut profile_changed = false;
        for key in keys {
            let Some(MsgKey { seq, time, .. }) = MsgKey::parse(key) else {
                out.push(Recall::NotFound);
                newly.push(false);
                continue;
            };
            let recalled = sqlx::query(
                "update broadcast set recalled_at = $4, recall_reason = $5 \
                 where account_id = $1 and seq = $2 and msg_time = $3 and recalled_at is null",
            )
            .bind(account.as_str())
            .bind(seq)
            .bind(time)
            .bind(at)
            .bind(reason)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            let exists = recalled
                || sqlx::query_as::<_, (i64,)>("select seq from broadcast where account_id = $1 and seq = $2 and msg_time = $3")
                    .bind(account.as_str())
                    .bind(seq)
                    .bind(time)
                    .fetch_optional(&mut *tx)
                    .await?
                    .is_some();
            out.push(if exists { Recall::Done } else { Recall::NotFound });
            newly.push(recalled);
        }
        let recalled: Vec<Value> = keys.iter().zip(&newly).filter(|(_, new)| **new).map(|(k, _)| json!({ "MsgKey": k })).collect();
        if !recalled.is_empty() {
            // Public pages and feeds see the change by the account's row (`public`).
            sqlx::query("update official_account set content_changed_at = $2, content_version = content_version + 1 where account_id = $1")
                .bind(account.as_str())
                .bind(at)
                .execute(&mut *tx)
                .await?;
            let keys: Vec<&str> = recalled.iter().filter_map(|k| k["MsgKey"].as_str()).collect();
            // Recalling the pinned post unpins it (docs/rest-api.md §9).
            let unpin_sql = format!(
                "update official_account set pinned_msg_key = '' where account_id = $1 and pinned_msg_key in ({})",
                (2..2 + keys.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
            );
            let unpinned = sqlx::query(&unpin_sql).bind(account.as_str());
            let unpinned = keys.iter().fold(unpinned, |q, k| q.bind(*k)).persistent(false).execute(&mut *tx).await?.rows_affected() == 1;
            if unpinned {
                record(&mut tx, AuditAction::PostPinned, Some(account.as_str()), "unpinned by its recall").await?;
                profile_changed = true;
            }
            record(&mut tx, AuditAction::BroadcastRecalled, Some(account.as_str()), &format!("broadcast {}", keys.join(", "))).await?;
            let event = fields(vec![("Official_Account", json!(account.as_str())), ("WithdrawMsgList", json!(recalled))]);
            enqueue(&mut tx, &self.webhooks, "OfficialAccount.CallbackAfterMsgWithDraw", event).await?;
        }
        let mut changes: Vec<Change> = keys
            .iter()
            .zip(&newly)
            .filter(|(_, new)| **new)
            .map(|(k, _)| Change::Recalled { account: account.clone(), user: None, key: k.clone() })
            .collect();
        if profile_changed {
            changes.push(Change::ProfileChanged { account: account.clone() });
        }
        self.commit_announcing(tx, changes).await?;
        if profile_changed {
            self.account_cache.forget(account.as_str());
        }
        self.webhook_queued();
        Ok(out)
    }
}
