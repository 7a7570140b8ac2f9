//! What each [`Change`] becomes on this node: the frames for the connections it concerns (a
//! broadcast's gathered under the hub's lock, then written by [`Outgoing`]), the per-user state
//! kept in step (subscriptions, unread counts), and the reaction events gathered per message.

use super::{total_frame, Frame, Hub, Sub, User};
use crate::delivery::objects::{account_info, conversation_id, event_frame, Event, ReactionCount};
use crate::delivery::writers::Outgoing;
use crate::delivery::Change;
use crate::message::MsgFlag;
use crate::OfficialAccountId;
use std::collections::HashSet;
use std::sync::Arc;

/// How long a large broadcast waits after its commit before this node starts gathering it.
const LARGE_BROADCAST_DELAY: std::time::Duration = std::time::Duration::from_millis(2);
/// The most broadcasts of one account a resync sends (older ones are in the client's history).
const RESYNC_MAX: i64 = 1000;

impl Hub {
    /// Reloads one subscription of a connected user from the database (None: not subscribed).
    async fn reload_sub(&self, user: &str, account: &OfficialAccountId) -> crate::Result<Option<Sub>> {
        match self.m.subscription_of(user, account).await {
            Ok(s) => Ok(Some(Sub::from_row(&s))),
            Err(crate::Error::NotSubscribed { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Before a broadcast to `account`: false when no subscriber of it is connected here. A
    /// large one (past a share of writes) waits [`LARGE_BROADCAST_DELAY`] first: it takes the
    /// cores for a while, and the request that committed it (on this node or another) should
    /// answer first.
    async fn before_broadcast(&self, account: &str) -> bool {
        let here = self.lock().by_account.get(account).map_or(0, |s| s.len());
        if here > crate::delivery::writers::WRITE_SHARE {
            tokio::time::sleep(LARGE_BROADCAST_DELAY).await;
        }
        here > 0
    }

    fn is_connected(&self, user: &str) -> bool {
        self.lock().users.contains_key(user)
    }

    /// Drops the connections that could not take a frame.
    pub(super) fn drop_slow(&self, dropped: Vec<(Arc<str>, u64)>) {
        for (user, id) in dropped {
            let handle = {
                let state = self.lock();
                state.users.get(&*user).and_then(|u| u.conns.iter().find(|c| c.id == id)).map(|c| c.dropped.clone())
            };
            if let Some(d) = handle {
                metrics::counter!("herald_slow_clients_dropped_total").increment(1);
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

    /// After a gap in what this node heard (since `since`): each account's stored broadcasts
    /// past what its connected subscribers were sent go to those who missed them, in order, once
    /// each; then the recalls and edits made meanwhile, each account's profile (a pin, say), and
    /// every connected user's subscriptions and unread totals as stored.
    async fn resync(&self, since: i64) -> crate::Result<()> {
        self.resync_broadcasts().await?;
        let accounts: Vec<String> = self.lock().by_account.keys().map(|a| a.to_string()).collect();
        for (account, key, recalled) in self.m.broadcasts_changed_since(&accounts, since).await? {
            let account = OfficialAccountId::parse("account", &account)?;
            let change = if recalled { Change::Recalled { account, user: None, key } } else { Change::Modified { account, key } };
            Box::pin(self.apply(&change)).await?;
        }
        for account in &accounts {
            let account = OfficialAccountId::parse("account", account)?;
            Box::pin(self.apply(&Change::ProfileChanged { account })).await?;
        }
        // Unread totals (reads and recalls on other nodes) and subscriptions, as stored.
        let users: Vec<String> = self.lock().users.keys().map(|u| u.to_string()).collect();
        let mut outgoing = Outgoing::default();
        for user in users {
            let stored = self.load_subs(&user).await?;
            let here: Vec<String> =
                self.lock().users.get(user.as_str()).map(|u| u.subs.keys().map(|a| a.to_string()).collect()).unwrap_or_default();
            for gone in here.iter().filter(|a| !stored.contains_key(*a)) {
                self.put_sub(&user, gone, None, &mut outgoing);
            }
            for (account, mut sub) in stored {
                // What the resync just sent stays marked, so its late change is not sent again.
                let sent = self.lock().users.get(user.as_str()).and_then(|u| Some(u.subs.get(account.as_str())?.resynced_seq));
                sub.resynced_seq = sent.unwrap_or(0);
                self.put_sub(&user, &account, Some(sub), &mut outgoing);
            }
        }
        let dropped = outgoing.write().await;
        self.drop_slow(dropped);
        Ok(())
    }

    /// [`Self::resync`]'s first part: the broadcasts each connection was not sent.
    async fn resync_broadcasts(&self) -> crate::Result<()> {
        // Per account with connected subscribers: the oldest position any of them was sent.
        let behind: Vec<(String, i64)> = {
            let state = self.lock();
            state
                .by_account
                .iter()
                .filter_map(|(account, users)| {
                    let sent = users.iter().filter_map(|u| state.users.get(&**u)?.subs.get(&**account)).map(|s| s.counted_seq).min()?;
                    Some((account.to_string(), sent))
                })
                .collect()
        };
        let accounts: Vec<String> = behind.iter().map(|(a, _)| a.clone()).collect();
        let newest = self.m.newest_broadcasts(&accounts).await?;
        let mut caught_up = 0usize;
        for (account, sent) in behind {
            let last = newest.get(&account).copied().unwrap_or(0);
            for seq in (sent + 1).max(last - RESYNC_MAX + 1)..=last {
                let Some(mut message) = self.m.broadcast_message(&account, seq).await? else { continue };
                if message.revoked {
                    continue;
                }
                message.poll = self.m.polls().state(&message).await?;
                let frame: Frame = event_frame(&Event::NewMessage { message: message.to_wire() }).into();
                let (outgoing, reached) = self.lock().broadcast(&account, &frame, Some(seq), true, &self.writers);
                caught_up += reached as usize;
                let dropped = outgoing.write().await;
                self.drop_slow(dropped);
            }
        }
        tracing::info!(deliveries = caught_up, "connected clients caught up after a gap in listening");
        Ok(())
    }

    pub(super) async fn apply(&self, change: &Change) -> crate::Result<()> {
        self.tell_inbox(change);
        // This node's account cache forgets what changed on any node (profile, subscriber count).
        if let Change::ProfileChanged { account }
        | Change::AccountDeleted { account }
        | Change::Subscribed { account, .. }
        | Change::Unsubscribed { account, .. } = change
        {
            self.m.account_cache.forget(account.as_str());
        }
        let mut outgoing = Outgoing::default();
        // A stored broadcast written here: (account, seq, distinct users reached).
        let mut delivered: Option<(&str, i64, i64)> = None;
        let started = std::time::Instant::now();
        match change {
            Change::Message { account, user: None, seq, .. } => {
                let account = account.as_str();
                if !self.before_broadcast(account).await {
                    return Ok(());
                }
                let Some(mut message) = self.m.broadcast_message(account, *seq).await? else { return Ok(()) };
                message.poll = self.m.polls().state(&message).await?;
                let frame: Frame = event_frame(&Event::NewMessage { message: message.to_wire() }).into();
                let reached;
                (outgoing, reached) = self.lock().broadcast(account, &frame, Some(*seq), false, &self.writers);
                delivered = Some((account, *seq, reached));
            }
            Change::Message { account, user: Some(user), seq, origin } => {
                let (id, account) = (account, account.as_str());
                if !self.is_connected(user) {
                    return Ok(());
                }
                let Some(message) = self.m.direct_message(account, user, *seq).await? else { return Ok(()) };
                let except =
                    origin.as_deref().and_then(|o| o.strip_prefix(&format!("{}:", self.m.node_id()))).and_then(|id| id.parse().ok());
                let frame: Frame = event_frame(&Event::NewMessage { message: message.to_wire() }).into();
                self.lock().send(user, &frame, except, &mut outgoing);
                let sub = self.reload_sub(user, id).await?;
                self.put_sub(user, account, sub, &mut outgoing);
            }
            Change::Live { account, user, message } => {
                let account = account.as_str();
                let frame: Frame = event_frame(&Event::NewMessage { message: (**message).clone() }).into();
                match user {
                    // Online only, to the whole account: a broadcast like any other, not counted.
                    None => {
                        if !self.before_broadcast(account).await {
                            return Ok(());
                        }
                        (outgoing, _) = self.lock().broadcast(account, &frame, None, false, &self.writers);
                    }
                    Some(u) => {
                        let state = self.lock();
                        if state.users.get(u.as_str()).is_some_and(|x| x.subs.contains_key(account)) {
                            state.send(u, &frame, None, &mut outgoing);
                        }
                    }
                }
            }
            Change::Recalled { account, user, key } => {
                let (id, account) = (account, account.as_str());
                let frame: Frame =
                    event_frame(&Event::MessageRevoked { conversation_id: conversation_id(account), msg_key: key.to_string() }).into();
                match user {
                    Some(u) => {
                        self.lock().send(u, &frame, None, &mut outgoing);
                        if self.is_connected(u) {
                            let sub = self.reload_sub(u, id).await?;
                            self.put_sub(u, account, sub, &mut outgoing);
                        }
                    }
                    None => {
                        let seq = crate::MsgKey::parse(key).map_or(0, |k| k.seq);
                        let mut state = self.lock();
                        let users = state.subscribers_here(account);
                        for u in users {
                            let total = state.users.get_mut(&u).and_then(|x| {
                                let sub = x.subs.get_mut(account)?;
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
                let (id, account) = (account, account.as_str());
                let connected: Vec<&String> = users.iter().filter(|u| self.is_connected(u)).collect();
                if connected.is_empty() {
                    return Ok(());
                }
                let info = self.m.account_from_storage(id).await?;
                for user in connected {
                    let Some(sub) = self.reload_sub(user, id).await? else { continue };
                    let frame: Frame =
                        event_frame(&Event::Subscribed { official_account_info: account_info(&info, Some(&sub.state())) }).into();
                    self.lock().send(user, &frame, None, &mut outgoing);
                    self.put_sub(user, account, Some(sub), &mut outgoing);
                }
            }
            Change::Unsubscribed { account, users } => {
                let account = account.as_str();
                let frame: Frame = event_frame(&Event::Unsubscribed { official_account_id: account.to_string() }).into();
                for user in users {
                    if self.is_connected(user) {
                        self.lock().send(user, &frame, None, &mut outgoing);
                        self.put_sub(user, account, None, &mut outgoing);
                    }
                }
            }
            Change::ReceiveOption { account, user } | Change::Read { account, user } => {
                let (id, account) = (account, account.as_str());
                if self.is_connected(user) {
                    let sub = self.reload_sub(user, id).await?;
                    self.put_sub(user, account, sub, &mut outgoing);
                }
            }
            Change::ProfileChanged { account } => {
                let (id, account) = (account, account.as_str());
                if !self.lock().by_account.contains_key(account) {
                    return Ok(());
                }
                let info = self.m.account_from_storage(id).await?;
                let state = self.lock();
                let users = state.subscribers_here(account);
                for u in users {
                    let Some(sub) = state.users.get(&u).and_then(|x| x.subs.get(account)).map(Sub::state) else { continue };
                    let frame: Frame = event_frame(&Event::InfoChanged { official_account_info: account_info(&info, Some(&sub)) }).into();
                    state.send(&u, &frame, None, &mut outgoing);
                }
            }
            Change::AccountDeleted { account } => {
                let account = account.as_str();
                let frame: Frame = event_frame(&Event::AccountDeleted { official_account_id: account.to_string() }).into();
                let users = self.lock().subscribers_here(account);
                for u in users {
                    self.lock().send(&u, &frame, None, &mut outgoing);
                    self.put_sub(&u, account, None, &mut outgoing);
                }
            }
            Change::Reactions { account, user, key, by } => {
                let account = account.as_str();
                self.reactions
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry((account.to_owned(), user.clone(), key.clone()))
                    .or_default()
                    .insert(by.clone());
            }
            Change::Modified { account, key } => {
                let account = account.as_str();
                if !self.lock().by_account.contains_key(account) {
                    return Ok(());
                }
                let seq = crate::MsgKey::parse(key).map_or(0, |k| k.seq);
                let Some(message) = self.m.broadcast_message(account, seq).await? else { return Ok(()) };
                outgoing = self.modified_frames(account, key, message).await?;
            }
            Change::PollVoted { account, key } => {
                self.polls.lock().unwrap_or_else(|p| p.into_inner()).insert((account.to_string(), key.clone()));
            }
            Change::Resync { since } => self.resync(*since).await?,
            Change::Relayed { .. } | Change::SettingsChanged => {}
        }
        let dropped = outgoing.write().await;
        if let Some((account, seq, reached)) = delivered {
            // From hearing the change to the last connection's write (docs/operations.md).
            metrics::histogram!("herald_fanout_duration_seconds").record(started.elapsed().as_secs_f64());
            // Once the writes are done: users none of whose connections could take it are not counted.
            let mut failed: std::collections::HashMap<&str, usize> = Default::default();
            for (user, _) in &dropped {
                *failed.entry(user).or_default() += 1;
            }
            let missed = {
                let state = self.lock();
                failed.iter().filter(|(u, n)| state.users.get(**u).is_none_or(|x| x.conns.len() <= **n)).count()
            };
            let n = reached - missed as i64;
            let (insights, account) = (self.m.insights().clone(), account.to_owned());
            tokio::spawn(async move {
                if let Err(e) = insights.add_delivered_live(&account, seq, n).await {
                    tracing::warn!(error = %e, account, seq, "a broadcast's live deliveries could not be counted");
                }
            });
        }
        self.drop_slow(dropped);
        Ok(())
    }

    /// Sends one `onMessageReactionsChanged` per message whose reactions changed since the last
    /// flush: the counts are read once; `reactedByMe` is looked up for the recipients.
    pub(super) async fn flush_reactions(&self) -> crate::Result<()> {
        let pending = std::mem::take(&mut *self.reactions.lock().unwrap_or_else(|p| p.into_inner()));
        for ((account, thread, key), _by) in pending {
            let recipients: Vec<String> = {
                let state = self.lock();
                match &thread {
                    Some(u) if state.users.contains_key(u.as_str()) => vec![u.clone()],
                    Some(_) => Vec::new(),
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
                event_frame(&Event::ReactionsChanged { conversation_id: conversation_id(&account), msg_key: key.to_string(), reactions })
                    .into()
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
