//! Webhooks to the app's back end (docs/rest-api.md §8).
//!
//! * "Before" callbacks are asked synchronously with a 2 s timeout; no answer means allow, so a
//!   dead endpoint delays a request by at most 2 s and never fails it.
//! * "After" callbacks go through the `webhook_outbox` table, written in the same transaction as
//!   the change, and a worker ([`Messaging::deliver_webhooks`]) sends them in order with retries
//!   and backoff. A slow endpoint never slows a request; a restart loses nothing. Delivery is
//!   at least once: the `X-Herald-Event-Id` header lets receivers drop repeats.
//!
//! An event the receiver keeps refusing does not hold the others back for ever: after
//! [`DeliveryPolicy::max_attempts`] attempts, or once older than [`DeliveryPolicy::max_age_secs`],
//! it moves to `webhook_dead_letter` (logged, listed on the console's Settings page, retryable
//! there) and the events behind it flow. With several server nodes on one PostgreSQL, one node
//! at a time holds the outbox's lease ([`WORKER_LEASE_SECS`]) and delivers.
//!
//! Signing (when a secret is set): the query carries Tencent's `RequestTime` and
//! `Sign = hex(sha256(secret + RequestTime))`, and the header
//! `X-Herald-Signature: sha256=hex(hmac_sha256(secret, RequestTime + "." + body))` covers the body.

use crate::app_settings::TestCallback;
use crate::error::Result;
use crate::store::now;
use crate::Messaging;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The address of the client whose request is being served, which callbacks report as
/// `ClientIP`: the acting one's ([`crate::audit::acting_as`], set by each front door), or `""`
/// for work of Herald's own (workers).
pub(crate) fn client_ip() -> String {
    crate::audit::current_actor().address
}

const BEFORE_TIMEOUT: Duration = Duration::from_secs(2);
pub(crate) const AFTER_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_BACKOFF_SECS: i64 = 60;
/// How long a node holds a background worker's lease without renewing it.
pub const WORKER_LEASE_SECS: i64 = 30;

/// When Herald gives up on an "after" webhook event or a push batch (app settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryPolicy {
    pub max_attempts: u32,
    pub max_age_secs: i64,
}

impl DeliveryPolicy {
    /// 10 attempts (about 4 minutes with the backoff) or a day, whichever comes first.
    pub const DEFAULT: Self = Self { max_attempts: 10, max_age_secs: 24 * 3600 };

    /// Whether a delivery that has now failed `attempts` times, first queued at `created_at`
    /// (0: unknown), is given up on.
    pub fn gives_up(&self, attempts: i64, created_at: i64, now: i64) -> bool {
        attempts >= i64::from(self.max_attempts) || (created_at > 0 && now - created_at >= self.max_age_secs)
    }
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A webhook event given up on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct DeadWebhook {
    pub event_id: i64,
    pub command: String,
    pub attempts: i64,
    pub created_at: i64,
    pub dead_at: i64,
}

/// A push job given up on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct DeadPush {
    pub job_id: i64,
    pub account_id: String,
    pub seq: i64,
    pub batches_sent: i64,
    pub attempts: i64,
    pub dead_at: i64,
}

/// Where callbacks go and how they are signed (app settings).
#[derive(Clone, Default)]
pub struct WebhookSettings {
    pub url: Option<String>,
    pub secret: Option<String>,
    /// The offline push hook ([`crate::push`]); signed with the same secret.
    pub push_url: Option<String>,
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("url", &self.url)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("push_url", &self.push_url)
            .finish()
    }
}

pub(crate) struct Webhooks {
    /// Replaced when the settings change (on any node).
    settings: std::sync::RwLock<WebhookSettings>,
    sdkappid: std::sync::atomic::AtomicU64,
    client: reqwest::Client,
    /// Wakes the outbox worker when an event is queued.
    pub(crate) wake: tokio::sync::Notify,
    /// Wakes the push worker when a push job is queued.
    pub(crate) push_wake: tokio::sync::Notify,
    /// Until when (Unix seconds) this node holds the outbox lease, as last written.
    lease_until: std::sync::atomic::AtomicI64,
}

impl Webhooks {
    pub(crate) fn new() -> Self {
        Self {
            settings: Default::default(),
            sdkappid: Default::default(),
            client: reqwest::Client::new(),
            wake: tokio::sync::Notify::new(),
            push_wake: tokio::sync::Notify::new(),
            lease_until: Default::default(),
        }
    }

