//! What the public pages, feeds and embeds read: the account by its handle (one row, by a unique
//! index) and its posts by keyset on the broadcast's primary key. Nothing here reads
//! subscriptions; the subscriber count is the account's counter.

use super::{Handle, PublicPageSetting};
use crate::audit::{record, AuditAction};
use crate::error::{Error, Result};
use crate::ids::OfficialAccountId;
use crate::store::ResultExt;

/// The most posts one public page or feed reads.
pub const PAGE_POSTS_MAX: i64 = 50;

/// An account as the open web sees it: its card and what tells a cache whether anything changed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PublicAccount {
    pub account_id: String,
    pub handle: String,
    pub name: String,
    pub introduction: String,
    pub face_url: String,
    pub subscriber_num: i64,
    /// Unix seconds the account was created.
    pub created_at: i64,
    /// The newest broadcast's sequence number and time (0 before the first).
    pub last_seq: i64,
    pub last_msg_time: i64,
    /// When, and how many times, something else a page shows changed (a recall, the profile).
    pub content_changed_at: i64,
    pub content_version: i64,
    /// The pinned post's MsgKey; empty when none.
    pub pinned_msg_key: String,
}

impl PublicAccount {
    /// When what the account's pages show last changed (HTTP `Last-Modified`).
    pub fn last_modified(&self) -> i64 {
        self.created_at.max(self.last_msg_time).max(self.content_changed_at)
    }

    /// A validator that changes whenever anything the pages show (but reaction counts) changes.
    pub fn version(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [&self.account_id, &self.handle, &self.name, &self.introduction, &self.face_url] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        h.update(format!("{}/{}/{}/{}", self.subscriber_num, self.last_seq, self.content_version, self.content_changed_at));
        hex::encode(&h.finalize()[..12])
    }
}

/// A post as the open web sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicPost {
    pub seq: i64,
    pub msg_time: i64,
    /// The `MsgBody` JSON as stored.
    pub body: String,
    pub recalled: bool,
    /// Reaction totals, largest first.
    pub reactions: Vec<(String, i64)>,
    /// When it was last edited (docs/rest-api.md §9); None: never.
    pub edited_at: Option<i64>,
    /// The account's pinned post (shown first on its page).
    pub pinned: bool,
}

impl PublicPost {
    pub fn msg_key(&self) -> String {
        crate::MsgKey::broadcast(self.seq, self.msg_time).to_string()
    }
}

