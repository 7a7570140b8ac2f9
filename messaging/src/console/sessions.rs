//! Console sessions: each sign-in is a row, so a user can see where they are signed in and end
//! any of those sessions, and the platform owner's **Disable** ends them all at once, on every
//! node. The browser's cookie session (tower-sessions, in the server) holds only the row's ID.
//!
//! A session ends after the app's `session_idle_hours` without a request; `last_used_at` is
//! written at most once a minute per session, so busy pages cost no write per request.

use super::Console;
use super::ConsoleUser;
use crate::audit::{record, record_as, Actor, AuditAction};
use crate::error::Result;
use crate::store::now;
use rand::distributions::{Alphanumeric, DistString};
use serde::{Deserialize, Serialize};

/// How stale `last_used_at` may get before a request writes it again.
const TOUCH_EVERY_SECS: i64 = 60;
/// What is kept of a browser's User-Agent.
const USER_AGENT_MAX: usize = 256;

/// A signed-in browser, as the Your account page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleSession {
    /// Enough of the ID to end it; the full ID never leaves the server.
    pub handle: String,
    pub address: String,
    pub user_agent: String,
    pub created_at: i64,
    pub last_used_at: i64,
    /// The session of the browser asking.
    pub current: bool,
}

/// The part of a session ID a page may know (to end it).
fn handle(session_id: &str) -> String {
    session_id.chars().take(12).collect()
}

impl Console {
    /// Records a sign-in of `user` from `address` with `user_agent`: a new session row and its
    /// audit event, in one transaction. Returns the session's ID for the browser's session.
    pub async fn open_console_session(&self, user: &ConsoleUser, address: &str, user_agent: &str, how: &str) -> Result<String> {
        let id = Alphanumeric.sample_string(&mut rand::thread_rng(), 40);
        let agent: String = user_agent.chars().take(USER_AGENT_MAX).collect();
        let at = now();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "insert into console_session (session_id, username, address, user_agent, created_at, last_used_at) values ($1, $2, $3, $4, $5, $5)",
        )
        .bind(&id)
        .bind(&user.username)
        .bind(address)
        .bind(&agent)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("update console_user set last_sign_in_at = $2 where username = $1")
            .bind(&user.username)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        let actor = Actor { name: user.username.clone(), address: address.to_owned() };
        record_as(&mut tx, &actor, AuditAction::SignedIn, None, how).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The enabled user of a live session, or `None` (unknown, ended, idle too long, or the user
    /// was disabled). Notes the use.
    pub async fn console_session_user(&self, session_id: &str) -> Result<Option<ConsoleUser>> {
        let at = now();
        let idle_secs = i64::from(self.settings().session_idle_hours) * 3600;
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "select u.username, u.role, s.last_used_at from console_session s join console_user u on u.username = s.username \
             where s.session_id = $1 and u.disabled_at is null",
        )
        .bind(session_id)
        .fetch_optional(&self.store.pool)
        .await?;
        let Some((username, role, last_used_at)) = row else { return Ok(None) };
        if last_used_at + idle_secs < at {
            sqlx::query("delete from console_session where session_id = $1").bind(session_id).execute(&self.store.pool).await?;
            return Ok(None);
        }
        if last_used_at + TOUCH_EVERY_SECS < at {
            sqlx::query("update console_session set last_used_at = $2 where session_id = $1")
                .bind(session_id)
                .bind(at)
                .execute(&self.store.pool)
                .await?;
        }
        Ok(Some(ConsoleUser { username, role: super::stored_role(&role) }))
    }

    /// The user's open sessions, most recently used first; `current` marks the asking one.
    pub async fn console_sessions(&self, username: &str, current: &str) -> Result<Vec<ConsoleSession>> {
        let idle_secs = i64::from(self.settings().session_idle_hours) * 3600;
        let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
            "select session_id, address, user_agent, created_at, last_used_at from console_session \
             where username = $1 and last_used_at >= $2 order by last_used_at desc, created_at desc",
        )
        .bind(username)
        .bind(now() - idle_secs)
        .fetch_all(&self.store.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, address, user_agent, created_at, last_used_at)| ConsoleSession {
                handle: handle(&id),
                current: id == current,
                address,
                user_agent,
                created_at,
                last_used_at,
            })
            .collect())
    }

    /// Ends one of the user's sessions, named by its handle; answers whether one ended.
    pub async fn end_console_session(&self, username: &str, session_handle: &str) -> Result<bool> {
        if session_handle.len() < 12 {
            return Ok(false);
        }
        let mut tx = self.begin_write().await?;
        let ended = sqlx::query("delete from console_session where username = $1 and substr(session_id, 1, 12) = $2")
            .bind(username)
            .bind(session_handle)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if ended > 0 {
            record(&mut tx, AuditAction::SessionsEnded, None, &format!("{username}: one session ended")).await?;
        }
        tx.commit().await?;
        Ok(ended > 0)
    }

    /// Ends every session of `username` (Sign out everywhere); answers how many.
    pub async fn end_all_console_sessions(&self, username: &str) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let ended = end_sessions_of(&mut tx, username).await?;
        record(&mut tx, AuditAction::SessionsEnded, None, &format!("{username}: signed out everywhere ({ended} sessions)")).await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// Ends one session by its full ID (Sign out).
    pub async fn close_console_session(&self, session_id: &str) -> Result<()> {
        sqlx::query("delete from console_session where session_id = $1").bind(session_id).execute(&self.store.pool).await?;
        Ok(())
    }
}

/// Deletes every session of `username` inside the caller's transaction.
pub(crate) async fn end_sessions_of(conn: &mut sqlx::AnyConnection, username: &str) -> Result<u64> {
    Ok(sqlx::query("delete from console_session where username = $1").bind(username).execute(conn).await?.rows_affected())
}
