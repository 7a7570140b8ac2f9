//! The audit log: who changed what, when, from which address, to which account.
//!
//! Every change a console user or the REST administrator makes is recorded **in the same
//! transaction as the change**, so the log never claims a change that was rolled back and never
//! misses one that was committed. The writes happen deep inside `messaging` (creating an account,
//! sending a broadcast, adding subscribers in a shared transaction…), while who is acting is
//! known only at the front door. Rather than threading an actor through every call, a front
//! door runs the call inside [`acting_as`], and [`record`] reads the actor from that task-local
//! scope. Work with no actor in scope (the scheduled-post worker, start-up) is recorded as
//! [`SYSTEM`]. The same scope gives webhooks the client's address (`ClientIP`).

//!
//! The types ([`AuditAction`], [`AuditEvent`]) are pure, so the console's pages compile them to
//! WebAssembly; recording and reading need the `backend` feature.

#[cfg(feature = "backend")]
pub use recording::*;
use serde::{Deserialize, Serialize};

/// The actor of changes Herald makes on its own (scheduled posts, start-up).
pub const SYSTEM: &str = "herald";

/// What was done; stored by [`AuditAction::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditAction {
    AccountCreated,
    AccountChanged,
    AccountDeleted,
    BroadcastSent,
    BroadcastRecalled,
    SubscribersAdded,
    SubscribersRemoved,
    InboxReply,
    UserInvited,
    InvitationLinkIssued,
    InvitationAccepted,
    UserDisabled,
    UserEnabled,
    RoleChanged,
    AccessGranted,
    AccessRemoved,
    SettingsChanged,
    SecretKeyRotated,
    SecretKeyRevealed,
    SignedIn,
    SignInFailed,
    SessionsEnded,
    PasswordChanged,
    PublicPageChanged,
    InviteLinkCreated,
    InviteLinkRevoked,
    BroadcastEdited,
    PostPinned,
}

impl AuditAction {
    pub const ALL: [AuditAction; 28] = [
        Self::AccountCreated,
        Self::AccountChanged,
        Self::AccountDeleted,
        Self::BroadcastSent,
        Self::BroadcastRecalled,
        Self::SubscribersAdded,
        Self::SubscribersRemoved,
        Self::InboxReply,
        Self::UserInvited,
        Self::InvitationLinkIssued,
        Self::InvitationAccepted,
        Self::UserDisabled,
        Self::UserEnabled,
        Self::RoleChanged,
        Self::AccessGranted,
        Self::AccessRemoved,
        Self::SettingsChanged,
        Self::SecretKeyRotated,
        Self::SecretKeyRevealed,
        Self::SignedIn,
        Self::SignInFailed,
        Self::SessionsEnded,
        Self::PasswordChanged,
        Self::PublicPageChanged,
        Self::InviteLinkCreated,
        Self::InviteLinkRevoked,
        Self::BroadcastEdited,
        Self::PostPinned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccountCreated => "account.created",
            Self::AccountChanged => "account.changed",
            Self::AccountDeleted => "account.deleted",
            Self::BroadcastSent => "post.published",
            Self::BroadcastRecalled => "post.recalled",
            Self::SubscribersAdded => "subscribers.added",
            Self::SubscribersRemoved => "subscribers.removed",
            Self::InboxReply => "inbox.reply",
            Self::UserInvited => "user.invited",
            Self::InvitationLinkIssued => "user.link_issued",
            Self::InvitationAccepted => "user.invitation_accepted",
            Self::UserDisabled => "user.disabled",
            Self::UserEnabled => "user.enabled",
            Self::RoleChanged => "user.role_changed",
            Self::AccessGranted => "access.granted",
            Self::AccessRemoved => "access.removed",
            Self::SettingsChanged => "settings.changed",
            Self::SecretKeyRotated => "settings.key_rotated",
            Self::SecretKeyRevealed => "settings.key_revealed",
            Self::SignedIn => "sign_in.succeeded",
            Self::SignInFailed => "sign_in.failed",
            Self::SessionsEnded => "sessions.ended",
            Self::PasswordChanged => "user.password_changed",
            Self::PublicPageChanged => "account.public_page",
            Self::InviteLinkCreated => "invite_link.created",
            Self::InviteLinkRevoked => "invite_link.revoked",
            Self::BroadcastEdited => "post.edited",
            Self::PostPinned => "post.pinned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub address: String,
    /// [`AuditAction::as_str`]; an action a newer version wrote stays readable.
    pub action: String,
    pub account: Option<String>,
    pub detail: String,
}

/// Which events to read: newest first, older than `before` (an event ID) when given.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub account: Option<String>,
    pub before: Option<i64>,
    pub limit: i64,
}

