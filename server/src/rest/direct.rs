//! Service `openim`: one-to-one messages between an account and a subscriber (docs/rest-api.md §7).

use super::messages::Sent;
use super::{answer, Payload};
use messaging::direct::{online_only_for_life_time, Conversation, NewDirectMessage};
use messaging::message::{MsgBody, SendControls};
use messaging::{InvalidField, Messaging, OfficialAccountId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
    answer(Sent { msg_time: sent.msg_time, msg_key: sent.msg_key })
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
    let msg_list: Vec<RoamMsg> = page
        .messages
        .iter()
        .map(|d| RoamMsg {
            from_account: &d.from_account,
            to_account: &d.to_account,
            msg_seq: d.seq,
            msg_random: d.random,
            msg_time_stamp: d.msg_time,
            msg_key: d.msg_key(),
            msg_body: d.body_json(),
            cloud_custom_data: &d.cloud_custom_data,
        })
        .collect();
    let last = page.messages.last();
    answer(RoamMsgs {
        complete: u8::from(page.complete),
        msg_cnt: msg_list.len(),
        last_msg_time: last.map(|d| d.msg_time).unwrap_or(0),
        last_msg_key: last.map(|d| d.msg_key()).unwrap_or_default(),
        msg_list,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RoamMsgs<'a> {
    complete: u8,
    msg_cnt: usize,
    last_msg_time: i64,
    last_msg_key: String,
    msg_list: Vec<RoamMsg<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RoamMsg<'a> {
    #[serde(rename = "From_Account")]
    from_account: &'a str,
    #[serde(rename = "To_Account")]
    to_account: &'a str,
    msg_seq: i64,
    msg_random: i64,
    msg_time_stamp: i64,
    msg_key: String,
    msg_body: Value,
    cloud_custom_data: &'a str,
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
    let mut query_result = Vec::new();
    let mut error_list = Vec::new();
    for (user, status) in m.online_status(&users).await? {
        match status {
            Ok(connections) => query_result.push(OnlineStatus {
                status: if connections > 0 { "Online" } else { "Offline" },
                detail: (req.is_need_detail == 1 && connections > 0)
                    .then(|| (0..connections).map(|_| Device { platform: "Web", status: "Online" }).collect()),
                to_account: user.to_string(),
            }),
            Err(e) => error_list.push(UserError { to_account: user.to_string(), error_code: super::core_code(&e) }),
        }
    }
    answer(OnlineStatuses { query_result, error_list })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct OnlineStatuses {
    query_result: Vec<OnlineStatus>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    error_list: Vec<UserError>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct OnlineStatus {
    #[serde(rename = "To_Account")]
    to_account: String,
    status: &'static str,
    /// With `IsNeedDetail`: one entry per open connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<Vec<Device>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Device {
    platform: &'static str,
    status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UserError {
    #[serde(rename = "To_Account")]
    to_account: String,
    error_code: u32,
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
    let mut error_list = Vec::new();
    for (peer, r) in peers {
        match r {
            Ok(n) => list.push(PeerUnread { peer_account: peer, c2c_unread_msg_num: n }),
            Err(e) => error_list.push(PeerError { peer_account: peer, error_code: super::core_code(&e) }),
        }
    }
    answer(Unread {
        all_c2c_unread_msg_num: total,
        // Only when the caller named accounts.
        c2c_unread_msg_num_list: (!req.peer_account.is_empty()).then_some(list),
        error_list,
    })
}

#[derive(Serialize)]
struct Unread {
    #[serde(rename = "AllC2CUnreadMsgNum")]
    all_c2c_unread_msg_num: i64,
    #[serde(rename = "C2CUnreadMsgNumList", skip_serializing_if = "Option::is_none")]
    c2c_unread_msg_num_list: Option<Vec<PeerUnread>>,
    #[serde(rename = "ErrorList", skip_serializing_if = "Vec::is_empty")]
    error_list: Vec<PeerError>,
}

#[derive(Serialize)]
struct PeerUnread {
    #[serde(rename = "Peer_Account")]
    peer_account: String,
    #[serde(rename = "C2CUnreadMsgNum")]
    c2c_unread_msg_num: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PeerError {
    #[serde(rename = "Peer_Account")]
    peer_account: String,
    error_code: u32,
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
