//! Message bodies (docs/rest-api.md §6): `MsgBody` is a non-empty array of typed elements. Herald
//! checks each element's type and the fields a client needs to show it, then stores the JSON as
//! sent. The size rule (12 KB for MsgBody + CloudCustomData) lives here too.

use crate::error::InvalidField;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Whole message (MsgBody + CloudCustomData) limit.
pub const MESSAGE_MAX_BYTES: usize = crate::error::MESSAGE_MAX_BYTES;
/// `OfflinePushInfo` goes to the push gateway with every batch: bounded like a message.
pub const OFFLINE_PUSH_INFO_MAX_BYTES: usize = MESSAGE_MAX_BYTES;

/// A validated `MsgBody`.
#[derive(Debug, Clone, PartialEq)]
pub struct MsgBody(Value);

/// What a field of an element must be.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Int,
    Num,
    Arr,
}

fn required(field: &str, element: &Value, name: &str, kind: Kind, at: usize) -> Result<(), InvalidField> {
    let v = element.get(name);
    let ok = match (kind, v) {
        (Kind::Str, Some(Value::String(_))) => true,
        (Kind::Int, Some(v)) => v.is_i64() || v.is_u64(),
        (Kind::Num, Some(v)) => v.is_number(),
        (Kind::Arr, Some(Value::Array(_))) => true,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        let what = match kind {
            Kind::Str => "a string",
            Kind::Int => "an integer",
            Kind::Num => "a number",
            Kind::Arr => "an array",
        };
        Err(InvalidField::new(field, format!("element {at}: MsgContent.{name} must be {what}")))
    }
}

impl MsgBody {
    /// Checks `value` as a MsgBody; `field` names it in errors (`MsgBody`).
    pub fn parse(field: &str, value: Value) -> Result<Self, InvalidField> {
        let Value::Array(elements) = &value else {
            return Err(InvalidField::new(field, "must be an array of message elements"));
        };
        if elements.is_empty() {
            return Err(InvalidField::new(field, "must not be empty"));
        }
        let mut custom = 0;
        for (i, e) in elements.iter().enumerate() {
            let Some(msg_type) = e.get("MsgType").and_then(Value::as_str) else {
                return Err(InvalidField::new(field, format!("element {i}: MsgType is required")));
            };
            let Some(content) = e.get("MsgContent").filter(|c| c.is_object()) else {
                return Err(InvalidField::new(field, format!("element {i}: MsgContent must be an object")));
            };
            let need = |name, kind| required(field, content, name, kind, i);
            match msg_type {
                "TIMTextElem" => need("Text", Kind::Str)?,
                "TIMFaceElem" => need("Index", Kind::Int)?,
                "TIMLocationElem" => {
                    need("Desc", Kind::Str)?;
                    need("Latitude", Kind::Num)?;
                    need("Longitude", Kind::Num)?;
                }
                "TIMCustomElem" => {
                    custom += 1;
                    need("Data", Kind::Str)?;
                }
                "TIMImageElem" => {
                    need("UUID", Kind::Str)?;
                    need("ImageFormat", Kind::Int)?;
                    need("ImageInfoArray", Kind::Arr)?;
                }
                "TIMSoundElem" => {
                    need("Url", Kind::Str)?;
                    need("Second", Kind::Int)?;
                }
                "TIMFileElem" => {
                    need("Url", Kind::Str)?;
                    need("FileName", Kind::Str)?;
                }
                "TIMVideoFileElem" => {
                    need("VideoUrl", Kind::Str)?;
                    need("ThumbUrl", Kind::Str)?;
                }
                other => return Err(InvalidField::new(field, format!("element {i}: unknown MsgType {other:?}"))),
            }
        }
        if custom > 1 {
            return Err(InvalidField::new(field, "at most one TIMCustomElem per message"));
        }
        Ok(Self(value))
    }

    pub fn as_json(&self) -> &Value {
        &self.0
    }

    pub fn to_json_string(&self) -> String {
        self.0.to_string()
    }
}

/// Checks a list of controls (`SendMsgControl`, `ForbidCallbackControl`) against the ones the
/// command knows; an unknown one is refused by name rather than silently ignored.
fn check_controls(field: &str, given: &[String], known: &[&str]) -> Result<(), InvalidField> {
    match given.iter().find(|c| !known.contains(&c.as_str())) {
        Some(unknown) => Err(InvalidField::new(field, format!("unknown control {unknown:?} (known: {})", known.join(", ")))),
        None => Ok(()),
    }
}

