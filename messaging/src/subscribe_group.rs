//! Group commit for `add_subscriber`: concurrent calls for the same account share one transaction.
//!
//! Every call must hold the account's row lock (it keeps the `MaxSubscriberNum` counter), so
//! calls for one account run one after the other, and each pays for its own round trips and
//! commit. Here the first caller for an account becomes the leader: a task that takes every call
//! queued for that account meanwhile and writes them in one transaction, in arrival order, so each
//! gets exactly the results it would have had alone. The leader is a spawned task, so a caller
//! that goes away (a closed connection) never strands the others.

use crate::delivery::Change;
use crate::error::{Error, Result};
use crate::subscribers::{AddOutcome, BatchResult};
use crate::webhooks::{enqueue_from, fields};
use crate::Messaging;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use tokio::sync::oneshot;

/// At most this many calls (of up to 100 users each) share a transaction.
const GROUP_MAX_CALLS: usize = 20;

/// One `add_subscriber` call waiting for its transaction.
pub(crate) struct AddRequest {
    /// Every user asked for, in order.
    pub users: Vec<String>,
    /// Users the "before add" webhook refused.
    pub refused: HashSet<String>,
    pub operator: String,
    /// Where the subscriptions come from (insights).
    pub source: crate::insights::Source,
    /// The invite code the subscription uses (one use is taken per new subscription).
    pub invite: Option<crate::public::InviteCode>,
    /// Who asked and from where, for the audit log and the callbacks' ClientIP (the leader
    /// runs in a task of its own).
    actor: crate::audit::Actor,
    reply: Option<oneshot::Sender<Result<AddOutcome>>>,
}

/// Calls waiting per account; an account is a key here while its leader runs.
#[derive(Default)]
pub(crate) struct AddQueue {
    waiting: Mutex<HashMap<String, Vec<AddRequest>>>,
}

impl AddQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<AddRequest>>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Of `users`, those imported, each with whether it already subscribes to `account`.
///
/// Each user is looked up by key in a correlated subquery, so both backends probe the primary
/// keys whatever their statistics say. (An `in (…)` list of a group's 100–2,000 users made
/// PostgreSQL scan whole tables while their statistics were young: 10–600 ms a call at 100,000
/// subscribers, against 2 ms this way.)
async fn imported_and_subscribed(tx: &mut sqlx::AnyConnection, account: &str, users: &[&str]) -> Result<HashMap<String, bool>> {
    if users.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<String> = (2..users.len() + 2).map(|i| format!("(${i})")).collect();
    let sql = format!(
        "with asked(id) as (values {}) \
         select asked.id, \
           (select cast(1 as bigint) from app_user u where u.user_id = asked.id), \
           (select cast(1 as bigint) from subscription s where s.account_id = $1 and s.subscriber_account = asked.id) \
         from asked",
        rows.join(", ")
    );
    // Not a prepared statement: its text changes with the group's size.
    let mut q = sqlx::query_as::<_, (String, Option<i64>, Option<i64>)>(&sql).persistent(false).bind(account);
    for user in users {
        q = q.bind(*user);
    }
    let found = q.fetch_all(tx).await?;
    Ok(found.into_iter().filter(|(_, imported, _)| imported.is_some()).map(|(user, _, subscribed)| (user, subscribed.is_some())).collect())
}

/// If a leader panics, its account's queue is dropped (its callers get an error) so that the
/// next call elects a new leader instead of waiting forever.
struct Abandon<'a> {
    queue: &'a AddQueue,
    account: &'a str,
}

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.queue.lock().remove(self.account);
        }
    }
}

/// The same failure for every call of a group (storage errors stay opaque to callers).
fn for_each_caller(e: &Error) -> Error {
    match e {
        Error::AccountNotFound(id) => Error::AccountNotFound(id.clone()),
        other => Error::Internal(format!("add_subscriber group failed: {other}")),
    }
}

