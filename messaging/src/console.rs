//! Console users: who may sign in to the web console, with what password, in what role.
//!
//! Passwords are argon2 (PHC strings, salted). Hashing runs on the blocking pool so a sign-in
//! never stalls the async workers. A wrong user name and a wrong password give the same error,
//! so the console does not tell anyone which user names exist.

use crate::error::{Error, InvalidField, Result};
use crate::store::now;
use crate::Messaging;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::distributions::{Alphanumeric, DistString};
use sha2::{Digest, Sha256};

/// The platform owner's user name, created on first start.
pub const PLATFORM_OWNER: &str = "admin";
pub const PASSWORD_MIN_CHARS: usize = 8;
/// A one-time sign-in link is good for a day.
const SIGN_IN_TOKEN_TTL_SECS: i64 = 24 * 3600;

/// A signed-in console user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConsoleUser {
    pub username: String,
    /// `platform_owner`, `account_owner`, `editor` or `viewer` (product.md §3).
    pub role: String,
}

impl ConsoleUser {
    pub fn is_platform_owner(&self) -> bool {
        self.role == "platform_owner"
    }
}

/// The one answer to every failed sign-in.
fn refused() -> Error {
    Error::Forbidden("wrong user name or password".into())
}

fn token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("argon2: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("hashing task: {e}")))?
}

async fn password_matches(password: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc)
            .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

fn check_password_rule(password: &str) -> Result<(), InvalidField> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err(InvalidField::new("password", format!("at least {PASSWORD_MIN_CHARS} characters")));
    }
    Ok(())
}

impl Messaging {
    /// Makes sure the platform owner exists. With `password` (HERALD_ADMIN_PASSWORD) the owner
    /// signs in with it. Without one, and while the owner has no password, returns a fresh
    /// one-time sign-in token for the start-up log.
    pub async fn ensure_platform_owner(&self, password: Option<&str>) -> Result<Option<String>> {
        let existing: Option<(Option<String>,)> =
            sqlx::query_as("select password_hash from console_user where username = $1")
                .bind(PLATFORM_OWNER)
                .fetch_optional(&self.pool)
                .await?;
        if existing.is_none() {
            sqlx::query("insert into console_user (username, password_hash, role, created_at) values ($1, null, 'platform_owner', $2)")
                .bind(PLATFORM_OWNER)
                .bind(now())
                .execute(&self.pool)
                .await?;
        }
        let current_hash = existing.and_then(|(h,)| h);
        match (password, current_hash) {
            (Some(pw), Some(hash)) if password_matches(pw.to_owned(), hash.clone()).await => Ok(None),
            (Some(pw), _) => {
                check_password_rule(pw)?;
                self.store_password(PLATFORM_OWNER, pw).await?;
                Ok(None)
            }
            (None, Some(_)) => Ok(None),
            (None, None) => {
                let token = Alphanumeric.sample_string(&mut rand::thread_rng(), 40);
                sqlx::query("insert into sign_in_token (token_hash, username, expires_at) values ($1, $2, $3)")
                    .bind(token_hash(&token))
                    .bind(PLATFORM_OWNER)
                    .bind(now() + SIGN_IN_TOKEN_TTL_SECS)
                    .execute(&self.pool)
                    .await?;
                Ok(Some(token))
            }
        }
    }

    async fn store_password(&self, username: &str, password: &str) -> Result<()> {
        let hash = hash_password(password.to_owned()).await?;
        sqlx::query("update console_user set password_hash = $2 where username = $1")
            .bind(username)
            .bind(hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn console_user(&self, username: &str) -> Result<Option<ConsoleUser>> {
        let row: Option<(String, String)> = sqlx::query_as("select username, role from console_user where username = $1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(username, role)| ConsoleUser { username, role }))
    }

    /// Checks a user name and password.
    pub async fn sign_in(&self, username: &str, password: &str) -> Result<ConsoleUser> {
        let row: Option<(String, Option<String>)> =
            sqlx::query_as("select role, password_hash from console_user where username = $1")
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
        let Some((role, Some(hash))) = row else {
            return Err(refused());
        };
        if !password_matches(password.to_owned(), hash).await {
            return Err(refused());
        }
        Ok(ConsoleUser { username: username.to_owned(), role })
    }

    /// Redeems a one-time sign-in token: it works once, before it expires.
    pub async fn redeem_sign_in_token(&self, token: &str) -> Result<ConsoleUser> {
        let row: Option<(String,)> = sqlx::query_as(
            "update sign_in_token set used_at = $2 where token_hash = $1 and used_at is null and expires_at >= $2 returning username",
        )
        .bind(token_hash(token))
        .bind(now())
        .fetch_optional(&self.pool)
        .await?;
        let Some((username,)) = row else {
            return Err(Error::Forbidden("this sign-in link is unknown, used or expired".into()));
        };
        self.console_user(&username).await?.ok_or_else(refused)
    }

    /// Sets a console user's password (the settings page, after a one-time link).
    pub async fn set_console_password(&self, username: &str, password: &str) -> Result<()> {
        check_password_rule(password)?;
        self.store_password(username, password).await
    }
}
