//! The public web (docs/public-web.md) from outside: each URL's status in each state, Open
//! Graph and canonical tags read by an HTML parser (`scraper`), feeds read by `feed-rs`, 304 on
//! a matching ETag, oEmbed, hostile posts inert everywhere, the per-address bound; invite links
//! used over the client protocol (limits, expiry, revocation, attribution counted once) and
//! their QR codes decoded by `rqrr`.

use crate::client::unlimited;
use crate::helpers::*;
use crate::ws::*;
use messaging::post::{ImageFormat, ImageVersion, PostContent, PostImage, PostKind};
use scraper::{Html, Selector};
use serde_json::{json, Value};

const SET_PUBLIC_PAGE: &str = "herald_open_http_svc/set_public_page";
const CREATE_LINK: &str = "herald_open_http_svc/create_invite_link";
const GET_LINKS: &str = "herald_open_http_svc/get_invite_links";
const REVOKE_LINK: &str = "herald_open_http_svc/revoke_invite_link";
const PUBLIC_URL: &str = "https://herald.example";

async fn public_app() -> TestApp {
    spawn_app_with(|c| {
        c.broadcasts_per_second = Some(100_000);
        c.broadcasts_per_hour = Some(1_000_000);
        c.rest_calls_per_second = Some(100_000);
        c.public_requests_per_second = 10_000;
        c.public_url = Some(PUBLIC_URL.into());
        c.app_link_template = Some("herald-demo://subscribe?account={account}&invite={code}".into());
    })
    .await
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    client().get(format!("{}{path}", app.base)).send().await.unwrap()
}

async fn status(app: &TestApp, path: &str) -> u16 {
    get(app, path).await.status().as_u16()
}

async fn page(app: &TestApp, path: &str) -> Html {
    let r = get(app, path).await;
    assert_eq!(r.status(), 200, "{path}");
    Html::parse_document(&r.text().await.unwrap())
}

fn attr(doc: &Html, selector: &str, name: &str) -> Option<String> {
    doc.select(&Selector::parse(selector).unwrap()).next().and_then(|e| e.value().attr(name)).map(str::to_owned)
}

async fn set_page(app: &TestApp, account: &str, handle: &str, on: bool) -> Value {
    app.call(SET_PUBLIC_PAGE, json!({ "Official_Account": account, "Handle": handle, "Enabled": u8::from(on) })).await
}

async fn post(app: &TestApp, account: &str, body: Value) -> String {
    let r = app.send(json!({ "Official_Account": account, "Random": rand_u32(), "MsgBody": body })).await;
    assert_ok(&r);
    r["MsgKey"].as_str().unwrap().to_owned()
}

fn encoded(url: &str) -> String {
    url.replace(':', "%3A").replace('/', "%2F")
}

fn image(n: u8) -> PostImage {
    let version = |w: u32, tag: &str| ImageVersion {
        size: 1000 + u64::from(n),
        width: w,
        height: w / 2,
        url: format!("/media/{}{}.png", tag, format!("{n:02x}").repeat(31)),
    };
    PostImage {
        id: format!("img{n}"),
        format: ImageFormat::Png,
        original: version(2000, "aa"),
        large: version(1080, "bb"),
        thumbnail: version(200, "cc"),
    }
}

/// A composer post (Markdown with the post marker) as its MsgBody.
fn markdown_post(body: &str, images: Vec<PostImage>) -> Value {
    let kind = if images.is_empty() { PostKind::Text } else { PostKind::TextAndImage };
    PostContent { kind, body: body.into(), images, poll: None }.to_msg_body()
}

