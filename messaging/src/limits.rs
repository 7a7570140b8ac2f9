//! Rate rules: the per-account broadcast frequency (docs/rest-api.md §5) and the per-command REST
//! call rate (§1). Both limits are app settings (`AppLimits`).
//!
//! Broadcast sends are recorded in `broadcast_send` inside the send's transaction, which holds
//! the account's row lock: the limits hold across restarts and across server nodes. The REST call
//! rate is a per-second counter kept in memory, per server process (a restart resets it).

use crate::app_settings::AppLimits;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::Mutex;

/// Records a broadcast of `account` at `at` unless it breaks a limit (then
/// [`Error::SendTooFrequent`] says which). Call it in the send's transaction, after taking the
/// account's row lock, so concurrent sends are counted one after the other.
///
/// O(1) per send whatever the hourly limit: the hour's count is kept in the account's row
/// (`sends_past_hour`); each send deletes the rows that left the hour (each row is deleted
/// once) and subtracts them, and counts only this second's rows, at most the per-second limit.
pub(crate) async fn record_broadcast(conn: &mut sqlx::AnyConnection, limits: &AppLimits, account: &str, at: i64) -> Result<()> {
    let expired = sqlx::query("delete from broadcast_send where account_id = $1 and sent_at <= $2")
        .bind(account)
        .bind(at - 3600)
        .execute(&mut *conn)
        .await?
        .rows_affected() as i64;
    let (this_hour,): (i64,) = sqlx::query_as(
        "update official_account set sends_past_hour = case when sends_past_hour > $2 then sends_past_hour - $2 else 0 end \
         where account_id = $1 returning sends_past_hour",
    )
    .bind(account)
    .bind(expired)
    .fetch_optional(&mut *conn)
    .await?
    .unwrap_or((0,));
    let (this_second,): (i64,) = sqlx::query_as("select count(*) from broadcast_send where account_id = $1 and sent_at >= $2")
        .bind(account)
        .bind(at)
        .fetch_one(&mut *conn)
        .await?;
    if this_second >= i64::from(limits.broadcasts_per_second) {
        return Err(Error::SendTooFrequent(format!("at most {} broadcast(s) per second per account", limits.broadcasts_per_second)));
    }
    if this_hour >= i64::from(limits.broadcasts_per_hour) {
        return Err(Error::SendTooFrequent(format!("at most {} broadcasts per hour per account", limits.broadcasts_per_hour)));
    }
    sqlx::query("insert into broadcast_send (account_id, sent_at) values ($1, $2)").bind(account).bind(at).execute(&mut *conn).await?;
    sqlx::query("update official_account set sends_past_hour = sends_past_hour + 1 where account_id = $1")
        .bind(account)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Default)]
pub(crate) struct Windows {
    /// command → (second, calls in that second)
    calls: Mutex<HashMap<String, (i64, u32)>>,
}

impl Windows {
    /// Counts a call to `command` at `now`; false when over the per-second limit.
    pub(crate) fn try_call(&self, limits: &AppLimits, command: &str, now: i64) -> bool {
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        let entry = calls.entry(command.to_owned()).or_insert((now, 0));
        if entry.0 != now {
            *entry = (now, 0);
        }
        if entry.1 >= limits.rest_calls_per_second {
            return false;
        }
        entry.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn send(pool: &sqlx::AnyPool, account: &str, at: i64) -> Result<(), String> {
        let mut conn = pool.acquire().await.unwrap();
        sqlx::query("insert into app_user (user_id, created_at) values ('o', 0) on conflict (user_id) do nothing")
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query(
            "insert into official_account (account_id, owner_account, name, max_subscriber_num, created_at) \
             values ($1, 'o', 'n', 10, 0) on conflict (account_id) do nothing",
        )
        .bind(account)
        .execute(&mut *conn)
        .await
        .unwrap();
        record_broadcast(&mut conn, &AppLimits::default(), account, at).await.map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn the_default_allows_one_broadcast_a_second_and_two_an_hour_and_remembers_them() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/limits.db", dir.path().display());
        let (pool, _) = crate::store::open(&url).await.unwrap();
        assert!(send(&pool, "a", 100).await.is_ok());
        assert!(send(&pool, "a", 100).await.unwrap_err().contains("per second"));
        assert!(send(&pool, "a", 101).await.is_ok());
        assert!(send(&pool, "a", 200).await.unwrap_err().contains("per hour"));
        assert!(send(&pool, "b", 200).await.is_ok(), "limits are per account");
        assert!(send(&pool, "a", 100 + 3600).await.is_ok(), "the hour window slides");
        assert!(send(&pool, "c", 500).await.is_ok() && send(&pool, "c", 501).await.is_ok());
        pool.close().await;

        // Reopened (a restart): the hour still remembers its sends.
        let (pool, _) = crate::store::open(&url).await.unwrap();
        assert!(send(&pool, "c", 502).await.unwrap_err().contains("per hour"));
    }

    #[test]
    fn rest_calls_are_counted_per_command_per_second() {
        let w = Windows::default();
        let l = AppLimits { rest_calls_per_second: 2, ..Default::default() };
        assert!(w.try_call(&l, "x", 5) && w.try_call(&l, "x", 5));
        assert!(!w.try_call(&l, "x", 5));
        assert!(w.try_call(&l, "y", 5));
        assert!(w.try_call(&l, "x", 6));
    }
}
