//! The public pages' HTML: `/c/{handle}` (the account and its posts, 20 a page, keyset on the
//! post's seq), `/c/{handle}/{seq}` (one post, with Open Graph, Twitter card, canonical URL and
//! oEmbed discovery) and its frameable `/embed` card. Made with Leptos' `view!` rendered to a
//! string: text and attributes are escaped by Leptos; post HTML comes only from the one renderer.

use super::{absolute, admitted_account, answer_cached, error_page, internal, not_found, rfc3339, Cacheable, PageQuery, CSP, EMBED_CSP};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use leptos::prelude::*;
use messaging::public::{PostView, PublicAccount, PublicPost};
use std::net::SocketAddr;

/// Posts per page of `/c/{handle}`.
pub const PAGE_SIZE: i64 = 20;
const HTML: &str = "text/html; charset=utf-8";

/// The tags of a page's `<head>` after the common ones, escaped as they are added (Leptos'
/// `view!` has no `property` attribute, which Open Graph needs).
#[derive(Default)]
pub struct Head(String);

fn attribute(value: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_double_quoted_attribute(value)
}

impl Head {
    pub fn meta_name(mut self, name: &str, content: &str) -> Self {
        self.0.push_str(&format!("<meta name=\"{}\" content=\"{}\">", attribute(name), attribute(content)));
        self
    }

    pub fn meta_property(mut self, property: &str, content: &str) -> Self {
        self.0.push_str(&format!("<meta property=\"{}\" content=\"{}\">", attribute(property), attribute(content)));
        self
    }

    /// `<link rel href [type] [title]>`
    pub fn link(mut self, rel: &str, href: &str, kind: Option<&str>, title: Option<&str>) -> Self {
        self.0.push_str(&format!("<link rel=\"{}\" href=\"{}\"", attribute(rel), attribute(href)));
        if let Some(kind) = kind {
            self.0.push_str(&format!(" type=\"{}\"", attribute(kind)));
        }
        if let Some(title) = title {
            self.0.push_str(&format!(" title=\"{}\"", attribute(title)));
        }
        self.0.push('>');
        self
    }

    /// The account's feeds, as `<link rel="alternate">`.
    fn feeds(self, base: &str, account: &PublicAccount) -> Self {
        let handle = &account.handle;
        self.link(
            "alternate",
            &format!("{base}/c/{handle}/feed.atom"),
            Some("application/atom+xml"),
            Some(&format!("{} (Atom)", account.name)),
        )
        .link(
            "alternate",
            &format!("{base}/c/{handle}/feed.rss"),
            Some("application/rss+xml"),
            Some(&format!("{} (RSS)", account.name)),
        )
    }
}

/// A whole document: the common head, `head`'s tags, then `body`.
pub fn document(title: &str, head: Head, body_class: &str, body: impl IntoView) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title>\
         <link rel=\"stylesheet\" href=\"/public.css\">{}</head><body class=\"{}\">{}</body></html>",
        html_escape::encode_text(title),
        head.0,
        attribute(body_class),
        body.to_html()
    )
}

/// A page that only says something (errors, refusals).
pub fn message_page(title: &str, sentence: &str) -> String {
    let body = view! {
        <main>
            <h1>{title.to_owned()}</h1>
            <p>{sentence.to_owned()}</p>
        </main>
    };
    document(title, Head::default(), "", body)
}

fn avatar(account: &PublicAccount) -> AnyView {
    if messaging::post::is_media_url(&account.face_url) {
        view! { <img class="avatar" src=account.face_url.clone() alt="" width="64" height="64"/> }.into_any()
    } else {
        let initial: String = account.name.chars().next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
        view! { <span class="avatar" aria-hidden="true">{initial}</span> }.into_any()
    }
}

fn subscribers_text(n: i64) -> String {
    if n == 1 {
        "1 subscriber".into()
    } else {
        format!("{n} subscribers")
    }
}

/// The account's card; `heading` makes its name the page's `<h1>`.
pub fn account_card(account: &PublicAccount, link: Option<String>, heading: bool) -> impl IntoView {
    let name = account.name.clone();
    let name = match (link, heading) {
        (Some(href), true) => view! { <h1><a href=href>{name}</a></h1> }.into_any(),
        (None, true) => view! { <h1>{name}</h1> }.into_any(),
        (Some(href), false) => view! { <p class="name"><strong><a href=href>{name}</a></strong></p> }.into_any(),
        (None, false) => view! { <p class="name"><strong>{name}</strong></p> }.into_any(),
    };
    let intro = (!account.introduction.is_empty()).then(|| view! { <p>{account.introduction.clone()}</p> });
    view! {
        <header class="card">
            {avatar(account)}
            <div>
                {name}
                {intro}
                <p class="count">{subscribers_text(account.subscriber_num)}</p>
            </div>
        </header>
    }
}

