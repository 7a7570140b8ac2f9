//! Request frames → `messaging` calls → response frames. Parsing and the wire's spelling live
//! here; every rule (counts, lengths, who may do what) lives in `messaging::delivery`.
//!
//! Codes are the REST codes for the same condition (docs/client-protocol.md), mapped in [`code`] once.

use messaging::delivery::conversation::parse_conversation_id;
use messaging::delivery::objects::account_info;
use messaging::delivery::OpBudget;
use messaging::message::MsgFlag;
use messaging::public::InviteCode;
use messaging::{Error, InvalidField, Messaging, OfficialAccountId, UserId};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

pub struct Context<'a> {
    pub m: &'a Messaging,
    pub user: &'a UserId,
    /// This connection, as `Change::Message` names it.
    pub origin: &'a str,
}

/// Why a request failed, before or inside `messaging`.
enum Refusal {
    /// 60003: the frame is not a request.
    Frame(String),
    /// 60009: no such op.
    UnknownOp(String),
    Core(Error),
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        Refusal::Core(e)
    }
}
impl From<InvalidField> for Refusal {
    fn from(e: InvalidField) -> Self {
        Refusal::Core(e.into())
    }
}

/// The protocol's code for a refusal: REST's codes, with the ones docs/client-protocol.md names.
fn code(r: &Refusal) -> u32 {
    match r {
        Refusal::Frame(_) => 60003,
        Refusal::UnknownOp(_) => 60009,
        Refusal::Core(e) => match e {
            Error::Invalid(_) | Error::MalformedAccountId(_) => 10004,
            Error::AccountNotFound(_) => 10010,
            Error::NotSubscribed { .. } | Error::Forbidden(_) => 10007,
            e => crate::rest::core_code(e),
        },
    }
}

fn desc(r: &Refusal) -> String {
    match r {
        Refusal::Frame(s) => format!("not a request frame: {s}"),
        Refusal::UnknownOp(op) => format!("unknown op {op:?}"),
        Refusal::Core(e @ (Error::Storage(_) | Error::Internal(_))) => {
            tracing::error!(error = %e, "a client request failed inside");
            "internal error, retry later".into()
        }
        Refusal::Core(e) => e.to_string(),
    }
}

/// The answer to a frame that could not be read as a request.
pub fn not_a_request(why: &str) -> String {
    json!({ "id": null, "code": 60003, "desc": format!("not a request frame: {why}") }).to_string()
}

/// Answers one text frame (exactly one response per request).
pub async fn answer(ctx: &Context<'_>, budget: &mut OpBudget, text: &str) -> String {
    let frame: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return not_a_request(&format!("not JSON ({e})")),
    };
    let id = frame.get("id").cloned().filter(|v| v.is_number() || v.is_string()).unwrap_or(Value::Null);
    let result = match (&id, frame.get("op").and_then(Value::as_str)) {
        (Value::Null, _) => Err(Refusal::Frame("id (a number or a string) is required".into())),
        (_, None) => Err(Refusal::Frame("op (a string) is required".into())),
        (_, Some(op)) => match budget.take() {
            Err(e) => Err(e.into()),
            Ok(()) => run(ctx, op, frame.get("data").cloned().unwrap_or_else(|| json!({}))).await,
        },
    };
    match result {
        Ok(data) => json!({ "id": id, "code": 0, "desc": "", "data": data }).to_string(),
        Err(r) => json!({ "id": id, "code": code(&r), "desc": desc(&r) }).to_string(),
    }
}

/// `data` as `T`; a missing or mistyped field is named (10004).
fn data<T: DeserializeOwned>(data: Value) -> Result<T, Refusal> {
    serde_path_to_error::deserialize(data).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." { "data".to_owned() } else { field };
        Refusal::Core(InvalidField::new(&field, e.inner().to_string()).into())
    })
}

