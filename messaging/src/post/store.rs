//! Drafts, scheduled posts and publishing. A post lives in the `post` table until it is sent;
//! publishing goes through [`Messaging::send_broadcast`] (the REST send), so the frequency limits,
//! the 12 KB rule, the "before send" webhook, duplicates and push jobs all apply.
//!
//! Exactly once: a publisher first claims the row (`status = publishing`, with a claim that
//! expires), in one conditional update, so of two nodes racing for a due post one wins. The
//! broadcast's Random is derived from the post's ID: if a node dies after sending but before
//! marking the post sent, whoever takes the claim over sends the same message again within the
//! 5-minute duplicate window and gets the first send's MsgKey back instead of a second broadcast.

use super::{PostContent, PostImage, PostKind};
use crate::broadcasts::{NewBroadcast, Sent};
use crate::error::{Error, InvalidField, Result};
use crate::ids::OfficialAccountId;
use crate::message::MsgBody;
use crate::store::now;
use crate::Messaging;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// How long a publisher holds a claimed post before another may take it over.
const CLAIM_SECS: i64 = 60;
/// Posts the Posts page lists as not sent (drafts, scheduled, failed).
pub const UNSENT_LIST_MAX: i64 = 200;

pub use super::PostStatus;

/// A post as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPost {
    pub id: String,
    pub account: String,
    pub content: PostContent,
    pub status: PostStatus,
    pub publish_at: Option<i64>,
    pub failure: Option<String>,
    /// Once sent: the broadcast's MsgKey.
    pub msg_key: Option<String>,
    pub created_by: String,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    post_id: String,
    account_id: String,
    kind: String,
    body: String,
    images: String,
    poll: String,
    status: String,
    publish_at: Option<i64>,
    failure: Option<String>,
    msg_seq: Option<i64>,
    msg_time: Option<i64>,
    created_by: String,
    updated_at: i64,
}

const COLUMNS: &str =
    "post_id, account_id, kind, body, images, poll, status, publish_at, failure, msg_seq, msg_time, created_by, updated_at";

/// A stored row that no version of Herald writes (an unknown kind or status, images that are
/// not JSON) is a fault to report, never a post to guess at.
impl TryFrom<Row> for StoredPost {
    type Error = Error;

    fn try_from(r: Row) -> Result<Self> {
        let broken = |what: &str| Error::Internal(format!("post {} has {what}", r.post_id));
        let images: Vec<PostImage> = serde_json::from_str(&r.images).map_err(|_| broken("images that are not JSON"))?;
        let kind = PostKind::parse(&r.kind).ok_or_else(|| broken("an unknown kind"))?;
        let poll = match r.poll.as_str() {
            "" => None,
            json => serde_json::from_str(json).map_err(|_| broken("a poll that is not JSON"))?,
        };
        let status = PostStatus::parse(&r.status).ok_or_else(|| broken("an unknown status"))?;
        Ok(StoredPost {
            content: PostContent { kind, body: r.body, images, poll },
            status,
            msg_key: r.msg_seq.zip(r.msg_time).map(|(seq, time)| crate::MsgKey::broadcast(seq, time).to_string()),
            id: r.post_id,
            account: r.account_id,
            publish_at: r.publish_at,
            failure: r.failure,
            created_by: r.created_by,
            updated_at: r.updated_at,
        })
    }
}

/// The broadcast Random of a post: the same for every attempt, so a resend is a duplicate.
fn post_random(post_id: &str) -> u32 {
    let digest = Sha256::digest(post_id.as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

fn new_post_id() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), 20)
}

/// Post IDs are ours (20 alphanumerics); anything else is simply not a post.
fn check_post_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 40 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::PostNotFound(id.chars().take(40).collect()));
    }
    Ok(())
}

/// The sentence an editor sees when publishing is refused.
pub fn refusal_sentence(e: &Error) -> String {
    match e {
        Error::Invalid(f) => f.rule.clone(),
        Error::BroadcastTooLarge(size) => {
            format!("The post is {size} bytes as a message; the limit is {} bytes.", crate::error::MESSAGE_MAX_BYTES)
        }
        Error::SendTooFrequent(s) => format!("Not published: {s}. Try again later."),
        Error::SendRefusedByWebhook => "The app's webhook refused this post.".into(),
        Error::AccountNotFound(_) => "The official account no longer exists.".into(),
        Error::Storage(_) | Error::Internal(_) => "The server could not publish the post; try again.".into(),
        other => other.to_string(),
    }
}

