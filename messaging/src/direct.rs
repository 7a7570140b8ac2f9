//! One-to-one messages between an official account and one of its subscribers (docs/rest-api.md §7).
//! The subscriber sees them in conversation `c2c_{officialAccountID}`.

use crate::error::{Error, InvalidField, Result};
use crate::ids::{OfficialAccountId, UserId, ACCOUNT_ID_PREFIX};
use crate::message::MsgBody;
use crate::push::{enqueue_direct_push, wants_push};
use crate::store::now;
use crate::webhooks::{enqueue, fields, refusal};
use crate::Messaging;
use serde_json::json;
use serde_json::Value;

pub const ROAM_PAGE_MAX: i64 = 100;
/// `MsgLifeTime` ceiling: seven days.
pub const MSG_LIFE_TIME_MAX: i64 = 604_800;

/// Whether a message with this `MsgLifeTime` is online only (0); absent means the ceiling.
pub fn online_only_for_life_time(life: Option<i64>) -> Result<bool, InvalidField> {
    let life = life.unwrap_or(MSG_LIFE_TIME_MAX);
    if !(0..=MSG_LIFE_TIME_MAX).contains(&life) {
        return Err(InvalidField::new("MsgLifeTime", format!("must be between 0 and {MSG_LIFE_TIME_MAX} (got {life})")));
    }
    Ok(life == 0)
}

/// Which side of the conversation wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    AccountToSubscriber,
    SubscriberToAccount,
}

/// A conversation between one account and one subscriber, from a (from, to) or
/// (operator, peer) pair of which exactly one is an official account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub account: OfficialAccountId,
    pub subscriber: UserId,
    pub direction: Direction,
}

impl Conversation {
    pub fn between(from_field: &str, from: &str, to_field: &str, to: &str) -> Result<Self, InvalidField> {
        let parse_account = |field, s| OfficialAccountId::parse(field, s);
        match (from.starts_with(ACCOUNT_ID_PREFIX), to.starts_with(ACCOUNT_ID_PREFIX)) {
            (true, false) => Ok(Self {
                account: parse_account(from_field, from)?,
                subscriber: UserId::parse(to_field, to)?,
                direction: Direction::AccountToSubscriber,
            }),
            (false, true) => Ok(Self {
                account: parse_account(to_field, to)?,
                subscriber: UserId::parse(from_field, from)?,
                direction: Direction::SubscriberToAccount,
            }),
            _ => Err(InvalidField::new(
                to_field,
                format!("one of {from_field} and {to_field} must be an official account (the other its subscriber)"),
            )),
        }
    }