#[tokio::test]
async fn every_public_url_answers_404_until_the_page_is_on_and_again_once_it_is_off() {
    let app = public_app().await;
    let account = app.an_account("owner", "@TOA#_pub", "Public").await;
    post(&app, &account, text("hello")).await;
    let urls = ["/c/news", "/c/news/1", "/c/news/1/embed", "/c/news/feed.atom", "/c/news/feed.rss"];
    let oembed = format!("/oembed?url={}&format=json", encoded(&format!("{PUBLIC_URL}/c/news/1")));
    for url in urls.iter().copied().chain([oembed.as_str()]) {
        assert_eq!(status(&app, url).await, 404, "{url} before a handle is set");
    }
    let r = set_page(&app, &account, "news", false).await;
    assert_ok(&r);
    assert_eq!(r["Url"], format!("{PUBLIC_URL}/c/news"));
    for url in urls.iter().copied().chain([oembed.as_str()]) {
        assert_eq!(status(&app, url).await, 404, "{url} with the page off");
    }
    assert_ok(&set_page(&app, &account, "news", true).await);
    for url in urls.iter().copied().chain([oembed.as_str()]) {
        assert_eq!(status(&app, url).await, 200, "{url} with the page on");
    }
    assert_eq!(status(&app, "/c/nobody").await, 404, "an unknown handle");
    assert_eq!(status(&app, "/c/news/99").await, 404, "an unknown post");
    assert_eq!(status(&app, "/c/news/x").await, 404, "not a post number");
    assert_eq!(status(&app, "/c/news?before=x").await, 400, "a malformed cursor");
    let r = get(&app, "/c/news").await;
    assert_eq!(r.headers()["cache-control"], "public, max-age=60");
    assert_ok(&set_page(&app, &account, "news", false).await);
    for url in urls.iter().copied().chain([oembed.as_str()]) {
        assert_eq!(status(&app, url).await, 404, "{url} switched off again");
    }
}

#[tokio::test]
async fn set_public_page_refuses_a_taken_handle_a_malformed_one_and_unknown_accounts() {
    let app = public_app().await;
    let first = app.an_account("owner", "@TOA#_first", "First").await;
    let second = app.an_account("owner", "@TOA#_second", "Second").await;
    assert_ok(&set_page(&app, &first, "taken", true).await);
    assert_fails(&set_page(&app, &second, "taken", true).await, 130008);
    for bad in ["ab", "Upper", "with space", "../x", &"x".repeat(33)] {
        let r = set_page(&app, &second, bad, true).await;
        assert_fails(&r, 10004);
        assert!(r["ErrorInfo"].as_str().unwrap().contains("Handle"), "{r}");
    }
    let r = app.call(SET_PUBLIC_PAGE, json!({ "Official_Account": second, "Handle": "fine" })).await;
    assert_fails(&r, 10004);
    assert!(r["ErrorInfo"].as_str().unwrap().contains("Enabled"), "{r}");
    assert_fails(&set_page(&app, "@TOA#_nobody", "nobody", true).await, 130004);
    assert_fails(&set_page(&app, "bad id", "nobody", true).await, 130007);
    // Changing one's own handle frees the old one.
    assert_ok(&set_page(&app, &first, "renamed", true).await);
    assert_ok(&set_page(&app, &second, "taken", true).await);
    assert_eq!(status(&app, "/c/renamed").await, 200);
}