fn account(field: &str, id: &str) -> Result<OfficialAccountId, Refusal> {
    OfficialAccountId::parse(field, id).map_err(|e| Refusal::Core(Error::Invalid(e)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountArg {
    #[serde(rename = "officialAccountID")]
    official_account_id: String,
}

#[derive(Deserialize)]
struct SubscribeArg {
    #[serde(rename = "officialAccountID")]
    official_account_id: String,
    #[serde(rename = "inviteCode", default)]
    invite_code: Option<String>,
}

#[derive(Deserialize)]
struct InviteArg {
    #[serde(rename = "inviteCode")]
    invite_code: String,
}

#[derive(Deserialize)]
struct AccountList {
    #[serde(rename = "officialAccountIDList", default)]
    ids: Vec<String>,
}

#[derive(Deserialize)]
struct ReceiveOption {
    #[serde(rename = "officialAccountID")]
    official_account_id: String,
    #[serde(rename = "msgFlag")]
    msg_flag: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageList {
    #[serde(rename = "conversationID")]
    conversation_id: String,
    count: i64,
    last_msg_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MarkRead {
    #[serde(rename = "conversationID")]
    conversation_id: String,
    msg_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendMessage {
    #[serde(rename = "conversationID")]
    conversation_id: String,
    msg_body: Value,
    #[serde(default)]
    cloud_custom_data: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reaction {
    #[serde(rename = "conversationID")]
    conversation_id: String,
    msg_key: String,
    #[serde(rename = "reactionID")]
    reaction_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reactions {
    #[serde(rename = "conversationID")]
    conversation_id: String,
    msg_key_list: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vote {
    #[serde(rename = "conversationID")]
    conversation_id: String,
    msg_key: String,
    #[serde(rename = "optionIDs")]
    option_ids: Vec<String>,
}

async fn run(ctx: &Context<'_>, op: &str, d: Value) -> Result<Value, Refusal> {
    let (m, user) = (ctx.m, ctx.user);
    Ok(match op {
        "ping" => json!({}),
        "subscribeOfficialAccount" => {
            let a: SubscribeArg = data(d)?;
            let invite = a.invite_code.as_deref().filter(|c| !c.is_empty()).map(|c| InviteCode::parse("inviteCode", c)).transpose()?;
            m.subscribe(user, &account("officialAccountID", &a.official_account_id)?, invite.as_ref()).await?;
            json!({})
        }
        "resolveInviteCode" => {
            let a: InviteArg = data(d)?;
            let link = m.public().usable_invite(&InviteCode::parse("inviteCode", &a.invite_code)?).await?;
            let (info, sub) = m.accounts_info(user, &[account("inviteCode", &link.account)?]).await?.remove(0).1?;
            json!({ "officialAccountInfo": account_info(&info, sub.as_ref()) })
        }
        "unsubscribeOfficialAccount" => {
            let a: AccountArg = data(d)?;
            m.unsubscribe(user, &account("officialAccountID", &a.official_account_id)?).await?;
            json!({})
        }
        "getOfficialAccountsInfo" => {
            let a: AccountList = data(d)?;
            let ids = a.ids.iter().map(|i| account("officialAccountIDList", i)).collect::<Result<Vec<_>, _>>()?;
            let results: Vec<Value> = m
                .accounts_info(user, &ids)
                .await?
                .into_iter()
                .map(|(id, r)| match r {
                    Ok((info, sub)) => {
                        json!({ "resultCode": 0, "resultInfo": "", "officialAccountInfo": account_info(&info, sub.as_ref()) })
                    }
                    Err(e) => {
                        let r = Refusal::Core(e);
                        json!({ "resultCode": code(&r), "resultInfo": desc(&r), "officialAccountInfo": { "officialAccountID": id } })
                    }
                })
                .collect();
            json!({ "results": results })
        }
        "setMessageReceiveOption" => {
            let a: ReceiveOption = data(d)?;
            let flag = MsgFlag::parse("msgFlag", &a.msg_flag)?;
            m.set_receive_option(user, &account("officialAccountID", &a.official_account_id)?, flag).await?;
            json!({})
        }
        "getMessageList" => {
            let a: MessageList = data(d)?;
            let acc = parse_conversation_id("conversationID", &a.conversation_id)?;
            let (messages, finished) = m.conversation_messages(user, &acc, a.count, a.last_msg_key.as_deref()).await?;
            json!({ "messages": messages.iter().map(|x| x.to_wire()).collect::<Vec<_>>(), "isFinished": finished })
        }
        "markConversationRead" => {
            let a: MarkRead = data(d)?;
            let acc = parse_conversation_id("conversationID", &a.conversation_id)?;
            json!({ "unreadCount": m.mark_conversation_read(user, &acc, a.msg_key.as_deref()).await? })
        }
        "sendMessage" => {
            let a: SendMessage = data(d)?;
            let acc = parse_conversation_id("conversationID", &a.conversation_id)?;
            let message = m.send_as_subscriber(user, &acc, a.msg_body, a.cloud_custom_data, Some(ctx.origin.to_owned())).await?;
            json!({ "message": message.to_wire() })
        }
        "addMessageReaction" | "removeMessageReaction" => {
            let a: Reaction = data(d)?;
            let acc = parse_conversation_id("conversationID", &a.conversation_id)?;
            m.react(user, &acc, &a.msg_key, &a.reaction_id, op == "addMessageReaction").await?;
            json!({})
        }
        "getMessageReactions" => {
            let a: Reactions = data(d)?;
            let acc = parse_conversation_id("conversationID", &a.conversation_id)?;
            let results: Vec<Value> = m
                .message_reactions(user, &acc, &a.msg_key_list)
                .await?
                .into_iter()
                .map(|(key, reactions)| json!({ "msgKey": key, "reactions": reactions }))
                .collect();
            json!({ "results": results })
        }
        "votePoll" => {
            let a: Vote = data(d)?;
            let acc = parse_conversation_id("conversationID", &a.conversation_id)?;
            json!({ "poll": m.polls().vote(user, &acc, &a.msg_key, &a.option_ids).await? })
        }
        other => return Err(Refusal::UnknownOp(other.to_owned())),
    })
}
