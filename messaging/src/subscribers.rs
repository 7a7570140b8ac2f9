//! Subscribers of official accounts. `official_account.subscriber_num` is a counter kept in the
//! same transaction as the rows, so reading it never counts rows.

use crate::delivery::Change;
use crate::error::{Error, InvalidField, Result};
use crate::ids::{OfficialAccountId, UserId};
use crate::message::MsgFlag;
use crate::profile::{OfficialAccount, CUSTOM_STRING};
use crate::webhooks::{enqueue, fields};
use crate::Messaging;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

pub const SUBSCRIBER_BATCH_MAX: usize = 100;
pub const SUBSCRIBER_PAGE_MAX: i64 = 200;

/// Per-subscriber outcome of a batch, as Tencent numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchResult {
    Failed = 0,
    Done = 1,
    /// add: already subscribed; delete: was not subscribed.
    Unchanged = 2,
}

/// The outcome of `add_subscribers`: one result per requested user, in order, and whether the
/// account filled up (the "account full" webhook fires then).
#[derive(Debug)]
pub struct AddOutcome {
    pub results: Vec<(String, BatchResult)>,
    pub became_full: bool,
    /// Why the invite code could not be used (expired, revoked, used up meanwhile).
    pub invite_refused: Option<InvalidField>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Subscriber {
    pub subscriber_account: String,
    pub subscribed_at: i64,
    pub msg_flag: String,
    pub custom_string: String,
    pub last_send_msg_time: i64,
}

/// One page of subscribers; `next` is `""` when there are no more.
#[derive(Debug)]
pub struct SubscriberPage {
    pub subscribers: Vec<Subscriber>,
    pub next: String,
    pub subscriber_num: i64,
}

/// A page of the accounts one user follows (offset paging, as the API defines it).
#[derive(Debug)]
pub struct SubscribedPage {
    pub accounts: Vec<(OfficialAccount, Subscriber)>,
    pub total: i64,
    pub next_offset: i64,
    pub complete: bool,
}

/// What `modify_subscriber_info` may change.
#[derive(Debug, Default)]
pub struct SubscriberChange {
    pub custom_string: Option<String>,
    pub msg_flag: Option<MsgFlag>,
}

impl SubscriberChange {
    pub fn parse(custom_string: Option<String>, msg_flag: Option<&str>) -> Result<Self, InvalidField> {
        if let Some(c) = &custom_string {
            CUSTOM_STRING.check(c)?;
        }
        let msg_flag = msg_flag.map(|f| MsgFlag::parse("MsgFlag", f)).transpose()?;
        if custom_string.is_none() && msg_flag.is_none() {
            return Err(InvalidField::new("CustomString", "give CustomString and/or MsgFlag"));
        }
        Ok(Self { custom_string, msg_flag })
    }
}

/// The opaque cursor of `get_subscriber_info`: the last subscriber ID of the page. Keyset
/// paging on the primary key stays stable while others subscribe and unsubscribe.
/// The keyset cursor after `last`: its subscribe time and user ID (subscribe order, ties by ID).
fn encode_cursor(last: &Subscriber) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", last.subscribed_at, last.subscriber_account))
}

/// The (subscribe time, user ID) a cursor names.
fn decode_cursor(next: &str) -> Result<(i64, String), InvalidField> {
    URL_SAFE_NO_PAD
        .decode(next.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            let (at, user) = s.split_once(':')?;
            Some((at.parse().ok()?, user.to_owned()))
        })
        .ok_or_else(|| InvalidField::new("Next", "not a cursor this server gave out"))
}

const SUBSCRIBER_COLUMNS: &str = "subscriber_account, subscribed_at, msg_flag, custom_string, last_send_msg_time";

