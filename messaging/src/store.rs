//! Opening the database: SQLite or PostgreSQL, chosen by the URL, migrated on open.
//!
//! Queries go through sqlx's `Any` driver so that one query text serves both backends
//! (`$1` placeholders work in SQLite too). Where the dialects disagree, the query picks by
//! [`Backend`]; that choice never leaves the storage modules.

use crate::error::{Error, Result};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Which database the URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(Error::Internal("DATABASE_URL must start with sqlite: or postgres:".into()))
        }
    }
}

/// For SQLite, make sure the file's folder exists and the file is created if missing.
fn prepare_sqlite_url(url: &str) -> Result<String> {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Err(Error::Internal("use a SQLite file: each pooled connection to :memory: would see its own empty database".into()));
    }
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|e| Error::Internal(format!("cannot create {}: {e}", parent.display())))?;
        }
    }
    Ok(if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

/// Connects and runs the migrations of this backend; start-up fails if they fail.
pub(crate) async fn open(url: &str) -> Result<(AnyPool, Backend)> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of_url(url)?;
    let pool = match backend {
        Backend::Sqlite => {
            let url = prepare_sqlite_url(url)?;
            AnyPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        // WAL lets readers run beside the writer; busy_timeout queues writers
                        // instead of failing them with "database is locked" (write transactions
                        // take the lock first: `Messaging::begin_write`). synchronous = full
                        // syncs the WAL on every commit: an acknowledged write survives power loss.
                        conn.execute(
                            "pragma journal_mode = wal; pragma synchronous = full; pragma busy_timeout = 5000; pragma foreign_keys = on;",
                        )
                        .await?;
                        Ok(())
                    })
                })
                .connect(&url)
                .await?
        }
        Backend::Postgres => AnyPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect(url).await?,
    };
    match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
        Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
    }
    Ok((pool, backend))
}

/// The newest migration this build carries for `backend` (readiness and restore compare).
pub(crate) fn newest_migration(backend: Backend) -> i64 {
    let migrator = match backend {
        Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The database as every area's handle holds it (the pool is shared by every clone).
#[derive(Clone)]
pub(crate) struct Store {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
}

impl Store {
    /// Starts a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and then writes fails with
    /// SQLITE_BUSY_SNAPSHOT when another writer committed in between, which busy_timeout cannot
    /// help. Every writing transaction starts here.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }
}

/// Now, in Unix seconds.
pub(crate) fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Turns a unique-key violation into a domain error right where the query runs. Both backends
/// report the *kind* of a violation (SQLite reports no constraint name), so key on that.
pub(crate) trait ResultExt<T> {
    fn on_unique_violation(self, f: impl FnOnce() -> Error) -> Result<T>;
}

impl<T> ResultExt<T> for std::result::Result<T, sqlx::Error> {
    fn on_unique_violation(self, f: impl FnOnce() -> Error) -> Result<T> {
        self.map_err(|e| match &e {
            sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::UniqueViolation => f(),
            _ => Error::Storage(e),
        })
    }
}

/// A `like` pattern matching `needle` anywhere, with the wildcard characters escaped (`escape '\'`).
pub(crate) fn contains_pattern(needle: &str) -> String {
    let escaped = needle.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

#[cfg(feature = "testing")]
/// Herald's tables with their columns (`name type`, `not null` where it applies) and indexes
/// (`index name (columns)`), sorted, for comparing the two migration folders. Types are
/// compared by what the column can hold: SQLite's `integer` is 64-bit, PostgreSQL's `bigint`.
pub(crate) async fn schema(pool: &AnyPool, backend: Backend) -> Result<Vec<(String, Vec<String>)>> {
    let tables: Vec<(String,)> = match backend {
        Backend::Sqlite => sqlx::query_as(
            "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '_sqlx%' order by name",
        )
        .fetch_all(pool)
        .await?,
        Backend::Postgres => sqlx::query_as(
            "select table_name::text from information_schema.tables where table_schema = current_schema() and table_name not like '_sqlx%' order by table_name",
        )
        .fetch_all(pool)
        .await?,
    };
    let normal_type = |t: &str| match t.to_lowercase().as_str() {
        "integer" | "bigint" | "int8" => "bigint".to_owned(),
        "character varying" | "varchar" | "text" => "text".to_owned(),
        "blob" | "bytea" => "bytes".to_owned(),
        other => other.to_owned(),
    };
    let mut out = Vec::new();
    for (table,) in tables {
        let columns: Vec<(String, String, bool)> = match backend {
            Backend::Sqlite => {
                sqlx::query_as::<_, (String, String, i64, i64)>("select name, type, \"notnull\", pk from pragma_table_info($1)")
                    .bind(&table)
                    .fetch_all(pool)
                    .await?
                    .into_iter()
                    .map(|(name, ty, not_null, pk)| (name, ty, not_null == 1 || pk > 0))
                    .collect()
            }
            Backend::Postgres => sqlx::query_as::<_, (String, String, String)>(
                "select column_name::text, data_type::text, is_nullable::text from information_schema.columns \
                 where table_schema = current_schema() and table_name = $1",
            )
            .bind(&table)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|(name, ty, nullable)| (name, ty, nullable == "NO"))
            .collect(),
        };
        let mut described: Vec<String> = columns
            .into_iter()
            .map(|(name, ty, not_null)| format!("{name} {}{}", normal_type(&ty), if not_null { " not null" } else { "" }))
            .collect();
        let indexes: Vec<(String,)> =
            match backend {
                Backend::Sqlite => {
                    sqlx::query_as(
                        "select name from sqlite_master where type = 'index' and tbl_name = $1 and name not like 'sqlite_autoindex%'",
                    )
                    .bind(&table)
                    .fetch_all(pool)
                    .await?
                }
                Backend::Postgres => sqlx::query_as(
                    "select c.relname::text from pg_index i join pg_class c on c.oid = i.indexrelid join pg_class t on t.oid = i.indrelid \
                 where t.relname = $1 and not i.indisprimary \
                   and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)",
                )
                .bind(&table)
                .fetch_all(pool)
                .await?,
            };
        for (index,) in indexes {
            let columns: Vec<(String,)> = match backend {
                Backend::Sqlite => {
                    sqlx::query_as("select name from pragma_index_info($1) order by seqno").bind(&index).fetch_all(pool).await?
                }
                Backend::Postgres => {
                    sqlx::query_as(
                        "select a.attname::text from pg_index i join pg_class c on c.oid = i.indexrelid \
                     join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey) \
                     where c.relname = $1 order by array_position(i.indkey::int2[], a.attnum)",
                    )
                    .bind(&index)
                    .fetch_all(pool)
                    .await?
                }
            };
            let columns: Vec<String> = columns.into_iter().map(|(c,)| c).collect();
            described.push(format!("index {index} ({})", columns.join(", ")));
        }
        described.sort();
        out.push((table, described));
    }
    Ok(out)
}
