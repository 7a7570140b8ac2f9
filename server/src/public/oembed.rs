//! `GET /oembed?url={post URL}&format=json` (oembed.com): a `rich` answer whose HTML is an
//! iframe of the post's `/embed` card, so WordPress, Discourse and Ghost embed a post from its
//! URL. Only JSON is offered (`format=xml` is 501, as the specification says).

use super::{admitted_account, error_page, internal};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;

/// The iframe's size when the consumer gives no maximum.
const WIDTH: u32 = 550;
const HEIGHT: u32 = 400;

#[derive(Deserialize)]
pub struct OembedQuery {
    url: Option<String>,
    format: Option<String>,
    maxwidth: Option<u32>,
    maxheight: Option<u32>,
}

/// The handle and seq of a post URL of this server: `{base}/c/{handle}/{seq}`.
fn post_of(base: &str, url: &str) -> Option<(String, i64)> {
    let path = url.strip_prefix(base)?;
    let rest = path.strip_prefix("/c/")?;
    let (handle, seq) = rest.split_once('/')?;
    let seq = seq.trim_end_matches('/');
    Some((handle.to_owned(), seq.parse().ok().filter(|s| *s > 0)?))
}

pub async fn oembed(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<OembedQuery>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = state.public_web.admit(peer.ip()) {
        return refused;
    }
    match q.format.as_deref() {
        None | Some("json") => {}
        Some(_) => return error_page(StatusCode::NOT_IMPLEMENTED, "Format not offered", "Only format=json is offered."),
    }
    let Some(url) = q.url.as_deref().filter(|u| !u.is_empty()) else {
        return error_page(StatusCode::BAD_REQUEST, "Bad request", "Give the post's address as url.");
    };
    let base = state.public_web.base_url(&headers);
    let not_a_post = || error_page(StatusCode::NOT_FOUND, "Not found", "The url is not the address of a public post of this server.");
    let Some((handle, seq)) = post_of(&base, url) else { return not_a_post() };
    // The address was counted above; `admitted_account` counts it once more, which is fine.
    let account = match admitted_account(&state, peer, &handle).await {
        Ok(a) => a,
        Err(_) => return not_a_post(),
    };
    let post = match state.messaging.public().post(&account, seq).await {
        Ok(Some(post)) if !post.recalled => post,
        Ok(_) => return not_a_post(),
        Err(e) => return internal(e),
    };
    let width = q.maxwidth.map_or(WIDTH, |w| w.clamp(200, WIDTH));
    let height = q.maxheight.map_or(HEIGHT, |h| h.clamp(120, HEIGHT));
    let page = format!("{base}/c/{}", account.handle);
    let src = format!("{page}/{seq}/embed");
    let title = post.view().title;
    let frame_title = format!("{} — {}", title, account.name);
    let attribute = |v: &str| html_escape::encode_double_quoted_attribute(v).into_owned();
    let html = format!(
        "<iframe src=\"{}\" width=\"{width}\" height=\"{height}\" title=\"{}\" style=\"border:0\" loading=\"lazy\"></iframe>",
        attribute(&src),
        attribute(&frame_title)
    );
    let answer = json!({
        "version": "1.0",
        "type": "rich",
        "provider_name": "Herald",
        "provider_url": base,
        "title": title,
        "author_name": account.name,
        "author_url": page,
        "html": html,
        "width": width,
        "height": height,
        "cache_age": 60,
    });
    let mut r = ([(header::CONTENT_TYPE, "application/json")], answer.to_string()).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(super::CACHE_CONTROL));
    r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_post_urls_of_this_server_name_a_post() {
        let base = "https://herald.example";
        assert_eq!(post_of(base, "https://herald.example/c/news/12"), Some(("news".into(), 12)));
        assert_eq!(post_of(base, "https://herald.example/c/news/12/"), Some(("news".into(), 12)));
        assert_eq!(post_of(base, "https://evil.example/c/news/12"), None);
        assert_eq!(post_of(base, "https://herald.example/c/news"), None);
        assert_eq!(post_of(base, "https://herald.example/c/news/x"), None);
        assert_eq!(post_of(base, "https://herald.example/c/news/0"), None);
    }
}
