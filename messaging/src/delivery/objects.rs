//! The protocol's objects and events (docs/client-protocol.md, "Objects" and "Events"), as types
//! spelled the way apps expect them. Built here once, so an operation's response and the hub's
//! events say the same thing the same way; the TypeScript client's `src/protocol.ts` is
//! generated from these types by this module's tests, which fail when the checked-in file
//! differs (`HERALD_WRITE_TS=1 cargo test -p messaging --lib objects` rewrites it).

use crate::message::MsgFlag;
use crate::profile::OfficialAccount;
use crate::MsgKey;
use serde::{Deserialize, Serialize};
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

/// `officialAccountInfo`: an account's profile as one user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct OfficialAccountInfo {
    #[serde(rename = "officialAccountID")]
    pub official_account_id: String,
    pub official_account_name: String,
    pub face_url: String,
    pub organization: String,
    pub introduction: String,
    pub custom_data: String,
    /// Unix seconds.
    pub create_time: i64,
    pub subscriber_count: i64,
    /// When the user subscribed; 0 when they do not.
    pub subscribe_time: i64,
    /// Absent when the user does not subscribe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub msg_flag: Option<MsgFlag>,
    pub unread_count: i64,
    /// The pinned post's MsgKey (docs/rest-api.md §9); `""` when none.
    pub pinned_msg_key: String,
}

/// `officialAccountInfo`; `subscription` None: the user does not subscribe.
pub fn account_info(a: &OfficialAccount, subscription: Option<&SubscriptionState>) -> OfficialAccountInfo {
    OfficialAccountInfo {
        official_account_id: a.id.clone(),
        official_account_name: a.name.clone(),
        face_url: a.face_url.clone(),
        organization: a.organization.clone(),
        introduction: a.introduction.clone(),
        custom_data: a.custom_string.clone(),
        create_time: a.create_time,
        subscriber_count: a.subscriber_num,
        subscribe_time: subscription.map_or(0, |s| s.subscribed_at),
        msg_flag: subscription.map(|s| s.msg_flag),
        unread_count: subscription.map_or(0, |s| s.unread),
        pinned_msg_key: a.pinned_msg_key.clone(),
    }
}

/// One reaction's count on a message, as one user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Reaction"))]
#[serde(rename_all = "camelCase")]
pub struct ReactionCount {
    /// An emoji or a name, at most 32 bytes.
    #[serde(rename = "reactionID")]
    pub reaction_id: String,
    #[serde(rename = "totalUserCount")]
    pub total: i64,
    pub reacted_by_me: bool,
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
    /// When the body was last edited (docs/rest-api.md §9); None: never.
    pub edited_at: Option<i64>,
    /// 1 as sent, one more per edit.
    pub version: i64,
    /// The poll's state as the reader sees it, for a poll.
    pub poll: Option<PollState>,
}

/// One option of a poll with its votes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PollOptionState {
    #[serde(rename = "optionID")]
    pub option_id: String,
    pub text: String,
    pub vote_count: i64,
}

/// `message.poll` (docs/rest-api.md §9): counts, the reader's own choice, never who voted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Poll"))]
#[serde(rename_all = "camelCase")]
pub struct PollState {
    pub question: String,
    pub options: Vec<PollOptionState>,
    pub allow_multiple: bool,
    /// Unix seconds; 0: no closing time.
    pub closes_at: i64,
    pub is_closed: bool,
    /// The option IDs this reader chose.
    pub my_votes: Vec<String>,
    /// Distinct users who voted.
    pub total_voters: i64,
}

impl PollState {
    /// The state of `poll` with `counts` (option ID → votes) and `voters`, for a reader who chose `mine`.
    pub fn of(poll: &crate::polls::Poll, counts: &[(String, i64)], voters: i64, mine: Vec<String>, now: i64) -> Self {
        PollState {
            question: poll.question.clone(),
            options: poll
                .options
                .iter()
                .map(|o| PollOptionState {
                    option_id: o.id.clone(),
                    text: o.text.clone(),
                    vote_count: counts.iter().find(|(id, _)| *id == o.id).map_or(0, |(_, n)| *n),
                })
                .collect(),
            allow_multiple: poll.multiple,
            closes_at: poll.closes_at,
            is_closed: poll.is_closed(now),
            my_votes: mine,
            total_voters: voters,
        }
    }
}

