//! This node's hub: the open client connections, indexed by user and by official account, and
//! the one task that turns [`Change`]s into event frames.
//!
//! * A broadcast to an account touches only the account's *connected* subscribers (the
//!   `by_account` index), never its subscriber list; its frame is serialized once and shared.
//! * Frames go to each connection's [`Outbox`], which the socket code implements: the client
//!   socket writes them at once, from the hub's task (a large broadcast: from the lower-priority
//!   writer threads of `writers`), and keeps only what the socket cannot take yet (a broadcast
//!   wakes no per-connection task). A connection that falls too far behind (a client that does
//!   not read) is dropped on the spot; nobody else waits for it, and neither
//!   does the publisher, which answered before the hub saw the change.
//! * Per-user state (subscriptions, read positions, unread counts) is loaded when the user's
//!   first connection opens and kept up to date from the changes, so a broadcast costs one
//!   database read per node, not one per recipient.
//! * Reaction changes are gathered and sent at most once per message per second.
//!
//! Here: the connections and their indexes. What each change becomes is in `changes`.

use super::conversation::SubscriptionRow;
use super::objects::{console_frame, event_frame, Event, SubscriptionState};
use super::writers::{Outgoing, Write, Writers};
use super::{Change, Keepalive};
use crate::message::MsgFlag;
use crate::Messaging;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

/// A serialized frame (JSON text), shared by every connection it goes to without a copy.
pub type Frame = bytes::Bytes;

/// The hub's maps: keyed by user and account IDs, looked up once per recipient of a broadcast,
/// so with a fast (seeded) hash instead of SipHash.
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type Set<K> = HashSet<K, foldhash::fast::RandomState>;

/// Frames a queued connection ([`queue`]) may have waiting; past this the client is too slow
/// and is dropped.
pub const QUEUE_MAX: usize = 1024;
/// Reaction events are gathered this long per message.
const REACTION_COALESCE: Duration = Duration::from_secs(1);
/// Presence counts are written at most this often.
const PRESENCE_FLUSH: Duration = Duration::from_millis(250);

/// Where a connection's frames go. The socket code implements it; `push` runs on the hub's
/// task or, for a large broadcast, on a writer thread, and must not wait: it writes what the
/// socket takes at once and keeps the rest.
pub trait Outbox: Send + Sync {
    /// Takes `frames`, in order, or answers false when the connection cannot take them (it is
    /// too far behind, or gone): the hub then drops it.
    fn push(&self, frames: &[&Frame]) -> bool;

    /// Sends a WebSocket ping (the keep-alive's, see `keepalive`), like `push`. An outbox
    /// whose socket code pings on its own keeps the default.
    fn ping(&self) -> bool {
        true
    }
}

/// An [`Outbox`] that is a bounded queue, for socket code that writes from its own task.
struct Queue(mpsc::Sender<Frame>);

impl Outbox for Queue {
    fn push(&self, frames: &[&Frame]) -> bool {
        self.0.capacity() >= frames.len() && frames.iter().all(|f| self.0.try_send((*f).clone()).is_ok())
    }
}

/// A queued [`Outbox`] of [`QUEUE_MAX`] frames and its receiving end.
pub fn queue() -> (Arc<dyn Outbox>, mpsc::Receiver<Frame>) {
    let (tx, rx) = mpsc::channel(QUEUE_MAX);
    (Arc::new(Queue(tx)), rx)
}

/// What the socket code holds for one open connection.
pub struct Connection {
    pub id: u64,
    /// `"{node}:{id}"`: names this connection in changes (`sendMessage`'s own message).
    pub origin: String,
    /// Notified when the hub drops the connection (it fell behind, went silent, or shutdown).
    pub dropped: Arc<Notify>,
    /// The keep-alive's view of a client connection (none for an Inbox watcher).
    beat: Option<Arc<keepalive::Beat>>,
}

impl Connection {
    /// The client was just heard from (any frame): call on every frame read.
    pub fn heard(&self) {
        if let Some(beat) = &self.beat {
            beat.heard();
        }
    }

    /// Whether the hub dropped this connection because its client was silent too long.
    pub fn went_silent(&self) -> bool {
        self.beat.as_ref().is_some_and(|b| b.went_silent())
    }
}

