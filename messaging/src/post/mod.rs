//! Posts: what an editor writes in the console's composer, and what it becomes on the wire.
//!
//! A post is a [`PostKind`], a Markdown body and uploaded images ([`PostContent`]). These types
//! are pure, so the console's WebAssembly half checks the same rules and renders the same preview
//! as the server:
//! * [`render`]: the one Markdown → HTML function (preview, published post, Posts page).
//! * [`wire`]: a post as a broadcast's `MsgBody` (docs/rest-api.md §6) and back, and its size in the
//!   12 KB budget, measured by the function that refuses 80002.
//! * with `backend`: `store` keeps drafts, publishes them through `send_broadcast`, and runs the
//!   scheduled-post worker.

pub mod render;
#[cfg(feature = "backend")]
pub mod store;
pub mod wire;

use crate::error::InvalidField;
use serde::{Deserialize, Serialize};

pub use render::{render_body, render_content, render_elements, render_poll, render_post, render_post_in_list};
pub use wire::{wire_size, PlainElement, PostWire};

/// The body's limit before the message budget: a draft may be saved while over 12 KB (the meter
/// says so), but nothing larger than this is stored at all.
pub const DRAFT_BODY_MAX_BYTES: usize = 64 * 1024;
/// Images one post may carry.
pub const POST_IMAGES_MAX: usize = 9;

/// The post types of the composer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum PostKind {
    #[default]
    Text,
    Image,
    TextAndImage,
    /// A question with options subscribers vote on (`crate::polls`).
    Poll,
}

impl PostKind {
    pub const ALL: [PostKind; 4] = [PostKind::Text, PostKind::Image, PostKind::TextAndImage, PostKind::Poll];

    /// The name on the wire (`type` of the post marker) and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Image => "image",
            Self::TextAndImage => "text_image",
            Self::Poll => "poll",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The name the console shows.
    pub fn label(self) -> &'static str {
        match self {
            Self::Text => "Text",
            Self::Image => "Image",
            Self::TextAndImage => "Text and image",
            Self::Poll => "Poll",
        }
    }

    pub fn has_body(self) -> bool {
        matches!(self, Self::Text | Self::TextAndImage)
    }

    pub fn has_images(self) -> bool {
        matches!(self, Self::Image | Self::TextAndImage)
    }
}

/// `ImageFormat` of a `TIMImageElem` (docs/rest-api.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageFormat {
    Jpeg,
    Gif,
    Png,
    WebP,
}

impl ImageFormat {
    pub fn code(self) -> u8 {
        match self {
            Self::Jpeg => 1,
            Self::Gif => 2,
            Self::Png => 3,
            Self::WebP => 255,
        }
    }
    pub fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            1 => Self::Jpeg,
            2 => Self::Gif,
            3 => Self::Png,
            255 => Self::WebP,
            _ => return None,
        })
    }
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Gif => "gif",
            Self::Png => "png",
            Self::WebP => "webp",
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Png => "image/png",
            Self::WebP => "image/webp",
        }
    }
    pub fn from_extension(ext: &str) -> Option<Self> {
        [Self::Jpeg, Self::Gif, Self::Png, Self::WebP].into_iter().find(|f| f.extension() == ext)
    }
}

/// One stored version of an image (`ImageInfoArray` entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageVersion {
    pub size: u64,
    pub width: u32,
    pub height: u32,
    /// Where Herald serves it: `{origin}/media/{sha256}.{ext}`.
    pub url: String,
}

/// An uploaded image: original (re-encoded, metadata gone), large (≤ 1080) and thumbnail (≤ 200).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostImage {
    /// The original's content hash: the element's `UUID`.
    pub id: String,
    pub format: ImageFormat,
    pub original: ImageVersion,
    pub large: ImageVersion,
    pub thumbnail: ImageVersion,
}

/// Whether `url` is one of Herald's own media URLs (`[origin]/media/{64 hex}.{ext}`): the only
/// images a rendered post shows, so a post can never make a reader's browser fetch elsewhere.
pub fn is_media_url(url: &str) -> bool {
    let path = match url.find("/media/") {
        Some(0) => url,
        Some(i) => {
            let origin = &url[..i];
            let host = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
            match host {
                Some(h) if !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)) => &url[i..],
                _ => return false,
            }
        }
        None => return false,
    };
    let Some(file) = path.strip_prefix("/media/") else { return false };
    let Some((hash, ext)) = file.split_once('.') else { return false };
    hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) && ImageFormat::from_extension(ext).is_some()
}

