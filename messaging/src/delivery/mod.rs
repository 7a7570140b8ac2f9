//! Live delivery (docs/client-protocol.md): what end users' apps receive while connected.
//!
//! Every write that a connected client should learn of (a broadcast, a recall, a subscription,
//! a profile change, a reaction…) announces a [`Change`] in the same transaction. A `Change`
//! names keys, never bodies: each node's [`hub::Hub`] reads what it needs once and sends one
//! serialized frame to every connection concerned.
//!
//! * SQLite (one node): the change goes on the in-process bus after the commit.
//! * PostgreSQL (any number of nodes): `pg_notify` inside the transaction, so the change is
//!   announced exactly when it commits; every node, this one included, hears it through
//!   `LISTEN` ([`Messaging::listen_for_changes`]) and puts it on its own bus.
//!
//! Nothing here is needed for correctness of storage: a client that was offline catches up with
//! `getMessageList`. A client that stayed connected while its node could not hear changes (the
//! LISTEN connection was lost: a failover, a network blip) is caught up by the node: when it
//! listens again it announces [`Change::Resync`] to its own hub, which sends every connection
//! the broadcasts it was not sent, once each.
//!
//! * [`conversation`]: the subscriber's side of the protocol's operations (history merged from
//!   broadcasts and one-to-one messages, unread counts from read positions, mark read, send).
//! * [`reactions`]: per-user reactions and their counts.
//! * [`objects`]: `officialAccountInfo` and `message` as the protocol spells them.
//! * [`hub`]: this node's connections, indexed by user and by account.
//! * [`inbox`]: the account's side of one-to-one conversations (the console's Inbox).
//! * [`presence`]: who is connected on which node (offline push, `query_online_status`).
//! * `writers`: frames out to the connections (a large broadcast on lower-priority threads).

pub mod conversation;
pub mod hub;
pub mod inbox;
pub mod objects;
pub mod presence;
pub mod reactions;
mod writers;

use crate::error::Result;
use crate::store::now;
use crate::{Backend, Messaging, OfficialAccountId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The PostgreSQL channel every node listens on.
const CHANNEL: &str = "herald_change";
/// NOTIFY payloads must stay under 8000 bytes; a larger change travels through `relay`.
const NOTIFY_PAYLOAD_MAX: usize = 7000;
/// How long before a lost LISTEN connection was noticed a resync looks for recalls and edits.
pub(crate) const RESYNC_MARGIN_SECS: i64 = 30;
/// Changes a slow hub may fall behind by before it skips some (clients then catch up).
const BUS_CAPACITY: usize = 16_384;

/// Something connected clients may need to hear about. Keys, not bodies; an account is its
/// parsed ID, so a change with a malformed one is refused where it is read, not dropped later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Change {
    /// A stored message: broadcast `seq` of `account` (`user` None), or one-to-one message
    /// `seq` of the conversation between `account` and `user`. `origin` is the connection that
    /// sent it (it has the message in its response already).
    Message {
        account: OfficialAccountId,
        user: Option<String>,
        seq: i64,
        origin: Option<String>,
    },
    /// An online-only message, carried whole because it is never stored.
    Live {
        account: OfficialAccountId,
        user: Option<String>,
        message: Box<objects::WireMessage>,
    },
    Recalled {
        account: OfficialAccountId,
        user: Option<String>,
        key: String,
    },
    Subscribed {
        account: OfficialAccountId,
        users: Vec<String>,
    },
    Unsubscribed {
        account: OfficialAccountId,
        users: Vec<String>,
    },
    /// A subscription's `msgFlag` changed.
    ReceiveOption {
        account: OfficialAccountId,
        user: String,
    },
    ProfileChanged {
        account: OfficialAccountId,
    },
    AccountDeleted {
        account: OfficialAccountId,
    },
    /// `by` added or removed a reaction to a message of `account` (`user`: as for `Message`).
    Reactions {
        account: OfficialAccountId,
        user: Option<String>,
        key: String,
        by: String,
    },
    /// `user` read the conversation with `account` (their unread total changed).
    Read {
        account: OfficialAccountId,
        user: String,
    },
    /// A change too large for a NOTIFY payload, waiting in `relay`.
    Relayed {
        id: i64,
    },
    /// App settings or keys changed: every node reads them again (`settings`).
    SettingsChanged,
    /// This node may have missed changes made since `since` (Unix seconds): it listens again
    /// after losing its LISTEN connection, or its hub fell behind. The hub sends each connection
    /// the broadcasts it was not sent, the recalls and edits made meanwhile, and unread totals
    /// and profiles as stored. Put on this node's own bus only, never notified.
    Resync {
        since: i64,
    },
    /// Broadcast `key` of `account` was edited: clients get `onRecvMessageModified`.
    Modified {
        account: OfficialAccountId,
        key: String,
    },
    /// Someone voted in poll `key` of `account` (coalesced into `onPollChanged`).
    PollVoted {
        account: OfficialAccountId,
        key: String,
    },
}