#[cfg(feature = "backend")]
mod recording {
    use super::*;
    use crate::error::Result;
    use crate::store::now;
    use crate::Messaging;
    use std::future::Future;

    /// Who is acting: a console user (their user name) or the REST administrator (its identifier),
    /// and the address the request came from.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Actor {
        pub name: String,
        pub address: String,
    }

    tokio::task_local! {
        static ACTOR: Actor;
    }

    /// Runs `work` with `actor` as the one whose changes [`record`] writes down.
    pub async fn acting_as<F: Future>(actor: Actor, work: F) -> F::Output {
        ACTOR.scope(actor, work).await
    }

    /// The actor in scope, or [`SYSTEM`]. A request nobody is signed in to has an actor with
    /// an empty name (only its address is known): its changes are recorded as "anonymous".
    pub(crate) fn current_actor() -> Actor {
        match ACTOR.try_with(Clone::clone) {
            Ok(actor) if actor.name.is_empty() => Actor { name: "anonymous".into(), address: actor.address },
            Ok(actor) => actor,
            Err(_) => Actor { name: SYSTEM.into(), address: String::new() },
        }
    }

    /// Writes one event as part of `tx`, for the actor in scope.
    pub(crate) async fn record(tx: &mut sqlx::AnyConnection, action: AuditAction, account: Option<&str>, detail: &str) -> Result<()> {
        record_as(tx, &current_actor(), action, account, detail).await
    }

    /// Writes one event for `actor` (a sign-in, where the actor is not in scope yet).
    pub(crate) async fn record_as(
        tx: &mut sqlx::AnyConnection,
        actor: &Actor,
        action: AuditAction,
        account: Option<&str>,
        detail: &str,
    ) -> Result<()> {
        sqlx::query("insert into audit_event (at, actor, address, action, account_id, detail) values ($1, $2, $3, $4, $5, $6)")
            .bind(now())
            .bind(&actor.name)
            .bind(&actor.address)
            .bind(action.as_str())
            .bind(account)
            .bind(detail)
            .execute(tx)
            .await?;
        Ok(())
    }

    /// "3 users: a, b, c" for a detail column (the first ten named).
    pub(crate) fn users_detail(users: &[&str]) -> String {
        let named: Vec<&str> = users.iter().take(10).copied().collect();
        let more = if users.len() > 10 { format!(" and {} more", users.len() - 10) } else { String::new() };
        format!("{} user{}: {}{more}", users.len(), if users.len() == 1 { "" } else { "s" }, named.join(", "))
    }

    /// The most events one page of the log shows.
    pub const AUDIT_PAGE_MAX: i64 = 200;

    impl Messaging {
        /// A page of the audit log, newest first (keyset on the event ID), filtered by actor and
        /// account when given.
        pub async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>> {
            let rows: Vec<(i64, i64, String, String, String, Option<String>, String)> = sqlx::query_as(
                "select event_id, at, actor, address, action, account_id, detail from audit_event \
                 where ($1 = '' or actor = $1) and ($2 = '' or account_id = $2) and event_id < $3 \
                 order by event_id desc limit $4",
            )
            .bind(query.actor.as_deref().unwrap_or(""))
            .bind(query.account.as_deref().unwrap_or(""))
            .bind(query.before.unwrap_or(i64::MAX))
            .bind(query.limit.clamp(1, AUDIT_PAGE_MAX))
            .fetch_all(&self.store.pool)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(id, at, actor, address, action, account, detail)| AuditEvent { id, at, actor, address, action, account, detail })
                .collect())
        }

        /// Records one event on its own (a change with no transaction of its own, such as revealing
        /// the secret key).
        pub async fn audit(&self, action: AuditAction, account: Option<&str>, detail: &str) -> Result<()> {
            let mut conn = self.store.pool.acquire().await?;
            record(&mut conn, action, account, detail).await
        }
    }
}
