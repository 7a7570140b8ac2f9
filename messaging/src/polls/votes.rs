//! Polls in storage: the row written with the broadcast that carries one, votes, and the counts
//! every reader sees. A vote replaces the voter's earlier choice in one transaction that also
//! moves the per-option counts and the number of voters, so the counts always equal the stored
//! votes, after a crash too.

use super::{Poll, PollResults};
use crate::delivery::objects::{Message, PollState};
use crate::delivery::{Announcer, Change};
use crate::error::{Error, InvalidField, Result};
use crate::ids::{OfficialAccountId, UserId};
use crate::MsgKey;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// At most this many votes share a transaction.
const GROUP_MAX: usize = 1000;
/// Rows one insert statement writes (4 parameters each, under every backend's limit).
const INSERT_ROWS_MAX: usize = 2000;
/// How long a poll's definition is kept before it is read again (a recall or an edit of the
/// closing time is seen within this), and how many are kept.
const DEFINITION_KEPT: std::time::Duration = std::time::Duration::from_secs(1);
const DEFINITIONS_MAX: usize = 10_000;

/// Polls: voting and results, with the store, the clock a poll closes by, and what announces
/// a vote to every node.
#[derive(Clone)]
pub struct Polls {
    store: crate::store::Store,
    clock: crate::clock::Clock,
    announcer: Announcer,
    /// Votes waiting for their poll's leader, by (account, seq); a key exists while it runs.
    waiting: Arc<Mutex<HashMap<(String, i64), Vec<VoteRequest>>>>,
    /// Poll definitions recently read (or why the key is no poll), with when.
    definitions: Arc<Mutex<HashMap<(String, i64), Definition>>>,
}

/// A poll's definition as read (or why its key is no poll to vote in), and when.
type Definition = (std::time::Instant, Result<Poll, InvalidField>);

/// One vote waiting for its group's transaction.
struct VoteRequest {
    user: String,
    options: Vec<String>,
    reply: oneshot::Sender<Result<(Vec<(String, i64)>, i64)>>,
}

/// Drops a poll's queue when its leader ends, so the next vote leads again; callers still
/// waiting then get an error instead of waiting for ever.
struct LeaderDone<'a> {
    polls: &'a Polls,
    id: (String, i64),
}

impl Drop for LeaderDone<'_> {
    fn drop(&mut self) {
        self.polls.waiting.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.id);
    }
}

fn not_a_poll(key: &str) -> InvalidField {
    InvalidField::new("msgKey", format!("no poll {key} in this conversation"))
}

