//! A post on the wire (docs/rest-api.md §6): the Markdown source as one `TIMTextElem`, each image as a
//! `TIMImageElem` with its three `ImageInfoArray` entries, and last one `TIMCustomElem` marking the
//! message as a post. Nothing is said twice, since the 12 KB budget is shared; the HTML is never
//! stored, every reader renders it with [`super::render`].

use super::{ImageFormat, ImageVersion, PostContent, PostImage, PostKind};
use serde_json::{json, Value};

/// The marker's `Data` names this; a reader that sees it renders the text as Markdown.
const MARKER: &str = "post";
const MARKER_VERSION: i64 = 1;

/// The size Tencent limits: MsgBody as JSON plus CloudCustomData. The broadcast path refuses
/// with 80002 above [`crate::error::MESSAGE_MAX_BYTES`] by this very function, and the
/// composer's size meter shows it.
pub fn wire_size(body: &Value, cloud_custom_data: &str) -> usize {
    body.to_string().len() + cloud_custom_data.len()
}

fn image_info(kind: u8, v: &ImageVersion) -> Value {
    json!({ "Type": kind, "Size": v.size, "Width": v.width, "Height": v.height, "URL": v.url })
}

/// What a stored message says it is, read back.
#[derive(Debug, Clone, PartialEq)]
pub enum PostWire {
    /// Made by the composer (it carries the marker): render it as a post.
    Post(PostContent),
    /// Any other message: show its elements as a plain client would.
    Elements(Vec<PlainElement>),
}

/// One element of a message that is not a post, as a plain client would show it.
#[derive(Debug, Clone, PartialEq)]
pub enum PlainElement {
    Text(String),
    Image(PostImage),
    /// Any other element: its MsgType, shown as a label.
    Other(String),
}

impl PostContent {
    /// The broadcast's `MsgBody`.
    pub fn to_msg_body(&self) -> Value {
        if self.kind == PostKind::Poll {
            return self.poll.clone().unwrap_or_default().to_msg_body();
        }
        let (body, images) = self.published_parts();
        let mut elements = Vec::with_capacity(images.len() + 2);
        if !body.is_empty() {
            elements.push(json!({ "MsgType": "TIMTextElem", "MsgContent": { "Text": body } }));
        }
        for image in images {
            elements.push(json!({
                "MsgType": "TIMImageElem",
                "MsgContent": {
                    "UUID": image.id,
                    "ImageFormat": image.format.code(),
                    "ImageInfoArray": [image_info(1, &image.original), image_info(2, &image.large), image_info(3, &image.thumbnail)],
                }
            }));
        }
        let data = json!({ "herald": MARKER, "v": MARKER_VERSION, "type": self.kind.as_str(), "format": "markdown" });
        elements.push(json!({ "MsgType": "TIMCustomElem", "MsgContent": { "Data": data.to_string(), "Desc": self.summary() } }));
        Value::Array(elements)
    }

    /// Reads a stored `MsgBody` back: a post when it carries the marker, else its elements.
    pub fn from_msg_body(body: &Value) -> PostWire {
        if let Some(Ok(poll)) = crate::polls::Poll::from_msg_body("MsgBody", body) {
            return PostWire::Post(PostContent { kind: PostKind::Poll, poll: Some(poll), ..Default::default() });
        }
        let elements = body.as_array().map(Vec::as_slice).unwrap_or_default();
        let content = |e: &Value, name: &str| e.get("MsgContent").and_then(|c| c.get(name)).cloned();
        let kind = elements.last().filter(|e| e.get("MsgType").and_then(Value::as_str) == Some("TIMCustomElem")).and_then(|e| {
            let data: Value = serde_json::from_str(content(e, "Data")?.as_str()?).ok()?;
            (data.get("herald")?.as_str()? == MARKER && data.get("v")?.as_i64()? == MARKER_VERSION)
                .then(|| PostKind::parse(data.get("type")?.as_str()?))
                .flatten()
        });
        let mut text = String::new();
        let mut images = Vec::new();
        let mut plain = Vec::new();
        for e in elements {
            match e.get("MsgType").and_then(Value::as_str).unwrap_or("") {
                "TIMTextElem" => {
                    let t = content(e, "Text").and_then(|t| t.as_str().map(str::to_owned)).unwrap_or_default();
                    text.push_str(&t);
                    plain.push(PlainElement::Text(t));
                }
                "TIMImageElem" => match image_from_element(e.get("MsgContent").unwrap_or(&Value::Null)) {
                    Some(image) => {
                        images.push(image.clone());
                        plain.push(PlainElement::Image(image));
                    }
                    None => plain.push(PlainElement::Other("TIMImageElem".into())),
                },
                other => plain.push(PlainElement::Other(other.to_owned())),
            }
        }
        match kind {
            Some(kind) => PostWire::Post(PostContent { kind, body: text, images, poll: None }),
            None => {
                PostWire::Elements(plain.into_iter().filter(|e| !matches!(e, PlainElement::Other(t) if t == "TIMCustomElem")).collect())
            }
        }
    }
}