#[tokio::test]
async fn a_post_page_carries_absolute_open_graph_twitter_and_canonical_tags_and_a_recalled_post_is_gone() {
    let app = public_app().await;
    let account = app.an_account("owner", "@TOA#_og", "Open \"Graph\" & Co").await;
    assert_ok(&set_page(&app, &account, "opengraph", true).await);
    let key = post(&app, &account, markdown_post("**Launch day** is here. Read [more](https://example.com).", vec![image(1)])).await;
    let doc = page(&app, "/c/opengraph/1").await;
    let meta = |p: &str| attr(&doc, &format!("meta[property=\"{p}\"]"), "content");
    let named = |n: &str| attr(&doc, &format!("meta[name=\"{n}\"]"), "content");
    assert_eq!(meta("og:url").as_deref(), Some("https://herald.example/c/opengraph/1"));
    assert_eq!(attr(&doc, "link[rel=canonical]", "href").as_deref(), Some("https://herald.example/c/opengraph/1"));
    assert_eq!(meta("og:type").as_deref(), Some("article"));
    assert_eq!(meta("og:title").as_deref(), Some("Launch day is here. Read more."));
    assert_eq!(meta("og:image").as_deref(), Some(format!("https://herald.example{}", image(1).large.url).as_str()));
    assert_eq!(meta("og:site_name").as_deref(), Some("Open \"Graph\" & Co"));
    assert!(meta("article:published_time").unwrap().ends_with('Z'));
    assert_eq!(named("twitter:card").as_deref(), Some("summary_large_image"));
    assert!(named("description").unwrap().starts_with("Launch day"));
    let title = doc.select(&Selector::parse("title").unwrap()).next().unwrap().text().collect::<String>();
    assert_eq!(title, "Launch day is here. Read more. — Open \"Graph\" & Co");
    let oembed = attr(&doc, "link[type=\"application/json+oembed\"]", "href").unwrap();
    assert!(oembed.starts_with("https://herald.example/oembed?url=https%3A%2F%2Fherald.example%2Fc%2Fopengraph%2F1"), "{oembed}");
    assert_eq!(attr(&doc, "link[type=\"application/atom+xml\"]", "href").as_deref(), Some("https://herald.example/c/opengraph/feed.atom"));
    assert_eq!(attr(&doc, "link[type=\"application/rss+xml\"]", "href").as_deref(), Some("https://herald.example/c/opengraph/feed.rss"));
    // The account page lists it with its thumbnail linked to the large image.
    let list = page(&app, "/c/opengraph").await;
    assert_eq!(attr(&list, "article .post-images img", "src"), Some(image(1).thumbnail.url));
    assert_eq!(attr(&list, "article .post-images a", "href"), Some(image(1).large.url));
    assert_eq!(attr(&list, "meta[property=\"og:url\"]", "content").as_deref(), Some("https://herald.example/c/opengraph"));

    let r = app
        .call(
            "official_account_open_http_svc/official_account_msg_recall",
            json!({ "Official_Account": account, "MsgKeyList": [{ "MsgKey": key }] }),
        )
        .await;
    assert_ok(&r);
    let gone = get(&app, "/c/opengraph/1").await;
    assert_eq!(gone.status(), 410);
    assert!(gone.text().await.unwrap().contains("recalled"));
    assert_eq!(status(&app, "/c/opengraph/1/embed").await, 410);
    let list = page(&app, "/c/opengraph").await;
    assert_eq!(list.select(&Selector::parse("article.post").unwrap()).count(), 0, "a recalled post is absent");
}

#[tokio::test]
async fn the_account_page_shows_twenty_posts_and_pages_older_ones_by_keyset() {
    let app = public_app().await;
    let account = app.an_account("owner", "@TOA#_pages", "Pages").await;
    assert_ok(&set_page(&app, &account, "pages", true).await);
    for i in 1..=25 {
        post(&app, &account, text(&format!("post number {i}"))).await;
    }
    let first = page(&app, "/c/pages").await;
    let articles = Selector::parse("article.post").unwrap();
    assert_eq!(first.select(&articles).count(), 20);
    assert!(first.select(&articles).next().unwrap().text().collect::<String>().contains("post number 25"), "newest first");
    let older = attr(&first, "a[rel=next]", "href").unwrap();
    assert_eq!(older, "/c/pages?before=6");
    let second = page(&app, &older).await;
    assert_eq!(second.select(&articles).count(), 5);
    assert!(attr(&second, "a[rel=next]", "href").is_none(), "no older page after the last");
    let card = first.select(&Selector::parse(".card").unwrap()).next().unwrap().text().collect::<String>();
    assert!(card.contains("0 subscribers"), "{card}");
}

