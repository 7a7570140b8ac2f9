//! The figures of `/metrics` that live in storage. A sampler reads them every few seconds
//! (`server::metrics`), so a scrape costs the database nothing and many scrapers cost the same
//! as one. Every query here is served by an index or a small table.

use super::Operations;

/// What storage holds that an operator watches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredGauges {
    /// "After" webhook events not delivered yet.
    pub webhook_outbox: i64,
    /// Age in seconds of the oldest of them (0: none).
    pub webhook_oldest_secs: i64,
    /// Push jobs waiting (a broadcast's job walks its subscribers in batches).
    pub push_outbox: i64,
    pub push_oldest_secs: i64,
    /// Webhook events and push jobs given up on.
    pub webhook_dead_letters: i64,
    pub push_dead_letters: i64,
    /// Scheduled posts whose time has come and that are not published yet.
    pub scheduled_due: i64,
}

/// The connection pool right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolGauges {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

impl Operations {
    pub async fn stored_gauges(&self) -> crate::Result<StoredGauges> {
        let now = self.clock.now();
        let pool = &self.store.pool;
        let (webhook_outbox, webhook_oldest): (i64, Option<i64>) =
            sqlx::query_as("select count(*), min(created_at) from webhook_outbox where delivered_at is null").fetch_one(pool).await?;
        let (push_outbox, push_oldest): (i64, Option<i64>) =
            sqlx::query_as("select count(*), min(created_at) from push_job where dead_at is null").fetch_one(pool).await?;
        let (webhook_dead_letters,): (i64,) = sqlx::query_as("select count(*) from webhook_dead_letter").fetch_one(pool).await?;
        let (push_dead_letters,): (i64,) =
            sqlx::query_as("select count(*) from push_job where dead_at is not null").fetch_one(pool).await?;
        let (scheduled_due,): (i64,) =
            sqlx::query_as("select count(*) from post where status = 'scheduled' and publish_at <= $1").bind(now).fetch_one(pool).await?;
        let age = |oldest: Option<i64>| oldest.map_or(0, |t| (now - t).max(0));
        Ok(StoredGauges {
            webhook_outbox,
            webhook_oldest_secs: age(webhook_oldest),
            push_outbox,
            push_oldest_secs: age(push_oldest),
            webhook_dead_letters,
            push_dead_letters,
            scheduled_due,
        })
    }

    pub fn pool_gauges(&self) -> PoolGauges {
        let pool = &self.store.pool;
        PoolGauges { size: pool.size(), idle: pool.num_idle() as u32, max: pool.options().get_max_connections() }
    }

    /// How long taking a connection from the pool takes now (the pool's wait, sampled).
    pub async fn pool_wait(&self) -> crate::Result<std::time::Duration> {
        let started = std::time::Instant::now();
        let conn = self.store.pool.acquire().await?;
        let waited = started.elapsed();
        drop(conn);
        Ok(waited)
    }
}