/// Requests one client connection may make per second, on average …
pub const CLIENT_OPS_PER_SECOND: u32 = 50;
/// … and at once after a quiet spell.
pub const CLIENT_OPS_BURST: u32 = 100;
/// How often the server pings a client connection, and how long a client may stay silent (no
/// frame of any kind, pongs included) before its connection is dropped. The hub sends the
/// pings ([`hub::Hub`]); the socket code tells it when it hears from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    pub ping_every_secs: u64,
    pub silence_max_secs: u64,
}

impl Keepalive {
    /// docs/client-protocol.md: a ping every 30 s, dropped after 90 s of silence.
    pub const DEFAULT: Keepalive = Keepalive { ping_every_secs: 30, silence_max_secs: 90 };

    /// Settings as configured: a ping at least every second, and a silence limit longer than
    /// the pings' period (an idle client is heard from only when it answers a ping, so a
    /// shorter limit would drop every idle client).
    pub fn parse(ping_every_secs: u64, silence_max_secs: u64) -> std::result::Result<Self, crate::error::InvalidField> {
        if ping_every_secs == 0 {
            return Err(crate::error::InvalidField::new("client_ping_secs", "must be at least 1 second"));
        }
        if silence_max_secs <= ping_every_secs {
            return Err(crate::error::InvalidField::new(
                "client_silence_secs",
                format!(
                    "must be longer than the ping period ({ping_every_secs} s): an idle client is heard from only when it answers a ping"
                ),
            ));
        }
        Ok(Keepalive { ping_every_secs, silence_max_secs })
    }
}

/// One connection's request budget (a token bucket): past it, requests get 60007.
pub struct OpBudget {
    tokens: f64,
    last: std::time::Instant,
}

impl Default for OpBudget {
    fn default() -> Self {
        Self { tokens: f64::from(CLIENT_OPS_BURST), last: std::time::Instant::now() }
    }
}

impl OpBudget {
    /// Takes one request from the budget, or refuses it.
    pub fn take(&mut self) -> Result<()> {
        let now = std::time::Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * f64::from(CLIENT_OPS_PER_SECOND);
        self.tokens = (self.tokens + refill).min(f64::from(CLIENT_OPS_BURST));
        self.last = now;
        if self.tokens < 1.0 {
            return Err(crate::Error::RateLimited(CLIENT_OPS_PER_SECOND));
        }
        self.tokens -= 1.0;
        Ok(())
    }
}

/// Commits a transaction and announces its changes, for an area's handle (as
/// [`Messaging::commit_announcing`] does; never for `SettingsChanged`).
#[derive(Clone)]
pub(crate) struct Announcer {
    backend: Backend,
    bus: Bus,
}

impl Announcer {
    pub(crate) fn new(backend: Backend, bus: Bus) -> Self {
        Self { backend, bus }
    }

    pub(crate) async fn commit(&self, mut tx: sqlx::Transaction<'static, sqlx::Any>, changes: Vec<Change>) -> Result<()> {
        if self.backend == Backend::Postgres {
            for change in &changes {
                notify(&mut tx, change).await?;
            }
        }
        tx.commit().await?;
        if self.backend == Backend::Sqlite {
            for change in changes {
                let _ = self.bus.0.send(Arc::new(change));
            }
        }
        Ok(())
    }
}

/// The in-process side: every hub of this process subscribes here.
#[derive(Clone)]
pub(crate) struct Bus(tokio::sync::broadcast::Sender<Arc<Change>>);

impl Default for Bus {
    fn default() -> Self {
        Self(tokio::sync::broadcast::channel(BUS_CAPACITY).0)
    }
}

impl Messaging {
    /// Commits `tx` and announces `changes` to every node's hub (see the module comment).
    pub(crate) async fn commit_announcing(&self, tx: sqlx::Transaction<'static, sqlx::Any>, changes: Vec<Change>) -> Result<()> {
        let settings = changes.iter().any(|c| matches!(c, Change::SettingsChanged));
        self.announcer().commit(tx, changes).await?;
        // PostgreSQL: this node hears its own NOTIFY like every other and reloads then.
        if settings && self.store.backend == Backend::Sqlite {
            tokio::spawn(self.clone().reload_settings());
        }
        Ok(())
    }

    /// What an area's handle announces through (polls): the store and this node's bus.
    pub(crate) fn announcer(&self) -> Announcer {
        Announcer::new(self.store.backend, self.bus.clone())
    }

    /// Puts `change` on this process's bus (no hub listening is fine).
    pub(crate) fn announce_here(&self, change: Change) {
        if matches!(change, Change::SettingsChanged) {
            tokio::spawn(self.clone().reload_settings());
            return;
        }
        let _ = self.bus.0.send(Arc::new(change));
    }

