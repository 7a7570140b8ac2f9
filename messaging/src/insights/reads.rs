//! Read marks, from the journal to the counters. A mark journals its move in its own
//! transaction (`counters::journal_read`); a flush deletes the journal rows and adds them up in
//! one transaction, so each move is counted exactly once whatever crashes when. Any node may
//! flush: on PostgreSQL a second flusher's delete waits for the first and then finds the rows
//! gone. A node flushes at start (what a crash left) and then every second.

use super::{Day, Insights};
use crate::error::Result;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How often a node adds the journaled read marks to the counters.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

#[derive(sqlx::FromRow)]
struct Pending {
    account_id: String,
    from_seq: i64,
    to_seq: i64,
    posts: i64,
    marked_at: i64,
}

impl Insights {
    /// Adds every journaled read mark to the counters; answers how many marks it counted.
    pub async fn flush_reads(&self) -> Result<u64> {
        // Most of the time there is nothing to count: a read that finds the journal empty takes
        // no write lock (on SQLite every write transaction waits for the one writer).
        let pending: Option<(i64,)> =
            sqlx::query_as("select mark_id from read_mark_pending limit 1").fetch_optional(&self.store.pool).await?;
        if pending.is_none() {
            return Ok(0);
        }
        let mut tx = self.store.begin_write().await?;
        let marks: Vec<Pending> = sqlx::query_as("delete from read_mark_pending returning account_id, from_seq, to_seq, posts, marked_at")
            .fetch_all(&mut *tx)
            .await?;
        if marks.is_empty() {
            tx.rollback().await?;
            return Ok(0);
        }
        // Summed first, then written in key order: few rows, and two flushers never deadlock.
        let mut steps: BTreeMap<(&str, i64), i64> = BTreeMap::new();
        let mut hours: BTreeMap<(&str, i64, i64), i64> = BTreeMap::new();
        for mark in &marks {
            *steps.entry((&mark.account_id, mark.from_seq + 1)).or_default() += 1;
            *steps.entry((&mark.account_id, mark.to_seq + 1)).or_default() -= 1;
            if mark.posts > 0 {
                let key = (mark.account_id.as_str(), Day::of_time(mark.marked_at).number(), Day::hour_of(mark.marked_at));
                *hours.entry(key).or_default() += mark.posts;
            }
        }
        for ((account, seq), step) in steps.into_iter().filter(|(_, step)| *step != 0) {
            sqlx::query(
                "insert into post_read_step (account_id, seq, step) values ($1, $2, $3) \
                 on conflict (account_id, seq) do update set step = post_read_step.step + $3",
            )
            .bind(account)
            .bind(seq)
            .bind(step)
            .execute(&mut *tx)
            .await?;
        }
        for ((account, day, hour), reads) in hours {
            sqlx::query(
                "insert into insight_day_hour (account_id, day, hour, reads) values ($1, $2, $3, $4) \
                 on conflict (account_id, day, hour) do update set reads = insight_day_hour.reads + $4",
            )
            .bind(account)
            .bind(day)
            .bind(hour)
            .bind(reads)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(marks.len() as u64)
    }

    /// Flushes now (what a crash left behind) and then every [`FLUSH_EVERY`] until the workers stop.
    pub async fn count_reads(self) {
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.flush_reads().await {
                tracing::warn!(error = %e, "read marks could not be counted yet; they stay journaled");
            }
            if self.stopping.load(Ordering::Relaxed) {
                return;
            }
        }
    }
}
