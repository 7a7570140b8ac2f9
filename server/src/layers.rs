//! Middleware every request passes, outermost first:
//!
//! * [`request_id`]: gives the request its RequestId (REST answers carry it) and turns a panic
//!   in a handler into an answer (the 10002 envelope for REST, a 500 page for the console),
//!   logged with the RequestId.
//! * [`trace_layer`]: one log span per request, with the UserSig in the query redacted.
//! * [`refuse_cross_site`]: state-changing console requests must come from Herald's own pages.
//! * [`console_headers`]: security headers on everything that is not REST or a static asset.
//! * [`finish_abandoned_pages`]: a console page whose client went away mid-stream is rendered
//!   to its end anyway, off the connection.

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use rand::Rng;
use std::panic::AssertUnwindSafe;

/// The address of the request's TCP peer (behind a proxy, the proxy), as text.
pub fn peer_ip(req: &Request) -> String {
    req.extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|axum::extract::ConnectInfo(peer)| peer.ip().to_string())
        .unwrap_or_default()
}

/// The request's ID, in its extensions: REST answers carry it, logs name it.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = format!("{:016x}", rand::thread_rng().gen::<u64>());
    req.extensions_mut().insert(RequestId(id.clone()));
    let rest = req.uri().path().starts_with("/v4/");
    match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(response) => response,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            tracing::error!(request_id = %id, panic = %what, "a handler panicked");
            if rest {
                crate::rest::internal_error_answer(&id)
            } else {
                let page = format!(
                    "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Herald: server error</title></head>\
                     <body><main><h1>Something went wrong on the server</h1><p>Try again. If it keeps happening, \
                     give your administrator this request ID: <code>{id}</code>.</p></main></body></html>"
                );
                (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
            }
        }
    }
}

/// `path?query` with the values of secret parameters replaced by `***`.
pub fn redacted_uri(uri: &axum::http::Uri) -> String {
    let Some(query) = uri.query() else {
        return uri.path().to_owned();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if name.eq_ignore_ascii_case("usersig") || name.eq_ignore_ascii_case("token") => format!("{name}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{}?{}", uri.path(), pairs.join("&"))
}

/// One span per request, around every line logged while it is served, naming the method and the redacted
/// URI, never the UserSig. Server-function refusals are 4xx, so a 5xx is a real failure.
pub fn trace_layer() -> tower_http::trace::TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    fn(&Request) -> tracing::Span,
> {
    fn span(req: &Request) -> tracing::Span {
        let id = req.extensions().get::<RequestId>().map(|r| r.0.as_str()).unwrap_or("");
        tracing::info_span!("request", method = %req.method(), uri = %redacted_uri(req.uri()), request_id = %id)
    }
    tower_http::trace::TraceLayer::new_for_http().make_span_with(span as fn(&Request) -> tracing::Span)
}

/// Content types server functions accept: the codecs Herald's own functions use. Anything else
/// (`text/plain`, which a cross-site form may send without a preflight) is refused.
const SERVER_FN_CONTENT_TYPES: &[&str] = &["application/x-www-form-urlencoded", "application/json"];

fn refuse(why: &str) -> Response {
    tracing::warn!(why, "refused a cross-site or malformed console request");
    (StatusCode::FORBIDDEN, format!("Refused: {why}.")).into_response()
}

/// Whether the browser says this request comes from Herald's own pages: `Sec-Fetch-Site` when
/// sent (every current browser), else `Origin` against the public origin or the request's Host.
pub(crate) fn same_site(headers: &HeaderMap, public_origin: Option<&str>) -> Result<(), &'static str> {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return Err("the request comes from another site");
        }
    }
    let Some(origin) = text(header::ORIGIN) else {
        // Sec-Fetch-Site (checked above) vouches alone; with neither header, nothing does.
        return if headers.contains_key("sec-fetch-site") { Ok(()) } else { Err("the request names no Origin") };
    };
    let origin = origin.to_ascii_lowercase();
    let matches = match public_origin {
        Some(expected) => origin == expected,
        None => {
            let host = text(header::HOST).unwrap_or_default().to_ascii_lowercase();
            origin.split_once("://").is_some_and(|(_, h)| !host.is_empty() && h == host)
        }
    };
    if matches {
        Ok(())
    } else {
        Err("the request's Origin is not this server")
    }
}