/// The protocol's `message`, as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "Message"))]
#[serde(rename_all = "camelCase")]
pub struct WireMessage {
    pub msg_key: String,
    #[serde(rename = "conversationID")]
    pub conversation_id: String,
    #[serde(rename = "officialAccountID")]
    pub official_account_id: String,
    /// The account's ID for a broadcast or a reply; the user's for their own message.
    pub sender: String,
    pub is_broadcast: bool,
    /// Unix seconds.
    pub time: i64,
    /// Tencent message elements (docs/rest-api.md §6); empty once recalled.
    #[cfg_attr(test, ts(type = "MsgElement[]"))]
    pub msg_body: Value,
    pub cloud_custom_data: String,
    pub is_revoked: bool,
    pub reactions: Vec<ReactionCount>,
    /// The body was changed after sending (docs/rest-api.md §9).
    pub is_edited: bool,
    /// When it was last edited, Unix seconds; 0 when never.
    pub edit_time: i64,
    /// A poll's state; absent for anything else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub poll: Option<PollState>,
}

impl Message {
    pub fn is_broadcast(&self) -> bool {
        self.conversation_user.is_none()
    }

    /// The protocol's `message`. A recalled message keeps its key and time, never its content.
    pub fn to_wire(&self) -> WireMessage {
        WireMessage {
            msg_key: self.key.to_string(),
            conversation_id: conversation_id(&self.account),
            official_account_id: self.account.clone(),
            sender: self.sender.clone(),
            is_broadcast: self.is_broadcast(),
            time: self.time,
            msg_body: if self.revoked { json!([]) } else { self.body.clone() },
            cloud_custom_data: if self.revoked { String::new() } else { self.cloud_custom_data.clone() },
            is_revoked: self.revoked,
            reactions: self.reactions.clone(),
            is_edited: self.edited_at.is_some() && !self.revoked,
            edit_time: if self.revoked { 0 } else { self.edited_at.unwrap_or(0) },
            poll: if self.revoked { None } else { self.poll.clone() },
        }
    }
}

/// What the server tells a connected client without being asked: each variant is one `event`
/// of the protocol, with its `data`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "ServerEvent"))]
#[serde(tag = "event", content = "data")]
pub enum Event {
    /// The user subscribed, from any device or by an administrator's `add_subscriber`.
    #[serde(rename = "onOfficialAccountSubscribed", rename_all = "camelCase")]
    Subscribed { official_account_info: OfficialAccountInfo },
    /// The user unsubscribed, or `delete_subscriber` removed them.
    #[serde(rename = "onOfficialAccountUnsubscribed")]
    Unsubscribed {
        #[serde(rename = "officialAccountID")]
        official_account_id: String,
    },
    /// The account was destroyed.
    #[serde(rename = "onOfficialAccountDeleted")]
    AccountDeleted {
        #[serde(rename = "officialAccountID")]
        official_account_id: String,
    },
    /// The account's profile changed.
    #[serde(rename = "onOfficialAccountInfoChanged", rename_all = "camelCase")]
    InfoChanged { official_account_info: OfficialAccountInfo },
    /// A broadcast (not for `Discard`), or a one-to-one message in one of the user's conversations.
    #[serde(rename = "onRecvNewMessage")]
    NewMessage { message: WireMessage },
    /// A message was recalled.
    #[serde(rename = "onRecvMessageRevoked", rename_all = "camelCase")]
    MessageRevoked {
        #[serde(rename = "conversationID")]
        conversation_id: String,
        msg_key: String,
    },
    /// A message's reaction counts changed (at most one event per message per second).
    #[serde(rename = "onMessageReactionsChanged", rename_all = "camelCase")]
    ReactionsChanged {
        #[serde(rename = "conversationID")]
        conversation_id: String,
        msg_key: String,
        reactions: Vec<ReactionCount>,
    },
    /// The sum of the user's unread counts over their accounts changed.
    #[serde(rename = "onTotalUnreadMessageCountChanged", rename_all = "camelCase")]
    TotalUnreadChanged { total_unread_count: i64 },
    /// A post was edited: the message as it reads now (docs/rest-api.md §9).
    #[serde(rename = "onRecvMessageModified")]
    MessageModified { message: WireMessage },
    /// A poll's counts changed (at most one event per message per second).
    #[serde(rename = "onPollChanged", rename_all = "camelCase")]
    PollChanged {
        #[serde(rename = "conversationID")]
        conversation_id: String,
        msg_key: String,
        poll: PollState,
    },
}

