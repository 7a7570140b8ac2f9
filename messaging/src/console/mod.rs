//! Console users: who may sign in to the web console, with what password, in what role.
//!
//! Passwords are argon2 (PHC strings, salted). Hashing runs on the blocking pool so a sign-in
//! never stalls the async workers, and at most one hash per core runs at a time
//! ([`throttle`]). A wrong user name and a wrong password give the same error after the same
//! work (an unknown user is checked against a stand-in hash), so neither the answer nor its
//! time tells anyone which user names exist.
//!
//! One-time sign-in links: issuing one, or setting a password, revokes the user's older links.

mod passwords;
pub mod sessions;
mod throttle;
pub mod users;

use passwords::{hash_password, password_matches};

use throttle::SignInThrottle;
pub use throttle::{FREE_FAILURES, MAX_LOCK_SECS};

use crate::audit::{record, record_as, Actor, AuditAction};
use crate::error::{Error, InvalidField, Result};
use crate::roles::{Access, Action, Role};
use crate::settings::Live;
use crate::store::now;
use crate::store::Store;
use rand::distributions::{Alphanumeric, DistString};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The platform owner's user name, created on first start.
pub const PLATFORM_OWNER: &str = "admin";
/// A one-time sign-in link is good for a day.
const SIGN_IN_TOKEN_TTL_SECS: i64 = 24 * 3600;

/// A signed-in console user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConsoleUser {
    pub username: String,
    pub role: Role,
}

/// The console's area: console users and their roles, who works on which account, sessions,
/// sign-ins and one-time links. It owns the sign-in throttle and reads the settings in force
/// (session inactivity); [`crate::Messaging::console`] hands it out.
#[derive(Clone)]
pub struct Console {
    store: Store,
    live: Arc<Live>,
    /// Hashing permits and failure counts of console sign-ins.
    sign_in_throttle: Arc<SignInThrottle>,
}

impl Console {
    pub(crate) fn new(store: Store, live: Arc<Live>) -> Self {
        Self { store, live, sign_in_throttle: Default::default() }
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        self.store.begin_write().await
    }

    fn settings(&self) -> crate::AppSettings {
        self.live.settings()
    }
}

/// Proof that a console user may take an action (on an account, when it concerns one). Only
/// [`Messaging::authorize`] makes one, so a write that takes an `Allowed` cannot be reached by a
/// door that forgot to ask.
#[derive(Debug, Clone)]
pub struct Allowed {
    user: ConsoleUser,
    action: Action,
    account: Option<crate::OfficialAccountId>,
}

impl Allowed {
    /// Who is allowed.
    pub fn user(&self) -> &ConsoleUser {
        &self.user
    }

    pub fn action(&self) -> Action {
        self.action
    }

    /// The account the action concerns, if any.
    pub fn account(&self) -> Option<&crate::OfficialAccountId> {
        self.account.as_ref()
    }
}

impl Console {
    /// Whether `user` may take `action` (on `account`, when it concerns one): the proof, or the
    /// refusal as a sentence ([`Error::Forbidden`]). Every console server function asks this first.
    pub async fn authorize(&self, user: &ConsoleUser, action: Action, account: Option<&crate::OfficialAccountId>) -> Result<Allowed> {
        let access = match (user.role, account) {
            (Role::PlatformOwner, _) => Access::Owner,
            (_, Some(account)) => self.access_to(&user.username, account).await?,
            (_, None) => Access::None,
        };
        if user.role.may(action, access) {
            Ok(Allowed { user: user.clone(), action, account: account.cloned() })
        } else {
            tracing::warn!(user = %user.username, role = user.role.as_str(), ?action, account = ?account.map(|a| a.as_str()), "console action refused");
            Err(Error::Forbidden(action.refusal().into()))
        }
    }

    /// Whether `user` may upload an image for `purpose`: a post's image needs the right to
    /// publish on `account`; an avatar the right to manage `account`, or, for an account not
    /// created yet (`None`), to create one.
    pub async fn authorize_upload(
        &self,
        user: &ConsoleUser,
        purpose: crate::media::Purpose,
        account: Option<&crate::OfficialAccountId>,
    ) -> Result<Allowed> {
        let action = match (purpose, account) {
            (crate::media::Purpose::PostImage, _) => Action::Publish,
            (crate::media::Purpose::Avatar, Some(_)) => Action::ManageAccount,
            (crate::media::Purpose::Avatar, None) => Action::CreateAccount,
        };
        self.authorize(user, action, account).await
    }
}