    /// The conversation ID the subscriber sees.
    pub fn id(&self) -> String {
        crate::delivery::objects::conversation_id(self.account.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct NewDirectMessage {
    pub conversation: Conversation,
    pub random: u32,
    pub body: MsgBody,
    pub cloud_custom_data: String,
    /// Handed to the push hook when the account writes to an `AcceptAndNotify` subscriber.
    pub offline_push_info: Option<Value>,
    /// `MsgLifeTime` 0: deliver to a connected peer only, do not store.
    pub online_only: bool,
    /// `SendMsgControl`: stored with the message for the client protocol's unread counts and
    /// conversation list (`NoUnread`: not counted unread; `NoLastMsg`: not the last message).
    pub no_unread: bool,
    pub no_last_msg: bool,
    /// `ForbidCallbackControl`: skip the C2C "before send" / "after send" webhooks.
    pub forbid_before_callback: bool,
    pub forbid_after_callback: bool,
    /// The client connection that sent it (`Hub` connection origin), if any: it is not sent
    /// the message again as an event.
    pub origin: Option<String>,
}

impl NewDirectMessage {
    /// A stored message with no controls, a fresh random and no push info (the client
    /// protocol's `sendMessage`, the console's Inbox reply).
    pub fn plain(conversation: Conversation, body: MsgBody, cloud_custom_data: String, origin: Option<String>) -> Self {
        Self {
            conversation,
            random: rand::random(),
            body,
            cloud_custom_data,
            offline_push_info: None,
            online_only: false,
            no_unread: false,
            no_last_msg: false,
            forbid_before_callback: false,
            forbid_after_callback: false,
            origin,
        }
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoredDirectMessage {
    pub seq: i64,
    pub from_account: String,
    pub to_account: String,
    pub msg_time: i64,
    pub random: i64,
    pub body: String,
    pub cloud_custom_data: String,
}

impl StoredDirectMessage {
    pub fn msg_key(&self) -> String {
        crate::MsgKey::direct(self.seq, self.random, self.msg_time).to_string()
    }
    pub fn body_json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Array(vec![]))
    }
}

#[derive(Debug)]
pub struct RoamPage {
    pub messages: Vec<StoredDirectMessage>,
    pub complete: bool,
}

impl Messaging {
    /// Stores (unless online-only) a one-to-one message. The user must subscribe to the account.
    #[tracing::instrument(name = "send direct message", skip_all, fields(conversation = %m.conversation.id()))]
    pub async fn send_direct(&self, m: NewDirectMessage) -> Result<crate::broadcasts::Sent> {
        crate::message::Outgoing {
            body: &m.body,
            cloud_custom_data: &m.cloud_custom_data,
            offline_push_info: m.offline_push_info.as_ref(),
            online_only: m.online_only,
            no_last_msg: m.no_last_msg,
            online_only_said_as: "MsgLifeTime 0",
        }
        .check(Error::DirectMessageTooLarge)?;
        let c = &m.conversation;
        self.account(&c.account).await?;
        let (from, to) = match c.direction {
            Direction::AccountToSubscriber => (c.account.as_str(), c.subscriber.as_str()),
            Direction::SubscriberToAccount => (c.subscriber.as_str(), c.account.as_str()),
        };
        let message_fields = |extra: Vec<(&str, Value)>| {
            let mut f = fields(vec![
                ("From_Account", json!(from)),
                ("To_Account", json!(to)),
                ("MsgRandom", json!(m.random)),
                ("MsgBody", m.body.as_json().clone()),
                ("CloudCustomData", json!(m.cloud_custom_data)),
            ]);
            f.extend(fields(extra));
            f
        };
        if !m.forbid_before_callback {
            if let Some(code) = refusal(self.webhooks.before("C2C.CallbackBeforeSendMsg", message_fields(vec![])).await) {
                return Err(Error::RefusedByWebhook(code));
            }
        }
        let at = now();
        let mut tx = self.begin_write().await?;
        let from_subscriber = i64::from(c.direction == Direction::SubscriberToAccount);
        let seq: Option<(i64,)> = sqlx::query_as(
            "update subscription set c2c_last_seq = c2c_last_seq + $3, \
               last_send_msg_time = case when $4 = 1 then $5 else last_send_msg_time end \
             where account_id = $1 and subscriber_account = $2 returning c2c_last_seq",
        )
        .bind(c.account.as_str())
        .bind(c.subscriber.as_str())
        .bind(i64::from(!m.online_only))
        .bind(from_subscriber)
        .bind(at)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((seq,)) = seq else {
            return Err(Error::NotSubscribed { account: c.account.to_string(), user: c.subscriber.to_string() });
        };
        let counter = match c.direction {
            Direction::SubscriberToAccount => crate::insights::DayCounter::MessagesIn,
            Direction::AccountToSubscriber => crate::insights::DayCounter::Replies,
        };
        crate::insights::count_day(&mut tx, c.account.as_str(), self.now(), counter, 1).await?;
        let msg_key = crate::MsgKey::direct(seq, i64::from(m.random), at);
        let key = msg_key.to_string();
        if !m.online_only {
            sqlx::query(
                "insert into c2c_message (account_id, subscriber_account, seq, from_account, to_account, msg_time, random, body, \
                   cloud_custom_data, offline_push_info, no_unread, no_last_msg) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(c.account.as_str())
            .bind(c.subscriber.as_str())
            .bind(seq)
            .bind(from)
            .bind(to)
            .bind(at)
            .bind(i64::from(m.random))
            .bind(m.body.to_json_string())
            .bind(&m.cloud_custom_data)
            .bind(m.offline_push_info.as_ref().map(Value::to_string))
            .bind(i64::from(m.no_unread))
            .bind(i64::from(m.no_last_msg))
            .execute(&mut *tx)
            .await?;
            if c.direction == Direction::AccountToSubscriber && wants_push(m.offline_push_info.as_ref()) {
                enqueue_direct_push(&mut tx, &self.webhooks, c.account.as_str(), c.subscriber.as_str(), seq).await?;
            }
        }
        if !m.forbid_after_callback {
            let event = message_fields(vec![("MsgTime", json!(at)), ("MsgKey", json!(key))]);
            enqueue(&mut tx, &self.webhooks, "C2C.CallbackAfterSendMsg", event).await?;
        }
        let change = if m.online_only {
            let message = crate::delivery::objects::Message {
                key: msg_key,
                account: c.account.to_string(),
                conversation_user: Some(c.subscriber.to_string()),
                sender: from.to_owned(),
                time: at,
                body: m.body.as_json().clone(),
                cloud_custom_data: m.cloud_custom_data.clone(),
                revoked: false,
                reactions: vec![],
                edited_at: None,
                version: 1,
                poll: None,
            };
            crate::delivery::Change::Live {
                account: c.account.clone(),
                user: Some(c.subscriber.to_string()),
                message: Box::new(message.to_wire()),
            }
        } else {
            crate::delivery::Change::Message {
                account: c.account.clone(),
                user: Some(c.subscriber.to_string()),
                seq,
                origin: m.origin.clone(),
            }
        };
        self.commit_announcing(tx, vec![change]).await?;
        self.webhook_queued();
        self.push_queued();
        Ok(crate::broadcasts::Sent { msg_key: key, msg_time: at, duplicate: false })
    }

    /// `openim/admin_msgwithdraw`: recalls one stored message of the conversation; both sides'
    /// clients hear `onRecvMessageRevoked`.
    pub async fn recall_direct(&self, c: &Conversation, key: &str) -> Result<()> {
        let k = crate::MsgKey::parse(key)
            .ok_or_else(|| InvalidField::new("MsgKey", format!("not a MsgKey of the form {{seq}}_{{random}}_{{time}} (got {key:?})")))?;
        let mut tx = self.begin_write().await?;
        let found: Option<(Option<i64>,)> = sqlx::query_as(
            "select recalled_at from c2c_message where account_id = $1 and subscriber_account = $2 and seq = $3 and random = $4 and msg_time = $5",
        )
        .bind(c.account.as_str())
        .bind(c.subscriber.as_str())
        .bind(k.seq)
        .bind(k.random as i64)
        .bind(k.time)
        .fetch_optional(&mut *tx)
        .await?;
        match found {
            None => return Err(Error::MessageNotFound(key.to_owned())),
            Some((Some(_),)) => return Err(Error::MessageAlreadyRecalled(key.to_owned())),
            Some((None,)) => {}
        }
        sqlx::query("update c2c_message set recalled_at = $4 where account_id = $1 and subscriber_account = $2 and seq = $3")
            .bind(c.account.as_str())
            .bind(c.subscriber.as_str())
            .bind(k.seq)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        let change =
            crate::delivery::Change::Recalled { account: c.account.clone(), user: Some(c.subscriber.to_string()), key: key.to_owned() };
        self.commit_announcing(tx, vec![change]).await
    }

    /// A page of one conversation, newest first, within [min_time, max_time] and older than `before`.
    pub async fn direct_history(
        &self,
        c: &Conversation,
        count: i64,
        min_time: i64,
        max_time: i64,
        before: Option<&str>,
    ) -> Result<RoamPage> {
        if !(1..=ROAM_PAGE_MAX).contains(&count) {
            return Err(InvalidField::new("MaxCnt", format!("must be between 1 and {ROAM_PAGE_MAX} (got {count})")).into());
        }
        let before_seq = match before {
            None | Some("") => i64::MAX,
            Some(k) => crate::MsgKey::parse(k).ok_or_else(|| InvalidField::new("LastMsgKey", "not a MsgKey"))?.seq,
        };
        let mut rows: Vec<StoredDirectMessage> = sqlx::query_as(
            "select seq, from_account, to_account, msg_time, random, body, cloud_custom_data from c2c_message \
             where account_id = $1 and subscriber_account = $2 and seq < $3 and msg_time >= $4 and msg_time <= $5 and recalled_at is null \
             order by seq desc limit $6",
        )
        .bind(c.account.as_str())
        .bind(c.subscriber.as_str())
        .bind(before_seq)
        .bind(min_time)
        .bind(max_time)
        .bind(count + 1)
        .fetch_all(&self.store.pool)
        .await?;
        let complete = rows.len() as i64 <= count;
        rows.truncate(count as usize);
        Ok(RoamPage { messages: rows, complete })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_side_must_be_an_official_account() {
        let c = Conversation::between("From_Account", "@TOA#_news", "To_Account", "alice").unwrap();
        assert_eq!(c.direction, Direction::AccountToSubscriber);
        assert_eq!(c.id(), "c2c_@TOA#_news");
        let back = Conversation::between("From_Account", "alice", "To_Account", "@TOA#_news").unwrap();
        assert_eq!(back.direction, Direction::SubscriberToAccount);
        assert!(Conversation::between("From_Account", "alice", "To_Account", "bob").is_err());
        assert!(Conversation::between("From_Account", "@TOA#_a", "To_Account", "@TOA#_b").is_err());
    }
}