    pub(crate) fn settings(&self) -> WebhookSettings {
        self.settings.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn set_settings(&self, settings: WebhookSettings) {
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
    }

    pub(crate) fn set_sdkappid(&self, sdkappid: u64) {
        self.sdkappid.store(sdkappid, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn enabled(&self) -> bool {
        self.settings.read().unwrap_or_else(|p| p.into_inner()).url.is_some()
    }

    /// The full callback URL and the signature header for `body`.
    fn request(&self, url: &str, command: &str, body: &str, client_ip: &str) -> (String, Option<String>) {
        let t = now();
        let sep = if url.contains('?') { '&' } else { '?' };
        // An IP address needs no URL escaping; anything else is dropped rather than trusted.
        let client_ip = if client_ip.parse::<std::net::IpAddr>().is_ok() { client_ip } else { "" };
        let mut full = format!(
            "{url}{sep}SdkAppid={}&CallbackCommand={command}&contenttype=json&ClientIP={client_ip}&OptPlatform=RESTAPI&RequestTime={t}",
            self.sdkappid.load(std::sync::atomic::Ordering::Relaxed)
        );
        let signature = self.settings().secret.as_ref().map(|secret| {
            full.push_str(&format!("&Sign={}", hex::encode(Sha256::digest(format!("{secret}{t}").as_bytes()))));
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
            mac.update(format!("{t}.{body}").as_bytes());
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        });
        (full, signature)
    }

    async fn post(
        &self,
        command: &str,
        body: &str,
        timeout: Duration,
        event_id: Option<i64>,
        client_ip: &str,
    ) -> Option<reqwest::Response> {
        let url = self.settings().url?;
        self.post_to(&url, command, body, timeout, event_id.map(|id| id.to_string()), client_ip).await
    }

    /// POSTs a signed callback to `url`; `None` unless it answered with a success status.
    pub(crate) async fn post_to(
        &self,
        url: &str,
        command: &str,
        body: &str,
        timeout: Duration,
        event_id: Option<String>,
        client_ip: &str,
    ) -> Option<reqwest::Response> {
        let (full, signature) = self.request(url, command, body, client_ip);
        let mut req = self.client.post(full).timeout(timeout).header("content-type", "application/json").body(body.to_owned());
        if let Some(sig) = signature {
            req = req.header("X-Herald-Signature", sig);
        }
        if let Some(id) = event_id {
            req = req.header("X-Herald-Event-Id", id);
        }
        match req.send().await {
            Ok(res) if res.status().is_success() => Some(res),
            Ok(res) => {
                tracing::warn!(command, status = %res.status(), "webhook answered with an error status");
                None
            }
            Err(e) => {
                tracing::warn!(command, error = %e, "webhook unreachable");
                None
            }
        }
    }

    /// Asks a "before" callback. `None` (no URL, timeout, error, unreadable answer) means allow.
    pub(crate) async fn before(&self, command: &str, fields: Map<String, Value>) -> Option<Value> {
        if !self.enabled() {
            return None;
        }
        let body = callback_body(command, fields).to_string();
        let res = self.post(command, &body, BEFORE_TIMEOUT, None, &client_ip()).await?;
        match tokio::time::timeout(BEFORE_TIMEOUT, res.json::<Value>()).await {
            Ok(Ok(answer)) => Some(answer),
            _ => None,
        }
    }
}

impl Messaging {
    /// Sends a signed `Herald.TestCallback` to the webhook URL in force (the "before" timeout
    /// applies) and reports its answer and time. Nothing is queued or retried.
    pub async fn send_test_callback(&self) -> Result<TestCallback> {
        let Some(url) = self.webhooks.settings().url else {
            return Err(crate::error::InvalidField::new("webhook_url", "set a webhook URL first").into());
        };
        let body = callback_body("Herald.TestCallback", Map::new()).to_string();
        let (full, signature) = self.webhooks.request(&url, "Herald.TestCallback", &body, "");
        let mut req = self.webhooks.client.post(full).timeout(BEFORE_TIMEOUT).header("content-type", "application/json").body(body);
        if let Some(sig) = signature {
            req = req.header("X-Herald-Signature", sig);
        }
        let started = std::time::Instant::now();
        let answer = req.send().await;
        let millis = started.elapsed().as_millis() as u64;
        Ok(match answer {
            Ok(res) => TestCallback { status: Some(res.status().as_u16()), error: None, millis },
            Err(e) if e.is_timeout() => {
                TestCallback { status: None, error: Some(format!("no answer within {} s", BEFORE_TIMEOUT.as_secs())), millis }
            }
            Err(e) if e.is_connect() => TestCallback { status: None, error: Some("could not connect".into()), millis },
            Err(_) => TestCallback { status: None, error: Some("the request failed".into()), millis },
        })
    }
}

/// Seconds to wait after `attempts` failed tries: 1, 2, 4 … then 60.
pub(crate) fn backoff_secs(attempts: i64) -> i64 {
    1i64.checked_shl(attempts.clamp(0, 6) as u32).unwrap_or(MAX_BACKOFF_SECS).min(MAX_BACKOFF_SECS)
}

/// A callback body's fields from (name, value) pairs.
pub(crate) fn fields(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The ErrorCode of a "before" answer when it is not 0 (a refusal).
pub(crate) fn refusal(answer: Option<Value>) -> Option<i64> {
    answer.and_then(|a| a.get("ErrorCode").and_then(Value::as_i64)).filter(|c| *c != 0)
}

pub(crate) fn callback_body(command: &str, mut fields: Map<String, Value>) -> Value {
    fields.insert("CallbackCommand".into(), command.into());
    fields.entry("EventTime").or_insert_with(|| Value::from(now() * 1000));
    Value::Object(fields)
}

/// Queues an "after" callback inside the caller's transaction.
pub(crate) async fn enqueue(conn: &mut sqlx::AnyConnection, hooks: &Webhooks, command: &str, fields: Map<String, Value>) -> Result<()> {
    enqueue_from(conn, hooks, command, fields, &client_ip()).await
}

/// [`enqueue`] for work done away from the request's task, which names the client itself.
pub(crate) async fn enqueue_from(
    conn: &mut sqlx::AnyConnection,
    hooks: &Webhooks,
    command: &str,
    fields: Map<String, Value>,
    client_ip: &str,
) -> Result<()> {
    if !hooks.enabled() {
        return Ok(());
    }
    let at = now();
    sqlx::query("insert into webhook_outbox (command, body, created_at, next_attempt_at, client_ip) values ($1, $2, $3, $3, $4)")
        .bind(command)
        .bind(callback_body(command, fields).to_string())
        .bind(at)
        .bind(client_ip)
        .execute(conn)
        .await?;
    Ok(())
}

impl Messaging {
    /// Tells the outbox worker an event is waiting (call after the transaction commits).
    pub(crate) fn webhook_queued(&self) {
        self.webhooks.wake.notify_one();
    }

    /// Sends queued "after" callbacks forever, oldest first, while this node holds the outbox's
    /// lease. An event that fails blocks the ones behind it (so the receiver sees them in order)
    /// and is retried after 1, 2, 4 … 60 s, until the [`DeliveryPolicy`] gives up on it.
    /// Runs whether or not a webhook URL is set: the URL is a setting that may appear later.
    pub async fn deliver_webhooks(self) {
        while !self.workers_stopping() {
            if !self.webhooks.enabled() {
                let _ = tokio::time::timeout(Duration::from_secs(5), self.webhooks.wake.notified()).await;
                continue;
            }
            match self.holds_outbox_lease().await {
                Ok(true) => match self.deliver_due_webhooks().await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => tracing::error!(error = %e, "webhook outbox failed"),
                },
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "webhook outbox lease failed"),
            }
            let _ = tokio::time::timeout(Duration::from_millis(500), self.webhooks.wake.notified()).await;
        }
    }

    /// Takes or renews this node's lease on delivering the outbox; false while another node holds it.
    /// Asked before every delivery, it goes to the database only when the lease this node holds
    /// has less than two thirds of its time left (about every 10 s while delivering).
    pub(crate) async fn holds_outbox_lease(&self) -> Result<bool> {
        const NAME: &str = "webhook_outbox";
        use std::sync::atomic::Ordering;
        let at = now();
        if at + WORKER_LEASE_SECS * 2 / 3 < self.webhooks.lease_until.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let taken = sqlx::query(
            "insert into worker_lease (name, holder, lease_until) values ($1, $2, $3) \
             on conflict (name) do update set holder = excluded.holder, lease_until = excluded.lease_until \
             where worker_lease.holder = excluded.holder or worker_lease.lease_until < $4",
        )
        .bind(NAME)
        .bind(&*self.node_id)
        .bind(at + WORKER_LEASE_SECS)
        .bind(at)
        .execute(&self.store.pool)
        .await?;
        let held = taken.rows_affected() == 1;
        self.webhooks.lease_until.store(if held { at + WORKER_LEASE_SECS } else { 0 }, Ordering::Relaxed);
        Ok(held)
    }

    /// Asks the delivery workers to finish what they are sending and return (on shutdown).
    pub fn stop_workers(&self) {
        self.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
        self.webhooks.wake.notify_waiters();
        self.webhooks.push_wake.notify_waiters();
    }

    pub(crate) fn workers_stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Lets go of this node's worker leases (on shutdown), so another node, or this one
    /// restarted, takes over at once instead of after the lease runs out.
    pub async fn release_leases(&self) -> Result<()> {
        self.webhooks.lease_until.store(0, std::sync::atomic::Ordering::Relaxed);
        sqlx::query("delete from worker_lease where holder = $1").bind(&*self.node_id).execute(&self.store.pool).await?;
        Ok(())
    }

    /// Delivers what is due; true when it got somewhere (there may be more).
    async fn deliver_due_webhooks(&self) -> Result<bool> {
        let head: Vec<(i64, String, String, i64, i64, String, i64)> = sqlx::query_as(
            "select event_id, command, body, attempts, next_attempt_at, client_ip, created_at from webhook_outbox order by event_id limit 50",
        )
        .fetch_all(&self.store.pool)
        .await?;
        let mut progressed = false;
        for (event_id, command, body, attempts, next_attempt_at, client_ip, created_at) in head {
            if next_attempt_at > self.clock.now() || self.workers_stopping() || !self.holds_outbox_lease().await? {
                break;
            }
            if self.webhooks.post(&command, &body, AFTER_TIMEOUT, Some(event_id), &client_ip).await.is_some() {
                sqlx::query("delete from webhook_outbox where event_id = $1").bind(event_id).execute(&self.store.pool).await?;
                progressed = true;
            } else if self.delivery.gives_up(attempts + 1, created_at, self.clock.now()) {
                self.bury_webhook(event_id, attempts + 1).await?;
                progressed = true;
            } else {
                let backoff = backoff_secs(attempts);
                sqlx::query("update webhook_outbox set attempts = attempts + 1, next_attempt_at = $2 where event_id = $1")
                    .bind(event_id)
                    .bind(self.clock.now() + backoff)
                    .execute(&self.store.pool)
                    .await?;
                break;
            }
        }
        Ok(progressed)
    }

    /// Moves an event from the outbox to the dead letters.
    async fn bury_webhook(&self, event_id: i64, attempts: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "insert into webhook_dead_letter (event_id, command, body, client_ip, attempts, created_at, dead_at) \
             select event_id, command, body, client_ip, $2, created_at, $3 from webhook_outbox where event_id = $1",
        )
        .bind(event_id)
        .bind(attempts)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        sqlx::query("delete from webhook_outbox where event_id = $1").bind(event_id).execute(&mut *tx).await?;
        let (dead,): (i64,) = sqlx::query_as("select count(*) from webhook_dead_letter").fetch_one(&mut *tx).await?;
        tx.commit().await?;
        tracing::warn!(event_id, attempts, dead_letters = dead, "a webhook event was given up on and moved to the dead letters");
        Ok(())
    }

    /// Webhook events and push jobs given up on, newest first (the console's Settings page).
    pub async fn dead_letters(&self) -> Result<(Vec<DeadWebhook>, Vec<DeadPush>)> {
        let webhooks = sqlx::query_as(
            "select event_id, command, attempts, created_at, dead_at from webhook_dead_letter order by dead_at desc, event_id desc limit 200",
        )
        .fetch_all(&self.store.pool)
        .await?;
        let pushes = sqlx::query_as(
            "select job_id, account_id, seq, batches_sent, attempts, dead_at from push_job where dead_at is not null \
             order by dead_at desc, job_id desc limit 200",
        )
        .fetch_all(&self.store.pool)
        .await?;
        Ok((webhooks, pushes))
    }

    /// Queues every dead letter again (webhook events at the back of the outbox, push jobs from
    /// the batch they stopped at), with fresh attempt counts. Returns how many.
    pub async fn retry_dead_letters(&self) -> Result<u64> {
        let at = now();
        let mut tx = self.begin_write().await?;
        let webhooks = sqlx::query(
            "insert into webhook_outbox (command, body, created_at, next_attempt_at, client_ip) \
             select command, body, $1, $1, client_ip from webhook_dead_letter order by event_id",
        )
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("delete from webhook_dead_letter").execute(&mut *tx).await?;
        let pushes = sqlx::query(
            "update push_job set dead_at = null, attempts = 0, created_at = $1, next_attempt_at = $1, lease_until = 0 where dead_at is not null",
        )
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        tracing::info!(webhooks, pushes, "dead letters queued again");
        self.webhook_queued();
        self.push_queued();
        Ok(webhooks + pushes)
    }

    /// Events not yet delivered (for tests and the console).
    pub async fn pending_webhooks(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("select count(*) from webhook_outbox").fetch_one(&self.store.pool).await?;
        Ok(n)
    }
}
