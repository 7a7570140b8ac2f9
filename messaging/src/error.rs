//! One error type for the whole core. Each front door (REST, console) maps it to its own wire
//! form in exactly one place; the core never knows about HTTP status or Tencent codes.

use std::fmt;

/// A value that broke a rule. `field` is the Tencent field name (`Name`, `Official_Account`, …)
/// so the REST API can quote it and the console can put the sentence next to the right input.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InvalidField {
    pub field: String,
    pub rule: String,
}

impl InvalidField {
    pub fn new(field: &str, rule: impl Into<String>) -> Self {
        Self { field: field.to_owned(), rule: rule.into() }
    }
}

impl fmt::Display for InvalidField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

impl std::error::Error for InvalidField {}

/// A message's limit: MsgBody + CloudCustomData, in bytes (docs/rest-api.md §5, §7).
pub const MESSAGE_MAX_BYTES: usize = 12 * 1024;

/// Every way a core operation can fail, named by outcome.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter broke a documented rule (length, range, required).
    #[error("{0}")]
    Invalid(#[from] InvalidField),
    /// An official account ID that is not of Tencent's form (Tencent gives it its own code).
    #[error("{0}")]
    MalformedAccountId(InvalidField),
    #[error("official account {0} does not exist")]
    AccountNotFound(String),
    #[error("official account ID {0} is already used")]
    AccountIdTaken(String),
    /// Another account has this public handle.
    #[error("the handle {0} is taken by another account")]
    HandleTaken(String),
    #[error("user {0} was never imported")]
    UserNotImported(String),
    #[error("post {0} does not exist")]
    PostNotFound(String),
    /// The post was sent (or is being sent) and can no longer change.
    #[error("post {0} has been published and can no longer change")]
    PostAlreadySent(String),
    /// A message to recall does not exist (in that conversation).
    #[error("message {0} does not exist")]
    MessageNotFound(String),
    #[error("message {0} was already recalled")]
    MessageAlreadyRecalled(String),
    #[error("no permission: {0}")]
    Forbidden(String),
    #[error("{user} is not a subscriber of {account}")]
    NotSubscribed { account: String, user: String },
    /// A broadcast's MsgBody + CloudCustomData is over 12 KB.
    #[error("message is {0} bytes; the limit is {MESSAGE_MAX_BYTES} bytes (MsgBody + CloudCustomData)")]
    BroadcastTooLarge(usize),
    /// A one-to-one message is over 12 KB.
    #[error("message is {0} bytes; the limit is {MESSAGE_MAX_BYTES} bytes (MsgBody + CloudCustomData)")]
    DirectMessageTooLarge(usize),
    /// Over the per-account broadcast frequency (app settings).
    #[error("{0}")]
    SendTooFrequent(String),
    /// The "before" webhook refused an account or a one-to-one message.
    #[error("refused by the app's webhook (ErrorCode {0})")]
    RefusedByWebhook(i64),
    /// The "before send" webhook refused a broadcast.
    #[error("the app's webhook refused this message")]
    SendRefusedByWebhook,
    /// Sign-in refused before checking the password: too many failures for this user name or
    /// address, or every hashing permit taken. The text says how long to wait.
    #[error("{0}")]
    Throttled(String),
    /// Over the per-command REST call rate (app setting).
    #[error("more than {0} calls per second to this command")]
    RateLimited(u32),
    /// Storage failed. The text is for logs only; front doors answer with an opaque message.
    #[cfg(feature = "backend")]
    #[error("storage error: {0}")]
    Storage(#[from] sqlx::Error),
    /// Anything else internal (hashing, migrations); never shown to callers.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The field this error is about, when there is one (the console highlights it).
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid(f) | Error::MalformedAccountId(f) => Some(&f.field),
            Error::AccountIdTaken(_) => Some("OfficialAccountUserID"),
            Error::HandleTaken(_) => Some("Handle"),
            Error::UserNotImported(_) => Some("Owner_Account"),
            _ => None,
        }
    }
}

#[cfg(feature = "backend")]
impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Error::Internal(format!("migration failed: {e}"))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