struct Handle {
    id: u64,
    /// Whose connection it is (an inbox watcher: the account), shared by every write to it.
    user: Arc<str>,
    out: Arc<dyn Outbox>,
    dropped: Arc<Notify>,
}

#[derive(Debug, Clone)]
struct Sub {
    flag: MsgFlag,
    subscribed_at: i64,
    read_seq: i64,
    unread: i64,
    /// The newest broadcast `unread` counts (see `SubscriptionRow::counted_seq`): the row may
    /// have been read after a broadcast whose change the hub applies only now.
    counted_seq: i64,
    /// The newest broadcast a resync sent (0: none): its change, if it arrives after all, is
    /// not sent again.
    resynced_seq: i64,
}

impl Sub {
    fn from_row(row: &SubscriptionRow) -> Self {
        let state = row.state();
        Sub {
            flag: state.msg_flag,
            subscribed_at: row.subscribed_at,
            read_seq: row.read_seq,
            unread: row.unread,
            counted_seq: row.counted_seq,
            resynced_seq: 0,
        }
    }

    fn state(&self) -> SubscriptionState {
        SubscriptionState { subscribed_at: self.subscribed_at, msg_flag: self.flag, unread: self.unread }
    }
}

#[derive(Default)]
struct User {
    conns: Vec<Handle>,
    /// Keyed by the account's ID as `by_account` holds it (one allocation per account, so a
    /// broadcast's key comparisons read memory that is already in the cache).
    subs: Map<Arc<str>, Sub>,
}

impl User {
    fn total_unread(&self) -> i64 {
        self.subs.values().map(|s| s.unread).sum()
    }
}

/// The user and account IDs are shared `Arc<str>`s: a user's ID is one allocation, held by
/// `users`, `by_account` and the user's handles; an account's is held by `by_account` and the
/// subscriptions. A broadcast walks `by_account` and looks each user up: it reads one copy of
/// each ID, which its lookups then find in the cache.
#[derive(Default)]
struct State {
    users: Map<Arc<str>, User>,
    /// account → its connected subscribers (any msgFlag).
    by_account: Map<Arc<str>, Set<Arc<str>>>,
    /// account → console pages watching its Inbox.
    watchers: HashMap<String, Vec<Handle>>,
    stopped: bool,
}

impl State {
    /// Adds `frame` for every connection of `user` but `except` to `outgoing`.
    fn send(&self, user: &str, frame: &Frame, except: Option<u64>, outgoing: &mut Outgoing) {
        let Some(u) = self.users.get(user) else { return };
        for c in u.conns.iter().filter(|c| Some(c.id) != except) {
            outgoing.push(Write { user: c.user.clone(), id: c.id, out: c.out.clone(), frame: frame.clone(), then: None });
        }
    }

    /// A broadcast to the connected subscribers of `account` who do not discard it: one write
    /// per connection. A stored broadcast (`seq`) is counted in their unread totals and each
    /// write carries the new total too; an online-only one (`None`) is not counted. Also
    /// answers how many distinct users it is written to (insights' DeliveredLive).
    ///
    /// `missed_only` (a resync): only to those it was never sent, as counted by
    /// `Sub::counted_seq`; they are marked so that its change, arriving late, is not sent twice.
    fn broadcast(
        &mut self,
        account: &str,
        frame: &Frame,
        seq: Option<i64>,
        missed_only: bool,
        writers: &OnceLock<Writers>,
    ) -> (Outgoing, i64) {
        let State { users, by_account, .. } = self;
        let recipients = by_account.get(account);
        let mut outgoing = Outgoing::for_broadcast(writers, recipients.map_or(0, Set::len));
        // Most recipients end up with the same total: its frame is made once per value.
        let mut totals: Map<i64, Frame> = Map::default();
        let mut reached = 0;
        for user in recipients.into_iter().flatten() {
            let Some(u) = users.get_mut(&**user) else { continue };
            let Some(sub) = u.subs.get_mut(account) else { continue };
            if sub.flag == MsgFlag::Discard {
                continue;
            }
            match seq {
                Some(seq) if missed_only && seq <= sub.counted_seq => continue,
                Some(seq) if missed_only => sub.resynced_seq = seq,
                Some(seq) if seq <= sub.resynced_seq => continue,
                _ => {}
            }
            if let Some(seq) = seq.filter(|seq| *seq > sub.counted_seq) {
                sub.unread += 1;
                sub.counted_seq = seq;
            }
            let then = seq.map(|_| totals.entry(u.total_unread()).or_insert_with_key(|t| total_frame(*t)).clone());
            reached += i64::from(!u.conns.is_empty());
            for c in &u.conns {
                outgoing.push(Write { user: c.user.clone(), id: c.id, out: c.out.clone(), frame: frame.clone(), then: then.clone() });
            }
        }
        (outgoing, reached)
    }

