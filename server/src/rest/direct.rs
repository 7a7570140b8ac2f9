//! Service `openim`: one-to-one messages between an account and a subscriber (docs/rest-api.md §7).

use super::Payload;
use messaging::direct::{online_only_for_life_time, Conversation, NewDirectMessage};
use messaging::message::{MsgBody, SendControls};
use messaging::{InvalidField, Messaging, OfficialAccountId, UserId};
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Deserialize)]
pub struct SendMsg {
    #[serde(rename = "From_Account", default)]
    from_account: String,
    #[serde(rename = "To_Account", default)]
    to_account: String,
    #[serde(rename = "MsgRandom")]
    msg_random: Option<u32>,
    #[serde(rename = "MsgBody")]
    msg_body: Option<Value>,
    #[serde(rename = "CloudCustomData", default)]
    cloud_custom_data: String,
    #[serde(rename = "MsgLifeTime")]
    msg_life_time: Option<i64>,
    #[serde(rename = "OfflinePushInfo")]
    offline_push_info: Option<Map<String, Value>>,
    #[serde(rename = "SendMsgControl", default)]
    send_msg_control: Vec<String>,
    #[serde(rename = "ForbidCallbackControl", default)]
    forbid_callback_control: Vec<String>,
}

/// [sendmsg] An admin sends as the account to a subscriber, or as a subscriber to the account.
/// Anyone else as recipient is refused: an account may only message its own subscribers.
pub async fn sendmsg(m: &Messaging, req: SendMsg) -> Payload {
    let conversation = Conversation::between("From_Account", &req.from_account, "To_Account", &req.to_account)?;
    let random = req.msg_random.ok_or_else(|| InvalidField::new("MsgRandom", "required (a 32-bit unsigned integer)"))?;
    let body = MsgBody::parse("MsgBody", req.msg_body.unwrap_or(Value::Null))?;
    let online_only = online_only_for_life_time(req.msg_life_time)?;
    let controls = SendControls::for_direct(&req.send_msg_control, &req.forbid_callback_control)?;
    let sent = m
        .send_direct(NewDirectMessage {
            conversation,
            random,
            body,
            cloud_custom_data: req.cloud_custom_data,
            offline_push_info: req.offline_push_info.map(Value::Object),
            online_only,
            no_unread: controls.no_unread,
            no_last_msg: controls.no_last_msg,
            forbid_before_callback: controls.forbid_before_callback,
            forbid_after_callback: controls.forbid_after_callback,
            origin: None,
        })
        .await?;
    Ok(Map::from_iter([("MsgTime".to_string(), json!(sent.msg_time)), ("MsgKey".to_string(), json!(sent.msg_key))]))
}

#[derive(Deserialize)]
pub struct AdminGetRoamMsg {
    /// Older clients (PyPI tencentcloud-sdk-python-im) send From_Account / To_Account.
    #[serde(rename = "Operator_Account", alias = "From_Account", default)]
    operator_account: String,
    #[serde(rename = "Peer_Account", alias = "To_Account", default)]
    peer_account: String,
    #[serde(rename = "MaxCnt")]
    max_cnt: Option<i64>,
    #[serde(rename = "MinTime", default)]
    min_time: i64,
    #[serde(rename = "MaxTime")]
    max_time: Option<i64>,
    #[serde(rename = "LastMsgKey")]
    last_msg_key: Option<String>,
}

/// [admin_getroammsg] One conversation's history, newest first.
pub async fn admin_getroammsg(m: &Messaging, req: AdminGetRoamMsg) -> Payload {
    let conversation = Conversation::between("Operator_Account", &req.operator_account, "Peer_Account", &req.peer_account)?;
    let count = req.max_cnt.ok_or_else(|| InvalidField::new("MaxCnt", "required (1–100)"))?;
    let page = m.direct_history(&conversation, count, req.min_time, req.max_time.unwrap_or(i64::MAX), req.last_msg_key.as_deref()).await?;
    let list: Vec<Value> = page
        .messages
        .iter()
        .map(|d| {
            json!({
                "From_Account": d.from_account, "To_Account": d.to_account, "MsgSeq": d.seq, "MsgRandom": d.random,
                "MsgTimeStamp": d.msg_time, "MsgKey": d.msg_key(), "MsgBody": d.body_json(),
                "CloudCustomData": d.cloud_custom_data,
            })
        })
        .collect();
    let last = page.messages.last();
    Ok(Map::from_iter([
        ("Complete".to_string(), json!(u8::from(page.complete))),
        ("MsgCnt".to_string(), json!(list.len())),
        ("LastMsgTime".to_string(), json!(last.map(|d| d.msg_time).unwrap_or(0))),
        ("LastMsgKey".to_string(), json!(last.map(|d| d.msg_key()).unwrap_or_default())),
        ("MsgList".to_string(), json!(list)),
    ]))
}

