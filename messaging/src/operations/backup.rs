//! Backup and restore of a SQLite database (docs/operations.md). Uploaded media live in the
//! database, so one file is the whole of Herald's state.
//!
//! * Backup: `VACUUM INTO` writes a consistent copy from one read transaction while the server
//!   keeps serving (WAL: writers are not blocked), into a temporary name renamed at the end, so
//!   a backup file that exists is complete.
//! * Restore: refused while a server uses the database. Every server on a SQLite file holds a
//!   shared lock on `FILE.lock` ([`ServerLock`]); restore takes it exclusively or stops. The
//!   file is checked first (SQLite's integrity check, and that it is a Herald database), the
//!   current database is kept beside it as `FILE.replaced`.
//!
//! PostgreSQL has `pg_dump` and `pg_restore` for this; the README gives the commands.

use crate::error::{Error, Result};
use crate::store::Backend;
use sqlx::{ConnectOptions, Connection};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The SQLite file a `sqlite:` URL names (its folder is created on open, not here).
pub fn sqlite_path(database_url: &str) -> Result<PathBuf> {
    if Backend::of_url(database_url)? != Backend::Sqlite {
        return Err(Error::Internal(
            "backup and restore here are for SQLite; on PostgreSQL use pg_dump and pg_restore (see the README)".into(),
        ));
    }
    let rest = database_url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Err(Error::Internal("the database URL names no SQLite file".into()));
    }
    Ok(PathBuf::from(path))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn io(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::Internal(format!("{what} {}: {e}", path.display()))
}

/// A server's claim on its SQLite file: shared, so several may hold it, never a restore.
/// Released when dropped (or when the process ends, however it ends).
pub struct ServerLock {
    _file: File,
}

impl ServerLock {
    /// Takes the shared lock on `FILE.lock`; None on PostgreSQL.
    pub fn take(database_url: &str) -> Result<Option<Self>> {
        if Backend::of_url(database_url)? != Backend::Sqlite {
            return Ok(None);
        }
        let path = with_suffix(&sqlite_path(database_url)?, ".lock");
        let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(|e| io("cannot open", &path, e))?;
        match file.try_lock_shared() {
            Ok(()) => Ok(Some(Self { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(Error::Internal(format!("{} is being restored: start the server once the restore is done", path.display())))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(io("cannot lock", &path, e)),
        }
    }
}

/// What a backup or restore wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub path: PathBuf,
    pub bytes: u64,
}

async fn open_read_only(path: &Path) -> Result<sqlx::SqliteConnection> {
    Ok(sqlx::sqlite::SqliteConnectOptions::new().filename(path).read_only(true).connect().await?)
}

/// Writes a consistent copy of the SQLite database at `database_url` to `target` (which must
/// not exist), while servers keep using the database.
pub async fn backup_sqlite(database_url: &str, target: &Path) -> Result<Copied> {
    let source = sqlite_path(database_url)?;
    if !source.exists() {
        return Err(Error::Internal(format!("there is no database at {}", source.display())));
    }
    if target.exists() {
        return Err(Error::Internal(format!("{} exists already: choose a new name (a backup never overwrites)", target.display())));
    }
    let partial = with_suffix(target, ".partial");
    let _ = std::fs::remove_file(&partial);
    let mut conn = open_read_only(&source).await?;
    let quoted = partial.to_string_lossy().replace('\'', "''");
    sqlx::query(&format!("vacuum into '{quoted}'")).execute(&mut conn).await?;
    conn.close().await?;
    File::open(&partial).and_then(|f| f.sync_all()).map_err(|e| io("cannot sync", &partial, e))?;
    std::fs::rename(&partial, target).map_err(|e| io("cannot rename to", target, e))?;
    let bytes = std::fs::metadata(target).map_err(|e| io("cannot read", target, e))?.len();
    Ok(Copied { path: target.to_owned(), bytes })
}

/// Checks that `file` is an intact Herald database: SQLite's integrity check passes and it
/// holds Herald's migrations. Returns the newest migration applied.
pub async fn check_backup(file: &Path) -> Result<i64> {
    if !file.is_file() {
        return Err(Error::Internal(format!("there is no backup file at {}", file.display())));
    }
    let mut conn = open_read_only(file).await.map_err(|e| Error::Internal(format!("{} is not a SQLite database: {e}", file.display())))?;
    let (verdict,): (String,) = sqlx::query_as("pragma integrity_check")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| Error::Internal(format!("{} is not a SQLite database: {e}", file.display())))?;
    if verdict != "ok" {
        return Err(Error::Internal(format!("{} is damaged: {verdict}", file.display())));
    }
    let version: std::result::Result<(Option<i64>,), _> =
        sqlx::query_as("select max(version) from _sqlx_migrations where success").fetch_one(&mut conn).await;
    let has_accounts = sqlx::query("select 1 from official_account limit 1").fetch_optional(&mut conn).await.is_ok();
    conn.close().await?;
    match version {
        Ok((Some(v),)) if has_accounts => Ok(v),
        _ => Err(Error::Internal(format!("{} is a SQLite database but not Herald's", file.display()))),
    }
}

/// Replaces the SQLite database at `database_url` with the backup `file`. Refused while a
/// server holds its lock; the database it replaces is kept as `FILE.replaced`.
pub async fn restore_sqlite(database_url: &str, file: &Path) -> Result<Copied> {
    let target = sqlite_path(database_url)?;
    let newest = check_backup(file).await?;
    let known = crate::store::newest_migration(Backend::Sqlite);
    if newest > known {
        return Err(Error::Internal(format!(
            "{} was made by a newer Herald (migration {newest}; this build knows {known}): restore it with that version",
            file.display()
        )));
    }
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| io("cannot create", parent, e))?;
    }
    let lock_path = with_suffix(&target, ".lock");
    let lock = File::options().create(true).truncate(false).write(true).open(&lock_path).map_err(|e| io("cannot open", &lock_path, e))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(Error::Internal(format!(
                "a server is using {}: stop it first (restore replaces the whole database)",
                target.display()
            )))
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io("cannot lock", &lock_path, e)),
    }
    let incoming = with_suffix(&target, ".restoring");
    std::fs::copy(file, &incoming).map_err(|e| io("cannot copy to", &incoming, e))?;
    File::open(&incoming).and_then(|f| f.sync_all()).map_err(|e| io("cannot sync", &incoming, e))?;
    for suffix in ["", "-wal", "-shm"] {
        let current = with_suffix(&target, suffix);
        if current.exists() {
            let aside = with_suffix(&target, &format!(".replaced{suffix}"));
            std::fs::rename(&current, &aside).map_err(|e| io("cannot move aside", &current, e))?;
        } else {
            let _ = std::fs::remove_file(with_suffix(&target, &format!(".replaced{suffix}")));
        }
    }
    std::fs::rename(&incoming, &target).map_err(|e| io("cannot rename to", &target, e))?;
    let bytes = std::fs::metadata(&target).map_err(|e| io("cannot read", &target, e))?.len();
    drop(lock);
    Ok(Copied { path: target, bytes })
}