impl Console {
    /// What `user` may do on `account` (for pages; actions still ask [`Self::authorize`]).
    pub async fn permissions(&self, user: &ConsoleUser, account: &crate::OfficialAccountId) -> Result<crate::roles::Permissions> {
        let access = match user.role {
            Role::PlatformOwner => Access::Owner,
            _ => self.access_to(&user.username, account).await?,
        };
        Ok(crate::roles::Permissions::of(user.role, access))
    }
}

/// A stored role; an unknown one (a newer version's) gets the least access.
fn stored_role(stored: &str) -> Role {
    Role::parse(stored).unwrap_or(Role::Viewer)
}

/// The one answer to every failed sign-in.
fn refused() -> Error {
    Error::Forbidden("wrong user name or password".into())
}

fn token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// A hash of a random password, with the same parameters as real ones: an unknown user (or one
/// without a password) is checked against it, so a sign-in costs the same either way.
fn stand_in_hash() -> String {
    static STAND_IN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    STAND_IN.get_or_init(|| hash_password(&Alphanumeric.sample_string(&mut rand::thread_rng(), 32)).unwrap_or_default()).clone()
}

impl Console {
    /// Makes sure the platform owner exists. `password` (HERALD_ADMIN_PASSWORD) becomes the
    /// owner's password while the owner has none (the first start); after that the console owns
    /// it and the environment is ignored (`server reset-password admin` is the way back in).
    /// Without a password, while the owner has none, returns a fresh one-time sign-in token for
    /// the start-up log (older links are revoked).
    pub async fn ensure_platform_owner(&self, password: Option<&str>) -> Result<Option<String>> {
        let existing: Option<(Option<String>,)> = sqlx::query_as("select password_hash from console_user where username = $1")
            .bind(PLATFORM_OWNER)
            .fetch_optional(&self.store.pool)
            .await?;
        if existing.is_none() {
            sqlx::query("insert into console_user (username, password_hash, role, created_at) values ($1, null, $3, $2)")
                .bind(PLATFORM_OWNER)
                .bind(now())
                .bind(Role::PlatformOwner.as_str())
                .execute(&self.store.pool)
                .await?;
        }
        let has_password = existing.and_then(|(h,)| h).is_some();
        match (password, has_password) {
            (Some(_), true) => {
                tracing::info!("HERALD_ADMIN_PASSWORD is ignored: `admin` already has a password (see README to reset it)");
                Ok(None)
            }
            (Some(pw), false) => {
                // The operator chose it in the environment; the strength rule is for the console.
                self.store_password(PLATFORM_OWNER, pw, AuditAction::PasswordChanged).await?;
                Ok(None)
            }
            (None, true) => Ok(None),
            (None, false) => Ok(Some(self.issue_sign_in_token(PLATFORM_OWNER).await?)),
        }
    }

