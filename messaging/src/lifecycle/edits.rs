//! Editing a sent post: the rules (window, recalled, size, a poll stays the same poll, the
//! "before send" webhook), the stored versions, and the announcements.

use crate::audit::{record, AuditAction};
use crate::broadcasts::StoredBroadcast;
use crate::delivery::Change;
use crate::error::{Error, InvalidField, Result};
use crate::ids::OfficialAccountId;
use crate::message::{message_size, MsgBody, MESSAGE_MAX_BYTES};
use crate::polls::Poll;
use crate::webhooks::{enqueue, fields};
use crate::{Messaging, MsgKey};
use serde_json::{json, Value};

/// What an edit answers (`official_account_msg_modify`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    pub version: i64,
    pub edit_time: i64,
}

/// One version of an edited post, as the console lists them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct PostVersion {
    pub version: i64,
    pub body: String,
    pub made_at: i64,
    /// Who made it (a console user, the REST administrator); empty for the version as sent.
    pub made_by: String,
}

const SECS_PER_DAY: i64 = 24 * 3600;

/// A poll stays the poll it was (its options are what people voted for); a post that was not a
/// poll does not become one.
fn check_same_kind(before: &Value, after: &Value) -> Result<Option<Poll>, InvalidField> {
    let was = Poll::from_msg_body("MsgBody", before).and_then(Result::ok);
    let is = Poll::from_msg_body("MsgBody", after).transpose()?;
    match (was, is) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(InvalidField::new("MsgBody", "A post cannot become a poll by an edit; send the poll as a new post.")),
        (Some(_), None) => Err(InvalidField::new("MsgBody", "A poll stays a poll: the edit must keep its poll element.")),
        (Some(was), Some(is)) => {
            let ids = |p: &Poll| p.options.iter().map(|o| o.id.clone()).collect::<Vec<_>>();
            if ids(&was) != ids(&is) || was.multiple != is.multiple {
                return Err(InvalidField::new(
                    "MsgBody",
                    "An edit may reword a poll but not change its options or whether several may be chosen.",
                ));
            }
            Ok(Some(is))
        }
    }
}