/// `ForbidCallbackControl` values.
pub const FORBID_BEFORE_SEND: &str = "ForbidBeforeSendMsgCallback";
pub const FORBID_AFTER_SEND: &str = "ForbidAfterSendMsgCallback";

/// A send's `SendMsgControl` and `ForbidCallbackControl`, checked against what the command
/// knows (an unknown control is refused by name, never ignored).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendControls {
    pub no_unread: bool,
    pub no_last_msg: bool,
    pub forbid_before_callback: bool,
    pub forbid_after_callback: bool,
}

impl SendControls {
    /// Broadcasts know `NoLastMsg`.
    pub fn for_broadcast(send_msg_control: &[String], forbid_callback_control: &[String]) -> Result<Self, InvalidField> {
        Self::parse(send_msg_control, &["NoLastMsg"], forbid_callback_control)
    }

    /// One-to-one messages know `NoUnread` and `NoLastMsg`.
    pub fn for_direct(send_msg_control: &[String], forbid_callback_control: &[String]) -> Result<Self, InvalidField> {
        Self::parse(send_msg_control, &["NoUnread", "NoLastMsg"], forbid_callback_control)
    }

    fn parse(send: &[String], known: &[&str], forbid: &[String]) -> Result<Self, InvalidField> {
        check_controls("SendMsgControl", send, known)?;
        check_controls("ForbidCallbackControl", forbid, &[FORBID_BEFORE_SEND, FORBID_AFTER_SEND])?;
        let has = |list: &[String], control: &str| list.iter().any(|c| c == control);
        Ok(Self {
            no_unread: has(send, "NoUnread"),
            no_last_msg: has(send, "NoLastMsg"),
            forbid_before_callback: has(forbid, FORBID_BEFORE_SEND),
            forbid_after_callback: has(forbid, FORBID_AFTER_SEND),
        })
    }
}

/// Checks `OfflinePushInfo` (§6): an object whose known fields have their documented types;
/// `PushFlag` is 0 (push) or 1 (no push). Unknown fields pass, as Tencent adds them over time.
pub fn check_offline_push_info(info: &Value) -> Result<(), InvalidField> {
    const FIELD: &str = "OfflinePushInfo";
    let Value::Object(fields) = info else {
        return Err(InvalidField::new(FIELD, "must be an object"));
    };
    let size = info.to_string().len();
    if size > OFFLINE_PUSH_INFO_MAX_BYTES {
        return Err(InvalidField::new(FIELD, format!("longer than {OFFLINE_PUSH_INFO_MAX_BYTES} bytes as JSON (got {size})")));
    }
    if let Some(flag) = fields.get("PushFlag") {
        if !matches!(flag.as_i64(), Some(0 | 1)) {
            return Err(InvalidField::new(FIELD, format!("PushFlag must be 0 (push) or 1 (no push), got {flag}")));
        }
    }
    for name in ["Title", "Desc", "Ext"] {
        if fields.get(name).is_some_and(|v| !v.is_string()) {
            return Err(InvalidField::new(FIELD, format!("{name} must be a string")));
        }
    }
    for name in ["AndroidInfo", "ApnsInfo"] {
        if fields.get(name).is_some_and(|v| !v.is_object()) {
            return Err(InvalidField::new(FIELD, format!("{name} must be an object")));
        }
    }
    Ok(())
}

/// The size Tencent limits (MsgBody as JSON plus CloudCustomData): the one function the
/// composer's size meter also runs ([`crate::post::wire_size`]).
pub fn message_size(body: &MsgBody, cloud_custom_data: &str) -> usize {
    crate::post::wire_size(body.as_json(), cloud_custom_data)
}

/// What every outgoing message carries, broadcast or one-to-one, checked in one place
/// ([`Outgoing::check`]) before anything else happens.
pub(crate) struct Outgoing<'a> {
    pub body: &'a MsgBody,
    pub cloud_custom_data: &'a str,
    pub offline_push_info: Option<&'a Value>,
    pub online_only: bool,
    pub no_last_msg: bool,
    /// How the sender said "online only" (`OnlineOnlyFlag`, `MsgLifeTime 0`), for the sentence.
    pub online_only_said_as: &'static str,
}