fn human_time(unix_secs: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix_secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format = time::macros::format_description!("[day padding:none] [month repr:short] [year], [hour]:[minute] UTC");
    t.format(&format).unwrap_or_default()
}

fn reactions(post: &PublicPost) -> Option<impl IntoView> {
    (!post.reactions.is_empty()).then(|| {
        let items = post.reactions.iter().map(|(id, n)| view! { <li>{id.clone()} " " <span>{*n}</span></li> }).collect_view();
        view! { <ul class="reactions" aria-label="Reactions">{items}</ul> }
    })
}

/// " · edited" with when, for an edited post (docs/rest-api.md §9).
fn edited(post: &PublicPost) -> Option<impl IntoView> {
    post.edited_at.map(|at| view! { " · " <span class="edited" title=format!("Edited {}", human_time(at))>"edited"</span> })
}

/// One post as an `<article>`; `list` shows thumbnails, else large images.
fn post_article(handle: &str, post: &PublicPost, view_of: &PostView, list: bool) -> impl IntoView {
    let href = format!("/c/{handle}/{}", post.seq);
    let html = if list { view_of.list_html.clone() } else { view_of.html.clone() };
    view! {
        <article class="post">
            <header>
                {post.pinned.then(|| view! { <span class="pinned">"Pinned"</span> " · " })}
                <a href=href><time datetime=rfc3339(post.msg_time)>{human_time(post.msg_time)}</time></a>
                {edited(post)}
            </header>
            <div class="post-body" inner_html=html></div>
            {reactions(post)}
        </article>
    }
}

/// `GET /c/{handle}[?before={seq}]`
pub async fn account_page(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(handle): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let account = match admitted_account(&state, peer, &handle).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let before = match query.before.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(seq)) if seq > 0 => Some(seq),
        Some(_) => return error_page(StatusCode::BAD_REQUEST, "Bad request", "`before` must be a post number (a positive whole number)."),
    };
    let base = state.public_web.base_url(&headers);
    let key = format!("page:{}", before.unwrap_or(0));
    let what = Cacheable { key, content_type: HTML, csp: Some(CSP) };
    let m = state.messaging.clone();
    answer_cached(&state, account, &headers, what, |account| async move {
        let mut posts = m.public().posts(&account, before, PAGE_SIZE + 1).await.map_err(internal)?;
        let older = (posts.len() as i64 > PAGE_SIZE).then(|| {
            posts.truncate(PAGE_SIZE as usize);
            posts.last().map(|p| p.seq)
        });
        // The pinned post comes first on the first page (and only there).
        if before.is_none() {
            if let Some(pinned) = m.public().pinned_post(&account).await.map_err(internal)? {
                posts.retain(|p| p.seq != pinned.seq);
                posts.insert(0, pinned);
            }
        }
        Ok(([(header::CONTENT_TYPE, HTML)], render_account_page(&base, &account, &posts, before, older.flatten())).into_response())
    })
    .await
}

fn render_account_page(base: &str, account: &PublicAccount, posts: &[PublicPost], before: Option<i64>, older: Option<i64>) -> String {
    let handle = account.handle.clone();
    let canonical = match before {
        None => format!("{base}/c/{handle}"),
        Some(seq) => format!("{base}/c/{handle}?before={seq}"),
    };
    let description = if account.introduction.is_empty() { format!("Posts of {}", account.name) } else { account.introduction.clone() };
    let image = messaging::post::is_media_url(&account.face_url).then(|| absolute(base, &account.face_url));
    let mut head = Head::default()
        .meta_name("description", &description)
        .link("canonical", &canonical, None, None)
        .feeds(base, account)
        .meta_property("og:type", "website")
        .meta_property("og:title", &account.name)
        .meta_property("og:description", &description)
        .meta_property("og:url", &canonical);
    if let Some(src) = image {
        head = head.meta_property("og:image", &src);
    }
    let head = head.meta_name("twitter:card", "summary");
    let list = posts
        .iter()
        .map(|p| {
            let v = p.view();
            view! { <li>{post_article(&handle, p, &v, true)}</li> }
        })
        .collect_view();
    let empty = posts.is_empty().then(|| view! { <p class="empty">"No posts yet."</p> });
    let more = older.map(|seq| view! { <nav class="more"><a rel="next" href=format!("/c/{handle}?before={seq}")>"Older posts"</a></nav> });
    let newest = before.map(|_| view! { <p class="note"><a href=format!("/c/{handle}")>"Back to the newest posts"</a></p> });
    let body = view! {
        <main>
            {account_card(account, None, true)}
            <p class="feeds">
                <a href=format!("/c/{handle}/feed.atom")>"Atom feed"</a>
                <a href=format!("/c/{handle}/feed.rss")>"RSS feed"</a>
            </p>
            <h2 class="visually-hidden">"Posts"</h2>
            {newest}
            <ol class="posts">{list}</ol>
            {empty}
            {more}
        </main>
        <footer>"Published with Herald"</footer>
    };
    document(&account.name, head, "", body)
}