    /// How many subscribers of each account are connected here (any msgFlag).
    fn online_by_account(&self) -> HashMap<String, i64> {
        self.by_account.iter().map(|(account, users)| (account.to_string(), users.len() as i64)).collect()
    }

    /// The users connected here who subscribe to `account` (any msgFlag).
    fn subscribers_here(&self, account: &str) -> Vec<Arc<str>> {
        self.by_account.get(account).map(|s| s.iter().cloned().collect()).unwrap_or_default()
    }

    /// The shared copy of an account's ID (a new one if no connected user subscribes to it yet).
    fn account_key(&self, account: &str) -> Arc<str> {
        self.by_account.get_key_value(account).map_or_else(|| account.into(), |(k, _)| k.clone())
    }

    /// Sets (`Some`) or removes a connected user's subscription, keeping `by_account` in step.
    fn set_sub(&mut self, user: &str, account: &str, sub: Option<Sub>) {
        let Some((user, _)) = self.users.get_key_value(user) else { return };
        let user = user.clone();
        match sub {
            Some(sub) => {
                let key = self.account_key(account);
                if let Some(u) = self.users.get_mut(&*user) {
                    u.subs.insert(key.clone(), sub);
                }
                self.by_account.entry(key).or_default().insert(user);
            }
            None => {
                if let Some(u) = self.users.get_mut(&*user) {
                    u.subs.remove(account);
                }
                self.unindex(&user, account);
            }
        }
    }

    fn unindex(&mut self, user: &str, account: &str) {
        if let Some(set) = self.by_account.get_mut(account) {
            set.remove(user);
            if set.is_empty() {
                self.by_account.remove(account);
            }
        }
    }
}

fn total_frame(total: i64) -> Frame {
    event_frame(&Event::TotalUnreadChanged { total_unread_count: total }).into()
}

/// (account, conversation user (None: a broadcast), msgKey) → users whose reaction changed.
type PendingReactions = HashMap<(String, Option<String>, String), HashSet<String>>;

/// This node's connections. Create one with [`Hub::start`]; it runs until [`Hub::stop`].
pub struct Hub {
    m: Messaging,
    state: Mutex<State>,
    next_id: AtomicU64,
    /// user → connections on this node, waiting to be written to `presence`.
    presence: Mutex<HashMap<String, i64>>,
    /// Reaction changes waiting for the next flush.
    reactions: Mutex<PendingReactions>,
    /// Polls voted in since the last flush: (account, msgKey).
    polls: Mutex<HashSet<(String, String)>>,
    /// The broadcast writer threads, started by the first large broadcast.
    writers: OnceLock<Writers>,
    /// Client connections by keep-alive slice.
    beats: keepalive::Slices,
}

