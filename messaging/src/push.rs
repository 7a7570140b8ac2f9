//! Offline push (docs/client-protocol.md §7, docs/rest-api.md §5): the pluggable hook that hands a broadcast to the
//! app's push gateway (APNs/FCM) for the subscribers who asked to be notified.
//!
//! A broadcast that wants a push (not `OnlineOnlyFlag`, `OfflinePushInfo.PushFlag` not 1) writes
//! one `push_job` row in its own transaction. A worker ([`Messaging::deliver_pushes`]) walks the
//! account's subscribers by keyset on the subscriber ID and POSTs them to the push URL in batches
//! of [`PUSH_BATCH_MAX`]. Only `AcceptAndNotify` subscribers who subscribed by the time of the
//! message are included: `AcceptNotNotify` receives without push, `Discard` receives nothing.
//! The cursor moves after the hook accepted a batch, so a crash or a dead gateway resumes at the
//! batch that was not taken (at least once; `X-Herald-Event-Id: push-{job}-{batch}` names a batch).
//!
//! A one-to-one message from the account to a subscriber (`openim/sendmsg`) is pushed the same
//! way, to that subscriber alone, if they are `AcceptAndNotify`; the request then also carries
//! `From_Account` and `ConversationID` (`c2c_{account}`).
//!
//! Subscribers with an open client connection on any live server node (`delivery::presence`)
//! received the message live and leave each batch: only those with no connection are pushed.

use crate::error::Result;
use crate::store::now;
use crate::webhooks::{backoff_secs, callback_body, fields, Webhooks, AFTER_TIMEOUT};
use crate::Messaging;
use serde_json::{json, Value};
use std::time::Duration;

/// Subscribers per request to the push hook.
pub const PUSH_BATCH_MAX: i64 = 500;
/// The `CallbackCommand` of a push request.
pub const PUSH_COMMAND: &str = "Herald.CallbackOfflinePush";
/// How long a worker holds a job; a worker that died lets it go this way.
const LEASE_SECS: i64 = 60;

/// Whether a stored broadcast with this `OfflinePushInfo` asks for a push (PushFlag 1 = none).
pub(crate) fn wants_push(offline_push_info: Option<&Value>) -> bool {
    offline_push_info.and_then(|i| i.get("PushFlag")).and_then(Value::as_i64) != Some(1)
}

/// Queues the push of broadcast `seq` of `account` inside the caller's transaction.
pub(crate) async fn enqueue_push(conn: &mut sqlx::AnyConnection, hooks: &Webhooks, account: &str, seq: i64) -> Result<()> {
    enqueue_direct_push(conn, hooks, account, "", seq).await
}

