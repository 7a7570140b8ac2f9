//! The account's side of one-to-one conversations (the console's Inbox): which subscribers
//! wrote, newest first, with what the account has not read yet (`account_read_seq`, a read
//! position like the subscriber's own), and replying as the account.

use super::objects::Message;
use crate::direct::{Conversation, Direction, NewDirectMessage};
use crate::error::{Error, InvalidField, Result};
use crate::ids::{OfficialAccountId, UserId};
use crate::message::MsgBody;
use crate::Messaging;

/// Conversations listed at most.
pub const INBOX_PAGE_MAX: i64 = 100;

/// Characters of the last message shown in the list.
const PREVIEW_CHARS: usize = 80;

/// One conversation of an account, as its Inbox lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxRow {
    pub subscriber: String,
    /// Unix seconds of its last message (0: none to show).
    pub last_time: i64,
    /// What its last message says, shortened (empty: none to show). The last message is the
    /// newest one not sent with `SendMsgControl: ["NoLastMsg"]` and not recalled.
    pub last_text: String,
    /// Messages from the subscriber the account has not read.
    pub unread: i64,
}

/// A message's line in the Inbox list: its text, else what it holds ("Image", or the element's
/// type).
fn preview(body: &str) -> String {
    let body: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let elements = body.as_array().map(Vec::as_slice).unwrap_or_default();
    let of_type = |t: &str| elements.iter().find(|e| e.get("MsgType").and_then(|v| v.as_str()) == Some(t));
    if let Some(text) = of_type("TIMTextElem").and_then(|e| e.pointer("/MsgContent/Text")).and_then(|t| t.as_str()) {
        let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        return match line.char_indices().nth(PREVIEW_CHARS) {
            Some((cut, _)) => format!("{}…", &line[..cut]),
            None => line,
        };
    }
    if of_type("TIMImageElem").is_some() {
        return "Image".into();
    }
    elements
        .first()
        .and_then(|e| e.get("MsgType"))
        .and_then(|t| t.as_str())
        .unwrap_or("")
        .trim_start_matches("TIM")
        .trim_end_matches("Elem")
        .to_owned()
}

impl Messaging {
    /// The account's conversations that have messages, newest first.
    pub async fn inbox(&self, account: &OfficialAccountId, limit: i64) -> Result<Vec<InboxRow>> {
        if !(1..=INBOX_PAGE_MAX).contains(&limit) {
            return Err(InvalidField::new("limit", format!("must be between 1 and {INBOX_PAGE_MAX} (got {limit})")).into());
        }
        self.account(account).await?;
        let rows: Vec<(String, i64, String, i64)> = sqlx::query_as(
            "select s.subscriber_account, coalesce(l.msg_time, 0) as last_time, coalesce(l.body, '') as last_body, \
               (select count(*) from c2c_message u where u.account_id = s.account_id and u.subscriber_account = s.subscriber_account \
                 and u.from_account = s.subscriber_account and u.seq > s.account_read_seq and u.recalled_at is null) as unread \
             from subscription s \
             left join c2c_message l on l.account_id = s.account_id and l.subscriber_account = s.subscriber_account \
               and l.seq = (select max(m.seq) from c2c_message m where m.account_id = s.account_id \
                 and m.subscriber_account = s.subscriber_account and m.no_last_msg = 0 and m.recalled_at is null) \
             where s.account_id = $1 and s.c2c_last_seq > 0 \
             order by last_time desc, s.subscriber_account limit $2",
        )
        .bind(account.as_str())
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(subscriber, last_time, last_body, unread)| InboxRow { subscriber, last_time, last_text: preview(&last_body), unread })
            .collect())
    }

    /// The newest `count` messages of the conversation with `user`, oldest first (as a chat
    /// shows them), and marks them read on the account's side.
    pub async fn inbox_conversation(&self, account: &OfficialAccountId, user: &UserId, count: i64) -> Result<Vec<Message>> {
        let conversation = Conversation { account: account.clone(), subscriber: user.clone(), direction: Direction::AccountToSubscriber };
        // Roaming history (recalled messages are not in it), oldest first.
        let page = self.direct_history(&conversation, count, 0, i64::MAX, None).await?;
        let messages: Vec<Message> = page
            .messages
            .into_iter()
            .rev()
            .map(|d| Message {
                key: crate::MsgKey::direct(d.seq, d.random, d.msg_time),
                account: account.to_string(),
                conversation_user: Some(user.to_string()),
                time: d.msg_time,
                body: d.body_json(),
                sender: d.from_account,
                cloud_custom_data: d.cloud_custom_data,
                revoked: false,
                reactions: vec![],
                edited_at: None,
                version: 1,
                poll: None,
            })
            .collect();
        sqlx::query("update subscription set account_read_seq = c2c_last_seq where account_id = $1 and subscriber_account = $2")
            .bind(account.as_str())
            .bind(user.as_str())
            .execute(&self.store.pool)
            .await?;
        Ok(messages)
    }

    /// The account replies to `user` (a text message; C2C webhooks and push apply as for REST
    /// `openim/sendmsg`).
    pub async fn reply_as_account(&self, account: &OfficialAccountId, user: &UserId, text: &str) -> Result<()> {
        if text.trim().is_empty() {
            return Err(InvalidField::new("Reply", "must not be empty").into());
        }
        let body = MsgBody::parse("Reply", serde_json::json!([{ "MsgType": "TIMTextElem", "MsgContent": { "Text": text } }]))?;
        let conversation = Conversation { account: account.clone(), subscriber: user.clone(), direction: Direction::AccountToSubscriber };
        let message = NewDirectMessage::plain(conversation, body, String::new(), None);
        match self.send_direct(message).await {
            Err(Error::NotSubscribed { .. }) => Err(Error::Forbidden(format!("{user} no longer subscribes to {account}"))),
            // Recorded after the message's own transaction (a REST one-to-one send is not
            // audited, so the message path does not write audit rows).
            Ok(sent) => {
                self.audit(crate::audit::AuditAction::InboxReply, Some(account.as_str()), &format!("to {user}: {}", sent.msg_key)).await
            }
            Err(e) => Err(e),
        }
    }
}
