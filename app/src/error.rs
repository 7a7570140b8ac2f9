//! The console's error type: what a server function tells the page. It crosses the network as
//! JSON, so a dialog can tell which field failed and put the sentence next to it.

use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsoleError {
    /// A rule broke on a field. `field` is the Tencent field name (`Name`, `OfficialAccountUserID`, …).
    Invalid { field: String, message: String },
    /// The session ended; sign in again.
    SignedOut,
    /// Not allowed, or wrong credentials (one message for both, on purpose).
    Forbidden(String),
    /// Too many attempts, or the server is busy; the sentence says when to try again.
    Throttled(String),
    /// A rule of the product refused it as things stand (the account is gone, the message is
    /// too large); the sentence says why.
    Refused(String),
    /// The call itself is malformed (a missing argument, one of the wrong type): a client's
    /// mistake, not the server's.
    BadRequest(String),
    /// Anything else; details are in the server log, not here.
    Server(String),
}

impl fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConsoleError::Invalid { message, .. } => f.write_str(message),
            ConsoleError::SignedOut => f.write_str("You are signed out. Sign in again."),
            ConsoleError::Forbidden(m)
            | ConsoleError::Throttled(m)
            | ConsoleError::Refused(m)
            | ConsoleError::BadRequest(m)
            | ConsoleError::Server(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ConsoleError {}

impl FromServerFnError for ConsoleError {
    type Encoder = crate::codec::JsonText;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(why) | ServerFnErrorErr::MissingArg(why) => {
                ConsoleError::BadRequest(format!("The request is malformed: {why}."))
            }
            // On the server nothing but a request's body is decoded (a JSON-encoded argument);
            // in the browser this is an answer the page did not understand.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(why) => ConsoleError::BadRequest(format!("The request is malformed: {why}.")),
            other => ConsoleError::Server(other.to_string()),
        }
    }
}

impl ConsoleError {
    /// The HTTP status a server function answers with this error: expected refusals are 4xx,
    /// so monitoring sees only real failures as 5xx. (The server applies it to every server
    /// function's error response in one place.)
    pub fn status_code(&self) -> u16 {
        match self {
            ConsoleError::Invalid { .. } => 422,
            ConsoleError::SignedOut => 401,
            ConsoleError::Forbidden(_) => 403,
            ConsoleError::Throttled(_) => 429,
            ConsoleError::Refused(_) => 409,
            ConsoleError::BadRequest(_) => 400,
            ConsoleError::Server(_) => 500,
        }
    }

    /// The sentence for `field`, if this error is about it.
    pub fn message_for(&self, field: &str) -> Option<String> {
        match self {
            ConsoleError::Invalid { field: f, message } if f == field => Some(message.clone()),
            _ => None,
        }
    }
}

/// "longer than 150 bytes (got 153)" → "Longer than 150 bytes (got 153)."
pub fn sentence(rule: &str) -> String {
    let mut chars = rule.chars();
    let mut s: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

#[cfg(feature = "ssr")]
impl From<messaging::Error> for ConsoleError {
    fn from(e: messaging::Error) -> Self {
        use messaging::Error;
        match e {
            Error::Invalid(f) | Error::MalformedAccountId(f) => ConsoleError::Invalid { message: sentence(&f.rule), field: f.field },
            Error::AccountIdTaken(id) => ConsoleError::Invalid {
                field: "OfficialAccountUserID".into(),
                message: format!("The ID {id} is already used (IDs of destroyed accounts stay used)."),
            },
            Error::HandleTaken(handle) => ConsoleError::Invalid {
                field: "Handle".into(),
                message: format!("The handle {handle} is taken by another account; choose another."),
            },
            Error::UserNotImported(id) => {
                ConsoleError::Invalid { field: "Owner_Account".into(), message: format!("{id} is not an imported user.") }
            }
            Error::AccountNotFound(id) => ConsoleError::Refused(format!("The account {id} no longer exists.")),
            Error::Forbidden(m) => ConsoleError::Forbidden(sentence(&m)),
            Error::PostNotFound(_) => ConsoleError::Refused("This post does not exist (it may have been deleted).".into()),
            Error::PostAlreadySent(_) => ConsoleError::Refused("This post has been published and can no longer change.".into()),
            e @ (Error::NotSubscribed { .. }
            | Error::BroadcastTooLarge(_)
            | Error::DirectMessageTooLarge(_)
            | Error::MessageNotFound(_)
            | Error::MessageAlreadyRecalled(_)) => ConsoleError::Refused(sentence(&e.to_string())),
            e @ (Error::SendTooFrequent(_) | Error::RateLimited(_)) => ConsoleError::Throttled(sentence(&e.to_string())),
            e @ (Error::RefusedByWebhook(_) | Error::SendRefusedByWebhook) => ConsoleError::Forbidden(sentence(&e.to_string())),
            Error::Throttled(m) => ConsoleError::Throttled(sentence(&m)),
            e @ (Error::Storage(_) | Error::Internal(_)) => {
                tracing::error!(error = %e, "console request failed inside");
                ConsoleError::Server("Something went wrong on the server; try again.".into())
            }
        }
    }
}

#[cfg(feature = "ssr")]
impl From<messaging::InvalidField> for ConsoleError {
    fn from(f: messaging::InvalidField) -> Self {
        messaging::Error::from(f).into()
    }
}
