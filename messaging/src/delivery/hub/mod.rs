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

use super::objects::{account_info, conversation_id, event_frame, reactions_json, ReactionCount, SubscriptionState};
use super::conversation::SubscriptionRow;
use super::writers::{Outgoing, Write, Writers};
use super::Change;
use crate::message::MsgFlag;
use crate::{Messaging, OfficialAccountId};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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
    /// Notified when the hub drops the connection (it fell behind, or shutdown).
    pub dropped: Arc<Notify>,
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
}

impl Sub {
    fn from_row(row: &SubscriptionRow) -> Self {
        let state = row.state();
        Sub { flag: state.msg_flag, subscribed_at: row.subscribed_at, read_seq: row.read_seq, unread: row.unread, counted_seq: row.counted_seq }
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
    event_frame("onTotalUnreadMessageCountChanged", json!({ "totalUnreadCount": total })).into()
}

/// This node's connections. Create one with [`Hub::start`]; it runs until [`Hub::stop`].
pub struct Hub {
    m: Messaging,
    state: Mutex<State>,
    next_id: AtomicU64,
    /// user → connections on this node, waiting to be written to `presence`.
    presence: Mutex<HashMap<String, i64>>,
    /// (account, conversation user, key) → users whose reaction changed, waiting for the next flush.
    reactions: Mutex<HashMap<(String, Option<String>, String), HashSet<String>>>,
    /// The broadcast writer threads, started by the first large broadcast.
    writers: std::sync::OnceLock<Writers>,
}

impl Hub {
    /// Starts the hub's tasks: changes → frames, reaction flushes, presence and heartbeats.
    pub fn start(m: Messaging) -> Arc<Self> {
        let hub = Self::new(m);
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
                        tracing::warn!(skipped = n, "the hub fell behind; connected clients catch up with getMessageList")
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
            }
        });
        let h = hub.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PRESENCE_FLUSH);
            let mut beats = 0u64;
            loop {
                tick.tick().await;
                if beats % (super::presence::HEARTBEAT_SECS * 4) == 0 {
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
                if h.lock().stopped {
                    return;
                }
            }
        });
        hub
    }

    /// A hub without its tasks (tests apply changes to it themselves).
    fn new(m: Messaging) -> Arc<Self> {
        Arc::new(Self {
            m,
            state: Mutex::new(State::default()),
            next_id: AtomicU64::new(1),
            presence: Mutex::new(HashMap::new()),
            reactions: Mutex::new(HashMap::new()),
            writers: std::sync::OnceLock::new(),
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
            let (handle, connection) = self.new_connection(&state, key.clone(), out);
            let u = state.users.entry(key).or_default();
            u.conns.push(handle);
            (connection, first, u.conns.len())
        };
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

    /// A new connection's two ends: the hub's handle and the socket code's [`Connection`].
    fn new_connection(&self, state: &State, user: Arc<str>, out: Arc<dyn Outbox>) -> (Handle, Connection) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let dropped = Arc::new(Notify::new());
        if state.stopped {
            dropped.notify_one();
        }
        let handle = Handle { id, user, out, dropped: dropped.clone() };
        (handle, Connection { id, origin: format!("{}:{id}", self.m.node_id()), dropped })
    }

    /// Opens a console connection that hears of `account`'s one-to-one conversations (its
    /// Inbox), through `out`.
    pub fn watch_inbox(&self, account: &str, out: Arc<dyn Outbox>) -> Connection {
        let mut state = self.lock();
        let (handle, connection) = self.new_connection(&state, account.into(), out);
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
            Change::Message { account, user: Some(u), .. } | Change::Recalled { account, user: Some(u), .. } | Change::Live { account, user: Some(u), .. } => (account, u),
            _ => return,
        };
        let state = self.lock();
        let Some(list) = state.watchers.get(account) else { return };
        let frame: Frame = event_frame("inboxChanged", json!({ "subscriber": subscriber })).into();
        for h in list {
            if !h.out.push(&[&frame]) {
                h.dropped.notify_one();
            }
        }
    }

    /// Closes connection `id` of `user` (the socket ended).
    pub fn disconnect(&self, user: &str, id: u64) {
        let mut state = self.lock();
        let Some(u) = state.users.get_mut(user) else { return };
        u.conns.retain(|c| c.id != id);
        let n = u.conns.len();
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
        Ok(self
            .m
            .subscriptions_of(user)
            .await?
            .into_iter()
            .map(|s| (s.account_id.clone(), Sub::from_row(&s)))
            .collect())
    }

    /// Reloads one subscription of a connected user from the database (None: not subscribed).
    async fn reload_sub(&self, user: &str, account: &str) -> crate::Result<Option<Sub>> {
        let Ok(id) = OfficialAccountId::parse("account", account) else { return Ok(None) };
        match self.m.subscription_of(user, &id).await {
            Ok(s) => Ok(Some(Sub::from_row(&s))),
            Err(crate::Error::NotSubscribed { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn is_connected(&self, user: &str) -> bool {
        self.lock().users.contains_key(user)
    }

    /// Drops the connections that could not take a frame.
    fn drop_slow(&self, dropped: Vec<(Arc<str>, u64)>) {
        for (user, id) in dropped {
            let handle = {
                let state = self.lock();
                state.users.get(&*user).and_then(|u| u.conns.iter().find(|c| c.id == id)).map(|c| c.dropped.clone())
            };
            if let Some(d) = handle {
                tracing::info!(%user, id, "dropping a client connection that does not read (it fell too far behind)");
                d.notify_one();
            }
            self.disconnect(&user, id);
        }
    }

    /// Sets (or removes) a connected user's subscription and sends the unread total if it moved.
    fn put_sub(&self, user: &str, account: &str, sub: Option<Sub>, outgoing: &mut Outgoing) {
        let mut state = self.lock();
        let Some(u) = state.users.get_mut(user) else { return };
        let before = u.total_unread();
        state.set_sub(user, account, sub);
        let after = state.users.get(user).map_or(before, User::total_unread);
        if after != before {
            state.send(user, &total_frame(after), None, outgoing);
        }
    }

    async fn apply(&self, change: &Change) -> crate::Result<()> {
        self.tell_inbox(change);
        // This node's account cache forgets what changed on any node (profile, subscriber count).
        if let Change::ProfileChanged { account } | Change::AccountDeleted { account } | Change::Subscribed { account, .. }
        | Change::Unsubscribed { account, .. } = change
        {
            self.m.account_cache.forget(account);
        }
        let mut outgoing = Outgoing::default();
        match change {
            Change::Message { account, user: None, seq, .. } => {
                if !self.lock().by_account.contains_key(account.as_str()) {
                    return Ok(());
                }
                let Some(message) = self.m.broadcast_message(account, *seq).await? else { return Ok(()) };
                let frame: Frame = event_frame("onRecvNewMessage", json!({ "message": message.to_json() })).into();
                {
                    let mut state = self.lock();
                    let State { users, by_account, .. } = &mut *state;
                    // Most recipients end up with the same total: its frame is made once per value.
                    let mut totals: Map<i64, Frame> = Map::default();
                    let recipients = by_account.get(account.as_str());
                    // One write per connection (its message and the new total together).
                    outgoing = Outgoing::for_broadcast(&self.writers, recipients.map_or(0, Set::len));
                    for user in recipients.into_iter().flatten() {
                        let Some(u) = users.get_mut(&**user) else { continue };
                        let Some(sub) = u.subs.get_mut(account.as_str()) else { continue };
                        if sub.flag == MsgFlag::Discard {
                            continue;
                        }
                        if *seq > sub.counted_seq {
                            sub.unread += 1;
                            sub.counted_seq = *seq;
                        }
                        let total = totals.entry(u.total_unread()).or_insert_with_key(|t| total_frame(*t));
                        for c in &u.conns {
                            let (frame, then) = (frame.clone(), Some(total.clone()));
                            outgoing.push(Write { user: c.user.clone(), id: c.id, out: c.out.clone(), frame, then });
                        }
                    }
                }
            }
            Change::Message { account, user: Some(user), seq, origin } => {
                if !self.is_connected(user) {
                    return Ok(());
                }
                let Some(message) = self.m.direct_message(account, user, *seq).await? else { return Ok(()) };
                let except = origin.as_deref().and_then(|o| o.strip_prefix(&format!("{}:", self.m.node_id()))).and_then(|id| id.parse().ok());
                let frame: Frame = event_frame("onRecvNewMessage", json!({ "message": message.to_json() })).into();
                self.lock().send(user, &frame, except, &mut outgoing);
                let sub = self.reload_sub(user, account).await?;
                self.put_sub(user, account, sub, &mut outgoing);
            }
            Change::Live { account, user, message } => {
                let frame: Frame = event_frame("onRecvNewMessage", json!({ "message": message })).into();
                let state = self.lock();
                let users: Vec<Arc<str>> = match user {
                    Some(u) => vec![u.as_str().into()],
                    None => {
                        // Online only, to the whole account: a broadcast like any other.
                        let users = state.subscribers_here(account);
                        outgoing = Outgoing::for_broadcast(&self.writers, users.len());
                        users
                    }
                };
                for u in users {
                    let wants = state.users.get(&u).and_then(|x| x.subs.get(account.as_str())).is_some_and(|s| user.is_some() || s.flag != MsgFlag::Discard);
                    if wants {
                        state.send(&u, &frame, None, &mut outgoing);
                    }
                }
            }
            Change::Recalled { account, user, key } => {
                let frame: Frame = event_frame("onRecvMessageRevoked", json!({ "conversationID": conversation_id(account), "msgKey": key })).into();
                match user {
                    Some(u) => {
                        self.lock().send(u, &frame, None, &mut outgoing);
                        if self.is_connected(u) {
                            let sub = self.reload_sub(u, account).await?;
                            self.put_sub(u, account, sub, &mut outgoing);
                        }
                    }
                    None => {
                        let seq = crate::MsgKey::parse(key).map_or(0, |k| k.seq);
                        let mut state = self.lock();
                        let users = state.subscribers_here(account);
                        for u in users {
                            let total = state.users.get_mut(&u).and_then(|x| {
                                let sub = x.subs.get_mut(account.as_str())?;
                                (sub.flag != MsgFlag::Discard && seq > sub.read_seq && sub.unread > 0).then(|| sub.unread -= 1)?;
                                Some(x.total_unread())
                            });
                            state.send(&u, &frame, None, &mut outgoing);
                            if let Some(t) = total {
                                state.send(&u, &total_frame(t), None, &mut outgoing);
                            }
                        }
                    }
                }
            }
            Change::Subscribed { account, users } => {
                let connected: Vec<&String> = users.iter().filter(|u| self.is_connected(u)).collect();
                if connected.is_empty() {
                    return Ok(());
                }
                let Ok(id) = OfficialAccountId::parse("account", account) else { return Ok(()) };
                let info = self.m.account_from_storage(&id).await?;
                for user in connected {
                    let Some(sub) = self.reload_sub(user, account).await? else { continue };
                    let frame: Frame = event_frame("onOfficialAccountSubscribed", json!({ "officialAccountInfo": account_info(&info, Some(&sub.state())) })).into();
                    self.lock().send(user, &frame, None, &mut outgoing);
                    self.put_sub(user, account, Some(sub), &mut outgoing);
                }
            }
            Change::Unsubscribed { account, users } => {
                let frame: Frame = event_frame("onOfficialAccountUnsubscribed", json!({ "officialAccountID": account })).into();
                for user in users {
                    if self.is_connected(user) {
                        self.lock().send(user, &frame, None, &mut outgoing);
                        self.put_sub(user, account, None, &mut outgoing);
                    }
                }
            }
            Change::ReceiveOption { account, user } | Change::Read { account, user } => {
                if self.is_connected(user) {
                    let sub = self.reload_sub(user, account).await?;
                    self.put_sub(user, account, sub, &mut outgoing);
                }
            }
            Change::ProfileChanged { account } => {
                if !self.lock().by_account.contains_key(account.as_str()) {
                    return Ok(());
                }
                let Ok(id) = OfficialAccountId::parse("account", account) else { return Ok(()) };
                let info = self.m.account_from_storage(&id).await?;
                let state = self.lock();
                let users = state.subscribers_here(account);
                for u in users {
                    let Some(sub) = state.users.get(&u).and_then(|x| x.subs.get(account.as_str())).map(Sub::state) else { continue };
                    let frame: Frame = event_frame("onOfficialAccountInfoChanged", json!({ "officialAccountInfo": account_info(&info, Some(&sub)) })).into();
                    state.send(&u, &frame, None, &mut outgoing);
                }
            }
            Change::AccountDeleted { account } => {
                let frame: Frame = event_frame("onOfficialAccountDeleted", json!({ "officialAccountID": account })).into();
                let users = self.lock().subscribers_here(account);
                for u in users {
                    self.lock().send(&u, &frame, None, &mut outgoing);
                    self.put_sub(&u, account, None, &mut outgoing);
                }
            }
            Change::Reactions { account, user, key, by } => {
                self.reactions
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry((account.clone(), user.clone(), key.clone()))
                    .or_default()
                    .insert(by.clone());
            }
            Change::Relayed { .. } | Change::SettingsChanged => {}
        }
        let dropped = outgoing.write().await;
        self.drop_slow(dropped);
        Ok(())
    }

    /// Sends one `onMessageReactionsChanged` per message whose reactions changed since the last
    /// flush: the counts are read once; `reactedByMe` is looked up for the recipients.
    async fn flush_reactions(&self) -> crate::Result<()> {
        let pending = std::mem::take(&mut *self.reactions.lock().unwrap_or_else(|p| p.into_inner()));
        for ((account, thread, key), _by) in pending {
            let recipients: Vec<String> = {
                let state = self.lock();
                match &thread {
                    Some(u) => state.users.contains_key(u.as_str()).then(|| vec![u.clone()]).unwrap_or_default(),
                    None => state.subscribers_here(&account).iter().map(|u| u.to_string()).collect(),
                }
            };
            if recipients.is_empty() {
                continue;
            }
            let thread_key = thread.as_deref().unwrap_or("");
            let totals = self.m.reaction_totals(&account, thread_key, &key).await?;
            let mine = self.m.reactions_by(&account, thread_key, &key, &recipients).await?;
            let frame_for = |me: Option<&str>| -> Frame {
                let reactions: Vec<ReactionCount> = totals
                    .iter()
                    .map(|(r, total)| ReactionCount {
                        reaction_id: r.clone(),
                        total: *total,
                        reacted_by_me: me.is_some_and(|me| mine.iter().any(|(u, mr)| u == me && mr == r)),
                    })
                    .collect();
                let data: Value = json!({ "conversationID": conversation_id(&account), "msgKey": key, "reactions": reactions_json(&reactions) });
                event_frame("onMessageReactionsChanged", data).into()
            };
            let shared = frame_for(None);
            let reacted: HashSet<&str> = mine.iter().map(|(u, _)| u.as_str()).collect();
            let mut outgoing = Outgoing::default();
            {
                let state = self.lock();
                for u in &recipients {
                    if reacted.contains(u.as_str()) {
                        state.send(u, &frame_for(Some(u)), None, &mut outgoing);
                    } else {
                        state.send(u, &shared, None, &mut outgoing);
                    }
                }
            }
            let dropped = outgoing.write().await;
            self.drop_slow(dropped);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