/// Queues the push of message `seq` of the conversation between `account` and `subscriber`
/// (`""`: broadcast `seq`, to every subscriber) inside the caller's transaction.
pub(crate) async fn enqueue_direct_push(
    conn: &mut sqlx::AnyConnection,
    hooks: &Webhooks,
    account: &str,
    subscriber: &str,
    seq: i64,
) -> Result<()> {
    if hooks.settings().push_url.is_none() {
        return Ok(());
    }
    sqlx::query("insert into push_job (account_id, subscriber_account, seq, next_attempt_at, created_at) values ($1, $2, $3, $4, $4)")
        .bind(account)
        .bind(subscriber)
        .bind(seq)
        .bind(now())
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Job {
    job_id: i64,
    account_id: String,
    seq: i64,
    /// `""` for a broadcast.
    subscriber_account: String,
    after_subscriber: String,
    batches_sent: i64,
    attempts: i64,
    created_at: i64,
}

/// The message a job pushes, as it is now.
#[derive(sqlx::FromRow)]
struct Pushed {
    msg_time: i64,
    /// Part of a one-to-one MsgKey (`{seq}_{random}_{time}`).
    random: i64,
    body: String,
    cloud_custom_data: String,
    offline_push_info: Option<String>,
}

impl Messaging {
    /// Tells the push worker a job is waiting (call after the transaction commits).
    pub(crate) fn push_queued(&self) {
        self.webhooks.push_wake.notify_one();
    }

    /// Hands queued pushes to the push hook forever, oldest job first. A batch the hook does not
    /// take is retried after 1, 2, 4 … 60 s; other jobs go on meanwhile.
    pub async fn deliver_pushes(self) {
        while !self.workers_stopping() {
            // A setting: it may appear, change or go while Herald runs.
            let Some(url) = self.webhooks.settings().push_url else {
                let _ = tokio::time::timeout(Duration::from_secs(5), self.webhooks.push_wake.notified()).await;
                continue;
            };
            match self.push_next_batch(&url).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "offline push failed"),
            }
            let _ = tokio::time::timeout(Duration::from_millis(500), self.webhooks.push_wake.notified()).await;
        }
    }

    /// Sends one batch of the oldest due job; false when no job is due.
    async fn push_next_batch(&self, url: &str) -> Result<bool> {
        let at = self.clock.now();
        // Claim the job with a lease; the outer condition makes a second node's claim of the
        // same row find nothing once the first has committed.
        let job: Option<Job> = sqlx::query_as(
            "update push_job set lease_until = $2 where lease_until <= $1 and job_id = \
               (select job_id from push_job where next_attempt_at <= $1 and lease_until <= $1 and dead_at is null order by job_id limit 1) \
             returning job_id, account_id, seq, subscriber_account, after_subscriber, batches_sent, attempts, created_at",
        )
        .bind(at)
        .bind(at + LEASE_SECS)
        .fetch_optional(&self.store.pool)
        .await?;
        let Some(job) = job else {
            return Ok(false);
        };
        let direct = !job.subscriber_account.is_empty();
        // Recalled since, or its account destroyed: nobody is notified any more.
        let pushed: Option<Pushed> = if direct {
            sqlx::query_as(
                "select m.msg_time, m.random, m.body, m.cloud_custom_data, m.offline_push_info from c2c_message m \
                 join official_account a on a.account_id = m.account_id \
                 where m.account_id = $1 and m.subscriber_account = $2 and m.seq = $3 and a.destroyed_at is null",
            )
            .bind(&job.account_id)
            .bind(&job.subscriber_account)
            .bind(job.seq)
            .fetch_optional(&self.store.pool)
            .await?
        } else {
            sqlx::query_as(
                "select b.msg_time, b.random, b.body, b.cloud_custom_data, b.offline_push_info from broadcast b \
                 join official_account a on a.account_id = b.account_id \
                 where b.account_id = $1 and b.seq = $2 and b.recalled_at is null and a.destroyed_at is null",
            )
            .bind(&job.account_id)
            .bind(job.seq)
            .fetch_optional(&self.store.pool)
            .await?
        };
        let Some(pushed) = pushed else {
            return self.finish_push_job(job.job_id).await;
        };
        // The next batch by keyset; for a one-to-one message, just its subscriber.
        let to: Vec<(String,)> = sqlx::query_as(
            "select subscriber_account from subscription \
             where account_id = $1 and subscriber_account > $2 and msg_flag = 'AcceptAndNotify' and subscribed_at <= $3 \
               and ($5 = '' or subscriber_account = $5) \
             order by subscriber_account limit $4",
        )
        .bind(&job.account_id)
        .bind(&job.after_subscriber)
        .bind(pushed.msg_time)
        .bind(PUSH_BATCH_MAX)
        .bind(&job.subscriber_account)
        .fetch_all(&self.store.pool)
        .await?;
        let Some((last,)) = to.last().cloned() else {
            return self.finish_push_job(job.job_id).await;
        };
        // Subscribers with an open client connection (on any live node) got it live.
        let batch: Vec<String> = to.iter().map(|(s,)| s.clone()).collect();
        let online = self.connections_of(&batch).await?;
        let offline: Vec<&String> = batch.iter().filter(|u| !online.contains_key(*u)).collect();
        let full_batch = to.len() as i64 >= PUSH_BATCH_MAX;
        if offline.is_empty() {
            if !full_batch {
                return self.finish_push_job(job.job_id).await;
            }
            sqlx::query("update push_job set after_subscriber = $2, lease_until = 0 where job_id = $1")
                .bind(job.job_id)
                .bind(&last)
                .execute(&self.store.pool)
                .await?;
            return Ok(true);
        }
        let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
        let msg_key = if direct {
            crate::MsgKey::direct(job.seq, pushed.random, pushed.msg_time).to_string()
        } else {
            crate::MsgKey::broadcast(job.seq, pushed.msg_time).to_string()
        };
        let mut event = fields(vec![
            ("Official_Account", json!(job.account_id)),
            ("From_Account", json!(job.account_id)),
            ("MsgKey", json!(msg_key)),
            ("MsgTime", json!(pushed.msg_time)),
            ("MsgBody", parse(&pushed.body)),
            ("CloudCustomData", json!(pushed.cloud_custom_data)),
            ("OfflinePushInfo", pushed.offline_push_info.as_deref().map(parse).unwrap_or(Value::Null)),
            ("To_Account", json!(offline)),
        ]);
        if direct {
            event.insert("ConversationID".into(), json!(crate::delivery::objects::conversation_id(&job.account_id)));
        }
        let body = callback_body(PUSH_COMMAND, event).to_string();
        let batch_id = format!("push-{}-{}", job.job_id, job.batches_sent);
        if self.webhooks.post_to(url, PUSH_COMMAND, &body, AFTER_TIMEOUT, Some(batch_id), "").await.is_none() {
            if self.delivery.gives_up(job.attempts + 1, job.created_at, self.clock.now()) {
                // Given up on: kept with its cursor, listed and retryable on the Settings page.
                sqlx::query("update push_job set attempts = attempts + 1, dead_at = $2, lease_until = 0 where job_id = $1")
                    .bind(job.job_id)
                    .bind(self.clock.now())
                    .execute(&self.store.pool)
                    .await?;
                tracing::warn!(job = job.job_id, attempts = job.attempts + 1, "a push job was given up on and moved to the dead letters");
                return Ok(true);
            }
            sqlx::query("update push_job set attempts = attempts + 1, next_attempt_at = $2, lease_until = 0 where job_id = $1")
                .bind(job.job_id)
                .bind(self.clock.now() + backoff_secs(job.attempts))
                .execute(&self.store.pool)
                .await?;
            return Ok(true);
        }
        // The batch went out: it counts as pushed (insights) with the job's step forward.
        let mut tx = self.begin_write().await?;
        if !direct {
            let n = offline.len() as i64;
            crate::insights::count_for_post(&mut tx, &job.account_id, job.seq, crate::insights::PostCounter::Pushed, n).await?;
        }
        if full_batch {
            sqlx::query(
                "update push_job set after_subscriber = $2, batches_sent = batches_sent + 1, attempts = 0, lease_until = 0 \
                 where job_id = $1",
            )
            .bind(job.job_id)
            .bind(&last)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query("delete from push_job where job_id = $1").bind(job.job_id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn finish_push_job(&self, job_id: i64) -> Result<bool> {
        sqlx::query("delete from push_job where job_id = $1").bind(job_id).execute(&self.store.pool).await?;
        Ok(true)
    }

    /// Push jobs not yet finished (for tests and the console).
    pub async fn pending_push_jobs(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("select count(*) from push_job where dead_at is null").fetch_one(&self.store.pool).await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_push_flag_1_turns_the_push_off() {
        assert!(wants_push(None));
        assert!(wants_push(Some(&json!({ "Title": "t" }))));
        assert!(wants_push(Some(&json!({ "PushFlag": 0 }))));
        assert!(!wants_push(Some(&json!({ "PushFlag": 1 }))));
    }
}