fn image_from_element(c: &Value) -> Option<PostImage> {
    let infos = c.get("ImageInfoArray")?.as_array()?;
    let version = |kind: i64| -> Option<ImageVersion> {
        let v = infos.iter().find(|i| i.get("Type").and_then(Value::as_i64) == Some(kind))?;
        Some(ImageVersion {
            size: v.get("Size").and_then(Value::as_u64).unwrap_or(0),
            width: v.get("Width").and_then(Value::as_u64).unwrap_or(0) as u32,
            height: v.get("Height").and_then(Value::as_u64).unwrap_or(0) as u32,
            url: v.get("URL")?.as_str()?.to_owned(),
        })
    };
    let original = version(1)?;
    Some(PostImage {
        id: c.get("UUID").and_then(Value::as_str).unwrap_or_default().to_owned(),
        format: c.get("ImageFormat").and_then(Value::as_i64).and_then(ImageFormat::from_code).unwrap_or(ImageFormat::Png),
        large: version(2).unwrap_or_else(|| original.clone()),
        thumbnail: version(3).unwrap_or_else(|| original.clone()),
        original,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::image;
    use super::*;

    #[test]
    fn a_text_and_image_post_maps_to_text_images_and_marker_and_back() {
        let post = PostContent {
            kind: PostKind::TextAndImage,
            body: "**Hi** [x](https://x.example)".into(),
            images: vec![image(1), image(2)],
            poll: None,
        };
        let body = post.to_msg_body();
        let types: Vec<&str> = body.as_array().unwrap().iter().map(|e| e["MsgType"].as_str().unwrap()).collect();
        assert_eq!(types, ["TIMTextElem", "TIMImageElem", "TIMImageElem", "TIMCustomElem"]);
        assert_eq!(body[0]["MsgContent"]["Text"], "**Hi** [x](https://x.example)");
        assert_eq!(body[1]["MsgContent"]["ImageFormat"], 3);
        let infos = body[1]["MsgContent"]["ImageInfoArray"].as_array().unwrap();
        assert_eq!(infos.iter().map(|i| i["Type"].as_i64().unwrap()).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(infos[1]["Width"], 1080);
        let marker: Value = serde_json::from_str(body[3]["MsgContent"]["Data"].as_str().unwrap()).unwrap();
        assert_eq!(marker, json!({ "herald": "post", "v": 1, "type": "text_image", "format": "markdown" }));
        assert_eq!(body[3]["MsgContent"]["Desc"], "Hi x");
        assert_eq!(PostContent::from_msg_body(&body), PostWire::Post(post));
        // It is a valid MsgBody for the REST checks too.
        #[cfg(feature = "backend")]
        assert!(crate::message::MsgBody::parse("MsgBody", body).is_ok());
    }

    #[test]
    fn each_type_sends_only_its_parts() {
        let post = PostContent { kind: PostKind::Image, body: "kept in the draft".into(), images: vec![image(1)], poll: None };
        let body = post.to_msg_body();
        assert_eq!(body.as_array().unwrap().len(), 2, "{body}");
        assert_eq!(PostContent::from_msg_body(&body), PostWire::Post(PostContent { body: "".into(), ..post }));
        let text = PostContent { kind: PostKind::Text, body: "hello".into(), images: vec![image(1)], poll: None };
        assert_eq!(text.to_msg_body().as_array().unwrap().len(), 2);
    }

    #[test]
    fn a_message_without_the_marker_reads_as_plain_elements() {
        let body = json!([
            { "MsgType": "TIMTextElem", "MsgContent": { "Text": "<b>x</b>" } },
            { "MsgType": "TIMFaceElem", "MsgContent": { "Index": 1 } },
            { "MsgType": "TIMCustomElem", "MsgContent": { "Data": "{\"herald\":\"other\"}" } }
        ]);
        assert_eq!(
            PostContent::from_msg_body(&body),
            PostWire::Elements(vec![PlainElement::Text("<b>x</b>".into()), PlainElement::Other("TIMFaceElem".into())])
        );
    }

    #[test]
    fn the_size_is_the_broadcast_size() {
        let post = PostContent { kind: PostKind::Text, body: "héllo".into(), images: vec![], poll: None };
        assert_eq!(post.wire_size(), post.to_msg_body().to_string().len());
    }
}
