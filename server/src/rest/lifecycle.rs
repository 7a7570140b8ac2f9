//! Herald's own service `herald_open_http_svc`, its post lifecycle commands (docs/rest-api.md
//! §9, "Edits, pins and polls"): editing a sent post and pinning one. Polls need no command of their own:
//! a `send_official_account_msg` whose body carries the poll element creates one, and
//! `get_post_insights` reports its results.

use super::official_accounts::account_id;
use super::{answer, Payload};
use messaging::message::MsgBody;
use messaging::{InvalidField, Messaging};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Deserialize)]
pub struct MsgModify {
    #[serde(rename = "Official_Account")]
    official_account: Option<String>,
    #[serde(rename = "MsgKey")]
    msg_key: Option<String>,
    #[serde(rename = "MsgBody")]
    msg_body: Option<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Modified {
    msg_version: i64,
    edit_time: i64,
}

/// [official_account_msg_modify] Replaces a sent post's body; answers its new version.
pub async fn official_account_msg_modify(m: &Messaging, req: MsgModify) -> Payload {
    let account = account_id("Official_Account", req.official_account.as_deref())?;
    let key = req.msg_key.filter(|k| !k.is_empty()).ok_or_else(|| InvalidField::new("MsgKey", "required"))?;
    let body = MsgBody::parse("MsgBody", req.msg_body.unwrap_or(Value::Null))?;
    let edited = m.edit_broadcast(&account, &key, body).await?;
    answer(Modified { msg_version: edited.version, edit_time: edited.edit_time })
}

#[derive(Deserialize)]
pub struct SetPinnedMsg {
    #[serde(rename = "Official_Account")]
    official_account: Option<String>,
    /// `""` unpins.
    #[serde(rename = "MsgKey")]
    msg_key: Option<String>,
}

/// [set_pinned_msg] Pins a post of the account (one at a time), or unpins with `""`.
pub async fn set_pinned_msg(m: &Messaging, req: SetPinnedMsg) -> Payload {
    let account = account_id("Official_Account", req.official_account.as_deref())?;
    let key = req.msg_key.ok_or_else(|| InvalidField::new("MsgKey", "required (\"\" unpins)"))?;
    m.set_pinned(&account, Some(key.as_str()).filter(|k| !k.is_empty())).await?;
    answer(serde_json::json!({}))
}