/// Refuses state-changing console requests (server functions, form posts) that a browser says
/// come from another site, and server-function calls in a content type their codec does not
/// use. The REST API (`/v4/`) is exempt: it carries a UserSig, not a cookie.
pub async fn refuse_cross_site(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    if safe || path.starts_with("/v4/") {
        return next.run(req).await;
    }
    if let Err(why) = same_site(req.headers(), state.public_origin.as_deref()) {
        return refuse(why);
    }
    if path.starts_with("/api/") {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if !SERVER_FN_CONTENT_TYPES.contains(&essence.as_str()) {
            return refuse("a server function was called with a content type it does not take");
        }
    }
    next.run(req).await
}

/// Security headers for console responses (pages and server functions): no sniffing, no
/// framing, no referrer to other sites, and nothing kept in caches (pages show signed-in data).
/// The Content-Security-Policy with the page's nonce is set by the page itself (`app::shell`).
pub async fn console_headers(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    // The public web sets its own caching, framing and CSP (`public`).
    let console =
        !(path.starts_with("/v4/") || path.starts_with("/pkg/") || path.starts_with("/media/") || crate::public::is_public_path(path));
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if console {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers
            .entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(HeaderValue::from_static("default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"));
    }
    response
}

/// A console page streams as Leptos renders it. When its client goes away mid-page (a closed
/// tab, a dropped connection), hyper drops the body, and Leptos keeps the half-rendered page's
/// reactive state alive: the soak measured about 9 KB kept per abandoned page (2,000 abandoned
/// `/accounts` pages: 70 → 82 MiB, then 139 MiB). Instead the rest of the page is rendered on a
/// task of its own and thrown away, so the page ends as a read one does, within
/// [`ABANDONED_PAGE_MAX`].
pub async fn finish_abandoned_pages(req: Request, next: Next) -> Response {
    let (parts, body) = next.run(req).await.into_parts();
    Response::from_parts(parts, axum::body::Body::new(Finishing(Some(body))))
}

/// How long the rest of an abandoned page may take to render before it is dropped after all.
const ABANDONED_PAGE_MAX: std::time::Duration = std::time::Duration::from_secs(30);

/// A page's body that, dropped before its end, renders the rest on its own task.
struct Finishing(Option<axum::body::Body>);

impl http_body::Body for Finishing {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let Some(body) = self.0.as_mut() else { return std::task::Poll::Ready(None) };
        let polled = std::pin::Pin::new(body).poll_frame(cx);
        if let std::task::Poll::Ready(None) = polled {
            self.0 = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.0.as_ref().is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.0.as_ref().map(http_body::Body::size_hint).unwrap_or_else(|| http_body::SizeHint::with_exact(0))
    }
}

impl Drop for Finishing {
    fn drop(&mut self) {
        let Some(mut body) = self.0.take().filter(|b| !http_body::Body::is_end_stream(b)) else { return };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                use http_body_util::BodyExt;
                let rest = async { while let Some(Ok(_)) = body.frame().await {} };
                let _ = tokio::time::timeout(ABANDONED_PAGE_MAX, rest).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_requests_from_this_origin_pass() {
        let local = [("host", "127.0.0.1:3000")];
        assert!(same_site(&headers(&[local[0], ("origin", "http://127.0.0.1:3000")]), None).is_ok());
        assert!(same_site(&headers(&[local[0], ("origin", "https://evil.example")]), None).is_err());
        assert!(same_site(&headers(&[local[0]]), None).is_err(), "no Origin, no Sec-Fetch-Site");
        assert!(same_site(&headers(&[local[0], ("sec-fetch-site", "cross-site"), ("origin", "http://127.0.0.1:3000")]), None).is_err());
        assert!(same_site(&headers(&[local[0], ("sec-fetch-site", "same-origin")]), None).is_ok());
        let public = Some("https://herald.example.com");
        assert!(same_site(&headers(&[("host", "10.0.0.5"), ("origin", "https://herald.example.com")]), public).is_ok());
        assert!(same_site(&headers(&[("host", "herald.example.com"), ("origin", "http://herald.example.com")]), public).is_err());
    }

    #[test]
    fn the_usersig_never_reaches_a_log_line() {
        let uri: axum::http::Uri = "/v4/a/b?sdkappid=1&identifier=admin&usersig=SECRET&random=5".parse().unwrap();
        let shown = redacted_uri(&uri);
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("usersig=***") && shown.contains("random=5"), "{shown}");
    }
}
