//! Benchmark-only helpers (the `testing` feature): an account's history written straight into
//! the counter tables, and the query plans of what the Insights tab and REST read.

use super::{Day, DayRange, Insights};
use crate::error::Result;
use crate::ids::OfficialAccountId;
use crate::store::Backend;

impl Insights {
    /// Gives `account` `posts` broadcasts in all (stored ones spread over the last `days` days)
    /// and `days` days of counters: subscriptions by three sources, reads in every hour, per-post
    /// recipients and reads, as an account a year old would have.
    pub async fn seed_history_for_benchmark(&self, account: &OfficialAccountId, posts: i64, days: i64) -> Result<()> {
        let id = account.as_str();
        let today = Day::of_time(self.clock.now());
        let mut tx = self.store.begin_write().await?;
        let (last_seq, subscribers): (i64, i64) =
            sqlx::query_as("select last_seq, subscriber_num from official_account where account_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        for seq in last_seq + 1..=posts.max(last_seq) {
            let at = today.plus(-(days - 1) + (seq * days / posts.max(1)).min(days - 1)).start() + 9 * 3600;
            sqlx::query(
                "insert into broadcast (account_id, seq, msg_time, random, body, content_hash) values ($1, $2, $3, $2, $4, 'bench')",
            )
            .bind(id)
            .bind(seq)
            .bind(at)
            .bind(format!(r#"[{{"MsgType":"TIMTextElem","MsgContent":{{"Text":"Seeded post {seq}"}}}}]"#))
            .execute(&mut *tx)
            .await?;
        }
        let top = posts.max(last_seq);
        sqlx::query("update official_account set last_seq = $2 where account_id = $1").bind(id).bind(top).execute(&mut *tx).await?;
        for seq in 1..=top {
            sqlx::query(
                "insert into post_insight (account_id, seq, recipients, delivered_live, pushed) values ($1, $2, $3, $4, $5) \
                 on conflict (account_id, seq) do nothing",
            )
            .bind(id)
            .bind(seq)
            .bind(subscribers)
            .bind(subscribers / 20)
            .bind(subscribers / 2)
            .execute(&mut *tx)
            .await?;
            // Every post read by a share of the audience: steps in and out.
            for (at, step) in [(seq, subscribers / 3), (seq + 1, -(subscribers / 3) + subscribers / 4)] {
                sqlx::query(
                    "insert into post_read_step (account_id, seq, step) values ($1, $2, $3) \
                     on conflict (account_id, seq) do update set step = post_read_step.step + $3",
                )
                .bind(id)
                .bind(at)
                .bind(step)
                .execute(&mut *tx)
                .await?;
            }
        }
        for day in DayRange::last(days, today).days() {
            let n = day.number();
            sqlx::query(
                "insert into insight_day (account_id, day, subscribed, unsubscribed, reactions, messages_in, replies, posts) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (account_id, day) do nothing",
            )
            .bind(id)
            .bind(n)
            .bind(1000 + n % 300)
            .bind(200 + n % 50)
            .bind(5000)
            .bind(40)
            .bind(35)
            .bind(posts / days)
            .execute(&mut *tx)
            .await?;
            for source in ["api", "app", "console"] {
                sqlx::query(
                    "insert into insight_day_source (account_id, day, source, subscribed) values ($1, $2, $3, 333) on conflict do nothing",
                )
                .bind(id)
                .bind(n)
                .bind(source)
                .execute(&mut *tx)
                .await?;
            }
            for hour in 0..24i64 {
                sqlx::query("insert into insight_day_hour (account_id, day, hour, reads) values ($1, $2, $3, $4) on conflict do nothing")
                    .bind(id)
                    .bind(n)
                    .bind(hour)
                    .bind(1000 + hour * 500)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// `EXPLAIN` (PostgreSQL) or `EXPLAIN QUERY PLAN` (SQLite) of each query the figures run,
    /// for `account` over its last 90 days: (what it reads, the plan's lines).
    pub async fn query_plans_for_benchmark(&self, account: &OfficialAccountId) -> Result<Vec<(&'static str, Vec<String>)>> {
        let range = DayRange::last(90, Day::of_time(self.clock.now()));
        let (from, to) = (range.from.number(), range.to.number());
        let queries: [(&str, &str); 8] = [
            ("subscriber counts", "select subscriber_num, subscribers_not_notify, subscribers_discard from official_account where account_id = $1 and $2 = $2 and $3 = $3"),
            ("days", "select day, subscribed, unsubscribed from insight_day where account_id = $1 and day >= $2 and $3 = $3 order by day"),
            ("reads per day and hour", "select day, hour, reads from insight_day_hour where account_id = $1 and day between $2 and $3"),
            ("sources", "select source, sum(subscribed) from insight_day_source where account_id = $1 and day between $2 and $3 group by source"),
            ("online", "select coalesce(sum(o.online), 0) from online_count o join server_node n on n.node_id = o.node_id where o.account_id = $1 and n.alive_until >= $2 and $3 = $3"),
            ("posts in range", "select b.seq, p.recipients from broadcast b left join post_insight p on p.account_id = b.account_id and p.seq = b.seq where b.account_id = $1 and b.msg_time >= $2 and b.msg_time < $3"),
            ("read steps", "select seq, step from post_read_step where account_id = $1 and seq <= $3 and $2 = $2 order by seq"),
            ("reactions", "select msg_key, reaction_id, total from message_reaction_count where account_id = $1 and conversation_user = '' and msg_key in (cast($2 as text), cast($3 as text))"),
        ];
        let explain = match self.store.backend {
            Backend::Sqlite => "explain query plan ",
            Backend::Postgres => "explain ",
        };
        let mut out = Vec::new();
        for (name, sql) in queries {
            let (a, b) = if name == "posts in range" { (range.from.start(), range.to.plus(1).start()) } else { (from, to) };
            let b = if name == "read steps" { i64::MAX } else { b };
            let rows: Vec<sqlx::any::AnyRow> =
                sqlx::query(&format!("{explain}{sql}")).bind(account.as_str()).bind(a).bind(b).fetch_all(&self.store.pool).await?;
            use sqlx::Row;
            let lines = rows
                .iter()
                .map(|r| match self.store.backend {
                    Backend::Sqlite => r.try_get::<String, _>(3).unwrap_or_default(),
                    Backend::Postgres => r.try_get::<String, _>(0).unwrap_or_default(),
                })
                .collect();
            out.push((name, lines));
        }
        Ok(out)
    }
}
