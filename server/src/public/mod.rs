//! The public web (docs/public-web.md): an account's page `/c/{handle}`, each post's page and
//! embed, its Atom and RSS feeds, oEmbed, and invite links' landing pages and QR codes.
//!
//! Every route here is read by strangers, so every route:
//! * is bounded per client address ([`PublicWeb::admit`], 429 with a sentence beyond);
//! * answers from one indexed row of the account first, and with that row's version as the
//!   `ETag` answers a matching conditional request 304 without reading or rendering posts;
//!   rendered pages are kept for a few seconds per version ([`cache`]);
//! * runs no script at all: its CSP has no `script-src`, and posts are made by the one
//!   renderer the console uses;
//! * shows nothing about subscribers but their count.

// A refusal here is the response itself (404, 410, 429 pages), returned once per request:
// boxing it would buy nothing.
#![allow(clippy::result_large_err)]

mod cache;
mod feeds;
mod invite;
mod oembed;
mod pages;

use crate::state::AppState;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use messaging::public::PublicAccount;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

/// Public pages may be cached this long by browsers and proxies.
const CACHE_CONTROL: &str = "public, max-age=60";
/// No script, styles and images from here only, never framed (the embed is the exception).
const CSP: &str = "default-src 'none'; img-src 'self'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const EMBED_CSP: &str = "default-src 'none'; img-src 'self'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors *";
/// The public pages' one stylesheet (small, no web fonts).
const STYLESHEET: &str = include_str!("../../../style/public.css");

/// What the public routes share: the settings they need, the per-address limiter and the
/// cache of rendered pages.
pub struct PublicWeb {
    /// `HERALD_PUBLIC_URL`, without a trailing `/`: absolute links are made with it.
    public_url: Option<String>,
    /// `HERALD_APP_LINK_TEMPLATE`.
    app_link_template: Option<String>,
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    cache: cache::PageCache,
}

impl PublicWeb {
    pub fn new(public_url: Option<String>, app_link_template: Option<String>, requests_per_second: u32) -> Arc<Self> {
        let rate = NonZeroU32::new(requests_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = rate.saturating_mul(NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN));
        let web = Arc::new(Self {
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
            app_link_template,
            limiter: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            cache: Default::default(),
        });
        // Addresses that stopped asking are forgotten, so the limiter's memory stays bounded.
        let weak = Arc::downgrade(&web);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                let Some(web) = weak.upgrade() else { return };
                web.limiter.retain_recent();
                web.limiter.shrink_to_fit();
            }
        });
        web
    }

    /// `Err` with a 429 page when `peer` asked more often than allowed.
    fn admit(&self, peer: IpAddr) -> Result<(), Response> {
        self.limiter.check_key(&peer).map_err(|_| {
            let mut r = error_page(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests",
                "This address asked too often. Wait a few seconds and try again.",
            );
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            r
        })
    }

    /// Where links point: `HERALD_PUBLIC_URL`, else this request's own host over HTTP.
    pub fn base_url(&self, headers: &HeaderMap) -> String {
        match &self.public_url {
            Some(url) => url.clone(),
            None => {
                let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
                // A Host header is the client's word: keep it only if it looks like a host.
                let host = if host.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)) { host } else { "localhost" };
                format!("http://{host}")
            }
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/c/{handle}", get(pages::account_page))
        .route("/c/{handle}/feed.atom", get(feeds::atom))
        .route("/c/{handle}/feed.rss", get(feeds::rss))
        .route("/c/{handle}/{seq}", get(pages::post_page))
        .route("/c/{handle}/{seq}/embed", get(pages::embed))
        .route("/oembed", get(oembed::oembed))
        .route("/join/{code}", get(invite::landing))
        .route("/join/{code}/qr.svg", get(invite::qr_svg))
        .route("/join/{code}/qr.png", get(invite::qr_png))
        .route("/public.css", get(stylesheet))
}