    /// A new one-time sign-in link token for `username`, valid a day; older ones stop working.
    pub async fn issue_sign_in_token(&self, username: &str) -> Result<String> {
        let token = Alphanumeric.sample_string(&mut rand::thread_rng(), 40);
        let mut tx = self.begin_write().await?;
        sqlx::query("delete from sign_in_token where username = $1").bind(username).execute(&mut *tx).await?;
        sqlx::query("insert into sign_in_token (token_hash, username, expires_at) values ($1, $2, $3)")
            .bind(token_hash(&token))
            .bind(username)
            .bind(now() + SIGN_IN_TOKEN_TTL_SECS)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// For a user who lost their password: removes it, revokes their links and returns a new
    /// one-time link token (the `server reset-password` command).
    pub async fn reset_console_password(&self, username: &str) -> Result<String> {
        let done = sqlx::query("update console_user set password_hash = null where username = $1")
            .bind(username)
            .execute(&self.store.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(InvalidField::new("username", format!("no console user is called {username:?}")).into());
        }
        self.issue_sign_in_token(username).await
    }

    /// Stores a new password and revokes the user's sign-in links, with its audit event
    /// (`action`), in one transaction.
    async fn store_password(&self, username: &str, password: &str, action: AuditAction) -> Result<()> {
        let password = password.to_owned();
        let hash = self.sign_in_throttle.hash(move || hash_password(&password)).await??;
        let mut tx = self.begin_write().await?;
        sqlx::query("update console_user set password_hash = $2 where username = $1").bind(username).bind(hash).execute(&mut *tx).await?;
        sqlx::query("delete from sign_in_token where username = $1").bind(username).execute(&mut *tx).await?;
        record(&mut tx, action, None, username).await?;
        tx.commit().await?;
        Ok(())
    }

    /// An enabled console user (a disabled one is as good as gone: their sessions end).
    pub async fn console_user(&self, username: &str) -> Result<Option<ConsoleUser>> {
        let row: Option<(String, String)> =
            sqlx::query_as("select username, role from console_user where username = $1 and disabled_at is null")
                .bind(username)
                .fetch_optional(&self.store.pool)
                .await?;
        Ok(row.map(|(username, stored)| ConsoleUser { username, role: stored_role(&stored) }))
    }

    /// Checks a user name and password for a sign-in from `client` (its address, for the
    /// throttle and the log). Refusals: [`Error::Throttled`] while the name or address is
    /// locked or every hashing permit is taken, else one [`Error::Forbidden`] for every mistake.
    pub async fn sign_in(&self, username: &str, password: &str, client: &str) -> Result<ConsoleUser> {
        self.sign_in_throttle.check(username, client, now())?;
        let row: Option<(String, Option<String>)> =
            sqlx::query_as("select role, password_hash from console_user where username = $1 and disabled_at is null")
                .bind(username)
                .fetch_optional(&self.store.pool)
                .await?;
        let (role, hash) = match row {
            Some((role, Some(hash))) => (Some(role), Some(hash)),
            _ => (None, None),
        };
        let password = password.to_owned();
        let matches = self
            .sign_in_throttle
            .hash(move || match hash {
                Some(hash) => password_matches(&password, &hash),
                // The same work as a real check; never a match.
                None => {
                    let _ = password_matches(&password, &stand_in_hash());
                    false
                }
            })
            .await?;
        match role {
            Some(role_name) if matches => {
                self.sign_in_throttle.succeeded(username, client);
                Ok(ConsoleUser { username: username.to_owned(), role: stored_role(&role_name) })
            }
            _ => {
                let failures = self.sign_in_throttle.failed(username, client, now());
                // Debug-formatted, so a user name cannot forge log lines; never the password.
                tracing::warn!(username = ?username, client, failures, "failed sign-in");
                // Bounded like the user name field (a sign-in form takes no more).
                let tried: String = username.chars().take(64).collect();
                let actor = Actor { name: tried, address: client.to_owned() };
                let mut conn = self.store.pool.acquire().await?;
                record_as(&mut conn, &actor, AuditAction::SignInFailed, None, "wrong user name or password").await?;
                Err(refused())
            }
        }
    }

    /// Redeems a one-time sign-in token: it works once, before it expires.
    pub async fn redeem_sign_in_token(&self, token: &str) -> Result<ConsoleUser> {
        let row: Option<(String,)> = sqlx::query_as(
            "update sign_in_token set used_at = $2 where token_hash = $1 and purpose = 'sign_in' and used_at is null and expires_at >= $2 \
             returning username",
        )
        .bind(token_hash(token))
        .bind(now())
        .fetch_optional(&self.store.pool)
        .await?;
        let Some((username,)) = row else {
            return Err(Error::Forbidden("this sign-in link is unknown, used or expired".into()));
        };
        self.console_user(&username).await?.ok_or_else(refused)
    }

    /// Whether the user has a password (the Settings page then asks for it before a change).
    pub async fn has_console_password(&self, username: &str) -> Result<bool> {
        let row: Option<(Option<String>,)> = sqlx::query_as("select password_hash from console_user where username = $1")
            .bind(username)
            .fetch_optional(&self.store.pool)
            .await?;
        Ok(matches!(row, Some((Some(_),))))
    }

    /// Changes a password from the console: a user who has one must give it (`current`), so a
    /// session left open cannot be turned into a stolen account. Checked like a sign-in.
    pub async fn change_console_password(&self, username: &str, current: &str, new: &str, client: &str) -> Result<()> {
        users::check_new_password(new, username)?;
        if self.has_console_password(username).await? {
            match self.sign_in(username, current, client).await {
                Ok(_) => {}
                Err(Error::Forbidden(_)) => return Err(InvalidField::new("current_password", "this is not your current password").into()),
                Err(e) => return Err(e),
            }
        }
        self.store_password(username, new, AuditAction::PasswordChanged).await
    }
}
