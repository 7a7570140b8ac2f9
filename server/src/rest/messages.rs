//! Broadcasts of an official account (docs/rest-api.md §5): send, history, recall.

use super::envelope::RestError;
use super::official_accounts::account_id;
use super::Payload;
use messaging::broadcasts::{online_only_for_flag, NewBroadcast, Recall};
use messaging::message::{MsgBody, SendControls};
use messaging::{InvalidField, Messaging, OfficialAccountId};
use serde::Deserialize;
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
    Ok(Map::from_iter([("MsgTime".to_string(), json!(sent.msg_time)), ("MsgKey".to_string(), json!(sent.msg_key))]))
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
    let list: Vec<Value> = page
        .messages
        .iter()
        .map(|b| {
            let recalled = b.recalled_at.is_some();
            json!({
                "From_Account": account.as_str(),
                "MsgKey": b.msg_key(),
                "MsgSeq": b.seq,
                "MsgRandom": b.random,
                "MsgTimeStamp": b.msg_time,
                // A recalled message keeps its place but not its content.
                "MsgBody": if recalled { json!([]) } else { b.body_json() },
                "CloudCustomData": if recalled { String::new() } else { b.cloud_custom_data.clone() },
                "IsPlaceMsg": if recalled { 2 } else { 0 },
            })
        })
        .collect();
    let last_key = page.messages.last().map(|b| b.msg_key()).unwrap_or_default();
    Ok(Map::from_iter([
        ("Official_Account".to_string(), json!(account.as_str())),
        ("IsFinished".to_string(), json!(u8::from(page.finished))),
        ("LastMsgKey".to_string(), json!(last_key)),
        ("RspMsgList".to_string(), json!(list)),
    ]))
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
    let list: Vec<Value> =
        keys.iter().zip(results).map(|(k, r)| json!({ "MsgKey": k, "RetCode": if r == Recall::Done { 0 } else { 10030 } })).collect();
    Ok(Map::from_iter([("RecallRetList".to_string(), json!(list))]))
}