/// Whether `path` is one of the public web's (their own headers are left alone by the
/// console's layer).
pub fn is_public_path(path: &str) -> bool {
    path.starts_with("/c/") || path.starts_with("/join/") || path == "/oembed" || path == "/public.css"
}

async fn stylesheet() -> Response {
    let mut r = ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLESHEET).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r
}

/// A page for a status that is not 200: the sentence, in the public pages' style.
pub fn error_page(status: StatusCode, title: &str, sentence: &str) -> Response {
    let html = pages::message_page(title, sentence);
    let mut r = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    set_page_headers(&mut r, CSP);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn not_found() -> Response {
    error_page(StatusCode::NOT_FOUND, "Not found", "There is no public page at this address.")
}

fn set_page_headers(r: &mut Response, csp: &'static str) {
    let h = r.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    if csp == CSP {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
}

/// The account at `handle` if its public page is on, after the client's admission; else the
/// answer to give (404 for an unknown handle or a page that is off: both look the same).
async fn admitted_account(state: &AppState, peer: SocketAddr, handle: &str) -> Result<PublicAccount, Response> {
    state.public_web.admit(peer.ip())?;
    if messaging::public::Handle::parse("handle", handle).is_err() {
        return Err(not_found());
    }
    match state.messaging.public().account_at(handle).await {
        Ok(Some(account)) => Ok(account),
        Ok(None) => Err(not_found()),
        Err(e) => Err(internal(e)),
    }
}

fn internal(e: messaging::Error) -> Response {
    tracing::error!(error = %e, "a public page failed");
    error_page(StatusCode::INTERNAL_SERVER_ERROR, "Server error", "Something went wrong on the server. Try again in a moment.")
}

/// An answer made once per version of the account (`ETag`), cached for a few seconds, and
/// 304 to a client that has it.
struct Cacheable {
    /// Identifies the resource within the account: `page:20`, `feed.atom`, …
    key: String,
    content_type: &'static str,
    csp: Option<&'static str>,
}

async fn answer_cached<F, Fut>(state: &AppState, account: PublicAccount, request: &HeaderMap, what: Cacheable, render: F) -> Response
where
    F: FnOnce(PublicAccount) -> Fut,
    Fut: std::future::Future<Output = Result<Response, Response>>,
{
    let etag = format!("\"{}-{}\"", account.version(), cache::key_tag(&what.key));
    let last_modified = httpdate(account.last_modified());
    let matches = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().trim_start_matches("W/") == etag || t.trim() == "*"));
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let cache_key = format!("{}/{}", account.account_id, what.key);
        match state.public_web.cache.get(&cache_key, &etag) {
            Some(body) => ([(header::CONTENT_TYPE, what.content_type)], body).into_response(),
            None => match render(account).await {
                Ok(rendered) => {
                    let (parts, body) = rendered.into_parts();
                    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
                    if parts.status == StatusCode::OK {
                        state.public_web.cache.put(cache_key, etag.clone(), bytes.clone());
                    }
                    Response::from_parts(parts, axum::body::Body::from(bytes))
                }
                Err(refused) => return refused,
            },
        }
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&last_modified) {
        h.insert(header::LAST_MODIFIED, v);
    }
    if let Some(csp) = what.csp {
        set_page_headers(&mut response, csp);
    }
    response
}

/// An HTTP date (`Last-Modified`).
fn httpdate(unix_secs: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix_secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format = time::macros::format_description!("[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT");
    t.format(&format).unwrap_or_default()
}

/// RFC 3339 (feeds, `article:published_time`).
fn rfc3339(unix_secs: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix_secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// `url` made absolute against `base` (Herald's media URLs are stored as paths).
fn absolute(base: &str, url: &str) -> String {
    if url.starts_with('/') {
        format!("{base}{url}")
    } else {
        url.to_owned()
    }
}

/// The query of `/c/{handle}`: an older page starts before a post's seq.
#[derive(serde::Deserialize)]
struct PageQuery {
    before: Option<String>,
}