#[tokio::test]
async fn the_feeds_parse_with_their_entries_html_and_image_enclosures_and_answer_304_to_their_etag() {
    let app = public_app().await;
    let account = app.an_account("owner", "@TOA#_feed", "Feedy").await;
    assert_ok(&set_page(&app, &account, "feedy", true).await);
    for i in 1..=52 {
        post(&app, &account, text(&format!("plain {i}"))).await;
    }
    post(&app, &account, markdown_post("# Headline\n\nwith *style*", vec![image(2), image(3)])).await;
    for (path, kind) in [("/c/feedy/feed.atom", "atom"), ("/c/feedy/feed.rss", "rss")] {
        let r = get(&app, path).await;
        assert_eq!(r.status(), 200);
        let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with(&format!("application/{kind}+xml")), "{content_type}");
        let etag = r.headers()["etag"].to_str().unwrap().to_owned();
        assert!(r.headers().contains_key("last-modified"));
        let feed = feed_rs::parser::parse(r.bytes().await.unwrap().as_ref()).expect("an independent parser reads the feed");
        assert_eq!(feed.title.unwrap().content, "Feedy");
        assert_eq!(feed.entries.len(), 50, "the last 50 posts");
        let newest = &feed.entries[0];
        assert_eq!(newest.title.as_ref().unwrap().content, "Headline with style");
        let html =
            newest.content.as_ref().and_then(|c| c.body.clone()).or_else(|| newest.summary.as_ref().map(|s| s.content.clone())).unwrap();
        assert!(html.contains("<h1>Headline</h1>") && html.contains("<em>style</em>"), "{html}");
        assert!(html.contains(&format!("src=\"https://herald.example{}\"", image(2).large.url)), "absolute image URLs: {html}");
        let links: Vec<String> = newest.links.iter().map(|l| l.href.clone()).collect();
        assert!(links.contains(&"https://herald.example/c/feedy/53".to_owned()), "{links:?}");
        let enclosures: Vec<(String, String)> = match kind {
            "atom" => newest
                .links
                .iter()
                .filter(|l| l.rel.as_deref() == Some("enclosure"))
                .map(|l| (l.href.clone(), l.media_type.clone().unwrap_or_default()))
                .collect(),
            _ => newest
                .media
                .iter()
                .flat_map(|m| m.content.iter())
                .filter_map(|c| Some((c.url.as_ref()?.to_string(), c.content_type.as_ref()?.to_string())))
                .collect(),
        };
        let want = format!("https://herald.example{}", image(2).large.url);
        assert!(enclosures.iter().any(|(url, t)| *url == want && t == "image/png"), "{kind}: {enclosures:?}");
        assert_eq!(feed.entries[49].title.as_ref().unwrap().content, "plain 4");

        // The same feed again with its ETag: 304, no body.
        let again = client().get(format!("{}{path}", app.base)).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(again.status(), 304, "{kind}");
        assert!(again.bytes().await.unwrap().is_empty());
    }
    // A new post is a new ETag.
    let before = get(&app, "/c/feedy/feed.atom").await.headers()["etag"].clone();
    post(&app, &account, text("newer")).await;
    let after = client().get(format!("{}/c/feedy/feed.atom", app.base)).header("if-none-match", before.clone()).send().await.unwrap();
    assert_eq!(after.status(), 200);
    assert_ne!(after.headers()["etag"], before);
}

#[tokio::test]
async fn oembed_answers_a_rich_iframe_of_the_embed_and_only_the_embed_may_be_framed() {
    let app = public_app().await;
    let account = app.an_account("owner", "@TOA#_embed", "Embedded").await;
    assert_ok(&set_page(&app, &account, "embedded", true).await);
    post(&app, &account, text("frame me")).await;
    let url = "https://herald.example/c/embedded/1";
    let q = |extra: &str| format!("/oembed?url={}{extra}", encoded(url));
    let r = get(&app, &q("&format=json")).await;
    assert_eq!(r.status(), 200);
    let o: Value = r.json().await.unwrap();
    assert_eq!(o["version"], "1.0");
    assert_eq!(o["type"], "rich");
    assert_eq!(o["author_name"], "Embedded");
    assert_eq!(o["author_url"], "https://herald.example/c/embedded");
    let html = Html::parse_fragment(o["html"].as_str().unwrap());
    assert_eq!(attr(&html, "iframe", "src").as_deref(), Some("https://herald.example/c/embedded/1/embed"));
    assert!(o["width"].as_u64().unwrap() > 0 && o["height"].as_u64().unwrap() > 0);
    assert_eq!(status(&app, &q("&format=xml")).await, 501);
    assert_eq!(status(&app, "/oembed?url=https%3A%2F%2Fother.example%2Fc%2Fembedded%2F1").await, 404);
    assert_eq!(status(&app, "/oembed").await, 400);

    let embed = get(&app, "/c/embedded/1/embed").await;
    assert_eq!(embed.status(), 200);
    let csp = embed.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("frame-ancestors *"), "{csp}");
    assert!(!embed.headers().contains_key("x-frame-options"));
    for path in ["/c/embedded", "/c/embedded/1"] {
        let r = get(&app, path).await;
        let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(r.headers()["x-frame-options"], "DENY", "{path}");
    }
}

