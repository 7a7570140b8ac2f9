//! `GET /try`: the subscriber view (`public/try/`, copied to the site root by the build, with
//! the client library built from `clients/js`). A plain page, not Leptos: it is what an app
//! built on the library looks like. Its scripts come from this origin only.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use std::path::PathBuf;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub async fn page(site_root: PathBuf) -> Response {
    match tokio::fs::read_to_string(site_root.join("try/index.html")).await {
        Ok(html) => {
            let mut response = Html(html).into_response();
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
            response
        }
        Err(e) => {
            tracing::warn!(error = %e, "the /try page is missing from the site root (scripts/build.sh puts it there)");
            (StatusCode::NOT_FOUND, "The /try page was not built (run scripts/build.sh).").into_response()
        }
    }
}