/// The post at `{seq}` of an account whose page is on: `Err` with 404 (no such post) or 410
/// (recalled).
async fn public_post(state: &AppState, account: &PublicAccount, seq: &str) -> Result<PublicPost, Response> {
    let Ok(seq) = seq.parse::<i64>() else { return Err(not_found()) };
    match state.messaging.public().post(account, seq).await {
        Ok(Some(post)) if post.recalled => Err(error_page(StatusCode::GONE, "Post recalled", "The account recalled this post.")),
        Ok(Some(post)) => Ok(post),
        Ok(None) => Err(not_found()),
        Err(e) => Err(internal(e)),
    }
}

/// `GET /c/{handle}/{seq}`
pub async fn post_page(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((handle, seq)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    one_post(state, peer, &handle, seq, headers, "post", CSP, render_post_page).await
}

/// A page of one post (its own page, its embed): `render` makes it once per account version.
#[allow(clippy::too_many_arguments)]
async fn one_post(
    state: AppState,
    peer: SocketAddr,
    handle: &str,
    seq: String,
    headers: HeaderMap,
    kind: &str,
    csp: &'static str,
    render: fn(&str, &PublicAccount, &PublicPost) -> String,
) -> Response {
    let account = match admitted_account(&state, peer, handle).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let base = state.public_web.base_url(&headers);
    let what = Cacheable { key: format!("{kind}:{seq}"), content_type: HTML, csp: Some(csp) };
    let state2 = state.clone();
    answer_cached(&state, account, &headers, what, |account| async move {
        let post = public_post(&state2, &account, &seq).await?;
        Ok(([(header::CONTENT_TYPE, HTML)], render(&base, &account, &post)).into_response())
    })
    .await
}

fn render_post_page(base: &str, account: &PublicAccount, post: &PublicPost) -> String {
    let handle = account.handle.clone();
    let v = post.view();
    let url = format!("{base}/c/{handle}/{}", post.seq);
    let oembed = format!("{base}/oembed?url={}&format=json", form_urlencoded::byte_serialize(url.as_bytes()).collect::<String>());
    let image = v.images.first().map(|i| (absolute(base, &i.large.url), i.large.width, i.large.height));
    let card = if image.is_some() { "summary_large_image" } else { "summary" };
    let title = format!("{} — {}", v.title, account.name);
    let mut head = Head::default()
        .meta_name("description", &v.description)
        .link("canonical", &url, None, None)
        .link("alternate", &oembed, Some("application/json+oembed"), Some(&v.title))
        .feeds(base, account)
        .meta_property("og:type", "article")
        .meta_property("og:site_name", &account.name)
        .meta_property("og:title", &v.title)
        .meta_property("og:description", &v.description)
        .meta_property("og:url", &url)
        .meta_property("article:published_time", &rfc3339(post.msg_time));
    if let Some((src, w, h)) = &image {
        head = head
            .meta_property("og:image", src)
            .meta_property("og:image:width", &w.to_string())
            .meta_property("og:image:height", &h.to_string());
    }
    head = head.meta_name("twitter:card", card).meta_name("twitter:title", &v.title).meta_name("twitter:description", &v.description);
    if let Some((src, _, _)) = &image {
        head = head.meta_name("twitter:image", src);
    }
    let body = view! {
        <main>
            {account_card(account, Some(format!("/c/{handle}")), false)}
            <h1 class="visually-hidden">{v.title.clone()}</h1>
            <div class="posts">{post_article(&handle, post, &v, false)}</div>
            <nav class="more"><a href=format!("/c/{handle}")>{format!("More from {}", account.name)}</a></nav>
        </main>
        <footer>"Published with Herald"</footer>
    };
    document(&title, head, "", body)
}

/// `GET /c/{handle}/{seq}/embed`: a minimal card that other sites may frame.
pub async fn embed(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((handle, seq)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    one_post(state, peer, &handle, seq, headers, "embed", EMBED_CSP, render_embed).await
}

fn render_embed(base: &str, account: &PublicAccount, post: &PublicPost) -> String {
    let v = post.view();
    let handle = account.handle.clone();
    // Links leave the frame: a reader follows them in a tab of their own.
    let url = format!("{base}/c/{handle}/{}", post.seq);
    let body = view! {
        <main>
            <article class="post">
                <header>
                    <strong>{account.name.clone()}</strong> " · "
                    <a href=url.clone() target="_blank" rel="noopener">
                        <time datetime=rfc3339(post.msg_time)>{human_time(post.msg_time)}</time>
                    </a>
                    {edited(post)}
                </header>
                <div class="post-body" inner_html=v.html.clone()></div>
                {reactions(post)}
            </article>
        </main>
    };
    let head = Head::default().link("canonical", &url, None, None);
    document(&v.title, head, "embed", body)
}