/// Every element and attribute of `html` that could run script.
fn scripts_in(html: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let mut found = Vec::new();
    for e in doc.root_element().descendants().filter_map(scraper::ElementRef::wrap) {
        let v = e.value();
        if ["script", "iframe", "object", "embed"].contains(&v.name()) {
            found.push(format!("<{}>", v.name()));
        }
        for (name, value) in v.attrs() {
            let lower = value.trim().to_ascii_lowercase();
            if name.starts_with("on") || lower.starts_with("javascript:") || lower.starts_with("data:text/html") {
                found.push(format!("{}={value}", name));
            }
        }
    }
    found
}

#[tokio::test]
async fn hostile_markdown_and_html_in_posts_stay_inert_on_every_public_page_and_feed() {
    let app = public_app().await;
    let account = app.an_account("owner", "@TOA#_evil", "<script>alert('name')</script>").await;
    assert_ok(&set_page(&app, &account, "evil", true).await);
    let hostile = "<script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3)) \
                   <iframe src=https://evil.example></iframe> \"><svg onload=alert(4)>";
    post(&app, &account, markdown_post(hostile, vec![])).await;
    post(&app, &account, text(hostile)).await;
    for path in ["/c/evil", "/c/evil/1", "/c/evil/2", "/c/evil/1/embed", "/c/evil/2/embed"] {
        let r = get(&app, path).await;
        assert_eq!(r.status(), 200, "{path}");
        let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.starts_with("default-src 'none'") && !csp.contains("script-src"), "{path}: no script may run: {csp}");
        let html = r.text().await.unwrap();
        assert_eq!(scripts_in(&html), Vec::<String>::new(), "{path}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{path}: shown as text");
    }
    for path in ["/c/evil/feed.atom", "/c/evil/feed.rss"] {
        let feed = feed_rs::parser::parse(get(&app, path).await.bytes().await.unwrap().as_ref()).unwrap();
        for entry in &feed.entries {
            let html =
                entry.content.as_ref().and_then(|c| c.body.clone()).or_else(|| entry.summary.as_ref().map(|s| s.content.clone())).unwrap();
            assert_eq!(scripts_in(&html), Vec::<String>::new(), "{path}: {html}");
        }
    }
    let o: Value = get(&app, "/oembed?url=https%3A%2F%2Fherald.example%2Fc%2Fevil%2F1").await.json().await.unwrap();
    let frame = Html::parse_fragment(o["html"].as_str().unwrap());
    assert_eq!(
        frame.root_element().descendants().filter_map(scraper::ElementRef::wrap).filter(|e| e.value().name() != "html").count(),
        1,
        "one iframe: {o}"
    );
}

#[tokio::test]
async fn a_client_address_that_asks_too_often_gets_429_with_a_sentence() {
    let app = spawn_app_with(|c| c.public_requests_per_second = 2).await;
    let account = app.an_account("owner", "@TOA#_busy", "Busy").await;
    assert_ok(&set_page(&app, &account, "busy", true).await);
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(status(&app, "/c/busy").await);
    }
    assert!(statuses.starts_with(&[200, 200, 200, 200]), "a burst of twice the rate passes: {statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    let r = get(&app, "/c/busy").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().await.unwrap().contains("asked too often"));
    // The console and the REST API are not counted against it.
    assert_ok(&app.get_official_account_info(&[&account]).await);
}

async fn create_link(app: &TestApp, account: &str, body: Value) -> (String, String) {
    let mut req = json!({ "Official_Account": account });
    req.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
    let r = app.call(CREATE_LINK, req).await;
    assert_ok(&r);
    (r["InviteCode"].as_str().unwrap().to_owned(), r["Url"].as_str().unwrap().to_owned())
}

