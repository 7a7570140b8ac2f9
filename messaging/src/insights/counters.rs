//! The write side: each function adds to a bounded number of counter rows, inside the caller's
//! transaction where the event has one, so the figures move exactly when the event commits.

use super::{Day, Insights, Source};
use crate::error::Result;
use sqlx::AnyConnection;

/// A per-day count of an account (a column of `insight_day`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DayCounter {
    Unsubscribed,
    Reactions,
    MessagesIn,
    Replies,
    Posts,
}

impl DayCounter {
    fn column(self) -> &'static str {
        match self {
            DayCounter::Unsubscribed => "unsubscribed",
            DayCounter::Reactions => "reactions",
            DayCounter::MessagesIn => "messages_in",
            DayCounter::Replies => "replies",
            DayCounter::Posts => "posts",
        }
    }
}

/// A per-broadcast count (a column of `post_insight`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PostCounter {
    DeliveredLive,
    Pushed,
}

impl PostCounter {
    fn column(self) -> &'static str {
        match self {
            PostCounter::DeliveredLive => "delivered_live",
            PostCounter::Pushed => "pushed",
        }
    }
}

/// Adds `n` to one of `account`'s counts of the day `at` falls on.
pub(crate) async fn count_day(tx: &mut AnyConnection, account: &str, at: i64, counter: DayCounter, n: i64) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    let column = counter.column();
    sqlx::query(&format!(
        "insert into insight_day (account_id, day, {column}) values ($1, $2, $3) \
         on conflict (account_id, day) do update set {column} = insight_day.{column} + $3"
    ))
    .bind(account)
    .bind(Day::of_time(at).number())
    .bind(n)
    .execute(tx)
    .await?;
    Ok(())
}

/// `n` new subscriptions of `account` from `source`, at `at`.
pub(crate) async fn count_subscribed(tx: &mut AnyConnection, account: &str, at: i64, source: &Source, n: i64) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    let day = Day::of_time(at).number();
    sqlx::query(
        "insert into insight_day (account_id, day, subscribed) values ($1, $2, $3) \
         on conflict (account_id, day) do update set subscribed = insight_day.subscribed + $3",
    )
    .bind(account)
    .bind(day)
    .bind(n)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into insight_day_source (account_id, day, source, subscribed) values ($1, $2, $3, $4) \
         on conflict (account_id, day, source) do update set subscribed = insight_day_source.subscribed + $4",
    )
    .bind(account)
    .bind(day)
    .bind(source.as_string())
    .bind(n)
    .execute(tx)
    .await?;
    Ok(())
}

/// Keeps the per-receive-option counts in step with a subscription whose option went from
/// `from` to `to` (None: the subscription did not exist / no longer exists).
pub(crate) async fn count_msg_flag(tx: &mut AnyConnection, account: &str, from: Option<&str>, to: Option<&str>) -> Result<()> {
    let delta = |flag: &str| i64::from(to == Some(flag)) - i64::from(from == Some(flag));
    let (not_notify, discard) = (delta("AcceptNotNotify"), delta("Discard"));
    if not_notify == 0 && discard == 0 {
        return Ok(());
    }
    sqlx::query(
        "update official_account set subscribers_not_notify = subscribers_not_notify + $2, \
           subscribers_discard = subscribers_discard + $3 where account_id = $1",
    )
    .bind(account)
    .bind(not_notify)
    .bind(discard)
    .execute(tx)
    .await?;
    Ok(())
}

/// A broadcast was stored: its recipients are the subscribers now, and the day has one more post.
pub(crate) async fn count_post(tx: &mut AnyConnection, account: &str, seq: i64, at: i64, recipients: i64) -> Result<()> {
    sqlx::query("insert into post_insight (account_id, seq, recipients) values ($1, $2, $3) on conflict (account_id, seq) do nothing")
        .bind(account)
        .bind(seq)
        .bind(recipients)
        .execute(&mut *tx)
        .await?;
    count_day(tx, account, at, DayCounter::Posts, 1).await
}

/// Adds `n` to a broadcast's count.
pub(crate) async fn count_for_post(tx: &mut AnyConnection, account: &str, seq: i64, counter: PostCounter, n: i64) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    let column = counter.column();
    sqlx::query(&format!("update post_insight set {column} = {column} + $3 where account_id = $1 and seq = $2"))
        .bind(account)
        .bind(seq)
        .bind(n)
        .execute(tx)
        .await?;
    Ok(())
}

/// A subscriber's broadcast read position moved from `from` to `to` (`to` > `from`), passing
/// `posts` broadcasts that were not recalled: journaled here, counted by the next flush.
pub(crate) async fn journal_read(tx: &mut AnyConnection, account: &str, from: i64, to: i64, posts: i64, at: i64) -> Result<()> {
    sqlx::query("insert into read_mark_pending (account_id, from_seq, to_seq, posts, marked_at) values ($1, $2, $3, $4, $5)")
        .bind(account)
        .bind(from)
        .bind(to)
        .bind(posts)
        .bind(at)
        .execute(tx)
        .await?;
    Ok(())
}

impl Insights {
    /// This node's connections reached `n` distinct users with broadcast `seq` of `account`.
    pub(crate) async fn add_delivered_live(&self, account: &str, seq: i64, n: i64) -> Result<()> {
        let mut conn = self.store.pool.acquire().await?;
        count_for_post(&mut conn, account, seq, PostCounter::DeliveredLive, n).await
    }

    /// Writes how many subscribers of each account are connected to this node (0: none any more).
    pub(crate) async fn write_online(&self, counts: &[(String, i64)]) -> Result<()> {
        if counts.is_empty() {
            return Ok(());
        }
        let mut tx = self.store.begin_write().await?;
        for (account, n) in counts {
            if *n > 0 {
                sqlx::query(
                    "insert into online_count (node_id, account_id, online) values ($1, $2, $3) \
                     on conflict (node_id, account_id) do update set online = $3",
                )
                .bind(self.node_id.as_ref())
                .bind(account)
                .bind(n)
                .execute(&mut *tx)
                .await?;
            } else {
                sqlx::query("delete from online_count where node_id = $1 and account_id = $2")
                    .bind(self.node_id.as_ref())
                    .bind(account)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