impl Messaging {
    /// Replaces the body of broadcast `key` of `account` (docs/rest-api.md §9) and answers its new
    /// version. Refused, each with a sentence: editing turned off, a recalled post, a post older
    /// than the edit window, over 12 KB, a poll changed into something else, the app's webhook.
    #[tracing::instrument(name = "edit broadcast", skip_all, fields(account = %account))]
    pub async fn edit_broadcast(&self, account: &OfficialAccountId, key: &str, body: MsgBody) -> Result<Edited> {
        let window_days = i64::from(self.settings().edit_window_days);
        self.account(account).await?;
        if window_days == 0 {
            return Err(InvalidField::new("MsgKey", "Editing sent posts is turned off in this app's settings.").into());
        }
        let not_found = || InvalidField::new("MsgKey", format!("no post {key} in this account"));
        let k = MsgKey::parse(key).filter(MsgKey::is_broadcast).ok_or_else(not_found)?;
        let post = self.broadcast(account, key).await?.ok_or_else(not_found)?;
        if post.recalled_at.is_some() {
            return Err(InvalidField::new("MsgKey", "The post was recalled; a recalled post cannot be edited.").into());
        }
        let now = self.now();
        let age_days = (now - post.msg_time) / SECS_PER_DAY;
        if now - post.msg_time > window_days * SECS_PER_DAY {
            return Err(InvalidField::new(
                "MsgKey",
                format!("The post was sent {age_days} days ago; posts can be edited for {window_days} days after sending."),
            )
            .into());
        }
        let mut body = body;
        let size = message_size(&body, &post.cloud_custom_data);
        if size > MESSAGE_MAX_BYTES {
            return Err(Error::BroadcastTooLarge(size));
        }
        let sent_body = post.body_json();
        let mut poll = check_same_kind(&sent_body, body.as_json())?;
        let answer = self
            .webhooks
            .before(
                "OfficialAccount.CallbackBeforeSendMsg",
                fields(vec![
                    ("Official_Account", json!(account.as_str())),
                    ("OnlineOnlyFlag", json!(0)),
                    ("MsgBody", body.as_json().clone()),
                    ("CloudCustomData", json!(post.cloud_custom_data)),
                    ("MsgKey", json!(key)),
                ]),
            )
            .await;
        match answer.as_ref().and_then(|a| a.get("ErrorCode")).and_then(Value::as_i64).unwrap_or(0) {
            0 => {
                if let Some(new_body) = answer.as_ref().and_then(|a| a.get("MsgBody")) {
                    let replacement = MsgBody::parse("MsgBody", new_body.clone())
                        .ok()
                        .filter(|b| message_size(b, &post.cloud_custom_data) <= MESSAGE_MAX_BYTES)
                        .and_then(|b| Some((check_same_kind(&sent_body, b.as_json()).ok()?, b)));
                    match replacement {
                        Some((p, b)) => (poll, body) = (p, b),
                        None => tracing::warn!("the webhook's replacement MsgBody is invalid; saving the edit as made"),
                    }
                }
            }
            _ => return Err(Error::SendRefusedByWebhook),
        }
        if body.as_json() == &sent_body {
            // Nothing changed: nothing to store or announce.
            return Ok(Edited { version: post.version, edit_time: post.edited_at.unwrap_or(0) });
        }
        let editor = crate::audit::current_actor().name;
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "update broadcast set body = $4, version = version + 1, edited_at = $5 \
             where account_id = $1 and seq = $2 and msg_time = $3 and recalled_at is null and version = $6",
        )
        .bind(account.as_str())
        .bind(k.seq)
        .bind(k.time)
        .bind(body.to_json_string())
        .bind(now)
        .bind(post.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != 1 {
            return Err(InvalidField::new("MsgKey", "The post changed meanwhile (edited or recalled); reload it and try again.").into());
        }
        let version = post.version + 1;
        if post.version == 1 {
            insert_version(&mut tx, account, &post, 1, &post.body, post.msg_time, "").await?;
        }
        insert_version(&mut tx, account, &post, version, &body.to_json_string(), now, &editor).await?;
        if let Some(poll) = &poll {
            sqlx::query("update poll set closes_at = $3 where account_id = $1 and seq = $2")
                .bind(account.as_str())
                .bind(k.seq)
                .bind(poll.closes_at)
                .execute(&mut *tx)
                .await?;
        }
        // Public pages and feeds see the change by the account's row (`public`).
        sqlx::query("update official_account set content_changed_at = $2, content_version = content_version + 1 where account_id = $1")
            .bind(account.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        record(&mut tx, AuditAction::BroadcastEdited, Some(account.as_str()), &format!("broadcast {key}, version {version}")).await?;
        let event = fields(vec![
            ("Official_Account", json!(account.as_str())),
            ("MsgKey", json!(key)),
            ("MsgVersion", json!(version)),
            ("EditTime", json!(now)),
            ("MsgBody", body.as_json().clone()),
            ("CloudCustomData", json!(post.cloud_custom_data)),
        ]);
        enqueue(&mut tx, &self.webhooks, "OfficialAccount.CallbackAfterMsgModify", event).await?;
        self.commit_announcing(tx, vec![Change::Modified { account: account.clone(), key: key.to_owned() }]).await?;
        self.webhook_queued();
        Ok(Edited { version, edit_time: now })
    }

    /// Every version of broadcast `key`, oldest first; empty when it was never edited.
    pub async fn post_versions(&self, account: &OfficialAccountId, key: &str) -> Result<Vec<PostVersion>> {
        let Some(k) = MsgKey::parse(key).filter(MsgKey::is_broadcast) else { return Ok(vec![]) };
        Ok(sqlx::query_as(
            "select version, body, made_at, made_by from broadcast_version where account_id = $1 and seq = $2 order by version",
        )
        .bind(account.as_str())
        .bind(k.seq)
        .fetch_all(&self.store.pool)
        .await?)
    }
}

async fn insert_version(
    tx: &mut sqlx::AnyConnection,
    account: &OfficialAccountId,
    post: &StoredBroadcast,
    version: i64,
    body: &str,
    at: i64,
    by: &str,
) -> Result<()> {
    sqlx::query("insert into broadcast_version (account_id, seq, version, body, made_at, made_by) values ($1, $2, $3, $4, $5, $6)")
        .bind(account.as_str())
        .bind(post.seq)
        .bind(version)
        .bind(body)
        .bind(at)
        .bind(by)
        .execute(tx)
        .await?;
    Ok(())
}