impl Messaging {
    /// Creates (`id` None) or updates a draft. A scheduled post stays scheduled; a failed one
    /// becomes a draft again. Sent posts cannot change.
    pub async fn save_post(&self, account: &OfficialAccountId, id: Option<&str>, content: &PostContent, by: &str) -> Result<StoredPost> {
        content.check_draft()?;
        self.account(account).await?;
        let images = serde_json::to_string(&content.images).map_err(|e| Error::Internal(e.to_string()))?;
        let poll = match &content.poll {
            Some(p) => serde_json::to_string(p).map_err(|e| Error::Internal(e.to_string()))?,
            None => String::new(),
        };
        let at = now();
        let mut tx = self.begin_write().await?;
        let id = match id {
            None => {
                let id = new_post_id();
                sqlx::query(
                    "insert into post (post_id, account_id, kind, body, images, poll, status, created_by, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $8, 'draft', $6, $7, $7)",
                )
                .bind(&id)
                .bind(account.as_str())
                .bind(content.kind.as_str())
                .bind(&content.body)
                .bind(&images)
                .bind(by)
                .bind(at)
                .bind(&poll)
                .execute(&mut *tx)
                .await?;
                id
            }
            Some(id) => {
                check_post_id(id)?;
                let updated = sqlx::query(
                    "update post set kind = $3, body = $4, images = $5, updated_at = $6, poll = $7, \
                       status = case when status = 'failed' then 'draft' else status end \
                     where post_id = $1 and account_id = $2 and status in ('draft', 'scheduled', 'failed')",
                )
                .bind(id)
                .bind(account.as_str())
                .bind(content.kind.as_str())
                .bind(&content.body)
                .bind(&images)
                .bind(at)
                .bind(&poll)
                .execute(&mut *tx)
                .await?;
                if updated.rows_affected() == 0 {
                    let post = self.post(account, id).await?;
                    return Err(Error::PostAlreadySent(post.id));
                }
                id.to_owned()
            }
        };
        tx.commit().await?;
        self.post(account, &id).await
    }

    /// One post of `account`.
    pub async fn post(&self, account: &OfficialAccountId, id: &str) -> Result<StoredPost> {
        check_post_id(id)?;
        let row: Option<Row> = sqlx::query_as(&format!("select {COLUMNS} from post where post_id = $1 and account_id = $2"))
            .bind(id)
            .bind(account.as_str())
            .fetch_optional(&self.store.pool)
            .await?;
        row.map(StoredPost::try_from).transpose()?.ok_or_else(|| Error::PostNotFound(id.to_owned()))
    }