#[derive(Deserialize)]
pub struct QueryOnlineStatus {
    #[serde(rename = "To_Account", default)]
    to_account: Vec<String>,
    #[serde(rename = "IsNeedDetail", default)]
    is_need_detail: u8,
}

/// [query_online_status] Who has an open client connection (on any node), on how many.
pub async fn query_online_status(m: &Messaging, req: QueryOnlineStatus) -> Payload {
    let users = req.to_account.iter().map(|u| UserId::parse("To_Account", u)).collect::<Result<Vec<_>, _>>()?;
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for (user, status) in m.online_status(&users).await? {
        match status {
            Ok(connections) => {
                let mut r = json!({ "To_Account": user, "Status": if connections > 0 { "Online" } else { "Offline" } });
                if req.is_need_detail == 1 && connections > 0 {
                    r["Detail"] = json!((0..connections).map(|_| json!({ "Platform": "Web", "Status": "Online" })).collect::<Vec<_>>());
                }
                results.push(r);
            }
            Err(e) => errors.push(json!({ "To_Account": user, "ErrorCode": super::core_code(&e) })),
        }
    }
    let mut out = Map::from_iter([("QueryResult".to_string(), json!(results))]);
    if !errors.is_empty() {
        out.insert("ErrorList".into(), json!(errors));
    }
    Ok(out)
}

#[derive(Deserialize)]
pub struct AdminSetMsgRead {
    #[serde(rename = "Report_Account", default)]
    report_account: String,
    #[serde(rename = "Peer_Account", default)]
    peer_account: String,
    #[serde(rename = "MsgReadTime")]
    msg_read_time: Option<i64>,
}

/// [admin_set_msg_read] A subscriber has read the conversation with an account up to a time:
/// the same read position the client protocol's markConversationRead moves.
pub async fn admin_set_msg_read(m: &Messaging, req: AdminSetMsgRead) -> Payload {
    let user = UserId::parse("Report_Account", &req.report_account)?;
    let account = OfficialAccountId::parse("Peer_Account", &req.peer_account)?;
    m.mark_read_until(&user, &account, req.msg_read_time).await?;
    Ok(Map::new())
}

#[derive(Deserialize)]
pub struct GetC2cUnreadMsgNum {
    #[serde(rename = "To_Account", default)]
    to_account: String,
    #[serde(rename = "Peer_Account", default)]
    peer_account: Vec<String>,
}

/// [get_c2c_unread_msg_num] A subscriber's unread counts, in total and per account.
pub async fn get_c2c_unread_msg_num(m: &Messaging, req: GetC2cUnreadMsgNum) -> Payload {
    let user = UserId::parse("To_Account", &req.to_account)?;
    let (total, peers) = m.unread_counts(&user, &req.peer_account).await?;
    let mut list = Vec::new();
    let mut errors = Vec::new();
    for (peer, r) in peers {
        match r {
            Ok(n) => list.push(json!({ "Peer_Account": peer, "C2CUnreadMsgNum": n })),
            Err(e) => errors.push(json!({ "Peer_Account": peer, "ErrorCode": super::core_code(&e) })),
        }
    }
    let mut out = Map::from_iter([("AllC2CUnreadMsgNum".to_string(), json!(total))]);
    if !req.peer_account.is_empty() {
        out.insert("C2CUnreadMsgNumList".into(), json!(list));
    }
    if !errors.is_empty() {
        out.insert("ErrorList".into(), json!(errors));
    }
    Ok(out)
}

#[derive(Deserialize)]
pub struct AdminMsgWithdraw {
    #[serde(rename = "From_Account", default)]
    from_account: String,
    #[serde(rename = "To_Account", default)]
    to_account: String,
    #[serde(rename = "MsgKey", default)]
    msg_key: String,
}

/// [admin_msgwithdraw] Recalls one one-to-one message (20022 unknown, 20023 already recalled).
pub async fn admin_msgwithdraw(m: &Messaging, req: AdminMsgWithdraw) -> Payload {
    let conversation = Conversation::between("From_Account", &req.from_account, "To_Account", &req.to_account)?;
    m.recall_direct(&conversation, &req.msg_key).await?;
    Ok(Map::new())
}
