//! Broadcasts of an official account (docs/rest-api.md §5): send, history, recall.

use super::envelope::RestError;
use super::official_accounts::account_id;
use super::{answer, Payload};
use messaging::broadcasts::{online_only_for_flag, NewBroadcast, Recall};
use messaging::message::{MsgBody, SendControls};
use messaging::{InvalidField, Messaging, OfficialAccountId};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

#[derive(Deserialize)]
pub struct SendOfficialAccountMsg {
    #[serde(rename = "Official_Account")]
    official_account: Option<String>,
    #[serde(rename = "Random")]
    random: Option<u32>,
    #[serde(rename = "MsgBody")]
    msg_body: Option<Value>,
    #[serde(rename = "CloudCustomData", default)]
    cloud_custom_data: String,
    #[serde(rename = "OfflinePushInfo")]
    offline_push_info: Option<Map<String, Value>>,
    /// Any integer; greater than 0 means online only (Tencent: "greater than 0").
    #[serde(rename = "OnlineOnlyFlag")]
    online_only_flag: Option<serde_json::Number>,
    #[serde(rename = "SendMsgControl", default)]
    send_msg_control: Vec<String>,
    #[serde(rename = "ForbidCallbackControl", default)]
    forbid_callback_control: Vec<String>,
}

/// [send_official_account_msg] Stores the broadcast once and answers its MsgKey.
pub async fn send_official_account_msg(m: &Messaging, req: SendOfficialAccountMsg) -> Payload {
    let account = match req.official_account.as_deref().unwrap_or_default() {
        "" => return Err(InvalidField::new("Official_Account", "required").into()),
        raw => OfficialAccountId::parse("Official_Account", raw).map_err(RestError::MessageAccountMalformed)?,
    };
    let random = req.random.ok_or_else(|| InvalidField::new("Random", "required (a 32-bit unsigned integer)"))?;
    let body = MsgBody::parse("MsgBody", req.msg_body.unwrap_or(Value::Null))?;
    let online_only = online_only_for_flag(req.online_only_flag.as_ref().and_then(serde_json::Number::as_f64));
    let controls = SendControls::for_broadcast(&req.send_msg_control, &req.forbid_callback_control)?;
    let sent = m
        .send_broadcast(NewBroadcast {
            account,
            random,
            body,
            cloud_custom_data: req.cloud_custom_data,
            offline_push_info: req.offline_push_info.map(Value::Object),
            online_only,
            no_last_msg: controls.no_last_msg,
            forbid_before_callback: controls.forbid_before_callback,
            forbid_after_callback: controls.forbid_after_callback,
        })
        .await
        .map_err(|e| RestError::for_message_command(e, true))?;
    answer(Sent { msg_time: sent.msg_time, msg_key: sent.msg_key })
}

/// A sent message's answer (broadcasts here, one-to-one messages in `direct`).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Sent {
    pub(super) msg_time: i64,
    pub(super) msg_key: String,
}

#[derive(Deserialize)]
pub struct MsgGetSimple {
    #[serde(rename = "Official_Account")]
    official_account: Option<String>,
    #[serde(rename = "ReqMsgNumber")]
    req_msg_number: Option<i64>,
    #[serde(rename = "LastMsgKey")]
    last_msg_key: Option<String>,
    #[serde(rename = "WithRecalledMsg", default)]
    with_recalled_msg: u8,
}

/// [official_account_msg_get_simple] History newest first, paging backwards from LastMsgKey.
pub async fn official_account_msg_get_simple(m: &Messaging, req: MsgGetSimple) -> Payload {
    let account = account_id("Official_Account", req.official_account.as_deref())?;
    let count = req.req_msg_number.ok_or_else(|| InvalidField::new("ReqMsgNumber", "required (1–100)"))?;
    if req.with_recalled_msg > 1 {
        return Err(InvalidField::new("WithRecalledMsg", "must be 0 or 1").into());
    }
    let page = m.broadcast_history(&account, count, req.last_msg_key.as_deref(), req.with_recalled_msg == 1).await?;
    let rsp_msg_list = page
        .messages
        .iter()
        .map(|b| {
            let recalled = b.recalled_at.is_some();
            HistoryItem {
                from_account: account.as_str(),
                msg_key: b.msg_key(),
                msg_seq: b.seq,
                msg_random: b.random,
                msg_time_stamp: b.msg_time,
                // A recalled message keeps its place but not its content.
                msg_body: if recalled { json!([]) } else { b.body_json() },
                cloud_custom_data: if recalled { String::new() } else { b.cloud_custom_data.clone() },
                is_place_msg: if recalled { 2 } else { 0 },
                msg_version: b.edited_at.filter(|_| !recalled).map(|_| b.version),
                edit_time: b.edited_at.filter(|_| !recalled),
            }
        })
        .collect();
    answer(History {
        official_account: account.as_str(),
        is_finished: u8::from(page.finished),
        last_msg_key: page.messages.last().map(|b| b.msg_key()).unwrap_or_default(),
        rsp_msg_list,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct History<'a> {
    #[serde(rename = "Official_Account")]
    official_account: &'a str,
    is_finished: u8,
    last_msg_key: String,
    rsp_msg_list: Vec<HistoryItem<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct HistoryItem<'a> {
    #[serde(rename = "From_Account")]
    from_account: &'a str,
    msg_key: String,
    msg_seq: i64,
    msg_random: i64,
    msg_time_stamp: i64,
    msg_body: Value,
    cloud_custom_data: String,
    /// 2 for a recalled message (it keeps its place, not its content), else 0.
    is_place_msg: u8,
    /// Herald's additions, once a post has been edited (docs/rest-api.md §9).
    #[serde(skip_serializing_if = "Option::is_none")]
    msg_version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    edit_time: Option<i64>,
}

#[derive(Deserialize)]
pub struct KeyItem {
    #[serde(rename = "MsgKey", default)]
    msg_key: String,
}

#[derive(Deserialize)]
pub struct MsgRecall {
    #[serde(rename = "Official_Account")]
    official_account: Option<String>,
    #[serde(rename = "MsgKeyList", default)]
    keys: Vec<KeyItem>,
    #[serde(rename = "Reason", default)]
    reason: String,
}

/// [official_account_msg_recall] Per key: RetCode 0 recalled, 10030 not found.
pub async fn official_account_msg_recall(m: &Messaging, req: MsgRecall) -> Payload {
    let account = account_id("Official_Account", req.official_account.as_deref())?;
    let keys: Vec<String> = req.keys.into_iter().map(|k| k.msg_key).collect();
    // Tencent gives recall its own code for a missing account.
    let results = m.recall_broadcasts(&account, &keys, &req.reason).await.map_err(|e| RestError::for_message_command(e, false))?;
    let recall_ret_list =
        keys.iter().zip(results).map(|(k, r)| RecallResult { msg_key: k, ret_code: if r == Recall::Done { 0 } else { 10030 } }).collect();
    answer(Recalled { recall_ret_list })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Recalled<'a> {
    recall_ret_list: Vec<RecallResult<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RecallResult<'a> {
    msg_key: &'a str,
    /// 0 recalled, 10030 not found.
    ret_code: u32,
}