impl Outgoing<'_> {
    /// The 12 KB budget (`too_large` names the front door's own error for it), no NUL in
    /// CloudCustomData, a well-formed OfflinePushInfo, and NoLastMsg only on a stored message.
    pub(crate) fn check(&self, too_large: fn(usize) -> crate::Error) -> Result<(), crate::Error> {
        let size = message_size(self.body, self.cloud_custom_data);
        if size > MESSAGE_MAX_BYTES {
            return Err(too_large(size));
        }
        crate::profile::check_no_nul("CloudCustomData", self.cloud_custom_data)?;
        if let Some(info) = self.offline_push_info {
            check_offline_push_info(info)?;
        }
        if self.online_only && self.no_last_msg {
            return Err(InvalidField::new("SendMsgControl", format!("NoLastMsg cannot be used with {}", self.online_only_said_as)).into());
        }
        Ok(())
    }
}

/// Identifies "the same content" for duplicate detection.
pub fn content_hash(body: &MsgBody, cloud_custom_data: &str) -> String {
    let mut h = Sha256::new();
    h.update(body.to_json_string().as_bytes());
    h.update([0]);
    h.update(cloud_custom_data.as_bytes());
    format!("{:x}", h.finalize())
}

/// A subscriber's choice of how to receive broadcasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum MsgFlag {
    AcceptAndNotify,
    AcceptNotNotify,
    Discard,
}

impl MsgFlag {
    pub fn parse(field: &str, s: &str) -> Result<Self, InvalidField> {
        match s {
            "AcceptAndNotify" => Ok(Self::AcceptAndNotify),
            "AcceptNotNotify" => Ok(Self::AcceptNotNotify),
            "Discard" => Ok(Self::Discard),
            other => Err(InvalidField::new(field, format!("must be AcceptAndNotify, AcceptNotNotify or Discard (got {other:?})"))),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AcceptAndNotify => "AcceptAndNotify",
            Self::AcceptNotNotify => "AcceptNotNotify",
            Self::Discard => "Discard",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_push_info_fields_have_their_documented_types() {
        use serde_json::json;
        for ok in [
            json!({}),
            json!({ "PushFlag": 0, "Title": "t", "Desc": "d", "Ext": "e", "ApnsInfo": { "BadgeMode": 1 }, "AndroidInfo": {} }),
            json!({ "PushFlag": 1, "New": 5 }),
        ] {
            assert!(check_offline_push_info(&ok).is_ok(), "{ok}");
        }
        for (bad, says) in [
            (json!([]), "must be an object"),
            (json!({ "PushFlag": 2 }), "PushFlag must be 0"),
            (json!({ "PushFlag": "0" }), "PushFlag must be 0"),
            (json!({ "Title": 1 }), "Title must be a string"),
            (json!({ "ApnsInfo": "x" }), "ApnsInfo must be an object"),
            (json!({ "Desc": "x".repeat(13_000) }), "longer than 12288 bytes"),
        ] {
            let e = check_offline_push_info(&bad).unwrap_err();
            assert_eq!(e.field, "OfflinePushInfo");
            assert!(e.rule.contains(says), "{bad}: {}", e.rule);
        }
    }
    use serde_json::json;

    #[test]
    fn text_and_face_elements_parse() {
        let body = json!([
            { "MsgType": "TIMTextElem", "MsgContent": { "Text": "hi" } },
            { "MsgType": "TIMFaceElem", "MsgContent": { "Index": 1, "Data": "x" } }
        ]);
        assert!(MsgBody::parse("MsgBody", body).is_ok());
    }

    #[test]
    fn empty_unknown_or_incomplete_bodies_are_refused() {
        assert!(MsgBody::parse("MsgBody", json!([])).is_err());
        assert!(MsgBody::parse("MsgBody", json!({})).is_err());
        assert!(MsgBody::parse("MsgBody", json!([{ "MsgType": "TIMBogus", "MsgContent": {} }])).is_err());
        let err = MsgBody::parse("MsgBody", json!([{ "MsgType": "TIMTextElem", "MsgContent": { "Text": 5 } }])).unwrap_err();
        assert!(err.rule.contains("Text"), "{err}");
        let two_custom = json!([
            { "MsgType": "TIMCustomElem", "MsgContent": { "Data": "a" } },
            { "MsgType": "TIMCustomElem", "MsgContent": { "Data": "b" } }
        ]);
        assert!(MsgBody::parse("MsgBody", two_custom).is_err());
    }

    #[test]
    fn msg_flags_parse_and_print_alike() {
        for f in ["AcceptAndNotify", "AcceptNotNotify", "Discard"] {
            assert_eq!(MsgFlag::parse("MsgFlag", f).unwrap().as_str(), f);
        }
        assert!(MsgFlag::parse("MsgFlag", "Loud").is_err());
    }
}
