//! The protocol's objects (docs/client-protocol.md, "Objects"), spelled as apps expect them. Built here
//! once, so an operation's response and the hub's events say the same thing the same way.

use crate::message::MsgFlag;
use crate::profile::OfficialAccount;
use crate::MsgKey;
use serde_json::{json, Value};

/// The conversation ID an account's subscriber sees.
pub fn conversation_id(account: &str) -> String {
    format!("c2c_{account}")
}

/// A user's subscription as `officialAccountInfo` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionState {
    pub subscribed_at: i64,
    pub msg_flag: MsgFlag,
    pub unread: i64,
}

/// `officialAccountInfo`; `subscription` None: the user does not subscribe.
pub fn account_info(a: &OfficialAccount, subscription: Option<&SubscriptionState>) -> Value {
    let mut info = json!({
        "officialAccountID": a.id,
        "officialAccountName": a.name,
        "faceUrl": a.face_url,
        "organization": a.organization,
        "introduction": a.introduction,
        "customData": a.custom_string,
        "createTime": a.create_time,
        "subscriberCount": a.subscriber_num,
        "subscribeTime": subscription.map_or(0, |s| s.subscribed_at),
        "unreadCount": subscription.map_or(0, |s| s.unread),
    });
    if let Some(s) = subscription {
        info["msgFlag"] = json!(s.msg_flag.as_str());
    }
    info
}

/// One reaction's count on a message, as one user sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionCount {
    pub reaction_id: String,
    pub total: i64,
    pub reacted_by_me: bool,
}

pub fn reactions_json(reactions: &[ReactionCount]) -> Value {
    Value::Array(
        reactions
            .iter()
            .map(|r| json!({ "reactionID": r.reaction_id, "totalUserCount": r.total, "reactedByMe": r.reacted_by_me }))
            .collect(),
    )
}

/// A message of conversation `c2c_{account}`: a broadcast or a one-to-one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub key: MsgKey,
    pub account: String,
    /// The subscriber of a one-to-one message; None for a broadcast.
    pub conversation_user: Option<String>,
    /// The account for a broadcast or a reply, the subscriber for their own message.
    pub sender: String,
    pub time: i64,
    pub body: Value,
    pub cloud_custom_data: String,
    pub revoked: bool,
    pub reactions: Vec<ReactionCount>,
}

impl Message {
    pub fn is_broadcast(&self) -> bool {
        self.conversation_user.is_none()
    }

    /// The protocol's `message`. A recalled message keeps its key and time, never its content.
    pub fn to_json(&self) -> Value {
        json!({
            "msgKey": self.key.to_string(),
            "conversationID": conversation_id(&self.account),
            "officialAccountID": self.account,
            "sender": self.sender,
            "isBroadcast": self.is_broadcast(),
            "time": self.time,
            "msgBody": if self.revoked { json!([]) } else { self.body.clone() },
            "cloudCustomData": if self.revoked { "" } else { self.cloud_custom_data.as_str() },
            "isRevoked": self.revoked,
            "reactions": reactions_json(&self.reactions),
        })
    }
}

/// An event frame, serialized (once, however many connections it goes to).
pub fn event_frame(event: &str, data: Value) -> String {
    json!({ "event": event, "data": data }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recalled_message_keeps_its_key_but_not_its_content() {
        let m = Message {
            key: MsgKey::broadcast(3, 100),
            account: "@TOA#_a".into(),
            conversation_user: None,
            sender: "@TOA#_a".into(),
            time: 100,
            body: json!([{ "MsgType": "TIMTextElem", "MsgContent": { "Text": "secret" } }]),
            cloud_custom_data: "x".into(),
            revoked: true,
            reactions: vec![],
        };
        let j = m.to_json();
        assert_eq!(j["msgKey"], "3_1_100");
        assert_eq!(j["conversationID"], "c2c_@TOA#_a");
        assert_eq!(j["msgBody"], json!([]));
        assert_eq!(j["isRevoked"], true);
        assert!(!j.to_string().contains("secret"));
    }
}