/// An event frame, serialized (once, however many connections it goes to).
pub fn event_frame(event: &Event) -> String {
    serde_json::to_string(event).unwrap_or_default()
}

/// A frame for the console's Inbox socket (not part of the client protocol): `name` with `data`.
pub fn console_frame(name: &str, data: Value) -> String {
    json!({ "event": name, "data": data }).to_string()
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
            edited_at: Some(120),
            version: 2,
            poll: None,
        };
        let j = serde_json::to_value(m.to_wire()).unwrap();
        assert_eq!(j["msgKey"], "3_1_100");
        assert_eq!(j["conversationID"], "c2c_@TOA#_a");
        assert_eq!(j["msgBody"], json!([]));
        assert_eq!(j["isRevoked"], true);
        assert!(!j.to_string().contains("secret"));
    }

    #[test]
    fn an_event_frame_names_the_event_and_carries_its_data() {
        let frame = event_frame(&Event::MessageRevoked { conversation_id: conversation_id("@TOA#_a"), msg_key: "3_1_100".into() });
        let j: Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(j, json!({ "event": "onRecvMessageRevoked", "data": { "conversationID": "c2c_@TOA#_a", "msgKey": "3_1_100" } }));
        let total: Value = serde_json::from_str(&event_frame(&Event::TotalUnreadChanged { total_unread_count: 4 })).unwrap();
        assert_eq!(total, json!({ "event": "onTotalUnreadMessageCountChanged", "data": { "totalUnreadCount": 4 } }));
    }

    /// A Tencent message element, for the TypeScript declarations only (bodies stay JSON here).
    #[derive(ts_rs::TS)]
    #[allow(dead_code)]
    struct MsgElement {
        #[ts(rename = "MsgType")]
        msg_type: String,
        #[ts(rename = "MsgContent", type = "Record<string, unknown>")]
        msg_content: (),
    }

    /// `clients/js/src/protocol.ts`, from the types above.
    fn typescript() -> String {
        use ts_rs::TS;
        // Counts and times are i64 here and numbers in JavaScript (all of them are far below 2^53).
        let config = ts_rs::Config::new().with_large_int("number");
        let decls = [
            crate::message::MsgFlag::decl(&config),
            OfficialAccountInfo::decl(&config),
            ReactionCount::decl(&config),
            PollOptionState::decl(&config),
            PollState::decl(&config),
            MsgElement::decl(&config),
            WireMessage::decl(&config),
            Event::decl(&config),
        ];
        let mut out = String::from(
            "// Generated from messaging/src/delivery/objects.rs by its tests: do not edit.\n\
             // Regenerate with: HERALD_WRITE_TS=1 cargo test -p messaging --lib objects\n",
        );
        for decl in decls {
            out.push_str("\nexport ");
            out.push_str(&decl);
            out.push('\n');
        }
        out
    }

    #[test]
    fn the_typescript_clients_protocol_types_are_the_ones_generated_from_these() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../clients/js/src/protocol.ts");
        let generated = typescript();
        if std::env::var_os("HERALD_WRITE_TS").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let checked_in = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            checked_in == generated,
            "clients/js/src/protocol.ts differs from the Rust protocol types; run HERALD_WRITE_TS=1 cargo test -p messaging --lib objects"
        );
    }
}