impl super::Public {
    /// Sets the account's handle and switch. A handle another account has is refused with
    /// [`Error::HandleTaken`]; the change is audited.
    pub async fn set_public_page(&self, account: &OfficialAccountId, handle: &Handle, enabled: bool) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        let changed = sqlx::query(
            "update official_account set handle = $2, public_page = $3, content_version = content_version + 1, content_changed_at = $4 \
             where account_id = $1 and destroyed_at is null",
        )
        .bind(account.as_str())
        .bind(handle.as_str())
        .bind(i64::from(enabled))
        .bind(self.clock.now())
        .execute(&mut *tx)
        .await
        .on_unique_violation(|| Error::HandleTaken(handle.to_string()))?;
        if changed.rows_affected() == 0 {
            return Err(Error::AccountNotFound(account.to_string()));
        }
        let detail = format!("handle {handle}, public page {}", if enabled { "on" } else { "off" });
        record(&mut tx, AuditAction::PublicPageChanged, Some(account.as_str()), &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account's handle and switch.
    pub async fn page_setting(&self, account: &OfficialAccountId) -> Result<PublicPageSetting> {
        let row: Option<(Option<String>, i64)> =
            sqlx::query_as("select handle, public_page from official_account where account_id = $1 and destroyed_at is null")
                .bind(account.as_str())
                .fetch_optional(&self.store.pool)
                .await?;
        let (handle, enabled) = row.ok_or_else(|| Error::AccountNotFound(account.to_string()))?;
        Ok(PublicPageSetting { handle, enabled: enabled != 0 })
    }

    /// The live account at `handle` whose public page is on; `None` otherwise (every public
    /// URL then answers 404, whatever the reason).
    pub async fn account_at(&self, handle: &str) -> Result<Option<PublicAccount>> {
        Ok(sqlx::query_as(
            "select account_id, handle, name, introduction, face_url, subscriber_num, created_at, last_seq, last_msg_time, \
             content_changed_at, content_version, pinned_msg_key from official_account \
             where handle = $1 and public_page = 1 and destroyed_at is null",
        )
        .bind(handle)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    /// The public page of the live account `account`, if it is on.
    pub async fn account_by_id(&self, account: &str) -> Result<Option<PublicAccount>> {
        Ok(sqlx::query_as(
            "select account_id, handle, name, introduction, face_url, subscriber_num, created_at, last_seq, last_msg_time, \
             content_changed_at, content_version, pinned_msg_key from official_account \
             where account_id = $1 and public_page = 1 and handle is not null and destroyed_at is null",
        )
        .bind(account)
        .fetch_optional(&self.store.pool)
        .await?)
    }

    /// Up to `limit` posts that are not recalled, newest first, older than `before` (a seq).
    pub async fn posts(&self, account: &PublicAccount, before: Option<i64>, limit: i64) -> Result<Vec<PublicPost>> {
        let rows: Vec<(i64, i64, String, Option<i64>)> = sqlx::query_as(
            "select seq, msg_time, body, edited_at from broadcast where account_id = $1 and seq < $2 and recalled_at is null \
             order by seq desc limit $3",
        )
        .bind(&account.account_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit.clamp(1, PAGE_POSTS_MAX))
        .fetch_all(&self.store.pool)
        .await?;
        let pinned = account.pinned_msg_key.as_str();
        let mut posts: Vec<PublicPost> = rows
            .into_iter()
            .map(|(seq, msg_time, body, edited_at)| PublicPost {
                pinned: crate::MsgKey::broadcast(seq, msg_time).to_string() == pinned,
                seq,
                msg_time,
                body,
                recalled: false,
                reactions: vec![],
                edited_at,
            })
            .collect();
        let keys: Vec<String> = posts.iter().map(PublicPost::msg_key).collect();
        let mut counts = crate::delivery::reactions::broadcast_reaction_counts(&self.store.pool, &account.account_id, &keys).await?;
        for post in &mut posts {
            post.reactions = counts.remove(&post.msg_key()).unwrap_or_default();
        }
        Ok(posts)
    }

    /// The account's pinned post, unless there is none (or it was recalled).
    pub async fn pinned_post(&self, account: &PublicAccount) -> Result<Option<PublicPost>> {
        let Some(key) = crate::MsgKey::parse(&account.pinned_msg_key) else { return Ok(None) };
        Ok(self.post(account, key.seq).await?.filter(|p| !p.recalled))
    }

    /// One post by its sequence number, recalled or not; `None` if there is no such post.
    pub async fn post(&self, account: &PublicAccount, seq: i64) -> Result<Option<PublicPost>> {
        let row: Option<(i64, i64, String, Option<i64>, Option<i64>)> =
            sqlx::query_as("select seq, msg_time, body, recalled_at, edited_at from broadcast where account_id = $1 and seq = $2")
                .bind(&account.account_id)
                .bind(seq)
                .fetch_optional(&self.store.pool)
                .await?;
        let Some((seq, msg_time, body, recalled_at, edited_at)) = row else { return Ok(None) };
        let pinned = crate::MsgKey::broadcast(seq, msg_time).to_string() == account.pinned_msg_key;
        let mut post = PublicPost { seq, msg_time, body, recalled: recalled_at.is_some(), reactions: vec![], edited_at, pinned };
        if !post.recalled {
            let key = post.msg_key();
            post.reactions =
                crate::delivery::reactions::broadcast_reaction_counts(&self.store.pool, &account.account_id, std::slice::from_ref(&key))
                    .await?
                    .remove(&key)
                    .unwrap_or_default();
        }
        Ok(Some(post))
    }
}

/// What a reader sees of a post, made by the one renderer (raw HTML in posts stays text).
#[derive(Debug, Clone, PartialEq)]
pub struct PostView {
    /// The post with its large images (a post's own page, an embed, a feed entry).
    pub html: String,
    /// The post with thumbnails linked to the large images (the account's page).
    pub list_html: String,
    /// A one-line title: the first words of the text, or what the post holds.
    pub title: String,
    /// Up to 200 characters of plain text (meta description).
    pub description: String,
    /// The first of Herald's own images, if any (Open Graph, feed enclosures).
    pub images: Vec<crate::post::PostImage>,
}

fn clip(text: &str, max: usize) -> String {
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = words.chars().take(max).collect();
    if words.chars().count() > max {
        out.push('…');
    }
    out
}

impl PublicPost {
    pub fn view(&self) -> PostView {
        use crate::post::{is_media_url, render, PlainElement, PostContent, PostWire};
        let body: serde_json::Value = serde_json::from_str(&self.body).unwrap_or_default();
        let (html, list_html, text, images) = match PostContent::from_msg_body(&body) {
            PostWire::Post(post) if post.kind == crate::post::PostKind::Poll => {
                let html = render::render_content(&post);
                (html.clone(), html, post.poll.as_ref().map(|p| p.text_form()).unwrap_or_default(), vec![])
            }
            PostWire::Post(post) => {
                let (markdown, images) = post.published_parts();
                (
                    render::render_post(markdown, images),
                    render::render_post_in_list(markdown, images),
                    render::plain_text(markdown),
                    images.to_vec(),
                )
            }
            PostWire::Elements(elements) => {
                let text = elements.iter().filter_map(|e| if let PlainElement::Text(t) = e { Some(t.as_str()) } else { None });
                let images = elements.iter().filter_map(|e| if let PlainElement::Image(i) = e { Some(i.clone()) } else { None });
                let html = render::render_elements(&elements);
                (html.clone(), html, text.collect::<Vec<_>>().join(" "), images.collect())
            }
        };
        let images: Vec<_> = images.into_iter().filter(|i| is_media_url(&i.large.url)).collect();
        let title = match clip(&text, 70) {
            t if !t.is_empty() => t,
            _ if images.len() == 1 => "An image".into(),
            _ if !images.is_empty() => format!("{} images", images.len()),
            _ => "A post".into(),
        };
        PostView { html, list_html, title, description: clip(&text, 200), images }
    }
}
