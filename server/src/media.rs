//! `/media`: uploaded images. `POST /media` (a signed-in console user; the raw file as the body,
//! `?account={id}` for the account it is for, `&for=avatar` for an account's avatar; `messaging`
//! decides who may) checks and stores an upload through `messaging` and
//! answers its versions as JSON; `GET /media/{sha256}.{ext}` serves a stored version, immutable
//! by its content hash. Uploads are as cross-site-checked as every console POST (`layers`).

use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use messaging::media::{parse_media_name, Purpose};
use serde::Deserialize;
use serde_json::json;

/// The upload route (it needs the session layer) and the serving route.
pub fn routes(max_upload_bytes: usize) -> (Router<AppState>, Router<AppState>) {
    // A little over the limit, so a file just over it gets messaging's sentence, not a cut body.
    let body_limit = axum::extract::DefaultBodyLimit::max(max_upload_bytes + 64 * 1024);
    let upload = Router::new().route("/media", post(upload).layer(body_limit));
    let serve = Router::new().route("/media/{name}", get(serve));
    (upload, serve)
}

#[derive(Deserialize)]
struct UploadQuery {
    #[serde(rename = "for", default)]
    purpose: String,
    /// The account the image is for (a post's, or the account whose avatar it becomes); none
    /// for the avatar of an account being created.
    #[serde(default)]
    account: Option<String>,
}

fn refusal(status: StatusCode, sentence: &str) -> Response {
    (status, Json(json!({ "error": sentence }))).into_response()
}

/// The origin the stored URLs name: the public URL, else this request's host.
fn origin(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(origin) = &state.public_origin {
        return origin.to_string();
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    format!("http://{host}")
}

async fn upload(
    State(state): State<AppState>,
    signed_in: Option<Extension<app::SignedIn>>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(Extension(app::SignedIn { user, .. })) = signed_in else {
        return refusal(StatusCode::UNAUTHORIZED, "You are signed out. Sign in again.");
    };
    let purpose = if q.purpose == "avatar" { Purpose::Avatar } else { Purpose::PostImage };
    let account = match q.account.as_deref().filter(|a| !a.is_empty()).map(|a| messaging::OfficialAccountId::parse("account", a)) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return refusal(StatusCode::BAD_REQUEST, "The account in the upload's address is not an official account ID."),
    };
    let allowed = match state.messaging.console().authorize_upload(&user, purpose, account.as_ref()).await {
        Ok(allowed) => allowed,
        Err(messaging::Error::Forbidden(why)) => return refusal(StatusCode::FORBIDDEN, &why),
        Err(e) => {
            tracing::error!(error = %e, "checking an upload's permission failed");
            return refusal(StatusCode::INTERNAL_SERVER_ERROR, "The server could not check your permission; try again.");
        }
    };
    let user = user.username;
    if body.is_empty() {
        return refusal(StatusCode::UNPROCESSABLE_ENTITY, "The file is empty.");
    }
    match state.messaging.store_image(body.to_vec(), purpose, &origin(&state, &headers), &allowed).await {
        Ok(image) => {
            tracing::info!(by = %user, image = %image.id, "image uploaded");
            Json(image).into_response()
        }
        Err(messaging::Error::Invalid(f)) => refusal(StatusCode::UNPROCESSABLE_ENTITY, &f.rule),
        Err(e) => {
            tracing::error!(error = %e, "storing an upload failed");
            refusal(StatusCode::INTERNAL_SERVER_ERROR, "The server could not store the image; try again.")
        }
    }
}

async fn serve(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    let Some((hash, format)) = parse_media_name(&name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match state.messaging.media(hash, format).await {
        Ok(Some(bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(format.content_type())),
                (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
                (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
                // Opened on its own, an image can run nothing and embed nothing.
                (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox")),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "reading media failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