async fn links(app: &TestApp, account: &str) -> Vec<Value> {
    let r = app.call(GET_LINKS, json!({ "Official_Account": account })).await;
    assert_ok(&r);
    r["Links"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_invite_link_counts_each_new_subscriber_once_and_refuses_past_its_limit_expiry_or_revocation() {
    let app = public_app().await;
    let account = app.an_account("owner", "@TOA#_invite", "Inviting").await;
    app.call("im_open_login_svc/multiaccount_import", json!({ "Accounts": ["a", "b", "c", "d"] })).await;
    let (code, url) = create_link(&app, &account, json!({ "Name": "Spring poster", "MaxUses": 2 })).await;
    assert_eq!(url, format!("{PUBLIC_URL}/join/{code}"));
    let sub = |code: &str| json!({ "officialAccountID": account, "inviteCode": code });

    let mut a = Ws::connect(&app.base, "a").await;
    let resolved = a.ok("resolveInviteCode", json!({ "inviteCode": code })).await;
    assert_eq!(resolved["officialAccountInfo"]["officialAccountID"], account, "{resolved}");
    a.ok("subscribeOfficialAccount", sub(&code)).await;
    a.ok("subscribeOfficialAccount", sub(&code)).await; // already subscribed: no second use
    let mut b = Ws::connect(&app.base, "b").await;
    b.ok("subscribeOfficialAccount", sub(&code)).await;
    let mut c = Ws::connect(&app.base, "c").await;
    let refused = c.request("subscribeOfficialAccount", sub(&code)).await;
    assert_eq!(refused["code"], 10004, "{refused}");
    assert!(refused["desc"].as_str().unwrap().contains("used as many times as it allows"), "{refused}");
    let refused = c.request("resolveInviteCode", json!({ "inviteCode": code })).await;
    assert_eq!(refused["code"], 10004, "{refused}");

    let listed = links(&app, &account).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0]["Name"].clone(), listed[0]["Uses"].clone(), listed[0]["MaxUses"].clone(), listed[0]["Revoked"].clone()),
        (json!("Spring poster"), json!(2), json!(2), json!(0))
    );
    // Insights count them under the link's name, and the audit log names the link.
    let today = messaging::insights::Day::of_time(app.node().now()).to_string();
    let insights =
        app.call("herald_open_http_svc/get_account_insights", json!({ "Official_Account": account, "From": today, "To": today })).await;
    assert_eq!(insights["BySource"], json!([{ "Source": "link:Spring poster", "Subscribed": 2 }]), "{insights}");
    let log = app
        .node()
        .audit_log(&messaging::audit::AuditQuery { account: Some(account.clone()), limit: 50, ..Default::default() })
        .await
        .unwrap();
    assert!(log.iter().any(|e| e.action == "subscribers.added" && e.detail.contains("Spring poster")), "{log:?}");
    assert!(log.iter().any(|e| e.action == "invite_link.created"), "{log:?}");
    // An unsubscribe takes one off "still subscribed", not off uses.
    a.ok("unsubscribeOfficialAccount", json!({ "officialAccountID": account })).await;
    let listed = links(&app, &account).await;
    assert_eq!((listed[0]["Uses"].clone(), listed[0]["Subscribed"].clone()), (json!(2), json!(1)));

    // Expired: the clock moves past ExpireTime.
    let (expiring, _) = create_link(&app, &account, json!({ "Name": "Flyer", "ExpireTime": app.node().now() + 60 })).await;
    app.node().advance_clock(61);
    let refused = c.request("subscribeOfficialAccount", sub(&expiring)).await;
    assert!(refused["desc"].as_str().unwrap().contains("expired"), "{refused}");
    assert_eq!(status(&app, &format!("/join/{expiring}")).await, 410);

    // Revoked.
    let (revoked, _) = create_link(&app, &account, json!({ "Name": "Newsletter" })).await;
    assert_ok(&app.call(REVOKE_LINK, json!({ "Official_Account": account, "InviteCode": revoked })).await);
    let refused = c.request("subscribeOfficialAccount", sub(&revoked)).await;
    assert!(refused["desc"].as_str().unwrap().contains("revoked"), "{refused}");
    let landing = get(&app, &format!("/join/{revoked}")).await;
    assert_eq!(landing.status(), 410);
    assert!(landing.text().await.unwrap().contains("revoked"));
    // A code of another account, a malformed one and an unknown one.
    let other = app.an_account("owner", "@TOA#_other", "Other").await;
    let (foreign, _) = create_link(&app, &other, json!({ "Name": "Theirs" })).await;
    let refused = c.request("subscribeOfficialAccount", sub(&foreign)).await;
    assert!(refused["desc"].as_str().unwrap().contains("another account"), "{refused}");
    assert_eq!(c.request("subscribeOfficialAccount", sub("short")).await["code"], 10004);
    assert_eq!(c.request("subscribeOfficialAccount", sub("AAAAAAAAAAAA")).await["code"], 10004);
    // Nothing of it subscribed c.
    assert_eq!(
        app.node()
            .subscriber(&messaging::OfficialAccountId::parse("a", &account).unwrap(), &messaging::UserId::parse("u", "c").unwrap())
            .await
            .unwrap(),
        None
    );
    let mut d = Ws::connect(&app.base, "d").await;
    d.ok("subscribeOfficialAccount", json!({ "officialAccountID": account })).await;
}