impl Messaging {
    /// Queues `request` for `account` and waits for the transaction that writes it.
    pub(crate) async fn add_in_group(
        &self,
        account: &str,
        users: Vec<String>,
        refused: HashSet<String>,
        operator: &str,
        source: crate::insights::Source,
        invite: Option<crate::public::InviteCode>,
    ) -> Result<AddOutcome> {
        let (reply, answer) = oneshot::channel();
        let actor = crate::audit::current_actor();
        let request = AddRequest { users, refused, operator: operator.to_owned(), source, invite, actor, reply: Some(reply) };
        let lead = {
            let mut waiting = self.add_queue.lock();
            match waiting.get_mut(account) {
                Some(queue) => {
                    queue.push(request);
                    false
                }
                None => {
                    waiting.insert(account.to_owned(), vec![request]);
                    true
                }
            }
        };
        if lead {
            tokio::spawn(self.clone().lead_add_group(account.to_owned()));
        }
        answer.await.unwrap_or_else(|_| Err(Error::Internal("add_subscriber group ended without an answer".into())))
    }

    /// Writes the calls queued for `account`, group after group, until none wait.
    async fn lead_add_group(self, account: String) {
        let _abandon_on_panic = Abandon { queue: &self.add_queue, account: &account };
        loop {
            let mut group: Vec<AddRequest> = {
                let mut waiting = self.add_queue.lock();
                let Some(queue) = waiting.get_mut(&account).filter(|q| !q.is_empty()) else {
                    waiting.remove(&account);
                    return;
                };
                let n = queue.len().min(GROUP_MAX_CALLS);
                queue.drain(..n).collect()
            };
            match self.write_add_group(&account, &group).await {
                Ok(outcomes) => {
                    for (request, outcome) in group.iter_mut().zip(outcomes) {
                        if let Some(reply) = request.reply.take() {
                            let _ = reply.send(Ok(outcome));
                        }
                    }
                }
                Err(e) => {
                    if !matches!(e, Error::AccountNotFound(_)) {
                        tracing::error!(error = %e, "add_subscriber group failed");
                    }
                    for request in &mut group {
                        if let Some(reply) = request.reply.take() {
                            let _ = reply.send(Err(for_each_caller(&e)));
                        }
                    }
                }
            }
        }
    }