/// Writes the poll row of broadcast `seq` in the broadcast's own transaction.
pub(crate) async fn store_poll(tx: &mut sqlx::AnyConnection, account: &str, seq: i64, poll: &Poll) -> Result<()> {
    sqlx::query("insert into poll (account_id, seq, multiple, closes_at, voters) values ($1, $2, $3, $4, 0)")
        .bind(account)
        .bind(seq)
        .bind(i64::from(poll.multiple))
        .bind(poll.closes_at)
        .execute(&mut *tx)
        .await?;
    for option in &poll.options {
        sqlx::query("insert into poll_option (account_id, seq, option_id, votes) values ($1, $2, $3, 0)")
            .bind(account)
            .bind(seq)
            .bind(&option.id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// `in ($from, …)` for `n` parameters.
fn params(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

impl Polls {
    pub(crate) fn new(store: crate::store::Store, clock: crate::clock::Clock, announcer: Announcer) -> Self {
        Self { store, clock, announcer, waiting: Default::default(), definitions: Default::default() }
    }

    /// `votePoll`: `user`'s choice in poll `key` of `account` becomes `option_ids` (empty:
    /// withdrawn). The user must subscribe; refused once the poll closed or was recalled.
    ///
    /// Votes in one poll arriving together share a transaction (group commit, as
    /// `add_subscriber` does): the first becomes the leader, a task that writes every vote
    /// queued meanwhile in arrival order, moves each count once and answers each voter with
    /// the counts after the commit.
    pub async fn vote(&self, user: &UserId, account: &OfficialAccountId, key: &str, option_ids: &[String]) -> Result<PollState> {
        let k = MsgKey::parse(key).filter(MsgKey::is_broadcast).ok_or_else(|| not_a_poll(key))?;
        let poll = self.definition(account, k, key).await?;
        let now = self.clock.now();
        if poll.is_closed(now) {
            return Err(InvalidField::new("msgKey", "the poll has closed; votes are no longer taken").into());
        }
        poll.check_vote(option_ids)?;
        let (reply, answer) = oneshot::channel();
        let request = VoteRequest { user: user.to_string(), options: option_ids.to_vec(), reply };
        let lead = {
            let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
            match waiting.get_mut(&(account.to_string(), k.seq)) {
                Some(queue) => {
                    queue.push(request);
                    false
                }
                None => {
                    waiting.insert((account.to_string(), k.seq), vec![request]);
                    true
                }
            }
        };
        if lead {
            let (polls, account, key) = (self.clone(), account.clone(), key.to_owned());
            tokio::spawn(async move { polls.lead(account, k.seq, key).await });
        }
        let (counts, voters) = answer.await.map_err(|_| Error::Internal("the vote's group ended without an answer".into()))??;
        Ok(PollState::of(&poll, &counts, voters, option_ids.to_vec(), now))
    }

    /// A poll's definition by its key (kept a second: votes come in thousands a second).
    async fn definition(&self, account: &OfficialAccountId, k: MsgKey, key: &str) -> Result<Poll> {
        let cache_key = (account.to_string(), k.seq);
        let at = std::time::Instant::now();
        if let Some((read_at, poll)) = self.definitions.lock().unwrap_or_else(|p| p.into_inner()).get(&cache_key) {
            if at.duration_since(*read_at) < DEFINITION_KEPT {
                return poll.clone().map_err(Error::from);
            }
        }
        let row: Option<(String, Option<i64>)> = sqlx::query_as(
            "select b.body, b.recalled_at from broadcast b join official_account a on a.account_id = b.account_id \
             where b.account_id = $1 and b.seq = $2 and b.msg_time = $3 and a.destroyed_at is null",
        )
        .bind(account.as_str())
        .bind(k.seq)
        .bind(k.time)
        .fetch_optional(&self.store.pool)
        .await?;
        let poll = match row {
            None => Err(not_a_poll(key)),
            Some((_, Some(_))) => Err(InvalidField::new("msgKey", "the poll was recalled")),
            Some((body, None)) => {
                let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                match Poll::from_msg_body("msgKey", &body) {
                    Some(Ok(poll)) => Ok(poll),
                    _ => Err(not_a_poll(key)),
                }
            }
        };
        let mut cache = self.definitions.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() > DEFINITIONS_MAX {
            cache.clear();
        }
        cache.insert(cache_key, (at, poll.clone()));
        poll.map_err(Error::from)
    }

    /// The leader of poll `seq`'s votes: writes groups until nobody waits.
    async fn lead(&self, account: OfficialAccountId, seq: i64, key: String) {
        let id = (account.to_string(), seq);
        // Whatever happens (a panic included), the queue is not left behind with no leader.
        let _done = LeaderDone { polls: self, id: id.clone() };
        loop {
            let group: Vec<VoteRequest> = {
                let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
                let Some(queue) = waiting.get_mut(&id) else { return };
                if queue.is_empty() {
                    waiting.remove(&id);
                    return;
                }
                let n = queue.len().min(GROUP_MAX);
                queue.drain(..n).collect()
            };
            match self.write_group(&account, seq, &key, &group).await {
                Ok(outcomes) => {
                    let counts = self.counts(account.as_str(), seq).await;
                    for (request, outcome) in group.into_iter().zip(outcomes) {
                        let answer = match (&counts, outcome) {
                            (Ok(c), Ok(())) => Ok(c.clone()),
                            (_, Err(e)) => Err(e),
                            (Err(e), _) => Err(Error::Internal(format!("the poll's counts could not be read: {e}"))),
                        };
                        let _ = request.reply.send(answer);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, account = %account, seq, "a group of votes could not be stored");
                    for request in group {
                        let _ = request.reply.send(Err(Error::Internal(format!("the vote could not be stored: {e}"))));
                    }
                }
            }
        }
    }

    /// Writes `group`'s votes in one transaction, in order; each gets its own outcome. The
    /// statements are per group, not per vote: the voters' subscription rows are taken (a
    /// user's votes go one at a time, on every node) and their earlier choices read at once,
    /// the choices are replayed in memory in arrival order, and only the voters whose choice
    /// changed have their rows rewritten, with one count update per option that moved.
    async fn write_group(&self, account: &OfficialAccountId, seq: i64, key: &str, group: &[VoteRequest]) -> Result<Vec<Result<()>>> {
        let mut users: Vec<&str> = group.iter().map(|r| r.user.as_str()).collect();
        users.sort_unstable();
        users.dedup();
        let mut tx = self.store.begin_write().await?;
        let lock_sql = format!(
            "update subscription set read_seq = read_seq where account_id = $1 and subscriber_account in ({}) returning subscriber_account",
            params(2, users.len())
        );
        let mut lock = sqlx::query_as::<_, (String,)>(&lock_sql).persistent(false).bind(account.as_str());
        for u in &users {
            lock = lock.bind(*u);
        }
        let subscribed: std::collections::HashSet<String> = lock.fetch_all(&mut *tx).await?.into_iter().map(|(u,)| u).collect();
        let before_sql = format!(
            "select user_id, option_id from poll_vote where account_id = $1 and seq = $2 and user_id in ({})",
            params(3, users.len())
        );
        let mut before_q = sqlx::query_as::<_, (String, String)>(&before_sql).persistent(false).bind(account.as_str()).bind(seq);
        for u in &users {
            before_q = before_q.bind(*u);
        }
        let mut before: HashMap<String, Vec<String>> = HashMap::new();
        for (u, o) in before_q.fetch_all(&mut *tx).await? {
            before.entry(u).or_default().push(o);
        }
        // Each voter's choice after the group, replayed in arrival order.
        let mut after: HashMap<&str, &[String]> = HashMap::new();
        let mut outcomes = Vec::with_capacity(group.len());
        for request in group {
            if subscribed.contains(&request.user) {
                after.insert(&request.user, &request.options);
                outcomes.push(Ok(()));
            } else {
                outcomes.push(Err(Error::NotSubscribed { account: account.to_string(), user: request.user.clone() }));
            }
        }
        let mut deltas: HashMap<&str, i64> = HashMap::new();
        let mut voters = 0i64;
        let mut rewritten: Vec<&str> = Vec::new();
        for (user, now) in &after {
            let was = before.get(*user).map(Vec::as_slice).unwrap_or_default();
            let same = was.len() == now.len() && was.iter().all(|o| now.contains(o));
            if same {
                continue;
            }
            rewritten.push(user);
            for o in was {
                *deltas.entry(o.as_str()).or_default() -= 1;
            }
            for o in now.iter() {
                *deltas.entry(o.as_str()).or_default() += 1;
            }
            voters += i64::from(!now.is_empty()) - i64::from(!was.is_empty());
        }
        if !rewritten.is_empty() {
            let delete_sql =
                format!("delete from poll_vote where account_id = $1 and seq = $2 and user_id in ({})", params(3, rewritten.len()));
            let mut delete = sqlx::query(&delete_sql).persistent(false).bind(account.as_str()).bind(seq);
            for u in &rewritten {
                delete = delete.bind(*u);
            }
            delete.execute(&mut *tx).await?;
            let rows: Vec<(&str, &str)> = rewritten.iter().flat_map(|u| after[u].iter().map(move |o| (*u, o.as_str()))).collect();
            for chunk in rows.chunks(INSERT_ROWS_MAX) {
                let values: Vec<String> = (0..chunk.len()).map(|i| format!("($1, $2, ${}, ${})", 3 + 2 * i, 4 + 2 * i)).collect();
                let insert_sql = format!("insert into poll_vote (account_id, seq, user_id, option_id) values {}", values.join(", "));
                let mut insert = sqlx::query(&insert_sql).persistent(false).bind(account.as_str()).bind(seq);
                for (u, o) in chunk {
                    insert = insert.bind(*u).bind(*o);
                }
                insert.execute(&mut *tx).await?;
            }
        }
        let mut changed: Vec<(&str, i64)> = deltas.into_iter().filter(|(_, d)| *d != 0).collect();
        // Always in one order, so two nodes' groups take the option rows' locks alike.
        changed.sort_unstable();
        for (option, delta) in &changed {
            sqlx::query("update poll_option set votes = votes + $4 where account_id = $1 and seq = $2 and option_id = $3")
                .bind(account.as_str())
                .bind(seq)
                .bind(*option)
                .bind(*delta)
                .execute(&mut *tx)
                .await?;
        }
        if voters != 0 {
            sqlx::query("update poll set voters = voters + $3 where account_id = $1 and seq = $2")
                .bind(account.as_str())
                .bind(seq)
                .bind(voters)
                .execute(&mut *tx)
                .await?;
        }
        let changes = if rewritten.is_empty() { vec![] } else { vec![Change::PollVoted { account: account.clone(), key: key.to_owned() }] };
        self.announcer.commit(tx, changes).await?;
        Ok(outcomes)
    }

    /// A poll's option counts and voters.
    async fn counts(&self, account: &str, seq: i64) -> Result<(Vec<(String, i64)>, i64)> {
        Ok(self.counts_of(account, &[seq]).await?.remove(&seq).unwrap_or_default())
    }

    /// The option counts and voters of polls `seqs` of `account` (one query a hundred polls), by seq.
    async fn counts_of(&self, account: &str, seqs: &[i64]) -> Result<HashMap<i64, (Vec<(String, i64)>, i64)>> {
        let mut out: HashMap<i64, (Vec<(String, i64)>, i64)> = HashMap::new();
        for chunk in seqs.chunks(100) {
            let sql = format!(
                "select o.seq, o.option_id, o.votes, p.voters from poll_option o join poll p on p.account_id = o.account_id and p.seq = o.seq \
                 where o.account_id = $1 and o.seq in ({})",
                params(2, chunk.len())
            );
            let mut q = sqlx::query_as::<_, (i64, String, i64, i64)>(&sql).persistent(false).bind(account);
            for s in chunk {
                q = q.bind(s);
            }
            for (seq, option, votes, voters) in q.fetch_all(&self.store.pool).await? {
                let entry = out.entry(seq).or_default();
                entry.0.push((option, votes));
                entry.1 = voters;
            }
        }
        Ok(out)
    }

    /// The poll of `key` as a reader who chose `mine` sees it (the hub's `onPollChanged`);
    /// None when the message is not a live poll.
    pub(crate) async fn state(&self, message: &Message) -> Result<Option<PollState>> {
        let mut one = [message.clone()];
        self.attach(None, &mut one).await?;
        let [m] = one;
        Ok(m.poll)
    }

    /// Of `users`, the options each chose in poll `seq` (the hub's per-user `myVotes`).
    pub(crate) async fn choices_of(&self, account: &str, seq: i64, users: &[String]) -> Result<HashMap<String, Vec<String>>> {
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for chunk in users.chunks(500) {
            let sql = format!(
                "select user_id, option_id from poll_vote where account_id = $1 and seq = $2 and user_id in ({})",
                params(3, chunk.len())
            );
            let mut q = sqlx::query_as::<_, (String, String)>(&sql).persistent(false).bind(account).bind(seq);
            for u in chunk {
                q = q.bind(u);
            }
            for (u, o) in q.fetch_all(&self.store.pool).await? {
                out.entry(u).or_default().push(o);
            }
        }
        Ok(out)
    }

    /// Fills in `poll` of each message of `messages` (one account) that carries one: counts for
    /// everyone, and `myVotes` as `user` chose (None: nobody's). Two queries, whatever the number.
    pub(crate) async fn attach(&self, user: Option<&str>, messages: &mut [Message]) -> Result<()> {
        let polls: Vec<(usize, Poll)> = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.is_broadcast() && !m.revoked)
            .filter_map(|(i, m)| Some((i, Poll::from_msg_body("MsgBody", &m.body)?.ok()?)))
            .collect();
        let Some((first, _)) = polls.first() else { return Ok(()) };
        let account = messages[*first].account.clone();
        let seqs: Vec<i64> = polls.iter().map(|(i, _)| messages[*i].key.seq).collect();
        let mut counts = self.counts_of(&account, &seqs).await?;
        let mut mine: HashMap<i64, Vec<String>> = HashMap::new();
        if let Some(user) = user {
            let sql = format!(
                "select seq, option_id from poll_vote where account_id = $1 and user_id = $2 and seq in ({})",
                params(3, seqs.len())
            );
            let mut q = sqlx::query_as::<_, (i64, String)>(&sql).persistent(false).bind(&account).bind(user);
            for s in &seqs {
                q = q.bind(s);
            }
            for (seq, option) in q.fetch_all(&self.store.pool).await? {
                mine.entry(seq).or_default().push(option);
            }
        }
        let now = self.clock.now();
        for (i, poll) in polls {
            let seq = messages[i].key.seq;
            // A poll sent before it was stored as one (or by a webhook's rewrite) has no row: no votes.
            let (c, voters) = counts.remove(&seq).unwrap_or_default();
            let mut my = mine.remove(&seq).unwrap_or_default();
            my.sort_by_key(|o| poll.options.iter().position(|p| &p.id == o));
            messages[i].poll = Some(PollState::of(&poll, &c, voters, my, now));
        }
        Ok(())
    }

    /// The results of the polls among broadcasts `seqs` of `account` (the console, Insights),
    /// by seq; a broadcast that is not a poll is absent.
    pub async fn results(&self, account: &OfficialAccountId, seqs: &[i64]) -> Result<HashMap<i64, PollResults>> {
        let mut counts = self.counts_of(account.as_str(), seqs).await?;
        let mut out = HashMap::new();
        for chunk in seqs.chunks(100) {
            let sql = format!(
                "select b.seq, b.body from poll p join broadcast b on b.account_id = p.account_id and b.seq = p.seq \
                 where p.account_id = $1 and p.seq in ({})",
                params(2, chunk.len())
            );
            let mut q = sqlx::query_as::<_, (i64, String)>(&sql).persistent(false).bind(account.as_str());
            for s in chunk {
                q = q.bind(s);
            }
            for (seq, body) in q.fetch_all(&self.store.pool).await? {
                let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                let Some(Ok(poll)) = Poll::from_msg_body("MsgBody", &body) else { continue };
                let (votes, voters) = counts.remove(&seq).unwrap_or_default();
                let options =
                    poll.options.iter().map(|o| (o.clone(), votes.iter().find(|(id, _)| *id == o.id).map_or(0, |(_, n)| *n))).collect();
                out.insert(seq, PollResults { options, voters, multiple: poll.multiple, closes_at: poll.closes_at });
            }
        }
        Ok(out)
    }
}
