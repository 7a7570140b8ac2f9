//! Webhooks to the app's back end (rest-api.md §8).
//!
//! * "Before" callbacks are asked synchronously with a 2 s timeout; no answer means allow, so a
//!   dead endpoint delays a request by at most 2 s and never fails it.
//! * "After" callbacks go through the `webhook_outbox` table, written in the same transaction as
//!   the change, and a worker ([`Messaging::deliver_webhooks`]) sends them in order with retries
//!   and backoff. A slow endpoint never slows a request; a restart loses nothing. Delivery is
//!   at least once: the `X-Herald-Event-Id` header lets receivers drop repeats.
//!
//! Signing (when a secret is set): the query carries Tencent's `RequestTime` and
//! `Sign = hex(sha256(secret + RequestTime))`, and the header
//! `X-Herald-Signature: sha256=hex(hmac_sha256(secret, RequestTime + "." + body))` covers the body.

use crate::error::Result;
use crate::store::now;
use crate::Messaging;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;

tokio::task_local! {
    /// The IP address of the client whose request is being served; callbacks report it as
    /// `ClientIP`. A front door sets it around a request with [`with_client_ip`].
    static CLIENT_IP: String;
}

/// Runs `work` with `ip` as the client's address for every callback it causes.
pub async fn with_client_ip<F: std::future::Future>(ip: String, work: F) -> F::Output {
    CLIENT_IP.scope(ip, work).await
}

/// The address set by [`with_client_ip`], or `""` outside a request (the console, workers).
pub(crate) fn client_ip() -> String {
    CLIENT_IP.try_with(Clone::clone).unwrap_or_default()
}

const BEFORE_TIMEOUT: Duration = Duration::from_secs(2);
pub(crate) const AFTER_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_BACKOFF_SECS: i64 = 60;

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
    pub(crate) settings: WebhookSettings,
    pub(crate) sdkappid: u64,
    client: reqwest::Client,
    /// Wakes the outbox worker when an event is queued.
    pub(crate) wake: tokio::sync::Notify,
    /// Wakes the push worker when a push job is queued.
    pub(crate) push_wake: tokio::sync::Notify,
}

impl Webhooks {
    pub(crate) fn new(settings: WebhookSettings, sdkappid: u64) -> Self {
        Self { settings, sdkappid, client: reqwest::Client::new(), wake: tokio::sync::Notify::new(), push_wake: tokio::sync::Notify::new() }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.settings.url.is_some()
    }

    /// The full callback URL and the signature header for `body`.
    fn request(&self, url: &str, command: &str, body: &str, client_ip: &str) -> (String, Option<String>) {
        let t = now();
        let sep = if url.contains('?') { '&' } else { '?' };
        // An IP address needs no URL escaping; anything else is dropped rather than trusted.
        let client_ip = if client_ip.parse::<std::net::IpAddr>().is_ok() { client_ip } else { "" };
        let mut full = format!(
            "{url}{sep}SdkAppid={}&CallbackCommand={command}&contenttype=json&ClientIP={client_ip}&OptPlatform=RESTAPI&RequestTime={t}",
            self.sdkappid
        );
        let signature = self.settings.secret.as_ref().map(|secret| {
            full.push_str(&format!("&Sign={}", hex::encode(Sha256::digest(format!("{secret}{t}").as_bytes()))));
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
            mac.update(format!("{t}.{body}").as_bytes());
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        });
        (full, signature)
    }

    async fn post(&self, command: &str, body: &str, timeout: Duration, event_id: Option<i64>, client_ip: &str) -> Option<reqwest::Response> {
        let url = self.settings.url.as_deref()?;
        self.post_to(url, command, body, timeout, event_id.map(|id| id.to_string()), client_ip).await
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

    /// Sends queued "after" callbacks forever, oldest first. An event that fails blocks the ones
    /// behind it (so the receiver sees them in order) and is retried after 1, 2, 4 … 60 s.
    pub async fn deliver_webhooks(self) {
        if !self.webhooks.enabled() {
            return;
        }
        loop {
            match self.deliver_due_webhooks().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "webhook outbox failed"),
            }
            let _ = tokio::time::timeout(Duration::from_millis(500), self.webhooks.wake.notified()).await;
        }
    }

    /// Delivers what is due; true when it delivered something (there may be more).
    async fn deliver_due_webhooks(&self) -> Result<bool> {
        let head: Vec<(i64, String, String, i64, i64, String)> = sqlx::query_as(
            "select event_id, command, body, attempts, next_attempt_at, client_ip from webhook_outbox order by event_id limit 50",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut delivered = false;
        for (event_id, command, body, attempts, next_attempt_at, client_ip) in head {
            if next_attempt_at > now() {
                break;
            }
            if self.webhooks.post(&command, &body, AFTER_TIMEOUT, Some(event_id), &client_ip).await.is_some() {
                sqlx::query("delete from webhook_outbox where event_id = $1").bind(event_id).execute(&self.pool).await?;
                delivered = true;
            } else {
                let backoff = backoff_secs(attempts);
                sqlx::query("update webhook_outbox set attempts = attempts + 1, next_attempt_at = $2 where event_id = $1")
                    .bind(event_id)
                    .bind(now() + backoff)
                    .execute(&self.pool)
                    .await?;
                break;
            }
        }
        Ok(delivered)
    }

    /// Events not yet delivered (for tests and the console).
    pub async fn pending_webhooks(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("select count(*) from webhook_outbox").fetch_one(&self.pool).await?;
        Ok(n)
    }
}