#[tokio::test]
async fn invite_link_commands_refuse_bad_fields_and_unknown_accounts_with_the_field_named() {
    let app = public_app().await;
    let account = app.an_account("owner", "@TOA#_links", "Links").await;
    let now = app.node().now();
    for (body, field) in [
        (json!({ "Official_Account": account }), "Name"),
        (json!({ "Official_Account": account, "Name": "x", "ExpireTime": now - 1 }), "ExpireTime"),
        (json!({ "Official_Account": account, "Name": "x", "MaxUses": 0 }), "MaxUses"),
    ] {
        let r = app.call(CREATE_LINK, body).await;
        assert_fails(&r, 10004);
        assert!(r["ErrorInfo"].as_str().unwrap().contains(field), "{r}");
    }
    create_link(&app, &account, json!({ "Name": "Once" })).await;
    let r = app.call(CREATE_LINK, json!({ "Official_Account": account, "Name": "Once" })).await;
    assert_fails(&r, 10004);
    assert!(r["ErrorInfo"].as_str().unwrap().contains("already has an invite link named"), "{r}");
    assert_fails(&app.call(CREATE_LINK, json!({ "Official_Account": "@TOA#_none", "Name": "x" })).await, 130004);
    assert_fails(&app.call(GET_LINKS, json!({ "Official_Account": "@TOA#_none" })).await, 130004);
    assert_fails(&app.call(GET_LINKS, json!({ "Official_Account": "not valid" })).await, 130007);
    assert_fails(&app.call(REVOKE_LINK, json!({ "Official_Account": account, "InviteCode": "AAAAAAAAAAAA" })).await, 10004);
    assert_fails(&app.call(REVOKE_LINK, json!({ "Official_Account": "@TOA#_none", "InviteCode": "AAAAAAAAAAAA" })).await, 130004);
}

#[tokio::test]
async fn concurrent_subscriptions_with_a_limited_link_take_exactly_its_uses() {
    let app = unlimited().await;
    let account = app.an_account("owner", "@TOA#_race", "Race").await;
    let users: Vec<String> = (0..12).map(|i| format!("racer{i}")).collect();
    app.call("im_open_login_svc/multiaccount_import", json!({ "Accounts": users })).await;
    let (code, _) = create_link(&app, &account, json!({ "Name": "Limited", "MaxUses": 3 })).await;
    let mut clients = Vec::new();
    for u in &users {
        clients.push(Ws::connect(&app.base, u).await);
    }
    let answers = futures::future::join_all(
        clients.iter_mut().map(|c| c.request("subscribeOfficialAccount", json!({ "officialAccountID": account, "inviteCode": code }))),
    )
    .await;
    assert_eq!(answers.iter().filter(|a| a["code"] == 0).count(), 3, "{answers:?}");
    assert_eq!(links(&app, &account).await[0]["Uses"], 3);
    assert_eq!(app.get_official_account_info(&[&account]).await["OfficialAccountInfoList"][0]["SubscriberNum"], 3);
}

