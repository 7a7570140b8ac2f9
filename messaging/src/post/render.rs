//! The one renderer of posts: Markdown → HTML, run by the composer's preview in the browser and
//! by the server for published posts. It is the only place post HTML is made, so it is the one
//! place that keeps script out:
//! * raw HTML in the Markdown is shown as text, never passed through;
//! * links keep only `http`, `https` and `mailto` targets (anything else renders as its text) and
//!   carry `rel="noopener noreferrer nofollow"`;
//! * Markdown images are shown as their alt text: a post's pictures are its uploads, rendered
//!   from [`PostImage`]s whose URLs are Herald's own media URLs.
//!
//! Text and attributes are escaped by pulldown-cmark's escaping functions.

use super::{is_media_url, PostImage};
use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};
use pulldown_cmark_escape::{escape_href, escape_html};

/// Link targets a post may have.
pub fn is_allowed_link(url: &str) -> bool {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    ["https://", "http://", "mailto:"].iter().any(|scheme| lower.starts_with(scheme) && url.len() > scheme.len())
}

fn options() -> Options {
    // No tables: their alignment is an inline style, which the console's CSP refuses.
    Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// The post body's HTML: safe to put into a page as it is.
pub fn render_body(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len() * 3 / 2 + 16);
    // Links whose target was refused: their end tag is dropped too.
    let mut refused_links: Vec<bool> = Vec::new();
    // Inside an image: its "alt" text events are shown as text, the image itself is not.
    let mut image_depth = 0usize;
    let events = Parser::new_ext(markdown, options()).map(|event| match event {
        // Raw HTML, block or inline, becomes visible text.
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        Event::Start(Tag::Link { link_type, dest_url, title, .. }) => {
            let href = if link_type == LinkType::Email { format!("mailto:{dest_url}") } else { dest_url.trim().to_string() };
            let allowed = is_allowed_link(&href);
            refused_links.push(!allowed);
            if !allowed {
                return Event::Text("".into());
            }
            let mut tag = String::from("<a href=\"");
            let _ = escape_href(&mut tag, &href);
            tag.push('"');
            if !title.is_empty() {
                tag.push_str(" title=\"");
                let _ = escape_html(&mut tag, &title);
                tag.push('"');
            }
            tag.push_str(" rel=\"noopener noreferrer nofollow\" target=\"_blank\">");
            Event::InlineHtml(tag.into())
        }
        Event::End(TagEnd::Link) => {
            if refused_links.pop().unwrap_or(true) {
                Event::Text("".into())
            } else {
                Event::InlineHtml("</a>".into())
            }
        }
        Event::Start(Tag::Image { .. }) => {
            image_depth += 1;
            Event::Text("".into())
        }
        Event::End(TagEnd::Image) => {
            image_depth = image_depth.saturating_sub(1);
            Event::Text("".into())
        }
        other => other,
    });
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

/// A whole post as a reader sees it: the body, then its images (large version, linked to the
/// original). Images whose URL is not Herald's own media are left out.
pub fn render_post(body: &str, images: &[PostImage]) -> String {
    render_with_images(body, images, |i| &i.large, |i| &i.original)
}

/// A post in a list (the public page): the body, then its images as thumbnails, each linked to
/// its large version.
pub fn render_post_in_list(body: &str, images: &[PostImage]) -> String {
    render_with_images(body, images, |i| &i.thumbnail, |i| &i.large)
}

fn render_with_images(
    body: &str,
    images: &[PostImage],
    shown: fn(&PostImage) -> &super::ImageVersion,
    linked: fn(&PostImage) -> &super::ImageVersion,
) -> String {
    let mut out = render_body(body);
    let ours = |i: &&PostImage| is_media_url(&shown(i).url) && is_media_url(&linked(i).url);
    if images.iter().any(|i| ours(&i)) {
        out.push_str("<div class=\"post-images\">");
        for image in images.iter().filter(ours) {
            let (shown, linked) = (shown(image), linked(image));
            out.push_str("<a href=\"");
            let _ = escape_href(&mut out, &linked.url);
            out.push_str("\" rel=\"noopener noreferrer nofollow\" target=\"_blank\"><img src=\"");
            let _ = escape_href(&mut out, &shown.url);
            out.push_str(&format!("\" width=\"{}\" height=\"{}\" alt=\"\" loading=\"lazy\"></a>", shown.width, shown.height));
        }
        out.push_str("</div>");
    }
    out
}

/// A message that is not a post, as a plain client shows it: text as text (never Markdown,
/// never HTML), Herald's own images, and other elements by their type.
pub fn render_elements(elements: &[super::wire::PlainElement]) -> String {
    use super::wire::PlainElement;
    let mut out = String::new();
    for element in elements {
        match element {
            PlainElement::Text(text) => {
                out.push_str("<p class=\"plain-text\">");
                let _ = escape_html(&mut out, text);
                out.push_str("</p>");
            }
            PlainElement::Image(image) => out.push_str(&render_post("", std::slice::from_ref(image))),
            PlainElement::Other(kind) => {
                out.push_str("<p class=\"element\">[");
                let _ = escape_html(&mut out, kind);
                out.push_str("]</p>");
            }
        }
    }
    out
}

/// A poll as a reader sees it: the question, each option (with its votes as a bar when
/// `results` are given), and how it is answered. Text is escaped; bars are `<meter>`s, so no
/// inline style is needed.
pub fn render_poll(poll: &crate::polls::Poll, results: Option<&crate::polls::PollResults>) -> String {
    let mut out = String::from("<div class=\"poll\"><p class=\"poll-question\">");
    let _ = escape_html(&mut out, poll.question.trim());
    out.push_str("</p><ol class=\"poll-options\">");
    for option in &poll.options {
        out.push_str("<li><span class=\"poll-option\">");
        let _ = escape_html(&mut out, option.text.trim());
        out.push_str("</span>");
        if let Some(r) = results {
            let votes = r.options.iter().find(|(o, _)| o.id == option.id).map_or(0, |(_, n)| *n);
            out.push_str(&format!(
                " <meter min=\"0\" max=\"{}\" value=\"{votes}\"></meter> <span class=\"poll-votes\">{votes} ({}%)</span>",
                r.voters.max(1),
                r.percent(votes)
            ));
        }
        out.push_str("</li>");
    }
    out.push_str("</ol><p class=\"poll-note\">");
    out.push_str(if poll.multiple { "Several choices allowed" } else { "One choice" });
    if let Some(r) = results {
        out.push_str(&format!(" · {} voter{}", r.voters, if r.voters == 1 { "" } else { "s" }));
    }
    out.push_str("</p></div>");
    out
}

/// A post made in the composer as a reader sees it (a poll without counts).
pub fn render_content(content: &super::PostContent) -> String {
    match (&content.kind, &content.poll) {
        (super::PostKind::Poll, Some(poll)) => render_poll(poll, None),
        (super::PostKind::Poll, None) => String::new(),
        _ => {
            let (body, images) = content.published_parts();
            render_post(body, images)
        }
    }
}

/// The body's words without markup (for a notification's summary).
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::new();
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item) => out.push(' '),
            _ => {}
        }
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests;
