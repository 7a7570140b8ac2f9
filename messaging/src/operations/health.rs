//! Readiness: what a load balancer asks before it sends a node traffic (`/readyz`).

use super::Operations;
use crate::store::Backend;
use serde::Serialize;
use std::time::Duration;

/// How long the database may take to answer before the node is reported not ready.
pub const DATABASE_DEADLINE: Duration = Duration::from_secs(1);

/// One condition of readiness, with a sentence when it fails.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Check {
    pub fn pass(name: &'static str) -> Self {
        Self { name, ok: true, reason: None }
    }

    pub fn fail(name: &'static str, reason: impl Into<String>) -> Self {
        Self { name, ok: false, reason: Some(reason.into()) }
    }
}

impl Operations {
    /// The storage side of readiness: `database` (answers within [`DATABASE_DEADLINE`]),
    /// `migrations` (every migration of this build applied) and, on PostgreSQL, `listen`.
    pub async fn readiness(&self) -> Vec<Check> {
        let expected = crate::store::newest_migration(self.store.backend);
        let applied = tokio::time::timeout(
            DATABASE_DEADLINE,
            sqlx::query_as::<_, (Option<i64>,)>("select max(version) from _sqlx_migrations where success").fetch_one(&self.store.pool),
        )
        .await;
        let mut checks = Vec::with_capacity(3);
        match applied {
            Err(_) => {
                checks.push(Check::fail("database", format!("no answer within {} ms", DATABASE_DEADLINE.as_millis())));
                checks.push(Check::fail("migrations", "unknown: the database did not answer"));
            }
            Ok(Err(e)) => {
                checks.push(Check::fail("database", format!("the database refused: {e}")));
                checks.push(Check::fail("migrations", "unknown: the database did not answer"));
            }
            Ok(Ok((version,))) => {
                checks.push(Check::pass("database"));
                let version = version.unwrap_or(0);
                checks.push(if version >= expected {
                    Check::pass("migrations")
                } else {
                    Check::fail("migrations", format!("migration {version} is applied; this build needs {expected}"))
                });
            }
        }
        if self.store.backend == Backend::Postgres {
            checks.push(if self.listening() {
                Check::pass("listen")
            } else {
                Check::fail("listen", "not listening for other nodes' changes (reconnecting)")
            });
        }
        checks
    }
}