#[tokio::test]
async fn the_landing_page_offers_the_app_and_the_public_page_and_its_qr_code_decodes_to_the_link() {
    let app = public_app().await;
    let account = app.an_account("owner", "@TOA#_qr", "Scan me").await;
    let (code, url) = create_link(&app, &account, json!({ "Name": "Poster" })).await;
    let doc = page(&app, &format!("/join/{code}")).await;
    let open = attr(&doc, "a.button.primary", "href").unwrap();
    assert_eq!(open, format!("herald-demo://subscribe?account=%40TOA%23_qr&invite={code}"));
    assert!(attr(&doc, "a[href=\"/c/scanme\"]", "href").is_none(), "no public page link while it is off");
    assert_ok(&set_page(&app, &account, "scanme", true).await);
    let doc = page(&app, &format!("/join/{code}")).await;
    assert_eq!(attr(&doc, "a[href=\"/c/scanme\"]", "href").as_deref(), Some("/c/scanme"));
    assert_eq!(attr(&doc, "meta[property=\"og:url\"]", "content").as_deref(), Some(url.as_str()));

    let png = get(&app, &format!("/join/{code}/qr.png")).await;
    assert_eq!(png.headers()["content-type"], "image/png");
    let picture = image::load_from_memory(&png.bytes().await.unwrap()).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(picture);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, decoded) = grids[0].decode().unwrap();
    assert_eq!(decoded, url, "the QR code says the link's URL");
    let svg = get(&app, &format!("/join/{code}/qr.svg")).await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("<svg"));
    assert_eq!(status(&app, "/join/AAAAAAAAAAAA").await, 404);
    assert_eq!(status(&app, "/join/AAAAAAAAAAAA/qr.png").await, 404);
    assert_eq!(status(&app, "/join/nonsense").await, 404);
}

#[tokio::test]
async fn only_the_accounts_owner_and_the_platform_owner_change_its_public_page_and_links_in_the_console() {
    let app = spawn_app().await;
    let account = app.an_account("owner", "@TOA#_console_pub", "Console public").await;
    let admin = signed_in(&app).await;
    let res = server_fn(&app, "invite_user", &[("username", "editor.pub"), ("role", "editor"), ("accounts", &account)], Some(&admin)).await;
    let link: String = res.json().await.unwrap();
    let editor = accept_invitation(&app, &link, "correct horse battery staple").await.expect("accepted");

    let set = |who: Option<String>| {
        let (app, account) = (&app, account.clone());
        async move {
            server_fn(app, "set_public_web", &[("id", &account), ("handle", "console-pub"), ("enabled", "on")], who.as_deref())
                .await
                .status()
        }
    };
    assert_eq!(set(Some(editor.clone())).await, 403, "an editor may not");
    assert_eq!(set(None).await, 401, "nobody signed in may not");
    assert_eq!(status(&app, "/c/console-pub").await, 404);
    assert_eq!(set(Some(admin.clone())).await, 200);
    assert_eq!(status(&app, "/c/console-pub").await, 200);
    let bad = server_fn(&app, "set_public_web", &[("id", &account), ("handle", "Bad Handle")], Some(&admin)).await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("Handle"));

    let create = server_fn(
        &app,
        "create_invite_link",
        &[("id", &account), ("name", "Desk"), ("expires", "2099-01-02T03:04"), ("max_uses", "7")],
        Some(&editor),
    )
    .await;
    assert_eq!(create.status(), 403);
    let create = server_fn(
        &app,
        "create_invite_link",
        &[("id", &account), ("name", "Desk"), ("expires", "2099-01-02T03:04"), ("max_uses", "7")],
        Some(&admin),
    )
    .await;
    assert_eq!(create.status(), 200, "{}", create.text().await.unwrap());
    let growth: Value = server_fn(&app, "account_growth", &[("id", &account)], Some(&admin)).await.json().await.unwrap();
    let row = &growth["links"][0];
    assert_eq!(
        (row["name"].as_str(), row["uses"].as_str(), row["expires"].as_str()),
        (Some("Desk"), Some("0 of 7"), Some("2099-01-02 03:04 UTC"))
    );
    assert_eq!(growth["handle"], "console-pub");
    assert_eq!(growth["enabled"], true);
    assert_eq!(server_fn(&app, "account_growth", &[("id", &account)], Some(&editor)).await.status(), 403);
    let past = server_fn(
        &app,
        "create_invite_link",
        &[("id", &account), ("name", "Old"), ("expires", "2000-01-01T00:00"), ("max_uses", "")],
        Some(&admin),
    )
    .await;
    assert_eq!(past.status(), 422);
    assert!(past.text().await.unwrap().contains("ExpireTime"));
}