    /// The changes this node hears, for its hub.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<Arc<Change>> {
        self.bus.0.subscribe()
    }

    /// PostgreSQL: listens for every node's changes until shutdown and puts them on this
    /// node's bus; `ready` is told once LISTEN is in place (serve only then, or the first
    /// clients' changes could go unheard). Returns at once on SQLite (changes are put on the
    /// bus directly).
    pub async fn listen_for_changes(self, ready: tokio::sync::oneshot::Sender<()>) {
        if self.store.backend != Backend::Postgres {
            let _ = ready.send(());
            return;
        }
        let url = self.database_url.to_string();
        let mut ready = Some(ready);
        // When the last LISTEN connection was lost (None: never listened yet).
        let mut lost_at: Option<i64> = None;
        loop {
            if self.workers_stopping() {
                return;
            }
            match self.listen_once(&url, &mut ready, &mut lost_at).await {
                Ok(()) => return,
                Err(e) => {
                    lost_at.get_or_insert_with(|| self.now());
                    self.operations.set_listening(false);
                    metrics::counter!("herald_listen_reconnects_total").increment(1);
                    tracing::warn!(error = %e, "listening for changes failed; retrying in 1 s (connected clients are caught up then)");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// One LISTEN connection's life. Once it is in place again after a loss (`lost_at`), the
    /// hub resynchronises: changes made meanwhile were announced to nobody here.
    async fn listen_once(&self, url: &str, ready: &mut Option<tokio::sync::oneshot::Sender<()>>, lost_at: &mut Option<i64>) -> Result<()> {
        let mut listener = sqlx::postgres::PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        self.operations.set_listening(true);
        if let Some(ready) = ready.take() {
            let _ = ready.send(());
        }
        match lost_at.take() {
            Some(at) => {
                tracing::info!("listening for changes again: catching up this node's connected clients");
                // A connection may have died a little before its loss was seen.
                self.announce_here(Change::Resync { since: at - RESYNC_MARGIN_SECS });
            }
            None => tracing::info!("listening for changes of every node"),
        }
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        loop {
            tokio::select! {
                // `try_recv` says when the connection was lost (`recv` would reconnect silently,
                // hiding the gap).
                n = listener.try_recv() => {
                    let Some(n) = n? else {
                        return Err(crate::Error::Internal("the LISTEN connection was lost".into()));
                    };
                    match serde_json::from_str::<Change>(n.payload()) {
                        Ok(Change::Relayed { id }) => {
                            let row: Option<(String,)> = sqlx::query_as("select payload from relay where relay_id = $1")
                                .bind(id)
                                .fetch_optional(&self.store.pool)
                                .await?;
                            match row.map(|(p,)| serde_json::from_str::<Change>(&p)) {
                                Some(Ok(change)) => self.announce_here(change),
                                _ => tracing::warn!(id, "a relayed change is gone or unreadable"),
                            }
                        }
                        Ok(change) => self.announce_here(change),
                        Err(e) => tracing::warn!(error = %e, "an unreadable change notification"),
                    }
                }
                _ = tick.tick() => if self.workers_stopping() { return Ok(()) },
            }
        }
    }
}

/// `pg_notify` inside the caller's transaction (delivered when it commits).
async fn notify(conn: &mut sqlx::AnyConnection, change: &Change) -> Result<()> {
    let mut payload = serde_json::to_string(change).map_err(|e| crate::Error::Internal(e.to_string()))?;
    if payload.len() > NOTIFY_PAYLOAD_MAX {
        let at = now();
        sqlx::query("delete from relay where created_at < $1").bind(at - 60).execute(&mut *conn).await?;
        let (id,): (i64,) = sqlx::query_as("insert into relay (payload, created_at) values ($1, $2) returning relay_id")
            .bind(&payload)
            .bind(at)
            .fetch_one(&mut *conn)
            .await?;
        payload = serde_json::to_string(&Change::Relayed { id }).expect("serializable");
    }
    sqlx::query("select pg_notify($1, $2)").bind(CHANNEL).bind(payload).execute(conn).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_gets_its_burst_then_is_refused() {
        let mut budget = OpBudget::default();
        for _ in 0..CLIENT_OPS_BURST {
            budget.take().unwrap();
        }
        assert!(matches!(budget.take(), Err(crate::Error::RateLimited(_))));
    }

    #[test]
    fn a_keepalive_needs_a_ping_period_and_a_longer_silence_limit() {
        assert_eq!(Keepalive::parse(30, 90), Ok(Keepalive::DEFAULT));
        assert_eq!(Keepalive::parse(1, 2).map(|k| k.silence_max_secs), Ok(2));
        assert_eq!(Keepalive::parse(0, 90).unwrap_err().field, "client_ping_secs");
        assert_eq!(Keepalive::parse(30, 30).unwrap_err().field, "client_silence_secs");
        assert_eq!(Keepalive::parse(30, 0).unwrap_err().field, "client_silence_secs");
    }

    #[test]
    fn changes_travel_as_small_json_with_keys_only() {
        let account = crate::OfficialAccountId::parse("account", "@TOA#_a").unwrap();
        let c = Change::Message { account, user: None, seq: 7, origin: None };
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(text, r#"{"k":"message","account":"@TOA#_a","user":null,"seq":7,"origin":null}"#);
        assert_eq!(serde_json::from_str::<Change>(&text).unwrap(), c);
        // A change naming no valid account is refused where it is read, not dropped later.
        let malformed = r#"{"k":"message","account":"not an account","user":null,"seq":7,"origin":null}"#;
        assert!(serde_json::from_str::<Change>(malformed).is_err());
    }
}