/// What the composer holds: enough to render, measure and publish a post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PostContent {
    pub kind: PostKind,
    pub body: String,
    pub images: Vec<PostImage>,
    /// The poll of a Poll post (kept while the type changes, like the body and images).
    #[serde(default)]
    pub poll: Option<crate::polls::Poll>,
}

impl PostContent {
    /// What the post's type keeps: switching type never deletes what was written, but a Text post
    /// publishes no images and an Image post no body.
    pub fn published_parts(&self) -> (&str, &[PostImage]) {
        let body = if self.kind.has_body() { self.body.as_str() } else { "" };
        let images: &[PostImage] = if self.kind.has_images() { &self.images } else { &[] };
        (body, images)
    }

    /// Checks a draft as it may be stored (any state of writing, bounded).
    pub fn check_draft(&self) -> Result<(), InvalidField> {
        if self.body.len() > DRAFT_BODY_MAX_BYTES {
            return Err(InvalidField::new("Body", format!("is longer than {DRAFT_BODY_MAX_BYTES} bytes")));
        }
        if self.body.contains('\0') {
            return Err(InvalidField::new("Body", "must not contain NUL characters"));
        }
        if self.images.len() > POST_IMAGES_MAX {
            return Err(InvalidField::new("Images", format!("A post has at most {POST_IMAGES_MAX} images.")));
        }
        for image in &self.images {
            for v in [&image.original, &image.large, &image.thumbnail] {
                if !is_media_url(&v.url) {
                    return Err(InvalidField::new("Images", "An image must be uploaded to Herald."));
                }
            }
        }
        Ok(())
    }

    /// Checks that the post can be published: its type's constraints and the message budget.
    pub fn check_publishable(&self) -> Result<(), InvalidField> {
        self.check_draft()?;
        if self.kind == PostKind::Poll {
            return match &self.poll {
                Some(poll) => poll.check("Poll", None),
                None => Err(InvalidField::new("Poll", "A poll needs a question.")),
            };
        }
        let (body, images) = self.published_parts();
        let kind = match self.kind {
            PostKind::Image => "An Image",
            k => {
                if k == PostKind::Text {
                    "A Text"
                } else {
                    "A Text and image"
                }
            }
        };
        if self.kind.has_body() && body.trim().is_empty() {
            return Err(InvalidField::new("Body", format!("{kind} post needs a body.")));
        }
        if self.kind.has_images() && images.is_empty() {
            return Err(InvalidField::new("Images", format!("{kind} post needs at least one image.")));
        }
        let size = self.wire_size();
        if size > crate::error::MESSAGE_MAX_BYTES {
            return Err(InvalidField::new(
                "Body",
                format!("The post is {size} bytes as a message; the limit is {} bytes.", crate::error::MESSAGE_MAX_BYTES),
            ));
        }
        Ok(())
    }

    /// Bytes this post takes of the 12 KB message budget, as the broadcast would be measured.
    pub fn wire_size(&self) -> usize {
        wire_size(&self.to_msg_body(), "")
    }

    /// A one-line plain-text summary for notifications (the marker's `Desc`).
    pub fn summary(&self) -> String {
        const MAX_CHARS: usize = 100;
        if self.kind == PostKind::Poll {
            let question = self.poll.as_ref().map_or("", |p| p.question.trim());
            return format!("Poll: {}", question.chars().take(MAX_CHARS).collect::<String>());
        }
        let (body, images) = self.published_parts();
        let text = render::plain_text(body);
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut summary: String = text.chars().take(MAX_CHARS).collect();
        if text.chars().count() > MAX_CHARS {
            summary.push('…');
        }
        if summary.is_empty() {
            summary = match images.len() {
                1 => "[Image]".into(),
                n => format!("[{n} images]"),
            };
        }
        summary
    }
}

/// Where a post stands. Sent posts are broadcasts; "recalled" is the broadcast's state. The
/// console carries this type as it is, so a page asks it instead of comparing strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostStatus {
    #[default]
    Draft,
    Scheduled,
    /// Claimed by a publisher (Publish now, or the scheduled-post worker) and being sent.
    Publishing,
    Sent,
    /// A scheduled publish was refused; the post's `failure` says why. Editing makes it a draft
    /// again ([`PostStatus::after_edit`]).
    Failed,
}

impl PostStatus {
    pub const ALL: [PostStatus; 5] = [Self::Draft, Self::Scheduled, Self::Publishing, Self::Sent, Self::Failed];

