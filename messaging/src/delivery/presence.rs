//! Who is connected, across server nodes. Each node's hub writes how many connections each user
//! has on it (batched: many connects share one transaction) and keeps its `server_node` row
//! alive; a node that stops renewing (it crashed) stops counting after [`NODE_TTL_SECS`].
//! Offline push skips users with a live connection; `openim/query_online_status` reads it.

use crate::error::Result;
use crate::store::now;
use crate::Messaging;
use std::collections::HashMap;

/// A node's presence rows count until this long after its last heartbeat.
pub const NODE_TTL_SECS: i64 = 90;
/// `query_online_status` asks about this many users at most.
pub const ONLINE_STATUS_BATCH_MAX: usize = 500;
/// How often a node renews its row.
pub const HEARTBEAT_SECS: u64 = 30;

/// A user's connections on live nodes.
pub(crate) const LIVE_PRESENCE: &str =
    "select p.user_id, cast(sum(p.connections) as bigint) from presence p join server_node n on n.node_id = p.node_id \
     where n.alive_until >= $1 and p.connections > 0";

impl Messaging {
    /// This process's name among the nodes.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// Renews this node's row (and clears rows of nodes long dead).
    pub async fn heartbeat_node(&self) -> Result<()> {
        let at = now();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "insert into server_node (node_id, alive_until) values ($1, $2) \
             on conflict (node_id) do update set alive_until = $2",
        )
        .bind(self.node_id.as_ref())
        .bind(at + NODE_TTL_SECS)
        .execute(&mut *tx)
        .await?;
        sqlx::query("delete from presence where node_id in (select node_id from server_node where alive_until < $1)")
            .bind(at - NODE_TTL_SECS)
            .execute(&mut *tx)
            .await?;
        sqlx::query("delete from online_count where node_id in (select node_id from server_node where alive_until < $1)")
            .bind(at - NODE_TTL_SECS)
            .execute(&mut *tx)
            .await?;
        sqlx::query("delete from server_node where alive_until < $1").bind(at - NODE_TTL_SECS).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes this node's connection counts (0: none any more) in one transaction.
    pub async fn write_presence(&self, counts: &HashMap<String, i64>) -> Result<()> {
        if counts.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for (user, n) in counts {
            if *n > 0 {
                sqlx::query(
                    "insert into presence (node_id, user_id, connections) values ($1, $2, $3) \
                     on conflict (node_id, user_id) do update set connections = $3",
                )
                .bind(self.node_id.as_ref())
                .bind(user)
                .bind(n)
                .execute(&mut *tx)
                .await?;
            } else {
                sqlx::query("delete from presence where node_id = $1 and user_id = $2")
                    .bind(self.node_id.as_ref())
                    .bind(user)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets this node's connections (on shutdown).
    pub async fn clear_presence(&self) -> Result<()> {
        sqlx::query("delete from presence where node_id = $1").bind(self.node_id.as_ref()).execute(&self.store.pool).await?;
        sqlx::query("delete from online_count where node_id = $1").bind(self.node_id.as_ref()).execute(&self.store.pool).await?;
        sqlx::query("delete from server_node where node_id = $1").bind(self.node_id.as_ref()).execute(&self.store.pool).await?;
        Ok(())
    }

    /// `openim/query_online_status`: per user, their open client connections on live nodes,
    /// or [`crate::Error::UserNotImported`].
    pub async fn online_status(&self, users: &[crate::UserId]) -> Result<Vec<(String, Result<i64>)>> {
        crate::batch::check_batch("To_Account", users.len(), ONLINE_STATUS_BATCH_MAX)?;
        let imported = self.check_users(users).await?;
        let ids: Vec<String> = users.iter().map(|u| u.to_string()).collect();
        let connections = self.connections_of(&ids).await?;
        Ok(ids
            .into_iter()
            .zip(imported)
            .map(|(id, known)| {
                let r = if known { Ok(connections.get(&id).copied().unwrap_or(0)) } else { Err(crate::Error::UserNotImported(id.clone())) };
                (id, r)
            })
            .collect())
    }

    /// Of `users`, how many connections each has on live nodes (absent: none).
    pub async fn connections_of(&self, users: &[String]) -> Result<HashMap<String, i64>> {
        let mut out = HashMap::new();
        for chunk in users.chunks(500) {
            let sql = format!(
                "{LIVE_PRESENCE} and p.user_id in ({}) group by p.user_id",
                (2..2 + chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
            );
            let mut q = sqlx::query_as::<_, (String, i64)>(&sql).persistent(false).bind(now());
            for u in chunk {
                q = q.bind(u);
            }
            out.extend(q.fetch_all(&self.store.pool).await?);
        }
        Ok(out)
    }
}
