//! `/c/{handle}/feed.atom` (Atom 1.0) and `/c/{handle}/feed.rss` (RSS 2.0): the last 50 posts
//! with their HTML (links made absolute) and their images as enclosures. Written by the
//! `atom_syndication` and `rss` crates, never by hand. `ETag` and `Last-Modified` come from the
//! account's row, so a reader polling an unchanged feed gets 304 without a post being read.

use super::{absolute, admitted_account, answer_cached, internal, rfc3339, Cacheable};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use messaging::public::{PublicAccount, PublicPost, PAGE_POSTS_MAX};
use std::net::SocketAddr;

/// The post's HTML with Herald's own media paths made absolute (a feed reader has no page to
/// resolve them against). Only the renderer's attributes can hold `="/media/`: text is escaped.
fn absolute_html(base: &str, html: &str) -> String {
    html.replace("=\"/media/", &format!("=\"{base}/media/"))
}

fn feed_time(unix_secs: i64) -> atom_syndication::FixedDateTime {
    atom_syndication::FixedDateTime::parse_from_rfc3339(&rfc3339(unix_secs)).unwrap_or_default()
}

async fn feed(
    state: AppState,
    peer: SocketAddr,
    handle: String,
    headers: HeaderMap,
    kind: &'static str,
    content_type: &'static str,
    write: fn(&str, &PublicAccount, &[PublicPost]) -> String,
) -> Response {
    let account = match admitted_account(&state, peer, &handle).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let base = state.public_web.base_url(&headers);
    let m = state.messaging.clone();
    let what = Cacheable { key: kind.into(), content_type, csp: None };
    answer_cached(&state, account, &headers, what, |account| async move {
        let posts = m.public().posts(&account, None, PAGE_POSTS_MAX).await.map_err(internal)?;
        Ok(([(header::CONTENT_TYPE, content_type)], write(&base, &account, &posts)).into_response())
    })
    .await
}

/// `GET /c/{handle}/feed.atom`
pub async fn atom(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(handle): Path<String>,
    headers: HeaderMap,
) -> Response {
    feed(state, peer, handle, headers, "feed.atom", "application/atom+xml; charset=utf-8", write_atom).await
}

/// `GET /c/{handle}/feed.rss`
pub async fn rss(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(handle): Path<String>,
    headers: HeaderMap,
) -> Response {
    feed(state, peer, handle, headers, "feed.rss", "application/rss+xml; charset=utf-8", write_rss).await
}

fn write_atom(base: &str, account: &PublicAccount, posts: &[PublicPost]) -> String {
    use atom_syndication::{ContentBuilder, EntryBuilder, FeedBuilder, LinkBuilder, PersonBuilder, TextBuilder};
    let page = format!("{base}/c/{}", account.handle);
    let author = PersonBuilder::default().name(account.name.clone()).uri(Some(page.clone())).build();
    let entries: Vec<_> = posts
        .iter()
        .map(|post| {
            let v = post.view();
            let url = format!("{page}/{}", post.seq);
            let mut links = vec![LinkBuilder::default().href(url.clone()).rel("alternate").mime_type(Some("text/html".into())).build()];
            for image in &v.images {
                links.push(
                    LinkBuilder::default()
                        .href(absolute(base, &image.large.url))
                        .rel("enclosure")
                        .mime_type(Some(image.format.content_type().into()))
                        .length(Some(image.large.size.to_string()))
                        .build(),
                );
            }
            EntryBuilder::default()
                .id(url)
                .title(TextBuilder::default().value(v.title.clone()).build())
                .updated(feed_time(post.msg_time))
                .published(Some(feed_time(post.msg_time)))
                .authors(vec![author.clone()])
                .links(links)
                .summary(Some(TextBuilder::default().value(v.description.clone()).build()))
                .content(Some(
                    ContentBuilder::default().content_type(Some("html".into())).value(Some(absolute_html(base, &v.html))).build(),
                ))
                .build()
        })
        .collect();
    let mut feed = FeedBuilder::default();
    feed.id(page.clone())
        .title(TextBuilder::default().value(account.name.clone()).build())
        .updated(feed_time(account.last_modified()))
        .authors(vec![author])
        .links(vec![
            LinkBuilder::default().href(format!("{page}/feed.atom")).rel("self").mime_type(Some("application/atom+xml".into())).build(),
            LinkBuilder::default().href(page.clone()).rel("alternate").mime_type(Some("text/html".into())).build(),
        ])
        .entries(entries);
    if !account.introduction.is_empty() {
        feed.subtitle(Some(TextBuilder::default().value(account.introduction.clone()).build()));
    }
    if messaging::post::is_media_url(&account.face_url) {
        feed.icon(Some(absolute(base, &account.face_url)));
    }
    feed.build().to_string()
}

fn write_rss(base: &str, account: &PublicAccount, posts: &[PublicPost]) -> String {
    use rss::{ChannelBuilder, EnclosureBuilder, GuidBuilder, ImageBuilder, ItemBuilder};
    let page = format!("{base}/c/{}", account.handle);
    let items: Vec<_> = posts
        .iter()
        .map(|post| {
            let v = post.view();
            let url = format!("{page}/{}", post.seq);
            // RSS 2.0 gives an item one enclosure: the first image.
            let enclosure = v.images.first().map(|image| {
                EnclosureBuilder::default()
                    .url(absolute(base, &image.large.url))
                    .length(image.large.size.to_string())
                    .mime_type(image.format.content_type().to_owned())
                    .build()
            });
            ItemBuilder::default()
                .title(Some(v.title.clone()))
                .link(Some(url.clone()))
                .guid(Some(GuidBuilder::default().value(url).permalink(true).build()))
                .pub_date(Some(super::httpdate(post.msg_time).replace("GMT", "+0000")))
                .description(Some(absolute_html(base, &v.html)))
                .enclosure(enclosure)
                .build()
        })
        .collect();
    let description = if account.introduction.is_empty() { format!("Posts of {}", account.name) } else { account.introduction.clone() };
    let image = messaging::post::is_media_url(&account.face_url)
        .then(|| ImageBuilder::default().url(absolute(base, &account.face_url)).title(account.name.clone()).link(page.clone()).build());
    ChannelBuilder::default()
        .title(account.name.clone())
        .link(page)
        .description(description)
        .last_build_date(Some(super::httpdate(account.last_modified()).replace("GMT", "+0000")))
        .image(image)
        .generator(Some("Herald".to_owned()))
        .items(items)
        .build()
        .to_string()
}
