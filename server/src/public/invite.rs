//! Invite links' public side: `/join/{code}`, a landing page with the account's card, an
//! **Open in the app** button from `HERALD_APP_LINK_TEMPLATE` and, when the public page is on, a
//! link to it; and the link's QR code as SVG and PNG (the `qrcode` crate). A revoked, expired
//! or used-up link answers 410 with a sentence saying which; an unknown one 404.

use super::pages::account_card;
use super::{error_page, internal, not_found, set_page_headers, CSP};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use leptos::prelude::*;
use messaging::public::{InviteCode, InviteLink, PublicAccount};
use messaging::OfficialAccountId;
use std::net::SocketAddr;

/// The link with `code` (any state) after the client's admission, or the answer to give.
async fn admitted_link(state: &AppState, peer: SocketAddr, code: &str) -> Result<InviteLink, Response> {
    state.public_web.admit(peer.ip())?;
    let Ok(code) = InviteCode::parse("code", code) else { return Err(not_found_link()) };
    match state.messaging.public().invite(&code).await {
        Ok(Some(link)) => Ok(link),
        Ok(None) => Err(not_found_link()),
        Err(e) => Err(internal(e)),
    }
}

fn not_found_link() -> Response {
    error_page(StatusCode::NOT_FOUND, "Invite link not found", "No invite link has this address. Check it, or ask for a new one.")
}

/// The deep link into the app, from the template with `{account}` and `{code}` filled in.
fn app_link(template: &str, account: &str, code: &str) -> String {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    template.replace("{account}", &encode(account)).replace("{code}", &encode(code))
}

/// `GET /join/{code}`
pub async fn landing(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    let link = match admitted_link(&state, peer, &code).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    if let Some(why) = link.state(state.messaging.now()).refusal() {
        let sentence = format!("{}{}.", why[..1].to_uppercase(), &why[1..]);
        return error_page(StatusCode::GONE, "This invite link no longer works", &sentence);
    }
    let Ok(id) = OfficialAccountId::parse("account", &link.account) else { return not_found() };
    let account = match state.messaging.account(&id).await {
        Ok(a) => a,
        Err(messaging::Error::AccountNotFound(_)) => return not_found_link(),
        Err(e) => return internal(e),
    };
    let public_page = match state.messaging.public().account_by_id(&link.account).await {
        Ok(p) => p,
        Err(e) => return internal(e),
    };
    let card = PublicAccount {
        account_id: account.id.clone(),
        handle: public_page.as_ref().map(|p| p.handle.clone()).unwrap_or_default(),
        name: account.name.clone(),
        introduction: account.introduction.clone(),
        face_url: account.face_url.clone(),
        subscriber_num: account.subscriber_num,
        created_at: account.create_time,
        last_seq: 0,
        last_msg_time: account.last_msg_time,
        content_changed_at: 0,
        content_version: 0,
        pinned_msg_key: String::new(),
    };
    let base = state.public_web.base_url(&headers);
    let open = match &state.public_web.app_link_template {
        Some(template) => view! {
            <a class="button primary" href=app_link(template, &link.account, &link.code)>"Open in the app"</a>
        }
        .into_any(),
        None => view! {
            <p>"Open the app and enter this invite code: " <span class="code">{link.code.clone()}</span></p>
        }
        .into_any(),
    };
    let read = public_page.map(|p| view! { <a class="button" href=format!("/c/{}", p.handle)>"Read the posts"</a> });
    let url = format!("{base}/join/{}", link.code);
    let title = format!("Subscribe to {}", account.name);
    let qr_alt = format!("QR code of this invite link ({url})");
    let body = view! {
        <main class="join">
            <h1>{title.clone()}</h1>
            {account_card(&card, None, false)}
            {open}
            {read}
            <img class="qr" src=format!("/join/{}/qr.svg", link.code) alt=qr_alt width="180" height="180"/>
            <p class="note">"Scan it with a phone to open this page there."</p>
        </main>
    };
    let head = super::pages::Head::default()
        .meta_name("description", &format!("An invitation to subscribe to {}.", account.name))
        .meta_property("og:type", "website")
        .meta_property("og:title", &title)
        .meta_property("og:url", &url)
        .link("canonical", &url, None, None)
        .meta_name("robots", "noindex");
    let html = super::pages::document(&title, head, "", body);
    let mut r = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    set_page_headers(&mut r, CSP);
    // Revalidated on every visit: a revoked link must stop inviting at once.
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// The QR code of the link's URL; `Err` with the answer for an unknown code. A code that no
/// longer works still has its picture (printed posters outlive links; the page says why).
async fn qr_of(state: &AppState, peer: SocketAddr, code: &str, headers: &HeaderMap) -> Result<(qrcode::QrCode, String), Response> {
    let link = admitted_link(state, peer, code).await?;
    let url = format!("{}/join/{}", state.public_web.base_url(headers), link.code);
    let qr = qrcode::QrCode::new(url.as_bytes()).map_err(|e| internal(messaging::Error::Internal(format!("QR code: {e}"))))?;
    Ok((qr, link.code))
}

fn download(content_type: &'static str, file: String, body: Vec<u8>) -> Response {
    let mut r = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// `GET /join/{code}/qr.svg`
pub async fn qr_svg(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    match qr_of(&state, peer, &code, &headers).await {
        Ok((qr, code)) => {
            let svg = qr.render::<qrcode::render::svg::Color>().min_dimensions(256, 256).quiet_zone(true).build();
            download("image/svg+xml", format!("invite-{code}.svg"), svg.into_bytes())
        }
        Err(r) => r,
    }
}

/// `GET /join/{code}/qr.png`
pub async fn qr_png(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    match qr_of(&state, peer, &code, &headers).await {
        Ok((qr, code)) => {
            let picture = qr.render::<image::Luma<u8>>().min_dimensions(512, 512).quiet_zone(true).build();
            let mut png = std::io::Cursor::new(Vec::new());
            if let Err(e) = picture.write_to(&mut png, image::ImageFormat::Png) {
                return internal(messaging::Error::Internal(format!("QR code PNG: {e}")));
            }
            download("image/png", format!("invite-{code}.png"), png.into_inner())
        }
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_link_fills_in_the_account_and_the_code_encoded() {
        assert_eq!(
            app_link("myapp://subscribe?account={account}&invite={code}", "news&x", "abcDEF123456"),
            "myapp://subscribe?account=news%26x&invite=abcDEF123456"
        );
    }
}
