//! An account's data page by page, for its export (docs/operations.md): the server writes the
//! ZIP as the pages come, so neither a long history nor a million subscribers is ever held whole.

use super::Operations;
use crate::broadcasts::StoredBroadcast;
use crate::post::ImageFormat;
use crate::OfficialAccountId;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Posts per page of an export.
pub const POSTS_PAGE: i64 = 500;

impl Operations {
    /// The account's sent posts after `after_seq`, oldest first.
    pub async fn posts_page(&self, account: &OfficialAccountId, after_seq: i64, limit: i64) -> crate::Result<Vec<StoredBroadcast>> {
        Ok(sqlx::query_as(
            "select seq, msg_time, random, body, cloud_custom_data, recalled_at, edited_at, version from broadcast \
             where account_id = $1 and seq > $2 order by seq limit $3",
        )
        .bind(account.as_str())
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.store.pool)
        .await?)
    }
}

/// One line of `posts.jsonl`: the post as sent (its MsgBody), its state, and the media files
/// of the export it shows (`media/{hash}.{ext}`).
pub fn post_line(post: &StoredBroadcast, media: &mut BTreeMap<String, ImageFormat>) -> Value {
    let body = post.body_json();
    let mut files = Vec::new();
    collect_media(&body, &mut |hash, format| {
        files.push(format!("media/{hash}.{}", format.extension()));
        media.insert(hash.to_owned(), format);
    });
    json!({
        "MsgKey": post.msg_key(),
        "MsgSeq": post.seq,
        "MsgTime": post.msg_time,
        "MsgBody": body,
        "CloudCustomData": post.cloud_custom_data,
        "Recalled": post.recalled_at.is_some(),
        "RecallTime": post.recalled_at,
        "MsgVersion": post.version,
        "EditTime": post.edited_at,
        "Media": files,
    })
}

/// Every Herald media URL anywhere in a body (image elements carry three sizes).
fn collect_media(value: &Value, found: &mut impl FnMut(&str, ImageFormat)) {
    match value {
        Value::String(s) if crate::post::is_media_url(s) => {
            let name = &s[s.rfind("/media/").map_or(0, |i| i + "/media/".len())..];
            if let Some((hash, format)) = crate::media::parse_media_name(name) {
                found(hash, format);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_media(v, found)),
        Value::Object(fields) => fields.values().for_each(|v| collect_media(v, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_line_names_each_media_file_its_body_shows_once() {
        let hash = "a".repeat(64);
        let url = format!("https://h.example/media/{hash}.png");
        let post = StoredBroadcast {
            seq: 3,
            msg_time: 1_700_000_000,
            random: 1,
            body: json!([{ "MsgType": "TIMImageElem", "MsgContent": { "ImageInfoArray": [{ "URL": url }, { "URL": url }] } },
                         { "MsgType": "TIMTextElem", "MsgContent": { "Text": "see https://h.example/media/nothing.png" } }])
            .to_string(),
            cloud_custom_data: String::new(),
            recalled_at: None,
            edited_at: None,
            version: 1,
        };
        let mut media = BTreeMap::new();
        let line = post_line(&post, &mut media);
        assert_eq!(media.len(), 1);
        assert_eq!(line["Media"][0], format!("media/{hash}.png"));
        assert_eq!(line["MsgSeq"], 3);
        assert_eq!(line["Recalled"], false);
    }
}