    /// As stored in `post.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Publishing => "publishing",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The name the console shows.
    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::Scheduled => "Scheduled",
            Self::Publishing => "Publishing",
            Self::Sent => "Sent",
            Self::Failed => "Refused",
        }
    }

    /// Published or being published: its content can no longer change.
    pub fn is_published(self) -> bool {
        matches!(self, Self::Sent | Self::Publishing)
    }

    /// What an edit of the content makes of a post in this state: a refused post becomes a
    /// draft again (its refusal no longer applies); the others stay as they are.
    pub fn after_edit(self) -> Self {
        match self {
            Self::Failed => Self::Draft,
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_post_status_reads_back_from_its_stored_name_and_nothing_else_does() {
        for status in PostStatus::ALL {
            assert_eq!(PostStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(PostStatus::parse("recalled"), None);
        assert_eq!(PostStatus::parse("Sent"), None);
    }

    #[test]
    fn editing_a_refused_post_makes_it_a_draft_and_leaves_every_other_state_alone() {
        assert_eq!(PostStatus::Failed.after_edit(), PostStatus::Draft);
        for status in [PostStatus::Draft, PostStatus::Scheduled, PostStatus::Publishing, PostStatus::Sent] {
            assert_eq!(status.after_edit(), status);
        }
        assert!(PostStatus::Sent.is_published() && PostStatus::Publishing.is_published() && !PostStatus::Failed.is_published());
        assert_eq!(serde_json::to_string(&PostStatus::Failed).unwrap(), "\"failed\"", "the UI gets the stored name");
    }

    pub(crate) fn image(n: u8) -> PostImage {
        let hash = format!("{:02x}", n).repeat(32);
        let v = |side: u32, size: u64| ImageVersion {
            size,
            width: side,
            height: side / 2,
            url: format!("https://herald.example/media/{hash}.png"),
        };
        PostImage {
            id: hash.clone(),
            format: ImageFormat::Png,
            original: v(2000, 90_000),
            large: v(1080, 40_000),
            thumbnail: v(200, 3_000),
        }
    }

    #[test]
    fn each_type_requires_its_parts_and_ignores_the_other() {
        let text = PostContent { kind: PostKind::Text, body: "hello".into(), images: vec![image(1)], poll: None };
        assert!(text.check_publishable().is_ok());
        assert_eq!(text.published_parts().1.len(), 0, "a Text post publishes no images");
        let empty_text = PostContent { kind: PostKind::Text, body: "  ".into(), images: vec![], poll: None };
        assert_eq!(empty_text.check_publishable().unwrap_err().rule, "A Text post needs a body.");
        let image_only = PostContent { kind: PostKind::Image, body: "kept, not sent".into(), images: vec![], poll: None };
        assert_eq!(image_only.check_publishable().unwrap_err().rule, "An Image post needs at least one image.");
        let both = PostContent { kind: PostKind::TextAndImage, body: "x".into(), images: vec![], poll: None };
        assert_eq!(both.check_publishable().unwrap_err().field, "Images");
        let both = PostContent { kind: PostKind::TextAndImage, body: "".into(), images: vec![image(1)], poll: None };
        assert_eq!(both.check_publishable().unwrap_err().field, "Body");
    }

    #[test]
    fn only_herald_media_urls_are_post_images() {
        let hash = "ab".repeat(32);
        for ok in [
            format!("/media/{hash}.png"),
            format!("https://h.example:8443/media/{hash}.jpg"),
            format!("http://127.0.0.1:3000/media/{hash}.webp"),
        ] {
            assert!(is_media_url(&ok), "{ok}");
        }
        for bad in [
            format!("javascript:alert(1)//media/{hash}.png"),
            format!("https://evil.example/x?/media/{hash}.png"),
            format!("/media/{hash}.svg"),
            format!("/media/{}.png", "AB".repeat(32)),
            format!("/media/{hash}.png?x=1"),
            "/media/../etc/passwd".into(),
            format!("//evil.example/media/{hash}.png"),
        ] {
            assert!(!is_media_url(&bad), "{bad}");
        }
    }

    #[test]
    fn a_body_over_the_budget_is_refused_with_its_size() {
        let post = PostContent { kind: PostKind::Text, body: "a".repeat(13_000), images: vec![], poll: None };
        let e = post.check_publishable().unwrap_err();
        assert!(e.rule.starts_with("The post is 13"), "{}", e.rule);
        assert!(post.check_draft().is_ok(), "an over-budget draft can still be saved");
    }

    #[test]
    fn the_summary_is_plain_text() {
        let post = PostContent {
            kind: PostKind::Text,
            body: "**Big** news: [read](https://x.example)\n\n<b>now</b>".into(),
            images: vec![],
            poll: None,
        };
        assert_eq!(post.summary(), "Big news: read <b>now</b>");
        let pics = PostContent { kind: PostKind::Image, body: "".into(), images: vec![image(1), image(2)], poll: None };
        assert_eq!(pics.summary(), "[2 images]");
    }
}