    /// One transaction for a group of calls: results per call, as if they ran in order.
    async fn write_add_group(&self, account: &str, group: &[AddRequest]) -> Result<Vec<AddOutcome>> {
        let mut tx = self.begin_write().await?;
        // Writing the row first takes the account's lock (PostgreSQL row lock, SQLite write lock),
        // so concurrent groups (other server nodes) cannot both squeeze past MaxSubscriberNum.
        let counts: Option<(i64, i64, i64)> = sqlx::query_as(
            "update official_account set subscriber_num = subscriber_num where account_id = $1 and destroyed_at is null \
             returning subscriber_num, max_subscriber_num, last_seq",
        )
        .bind(account)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((mut count, max, last_seq)) = counts else {
            return Err(Error::AccountNotFound(account.to_owned()));
        };
        // Two statements for the whole group: who is imported and who already subscribes, then
        // one multi-row insert.
        let candidates: Vec<&str> = {
            let mut seen = HashSet::new();
            group
                .iter()
                .flat_map(|r| r.users.iter().filter(|u| !r.refused.contains(*u)))
                .map(String::as_str)
                .filter(|u| seen.insert(*u))
                .collect()
        };
        let known = imported_and_subscribed(&mut tx, account, &candidates).await?;
        let mut added_by_group: HashSet<&str> = HashSet::new();
        let mut added_in_order: Vec<(&str, String)> = Vec::new();
        let mut by_source: HashMap<&crate::insights::Source, i64> = HashMap::new();
        let mut outcomes = Vec::with_capacity(group.len());
        let mut events = Vec::new();
        let mut audits = Vec::new();
        for request in group {
            let mut results = Vec::with_capacity(request.users.len());
            let mut added: Vec<&str> = Vec::new();
            let mut became_full = false;
            let mut invite_refused = None;
            for user in &request.users {
                let user = user.as_str();
                let result = if request.refused.contains(user) || !known.contains_key(user) {
                    BatchResult::Failed
                } else if known[user] || added_by_group.contains(user) {
                    BatchResult::Unchanged
                } else if count >= max {
                    became_full = true;
                    BatchResult::Failed
                } else if let Some(why) = match &request.invite {
                    Some(code) => match crate::public::take_invite_use(&mut tx, account, code.as_str(), self.now()).await {
                        Ok(()) => None,
                        Err(Error::Invalid(why)) => Some(why),
                        Err(e) => return Err(e),
                    },
                    None => None,
                } {
                    invite_refused = Some(why);
                    BatchResult::Failed
                } else {
                    count += 1;
                    added_by_group.insert(user);
                    added_in_order.push((user, request.source.as_string()));
                    *by_source.entry(&request.source).or_default() += 1;
                    added.push(user);
                    BatchResult::Done
                };
                results.push((user.to_owned(), result));
            }
            if !added.is_empty() {
                let mut detail = crate::audit::users_detail(&added);
                if let (Some(code), crate::insights::Source::Link(name)) = (&request.invite, &request.source) {
                    detail.push_str(&format!(" with invite link {name:?} ({code})"));
                }
                audits.push((&request.actor, detail));
                let list: Vec<_> = added.iter().map(|u| json!({ "Subscriber_Account": u })).collect();
                events.push((
                    "OfficialAccount.CallbackAfterAddSubscriber",
                    fields(vec![
                        ("Official_Account", json!(account)),
                        ("Operator_Account", json!(request.operator)),
                        ("SubscribeAccountList", json!(list)),
                    ]),
                    &request.actor.address,
                ));
            }
            if became_full {
                let event = fields(vec![("Official_Account", json!(account))]);
                events.push(("OfficialAccount.CallbackAfterOfficialAccountFull", event, &request.actor.address));
            }
            outcomes.push(AddOutcome { results, became_full, invite_refused });
        }
        if !added_in_order.is_empty() {
            // Unread counting starts now: the read position is the account's last broadcast.
            let rows: Vec<String> = (0..added_in_order.len()).map(|i| format!("($1, ${}, $2, $3, ${})", 2 * i + 4, 2 * i + 5)).collect();
            let sql = format!(
                "insert into subscription (account_id, subscriber_account, subscribed_at, read_seq, source) values {}",
                rows.join(", ")
            );
            let at = self.now();
            let mut insert = sqlx::query(&sql).persistent(false).bind(account).bind(at).bind(last_seq);
            for (user, source) in &added_in_order {
                insert = insert.bind(*user).bind(source);
            }
            insert.execute(&mut *tx).await?;
            for (source, n) in &by_source {
                crate::insights::count_subscribed(&mut tx, account, at, source, *n).await?;
            }
            sqlx::query("update official_account set subscriber_num = $2 where account_id = $1")
                .bind(account)
                .bind(count)
                .execute(&mut *tx)
                .await?;
        }
        for (command, event, client_ip) in events {
            enqueue_from(&mut tx, &self.webhooks, command, event, client_ip).await?;
        }
        for (actor, detail) in audits {
            crate::audit::record_as(&mut tx, actor, crate::audit::AuditAction::SubscribersAdded, Some(account), &detail).await?;
        }
        let subscribed = Change::Subscribed {
            account: crate::OfficialAccountId::parse("Official_Account", account).map_err(crate::Error::MalformedAccountId)?,
            users: added_in_order.iter().map(|(u, _)| u.to_string()).collect(),
        };
        let changes = if added_in_order.is_empty() { vec![] } else { vec![subscribed] };
        self.commit_announcing(tx, changes).await?;
        self.account_cache.forget(account); // subscriber_num changed
        self.webhook_queued();
        Ok(outcomes)
    }
}