impl Hub {
    /// Starts the hub's tasks: changes → frames, reaction flushes, presence and node
    /// heartbeats, and the clients' keep-alive (pings as `keepalive` says).
    pub fn start(m: Messaging, keepalive: Keepalive) -> Arc<Self> {
        let hub = Self::new(m, keepalive);
        let h = hub.clone();
        tokio::spawn(async move { h.keep_alive().await });
        let mut changes = hub.m.changes();
        let h = hub.clone();
        tokio::spawn(async move {
            loop {
                match changes.recv().await {
                    Ok(change) => {
                        // Outside tokio's per-task budget: an outbox writes to its socket from
                        // here, and past the budget (128 operations) every socket would answer
                        // "not now", leaving each write to its connection's task.
                        if let Err(e) = tokio::task::unconstrained(h.apply(&change)).await {
                            tracing::warn!(error = %e, ?change, "a change could not be delivered live (clients catch up on reconnect)");
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        // A gap like a lost LISTEN connection: the broadcasts skipped are sent now.
                        tracing::warn!(skipped = n, "the hub fell behind; catching up its connected clients");
                        let since = h.m.now() - crate::delivery::RESYNC_MARGIN_SECS;
                        if let Err(e) = tokio::task::unconstrained(h.apply(&crate::delivery::Change::Resync { since })).await {
                            tracing::warn!(error = %e, "catching up after falling behind failed");
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
                if h.lock().stopped {
                    return;
                }
            }
        });
        let h = hub.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REACTION_COALESCE);
            loop {
                tick.tick().await;
                if h.lock().stopped {
                    return;
                }
                if let Err(e) = h.flush_reactions().await {
                    tracing::warn!(error = %e, "reaction events could not be sent");
                }
                if let Err(e) = h.flush_polls().await {
                    tracing::warn!(error = %e, "poll events could not be sent");
                }
            }
        });
        let h = hub.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PRESENCE_FLUSH);
            let mut beats = 0u64;
            let mut online: HashMap<String, i64> = HashMap::new();
            loop {
                tick.tick().await;
                if beats.is_multiple_of(super::presence::HEARTBEAT_SECS * 4) {
                    if let Err(e) = h.m.heartbeat_node().await {
                        tracing::warn!(error = %e, "node heartbeat failed");
                    }
                }
                beats += 1;
                let counts = std::mem::take(&mut *h.presence.lock().unwrap_or_else(|p| p.into_inner()));
                if let Err(e) = h.m.write_presence(&counts).await {
                    tracing::warn!(error = %e, "presence could not be written; retrying");
                    let mut p = h.presence.lock().unwrap_or_else(|p| p.into_inner());
                    for (u, n) in counts {
                        p.entry(u).or_insert(n);
                    }
                }
                if beats.is_multiple_of(4) {
                    // Subscribers online per account (insights): what changed since the last write.
                    let now = h.lock().online_by_account();
                    let mut changed: Vec<(String, i64)> =
                        now.iter().filter(|(a, n)| online.get(*a) != Some(*n)).map(|(a, n)| (a.clone(), *n)).collect();
                    changed.extend(online.keys().filter(|a| !now.contains_key(*a)).map(|a| (a.clone(), 0)));
                    match h.m.insights().write_online(&changed).await {
                        Ok(()) => online = now,
                        Err(e) => tracing::warn!(error = %e, "online counts could not be written; retrying"),
                    }
                }
                if h.lock().stopped {
                    return;
                }
            }
        });
        hub
    }

    /// A hub without its tasks (tests apply changes to it themselves).
    fn new(m: Messaging, keepalive: Keepalive) -> Arc<Self> {
        Arc::new(Self {
            m,
            state: Mutex::new(State::default()),
            next_id: AtomicU64::new(1),
            presence: Mutex::new(HashMap::new()),
            reactions: Mutex::new(HashMap::new()),
            polls: Mutex::new(HashSet::new()),
            writers: OnceLock::new(),
            beats: keepalive::Slices::new(keepalive),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn note_presence(&self, user: &str, n: usize) {
        self.presence.lock().unwrap_or_else(|p| p.into_inner()).insert(user.to_owned(), n as i64);
    }

    /// Opens a connection for `user` whose frames go to `out` (loading their subscriptions if
    /// it is their first here).
    ///
    /// The user is registered before their subscriptions are read, so a subscription change
    /// committed meanwhile is applied to the entry (and kept: the snapshot fills in only the
    /// accounts the entry does not have yet).
    pub async fn connect(&self, user: &str, out: Arc<dyn Outbox>) -> crate::Result<Connection> {
        let (connection, first, n) = {
            let mut state = self.lock();
            let key = state.users.get_key_value(user).map(|(k, _)| k.clone());
            let first = key.is_none();
            let key = key.unwrap_or_else(|| user.into());
            let (handle, connection) = self.new_connection(&state, key.clone(), out, true);
            let u = state.users.entry(key).or_default();
            u.conns.push(handle);
            (connection, first, u.conns.len())
        };
        metrics::gauge!("herald_client_connections").increment(1.0);
        self.note_presence(user, n);
        if first {
            match self.load_subs(user).await {
                Ok(subs) => {
                    let mut state = self.lock();
                    for (account, sub) in subs {
                        let known = state.users.get(user).is_some_and(|u| u.subs.contains_key(account.as_str()));
                        if !known {
                            state.set_sub(user, &account, Some(sub));
                        }
                    }
                }
                Err(e) => {
                    self.disconnect(user, connection.id);
                    return Err(e);
                }
            }
        }
        Ok(connection)
    }

    /// A new connection's two ends: the hub's handle and the socket code's [`Connection`]
    /// (a client's, `pinged`, also joins the keep-alive).
    fn new_connection(&self, state: &State, user: Arc<str>, out: Arc<dyn Outbox>, pinged: bool) -> (Handle, Connection) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let dropped = Arc::new(Notify::new());
        if state.stopped {
            dropped.notify_one();
        }
        let beat = pinged.then(|| self.beats.add(id, out.clone(), dropped.clone()));
        let handle = Handle { id, user, out, dropped: dropped.clone() };
        (handle, Connection { id, origin: format!("{}:{id}", self.m.node_id()), dropped, beat })
    }

    /// Opens a console connection that hears of `account`'s one-to-one conversations (its
    /// Inbox), through `out`.
    pub fn watch_inbox(&self, account: &str, out: Arc<dyn Outbox>) -> Connection {
        let mut state = self.lock();
        let (handle, connection) = self.new_connection(&state, account.into(), out, false);
        state.watchers.entry(account.to_owned()).or_default().push(handle);
        connection
    }

    pub fn unwatch_inbox(&self, account: &str, id: u64) {
        let mut state = self.lock();
        if let Some(list) = state.watchers.get_mut(account) {
            list.retain(|h| h.id != id);
            if list.is_empty() {
                state.watchers.remove(account);
            }
        }
    }

    /// Tells the Inbox watchers of the change's account that a conversation moved.
    fn tell_inbox(&self, change: &Change) {
        let (account, subscriber) = match change {
            Change::Message { account, user: Some(u), .. }
            | Change::Recalled { account, user: Some(u), .. }
            | Change::Live { account, user: Some(u), .. } => (account, u),
            _ => return,
        };
        let state = self.lock();
        let Some(list) = state.watchers.get(account.as_str()) else { return };
        let frame: Frame = console_frame("inboxChanged", json!({ "subscriber": subscriber })).into();
        for h in list {
            if !h.out.push(&[&frame]) {
                h.dropped.notify_one();
            }
        }
    }

    /// Closes connection `id` of `user` (the socket ended).
    pub fn disconnect(&self, user: &str, id: u64) {
        self.beats.remove(id);
        let mut state = self.lock();
        let Some(u) = state.users.get_mut(user) else { return };
        let before = u.conns.len();
        u.conns.retain(|c| c.id != id);
        let n = u.conns.len();
        if n < before {
            metrics::gauge!("herald_client_connections").decrement(1.0);
        }
        if n == 0 {
            let accounts: Vec<Arc<str>> = u.subs.keys().cloned().collect();
            state.users.remove(user);
            for a in accounts {
                state.unindex(user, &a);
            }
        }
        drop(state);
        self.note_presence(user, n);
    }

    /// Connections open on this node for each of `users`.
    pub fn connection_counts(&self) -> (usize, usize) {
        let state = self.lock();
        (state.users.len(), state.users.values().map(|u| u.conns.len()).sum())
    }

    /// Whether this node is stopping (its connections are being closed with 1012).
    pub fn is_stopping(&self) -> bool {
        self.lock().stopped
    }

    /// Drops every connection (shutdown) and forgets this node's presence.
    pub async fn stop(&self) {
        {
            let mut state = self.lock();
            state.stopped = true;
            for c in state.users.values().flat_map(|u| &u.conns).chain(state.watchers.values().flatten()) {
                c.dropped.notify_one();
            }
        }
        if let Err(e) = self.m.clear_presence().await {
            tracing::warn!(error = %e, "presence could not be cleared");
        }
    }

    async fn load_subs(&self, user: &str) -> crate::Result<HashMap<String, Sub>> {
        Ok(self.m.subscriptions_of(user).await?.into_iter().map(|s| (s.account_id.clone(), Sub::from_row(&s))).collect())
    }
}

mod changes;
mod edits_and_polls;
mod keepalive;
#[cfg(test)]
mod tests;