    /// The account's posts that are not sent yet (drafts, scheduled, publishing, failed), most
    /// recently changed first. Sent posts are its broadcast history.
    pub async fn unsent_posts(&self, account: &OfficialAccountId) -> Result<Vec<StoredPost>> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "select {COLUMNS} from post where account_id = $1 and status <> 'sent' order by updated_at desc, post_id limit $2"
        ))
        .bind(account.as_str())
        .bind(UNSENT_LIST_MAX)
        .fetch_all(&self.store.pool)
        .await?;
        rows.into_iter().map(StoredPost::try_from).collect()
    }

    /// Deletes a post that was not sent.
    pub async fn delete_post(&self, account: &OfficialAccountId, id: &str) -> Result<()> {
        check_post_id(id)?;
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query("delete from post where post_id = $1 and account_id = $2 and status in ('draft', 'scheduled', 'failed')")
            .bind(id)
            .bind(account.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if deleted.rows_affected() == 0 {
            let post = self.post(account, id).await?;
            return Err(Error::PostAlreadySent(post.id));
        }
        Ok(())
    }

    /// Schedules a saved post for `at` (Unix seconds, UTC; in the future), or with `None` makes
    /// it a draft again. The post must be publishable now, so a refusal is seen at once.
    pub async fn schedule_post(&self, account: &OfficialAccountId, id: &str, at: Option<i64>) -> Result<StoredPost> {
        let post = self.post(account, id).await?;
        if let Some(at) = at {
            post.content.check_publishable()?;
            if at <= self.clock.now() {
                return Err(InvalidField::new("PublishAt", "Choose a time in the future.").into());
            }
        }
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "update post set status = $3, publish_at = $4, failure = null, updated_at = $5 \
             where post_id = $1 and account_id = $2 and status in ('draft', 'scheduled', 'failed')",
        )
        .bind(id)
        .bind(account.as_str())
        .bind(if at.is_some() { "scheduled" } else { "draft" })
        .bind(at)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if updated.rows_affected() == 0 {
            return Err(Error::PostAlreadySent(post.id));
        }
        self.schedule_wake.notify_one();
        self.post(account, id).await
    }

    /// Publishes a saved post now. A refusal (limits, webhook, size) leaves it a draft, with the
    /// sentence recorded, and is returned.
    pub async fn publish_post(&self, account: &OfficialAccountId, id: &str) -> Result<Sent> {
        let post = self.post(account, id).await?;
        post.content.check_publishable()?;
        let at = self.clock.now();
        let claimed = sqlx::query(
            "update post set status = 'publishing', claim_until = $3 \
             where post_id = $1 and account_id = $2 and status in ('draft', 'scheduled', 'failed')",
        )
        .bind(id)
        .bind(account.as_str())
        .bind(at + CLAIM_SECS)
        .execute(&self.store.pool)
        .await?;
        if claimed.rows_affected() == 0 {
            return Err(Error::PostAlreadySent(post.id));
        }
        self.publish_claimed(&post, PostStatus::Draft).await
    }

    /// Sends a claimed post and records the outcome: sent with its MsgKey, or `on_refusal`
    /// ("draft" for Publish now, "failed" for a scheduled post) with the sentence.
    async fn publish_claimed(&self, post: &StoredPost, on_refusal: PostStatus) -> Result<Sent> {
        let account = OfficialAccountId::parse("Official_Account", &post.account).map_err(Error::MalformedAccountId)?;
        let sent = async {
            post.content.check_publishable()?;
            let profile = self.account(&account).await?;
            let body = MsgBody::parse("MsgBody", post.content.to_msg_body())?;
            self.send_broadcast(NewBroadcast {
                account: account.clone(),
                random: post_random(&post.id),
                body,
                cloud_custom_data: String::new(),
                offline_push_info: Some(json!({ "PushFlag": 0, "Title": profile.name, "Desc": post.content.summary() })),
                online_only: false,
                no_last_msg: false,
                forbid_before_callback: false,
                forbid_after_callback: false,
            })
            .await
        }
        .await;
        let at = now();
        match &sent {
            Ok(s) => {
                let seq = crate::MsgKey::parse(&s.msg_key).map_or(0, |k| k.seq);
                sqlx::query(
                    "update post set status = 'sent', msg_seq = $2, msg_time = $3, failure = null, claim_until = null, updated_at = $4 \
                     where post_id = $1",
                )
                .bind(&post.id)
                .bind(seq)
                .bind(s.msg_time)
                .bind(at)
                .execute(&self.store.pool)
                .await?;
                tracing::info!(post = %post.id, account = %post.account, msg_key = %s.msg_key, duplicate = s.duplicate, "post published");
            }
            Err(e) => {
                let sentence = refusal_sentence(e);
                tracing::info!(post = %post.id, account = %post.account, refusal = %sentence, "post not published");
                sqlx::query("update post set status = $2, failure = $3, claim_until = null, updated_at = $4 where post_id = $1")
                    .bind(&post.id)
                    .bind(on_refusal.as_str())
                    .bind(&sentence)
                    .bind(at)
                    .execute(&self.store.pool)
                    .await?;
            }
        }
        sent
    }

    /// Publishes due scheduled posts until the workers stop: each due row is claimed in one
    /// conditional update (one node wins), and a claim left by a crashed node is taken over
    /// once it expires. A refusal is recorded on the post, never retried.
    pub async fn publish_scheduled_posts(self) {
        while !self.workers_stopping() {
            match self.publish_due_posts().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "scheduled posts: could not look for due posts"),
            }
            let _ = tokio::time::timeout(Duration::from_millis(500), self.schedule_wake.notified()).await;
        }
    }

    /// Claims and publishes the posts due now; how many it published or recorded as refused.
    pub async fn publish_due_posts(&self) -> Result<usize> {
        let at = self.clock.now();
        let due: Vec<(String,)> = sqlx::query_as(
            "select post_id from post where (status = 'scheduled' and publish_at <= $1) or (status = 'publishing' and claim_until < $1) \
             order by publish_at limit 20",
        )
        .bind(at)
        .fetch_all(&self.store.pool)
        .await?;
        let mut done = 0;
        for (id,) in due {
            let claimed = sqlx::query(
                "update post set status = 'publishing', claim_until = $3 \
                 where post_id = $1 and ((status = 'scheduled' and publish_at <= $2) or (status = 'publishing' and claim_until < $2))",
            )
            .bind(&id)
            .bind(at)
            .bind(at + CLAIM_SECS)
            .execute(&self.store.pool)
            .await?;
            if claimed.rows_affected() != 1 {
                continue; // another node took it
            }
            let row: Row =
                sqlx::query_as(&format!("select {COLUMNS} from post where post_id = $1")).bind(&id).fetch_one(&self.store.pool).await?;
            let post = StoredPost::try_from(row)?;
            let _ = self.publish_claimed(&post, PostStatus::Failed).await;
            done += 1;
        }
        Ok(done)
    }
}