impl Messaging {
    /// Subscribes up to 100 users. Users who were never imported fail; so do those past
    /// `MaxSubscriberNum`.
    #[tracing::instrument(name = "add subscribers", skip_all, fields(account = %account, n = users.len()))]
    pub async fn add_subscribers(
        &self,
        account: &OfficialAccountId,
        users: &[UserId],
        operator: &str,
        source: crate::insights::Source,
    ) -> Result<AddOutcome> {
        self.add_subscribers_with(account, users, operator, source, None).await
    }

    /// [`Self::add_subscribers`], each new subscription taking one use of `invite`.
    pub(crate) async fn add_subscribers_with(
        &self,
        account: &OfficialAccountId,
        users: &[UserId],
        operator: &str,
        source: crate::insights::Source,
        invite: Option<crate::public::InviteCode>,
    ) -> Result<AddOutcome> {
        self.account(account).await?;
        let list = |users: &[&str]| json!(users.iter().map(|u| json!({ "Subscriber_Account": u })).collect::<Vec<_>>());
        // The app may refuse some of them ("before add" webhook, RefusedMembers_Account).
        let asked: Vec<&str> = users.iter().map(UserId::as_str).collect();
        let answer = self
            .webhooks
            .before(
                "OfficialAccount.CallbackBeforeAddSubscriber",
                fields(vec![
                    ("Official_Account", json!(account.as_str())),
                    ("Operator_Account", json!(operator)),
                    ("SubscribeAccountList", list(&asked)),
                ]),
            )
            .await;
        let refused: std::collections::HashSet<String> = answer
            .as_ref()
            .and_then(|a| a.get("RefusedMembers_Account"))
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str().or_else(|| i.get("Subscriber_Account").and_then(Value::as_str)))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        // Concurrent calls for this account share one transaction (see `subscribe_group`).
        self.add_in_group(account.as_str(), asked.iter().map(|u| u.to_string()).collect(), refused, operator, source, invite).await
    }

    #[tracing::instrument(name = "delete subscribers", skip_all, fields(account = %account, n = users.len()))]
    pub async fn delete_subscribers(
        &self,
        account: &OfficialAccountId,
        users: &[UserId],
        operator: &str,
    ) -> Result<Vec<(String, BatchResult)>> {
        let mut tx = self.begin_write().await?;
        let exists: Option<(i64,)> = sqlx::query_as(
            "update official_account set subscriber_num = subscriber_num where account_id = $1 and destroyed_at is null returning subscriber_num",
        )
        .bind(account.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
            return Err(Error::AccountNotFound(account.to_string()));
        }
        let mut removed = 0i64;
        let mut results = Vec::with_capacity(users.len());
        for user in users {
            let gone: Option<(String, String)> =
                sqlx::query_as("delete from subscription where account_id = $1 and subscriber_account = $2 returning msg_flag, source")
                    .bind(account.as_str())
                    .bind(user.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((flag, source)) = gone {
                crate::insights::count_msg_flag(&mut tx, account.as_str(), Some(&flag), None).await?;
                crate::public::count_unsubscribed(&mut tx, account.as_str(), &source).await?;
                removed += 1;
                results.push((user.to_string(), BatchResult::Done));
            } else {
                results.push((user.to_string(), BatchResult::Unchanged));
            }
        }
        sqlx::query("update official_account set subscriber_num = subscriber_num - $2 where account_id = $1")
            .bind(account.as_str())
            .bind(removed)
            .execute(&mut *tx)
            .await?;
        crate::insights::count_day(&mut tx, account.as_str(), self.now(), crate::insights::DayCounter::Unsubscribed, removed).await?;
        let gone: Vec<Value> =
            results.iter().filter(|(_, r)| *r == BatchResult::Done).map(|(u, _)| json!({ "Subscriber_Account": u })).collect();
        if !gone.is_empty() {
            let event = fields(vec![
                ("Official_Account", json!(account.as_str())),
                ("Operator_Account", json!(operator)),
                ("SubscribeAccountList", json!(gone)),
            ]);
            enqueue(&mut tx, &self.webhooks, "OfficialAccount.CallbackAfterDeleteSubscriber", event).await?;
        }
        let users: Vec<String> = results.iter().filter(|(_, r)| *r == BatchResult::Done).map(|(u, _)| u.clone()).collect();
        if !users.is_empty() {
            let names: Vec<&str> = users.iter().map(String::as_str).collect();
            crate::audit::record(
                &mut tx,
                crate::audit::AuditAction::SubscribersRemoved,
                Some(account.as_str()),
                &crate::audit::users_detail(&names),
            )
            .await?;
        }
        let changes = if users.is_empty() { vec![] } else { vec![Change::Unsubscribed { account: account.clone(), users }] };
        self.commit_announcing(tx, changes).await?;
        self.account_cache.forget(account.as_str()); // subscriber_num changed
        self.webhook_queued();
        Ok(results)
    }

    /// A page of an account's subscribers in subscribe order (earliest first; one second's
    /// subscribers by user ID), after the keyset cursor `next`: stable while others subscribe.
    pub async fn subscribers_page(&self, account: &OfficialAccountId, limit: i64, next: &str) -> Result<SubscriberPage> {
        self.subscribers_matching(account, "", limit, next).await
    }

    /// [`Self::subscribers_page`] of the subscribers whose user ID starts with `prefix`.
    pub async fn subscribers_matching(&self, account: &OfficialAccountId, prefix: &str, limit: i64, next: &str) -> Result<SubscriberPage> {
        if !(1..=SUBSCRIBER_PAGE_MAX).contains(&limit) {
            return Err(InvalidField::new("Limit", format!("must be between 1 and {SUBSCRIBER_PAGE_MAX} (got {limit})")).into());
        }
        let (after_time, after_user) = if next.is_empty() { (i64::MIN, String::new()) } else { decode_cursor(next)? };
        let info = self.account(account).await?;
        let sql = format!(
            "select {SUBSCRIBER_COLUMNS} from subscription where account_id = $1 \
               and (subscribed_at, subscriber_account) > ($2, $3) \
               and ($5 = '' or substr(subscriber_account, 1, length($5)) = $5) \
             order by subscribed_at, subscriber_account limit $4"
        );
        // One more than asked tells whether another page exists.
        let mut rows: Vec<Subscriber> = sqlx::query_as(&sql)
            .bind(account.as_str())
            .bind(after_time)
            .bind(&after_user)
            .bind(limit + 1)
            .bind(prefix)
            .fetch_all(&self.store.pool)
            .await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next = match (more, rows.last()) {
            (true, Some(last)) => encode_cursor(last),
            _ => String::new(),
        };
        Ok(SubscriberPage { subscribers: rows, next, subscriber_num: info.subscriber_num })
    }

    pub async fn subscriber(&self, account: &OfficialAccountId, user: &UserId) -> Result<Option<Subscriber>> {
        let sql = format!("select {SUBSCRIBER_COLUMNS} from subscription where account_id = $1 and subscriber_account = $2");
        Ok(sqlx::query_as(&sql).bind(account.as_str()).bind(user.as_str()).fetch_optional(&self.store.pool).await?)
    }

    pub async fn modify_subscriber(&self, account: &OfficialAccountId, user: &UserId, change: &SubscriberChange) -> Result<()> {
        self.account(account).await?;
        let mut tx = self.begin_write().await?;
        // The option before the change (this takes the row's lock), for the per-option counts.
        let before: Option<(String,)> = sqlx::query_as(
            "update subscription set msg_flag = msg_flag where account_id = $1 and subscriber_account = $2 returning msg_flag",
        )
        .bind(account.as_str())
        .bind(user.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((before,)) = before else {
            return Err(Error::NotSubscribed { account: account.to_string(), user: user.to_string() });
        };
        sqlx::query(
            "update subscription set custom_string = coalesce($3, custom_string), msg_flag = coalesce($4, msg_flag) \
             where account_id = $1 and subscriber_account = $2",
        )
        .bind(account.as_str())
        .bind(user.as_str())
        .bind(change.custom_string.as_deref())
        .bind(change.msg_flag.map(MsgFlag::as_str))
        .execute(&mut *tx)
        .await?;
        if let Some(after) = change.msg_flag {
            crate::insights::count_msg_flag(&mut tx, account.as_str(), Some(&before), Some(after.as_str())).await?;
        }
        let changes = match change.msg_flag {
            Some(_) => vec![Change::ReceiveOption { account: account.clone(), user: user.to_string() }],
            None => vec![],
        };
        self.commit_announcing(tx, changes).await
    }

    /// The live accounts `user` follows, oldest subscription first, from `offset`.
    pub async fn subscribed_accounts(&self, user: &UserId, limit: i64, offset: i64) -> Result<SubscribedPage> {
        if !(1..=SUBSCRIBER_PAGE_MAX).contains(&limit) {
            return Err(InvalidField::new("Limit", format!("must be between 1 and {SUBSCRIBER_PAGE_MAX} (got {limit})")).into());
        }
        if offset < 0 {
            return Err(InvalidField::new("Offset", "must not be negative").into());
        }
        let (total,): (i64,) = sqlx::query_as(
            "select count(*) from subscription s join official_account a on a.account_id = s.account_id \
             where s.subscriber_account = $1 and a.destroyed_at is null",
        )
        .bind(user.as_str())
        .fetch_one(&self.store.pool)
        .await?;
        // The subscription rows come with the page; the accounts from the account cache.
        let sql = format!(
            "select s.account_id, {} from subscription s join official_account a on a.account_id = s.account_id \
             where s.subscriber_account = $1 and a.destroyed_at is null \
             order by s.subscribed_at, s.account_id limit $2 offset $3",
            SUBSCRIBER_COLUMNS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ")
        );
        #[derive(sqlx::FromRow)]
        struct Subscribed {
            account_id: String,
            #[sqlx(flatten)]
            subscriber: Subscriber,
        }
        let rows: Vec<Subscribed> = sqlx::query_as(&sql).bind(user.as_str()).bind(limit).bind(offset).fetch_all(&self.store.pool).await?;
        let mut accounts = Vec::with_capacity(rows.len());
        for row in rows {
            let id = OfficialAccountId::parse("Official_Account", &row.account_id).map_err(Error::MalformedAccountId)?;
            accounts.push((self.account(&id).await?, row.subscriber));
        }
        let next_offset = offset + accounts.len() as i64;
        Ok(SubscribedPage { complete: next_offset >= total, accounts, total, next_offset })
    }
}

impl Messaging {
    /// **Benchmarks only**: subscribes `n` synthetic users (`bench1`, `bench2`, …) in one
    /// statement, skipping imports, webhooks and batch rules, to build a huge account quickly.
    #[cfg(feature = "testing")]
    pub async fn seed_subscribers_for_benchmark(&self, account: &OfficialAccountId, n: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "with recursive s(x) as (select 1 union all select x + 1 from s where x < $2) \
             insert into subscription (account_id, subscriber_account, subscribed_at) select $1, 'bench' || x, $3 from s",
        )
        .bind(account.as_str())
        .bind(n)
        .bind(crate::store::now())
        .execute(&mut *tx)
        .await?;
        sqlx::query("update official_account set subscriber_num = subscriber_num + $2, max_subscriber_num = max_subscriber_num + $2 where account_id = $1")
            .bind(account.as_str())
            .bind(n)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.account_cache.forget(account.as_str());
        // A deployment gathers its subscribers over time, its write-ahead log checkpointed as
        // it goes. Seeded at once, the log holds them all, and whichever request commits next
        // would copy them into the database (SQLite checkpoints on commit): do it here, before
        // anything is measured.
        if self.store.backend == crate::store::Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.store.pool).await?;
        } else {
            // Likewise, PostgreSQL's autovacuum would have analyzed a table grown over time.
            sqlx::query("analyze subscription").execute(&self.store.pool).await?;
        }
        Ok(())
    }
}
