//! The Tencent-compatible REST API: `POST /v4/{service}/{command}` (docs/rest-api.md).
//!
//! One handler authenticates, parses the body and dispatches by command; each command lives in
//! the module of its service and calls `messaging`, which holds every rule.

mod auth;
mod direct;
mod envelope;
mod insights;
mod lifecycle;
mod messages;
mod official_accounts;
mod public_web;
mod subscribers;
mod users;

pub use auth::RestIdentity;
use envelope::RestError;
pub use envelope::{core_code, usersig_code};

use crate::layers::RequestId;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, Extension, Path, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use messaging::Messaging;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::net::SocketAddr;

pub fn router() -> Router<AppState> {
    Router::new().route("/v4/{service}/{command}", any(call))
}

type Payload = Result<Map<String, Value>, RestError>;

/// A command's answer, from its `Serialize` type (fields spelled as Tencent does by serde
/// attributes, so a misspelt one is a compile-time rename, not a string in a map).
fn answer(payload: impl serde::Serialize) -> Payload {
    match serde_json::to_value(payload) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(RestError::Core(messaging::Error::Internal("an answer is not a JSON object".into()))),
        Err(e) => Err(RestError::Core(messaging::Error::Internal(format!("an answer could not be serialized: {e}")))),
    }
}

/// The largest request body read (Tencent's limit too); a larger one is refused with 60003.
pub const BODY_MAX_BYTES: usize = 2 * 1024 * 1024;

/// The 10002 envelope for a call whose handler panicked (see `layers::request_id`).
pub fn internal_error_answer(request_id: &str) -> Response {
    envelope::answer(request_id, Err(RestError::Core(messaging::Error::Internal("the handler panicked".into()))))
}

async fn call(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path((service, command)): Path<(String, String)>,
    request: axum::http::request::Parts,
    body: Body,
) -> Response {
    let (method, query, headers) = (request.method, request.uri.query().map(str::to_owned), request.headers);
    let result = async {
        if method != Method::POST {
            return Err(RestError::Query("only POST is allowed".into()));
        }
        auth::authenticate(&state.rest, query.as_deref(), state.messaging.now())?;
        state.messaging.count_rest_call(&format!("{service}/{command}"))?;
        let body = axum::body::to_bytes(body, BODY_MAX_BYTES).await.map_err(|e| {
            let too_large = std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if too_large {
                RestError::Body(format!("larger than {BODY_MAX_BYTES} bytes"))
            } else {
                RestError::Body(format!("could not be read ({e})"))
            }
        })?;
        let body = parse_body(&body)?;
        let base = state.public_web.base_url(&headers);
        dispatch(&state.messaging, &state.rest.admin_identifier, &base, &service, &command, body).await
    };
    // The audit log attributes this call's changes to the REST administrator, and its
    // webhooks report the caller's address as ClientIP.
    let actor = messaging::audit::Actor { name: state.rest.admin_identifier.clone(), address: peer.ip().to_string() };
    let result = messaging::audit::acting_as(actor, result).await;
    // Label by command only once the call was authenticated and its command known, so no
    // caller can grow the metrics' label set.
    let known = match &result {
        Ok(_) => true,
        Err(e) => !matches!(
            e,
            RestError::UnknownCommand(_) | RestError::Query(_) | RestError::WrongApp | RestError::NotAdmin | RestError::UserSig(_)
        ),
    };
    let code = result.as_ref().map_or_else(RestError::code, |_| 0);
    crate::metrics::count_rest(known.then(|| format!("{service}/{command}")), code);
    envelope::answer(&request_id, result)
}

