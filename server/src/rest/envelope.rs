//! The Tencent wire contract's envelope and the one table from errors to Tencent codes
//! (docs/rest-api.md §1). Every answer is HTTP 200; success and failure live in the body.

use axum::response::{IntoResponse, Response};
use axum::Json;
use messaging::usersig::UserSigError;
use serde_json::{Map, Value};

/// Everything a REST call can fail with.
#[derive(Debug)]
pub enum RestError {
    /// 60002: the URL or query is malformed.
    Query(String),
    /// 60003: the body is not JSON, or a field has the wrong type.
    Body(String),
    /// 60006: `sdkappid` is not this server's app.
    WrongApp,
    /// 60009: unknown service or command.
    UnknownCommand(String),
    /// 60010: `identifier` is not an app administrator.
    NotAdmin,
    UserSig(UserSigError),
    /// `send_official_account_msg` and `official_account_msg_recall` name a missing or destroyed
    /// account with their own code (10010) …
    MessageAccountMissing(String),
    /// … and `send_official_account_msg` a malformed account ID (10015).
    MessageAccountMalformed(messaging::InvalidField),
    /// A rule of the core; mapped in [`RestError::code`].
    Core(messaging::Error),
}

impl RestError {
    /// The codes of the message commands (docs/rest-api.md §1): 10010 for a missing or destroyed
    /// account, and with `malformed_code` 10015 for a malformed ID.
    pub fn for_message_command(e: messaging::Error, malformed_code: bool) -> Self {
        match e {
            messaging::Error::AccountNotFound(id) => RestError::MessageAccountMissing(id),
            messaging::Error::MalformedAccountId(f) if malformed_code => RestError::MessageAccountMalformed(f),
            e => RestError::Core(e),
        }
    }
}

impl From<messaging::Error> for RestError {
    fn from(e: messaging::Error) -> Self {
        RestError::Core(e)
    }
}
impl From<messaging::InvalidField> for RestError {
    fn from(e: messaging::InvalidField) -> Self {
        RestError::Core(e.into())
    }
}

/// The error-code table. A new error gets its code here and nowhere else.
pub fn core_code(e: &messaging::Error) -> u32 {
    use messaging::Error::*;
    match e {
        Invalid(_) => 10004,
        MalformedAccountId(_) => 130007,
        AccountNotFound(_) => 130004,
        AccountIdTaken(_) | HandleTaken(_) => 130008,
        UserNotImported(_) => 70107,
        Forbidden(_) => 10007,
        NotSubscribed { .. } => 10007,
        // Posts are a console matter; REST never reaches these.
        PostNotFound(_) | PostAlreadySent(_) => 10004,
        MessageNotFound(_) => 20022,
        MessageAlreadyRecalled(_) => 20023,
        BroadcastTooLarge(_) => 80002,
        DirectMessageTooLarge(_) => 93000,
        SendTooFrequent(_) => 10023,
        RateLimited(_) | Throttled(_) => 60007,
        RefusedByWebhook(_) => 20006,
        SendRefusedByWebhook => 10016,
        Storage(_) | Internal(_) => 10002,
    }
}

/// A refused UserSig's code, the same on REST and on the client protocol's upgrade.
pub fn usersig_code(e: &UserSigError) -> u32 {
    match e {
        UserSigError::Expired => 70001,
        UserSigError::Malformed => 70003,
        UserSigError::BadSignature => 70009,
        UserSigError::IdentifierMismatch => 70013,
        UserSigError::AppIdMismatch => 70014,
    }
}

impl RestError {
    pub fn code(&self) -> u32 {
        match self {
            RestError::Query(_) => 60002,
            RestError::Body(_) => 60003,
            RestError::WrongApp => 60006,
            RestError::UnknownCommand(_) => 60009,
            RestError::NotAdmin => 60010,
            RestError::UserSig(e) => usersig_code(e),
            RestError::MessageAccountMissing(_) => 10010,
            RestError::MessageAccountMalformed(_) => 10015,
            RestError::Core(e) => core_code(e),
        }
    }

    /// The ErrorInfo text. Internal failures are never described to the caller.
    pub fn info(&self) -> String {
        match self {
            RestError::Query(s) => format!("malformed request URL: {s}"),
            RestError::Body(s) => format!("malformed body: {s}"),
            RestError::WrongApp => "sdkappid is not this server's app".into(),
            RestError::UnknownCommand(s) => format!("unknown service or command: {s}"),
            RestError::NotAdmin => "identifier is not an app administrator".into(),
            RestError::UserSig(e) => e.to_string(),
            RestError::MessageAccountMissing(id) => format!("official account {id} does not exist"),
            RestError::MessageAccountMalformed(f) => f.to_string(),
            RestError::Core(e) if core_code(e) == 10002 => "internal error, retry later".into(),
            RestError::Core(e) => e.to_string(),
        }
    }
}

/// `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`, the success fields of every answer and of
/// per-item results.
pub fn ok_fields() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("ActionStatus".into(), "OK".into());
    m.insert("ErrorCode".into(), 0.into());
    m.insert("ErrorInfo".into(), "".into());
    m
}

/// The failure fields, for whole answers and for per-item results.
pub fn fail_fields(code: u32, info: String) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("ActionStatus".into(), "FAIL".into());
    m.insert("ErrorCode".into(), code.into());
    m.insert("ErrorInfo".into(), info.into());
    m
}

/// A finished answer: envelope + payload + RequestId, always HTTP 200.
pub fn answer(request_id: &str, result: Result<Map<String, Value>, RestError>) -> Response {
    let mut body = match result {
        Ok(payload) => {
            let mut m = ok_fields();
            m.extend(payload);
            m
        }
        Err(e) => {
            if let RestError::Core(inner @ (messaging::Error::Storage(_) | messaging::Error::Internal(_))) = &e {
                tracing::error!(request_id, error = %inner, "REST call failed inside");
            } else {
                tracing::info!(request_id, code = e.code(), info = %e.info(), "REST call refused");
            }
            fail_fields(e.code(), e.info())
        }
    };
    body.insert("RequestId".into(), request_id.into());
    Json(Value::Object(body)).into_response()
}