/// `op` is the administrator making the call (webhooks report it as Operator_Account); `base`
/// is where the public web's URLs in answers point.
async fn dispatch(m: &Messaging, op: &str, base: &str, service: &str, command: &str, body: Value) -> Payload {
    match (service, command) {
        ("im_open_login_svc", "account_import") => users::account_import(m, parse(body)?).await,
        ("im_open_login_svc", "multiaccount_import") => users::multiaccount_import(m, parse(body)?).await,
        ("im_open_login_svc", "account_delete") => users::account_delete(m, parse(body)?).await,
        ("im_open_login_svc", "account_check") => users::account_check(m, parse(body)?).await,
        ("official_account_open_http_svc", "create_official_account") => official_accounts::create_official_account(m, op, body).await,
        ("official_account_open_http_svc", "get_official_account_info") => {
            official_accounts::get_official_account_info(m, parse(body)?).await
        }
        ("official_account_open_http_svc", "modify_official_account_base_info") => {
            official_accounts::modify_official_account_base_info(m, op, body).await
        }
        ("official_account_open_http_svc", "destroy_official_account") => {
            official_accounts::destroy_official_account(m, parse(body)?).await
        }
        ("official_account_open_http_svc", "add_subscriber") => subscribers::add_subscriber(m, op, parse(body)?).await,
        ("official_account_open_http_svc", "delete_subscriber") => subscribers::delete_subscriber(m, op, parse(body)?).await,
        ("official_account_open_http_svc", "get_subscriber_info") => subscribers::get_subscriber_info(m, parse(body)?).await,
        ("official_account_open_http_svc", "modify_subscriber_info") => subscribers::modify_subscriber_info(m, parse(body)?).await,
        ("official_account_open_http_svc", "get_subscribed_official_account_list") => {
            subscribers::get_subscribed_official_account_list(m, parse(body)?).await
        }
        ("official_account_open_http_svc", "send_official_account_msg") => messages::send_official_account_msg(m, parse(body)?).await,
        ("official_account_open_http_svc", "official_account_msg_get_simple") => {
            messages::official_account_msg_get_simple(m, parse(body)?).await
        }
        ("official_account_open_http_svc", "official_account_msg_recall") => messages::official_account_msg_recall(m, parse(body)?).await,
        ("openim", "sendmsg") => direct::sendmsg(m, parse(body)?).await,
        ("openim", "admin_getroammsg") => direct::admin_getroammsg(m, parse(body)?).await,
        ("openim", "query_online_status") => direct::query_online_status(m, parse(body)?).await,
        ("openim", "admin_set_msg_read") => direct::admin_set_msg_read(m, parse(body)?).await,
        ("openim", "get_c2c_unread_msg_num") => direct::get_c2c_unread_msg_num(m, parse(body)?).await,
        ("openim", "admin_msgwithdraw") => direct::admin_msgwithdraw(m, parse(body)?).await,
        ("herald_open_http_svc", "get_account_insights") => insights::get_account_insights(m, parse(body)?).await,
        ("herald_open_http_svc", "get_post_insights") => insights::get_post_insights(m, parse(body)?).await,
        ("herald_open_http_svc", "official_account_msg_modify") => lifecycle::official_account_msg_modify(m, parse(body)?).await,
        ("herald_open_http_svc", "set_pinned_msg") => lifecycle::set_pinned_msg(m, parse(body)?).await,
        ("herald_open_http_svc", "set_public_page") => public_web::set_public_page(m, base, parse(body)?).await,
        ("herald_open_http_svc", "create_invite_link") => public_web::create_invite_link(m, base, parse(body)?).await,
        ("herald_open_http_svc", "get_invite_links") => public_web::get_invite_links(m, base, parse(body)?).await,
        ("herald_open_http_svc", "revoke_invite_link") => public_web::revoke_invite_link(m, parse(body)?).await,
        _ => Err(RestError::UnknownCommand(format!("{service}/{command}"))),
    }
}

/// The body must be a JSON object; `{}` when a command takes no parameters.
fn parse_body(body: &[u8]) -> Result<Value, RestError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(RestError::Body("the body may not be empty (send {} for no parameters)".into()));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| RestError::Body(format!("not valid JSON ({e})")))?;
    if !value.is_object() {
        return Err(RestError::Body("the body must be a JSON object".into()));
    }
    Ok(value)
}

/// Deserializes a command's request; a wrong type names the field (`Name: invalid type …`).
pub(super) fn parse<T: DeserializeOwned>(body: Value) -> Result<T, RestError> {
    serde_path_to_error::deserialize(body).map_err(|e| RestError::Body(format!("{}: {}", e.path(), e.inner())))
}
