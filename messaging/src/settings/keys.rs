//! The app's REST identity: the SDKAppID and the secret key UserSigs are signed with.
//!
//! Both come from the environment when given, else from `app_setting` (generated on first start
//! and stored, so they survive restarts and every node shares them). The platform owner can
//! rotate a stored key: the new key signs from then on, and UserSigs signed with the previous
//! one keep working until the grace period chosen at rotation ends. The keys in force live in
//! `Live::keys` and are read again on every node when a rotation is announced.

use crate::app_settings::KEY_GRACE_MAX_SECS;
use crate::audit::{record, AuditAction};
use crate::delivery::Change;
use crate::error::{Error, InvalidField, Result};
use crate::store::now;
use crate::usersig::{self, UserSigError};
use crate::Messaging;
use rand::Rng;
use std::collections::HashMap;

const SDKAPPID: &str = "sdkappid";
const SECRET_KEY: &str = "secret_key";
const PREVIOUS_KEY: &str = "previous_secret_key";
const PREVIOUS_UNTIL: &str = "previous_key_until";

/// The app's REST identity as a page may know it (no secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppIdentity {
    pub sdkappid: u64,
    /// True when both came from the environment; false when Herald generated and stored them.
    pub from_environment: bool,
    /// Until when (Unix seconds) the previous key is still accepted, after a rotation.
    pub previous_key_until: Option<i64>,
}

/// The keys in force on this node.
#[derive(Default)]
pub(crate) struct Keys {
    sdkappid: u64,
    current: String,
    previous: Option<(String, i64)>,
    from_environment: bool,
    /// What the environment gave (they win over the stored ones).
    env: (Option<u64>, Option<String>),
    /// Bumped whenever the keys change, so caches of verified UserSigs start over.
    generation: u64,
}

// Hand-written so a secret never reaches a log line.
impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("sdkappid", &self.sdkappid).field("generation", &self.generation).finish_non_exhaustive()
    }
}

/// A UserSig that passed: valid until `until` (its own expiry, or the end of the previous key's
/// grace period when it was signed with that key), checked against keys of `generation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyCheck {
    pub until: i64,
    pub generation: u64,
}

fn random_key() -> String {
    (0..32).map(|_| format!("{:02x}", rand::thread_rng().gen::<u8>())).collect()
}

impl Messaging {
    /// Loads the REST identity: `sdkappid` and `secret_key` from the environment when given,
    /// else the stored ones, else new ones generated now and stored.
    pub async fn load_identity(&self, sdkappid: Option<u64>, secret_key: Option<String>) -> Result<AppIdentity> {
        self.live.keys.write().unwrap_or_else(|p| p.into_inner()).env = (sdkappid, secret_key);
        let generated_id = rand::thread_rng().gen_range(1_400_000_000u64..1_500_000_000).to_string();
        for (name, value) in [(SDKAPPID, generated_id), (SECRET_KEY, random_key())] {
            sqlx::query("insert into app_setting (name, value) values ($1, $2) on conflict (name) do nothing")
                .bind(name)
                .bind(value)
                .execute(&self.store.pool)
                .await?;
        }
        let rows: Vec<(String, String)> = sqlx::query_as("select name, value from app_setting").fetch_all(&self.store.pool).await?;
        self.load_keys_from(&rows.into_iter().collect())?;
        Ok(self.identity())
    }

    /// Applies the stored keys (`app_setting` rows) under the environment's.
    pub(super) fn load_keys_from(&self, stored: &HashMap<String, String>) -> Result<()> {
        let mut keys = self.live.keys.write().unwrap_or_else(|p| p.into_inner());
        let (env_id, env_key) = keys.env.clone();
        let sdkappid = match env_id {
            Some(id) => id,
            None => match stored.get(SDKAPPID) {
                Some(id) => id.parse().map_err(|_| Error::Internal("stored sdkappid is not a number".into()))?,
                None => return Ok(()), // not loaded yet (load_identity comes first)
            },
        };
        let current = env_key.clone().or_else(|| stored.get(SECRET_KEY).cloned()).unwrap_or_default();
        let previous = match (&env_key, stored.get(PREVIOUS_KEY), stored.get(PREVIOUS_UNTIL).and_then(|u| u.parse::<i64>().ok())) {
            (None, Some(key), Some(until)) if !key.is_empty() => Some((key.clone(), until)),
            _ => None,
        };
        if keys.sdkappid != sdkappid || keys.current != current || keys.previous != previous {
            keys.generation += 1;
        }
        keys.sdkappid = sdkappid;
        self.webhooks.set_sdkappid(sdkappid);
        keys.current = current;
        keys.previous = previous;
        keys.from_environment = env_id.is_some() && env_key.is_some();
        Ok(())
    }

    /// The REST identity, without its secret.
    pub fn identity(&self) -> AppIdentity {
        let keys = self.live.keys.read().unwrap_or_else(|p| p.into_inner());
        AppIdentity {
            sdkappid: keys.sdkappid,
            from_environment: keys.from_environment,
            previous_key_until: keys.previous.as_ref().map(|(_, until)| *until).filter(|until| *until > now()),
        }
    }

    pub fn sdkappid(&self) -> u64 {
        self.live.keys.read().unwrap_or_else(|p| p.into_inner()).sdkappid
    }

    /// The secret key in force: for signing test UserSigs, and for the Settings page's explicit
    /// **Show** (the caller logs and audits that).
    pub fn secret_key(&self) -> String {
        self.live.keys.read().unwrap_or_else(|p| p.into_inner()).current.clone()
    }

    /// Bumped on every change of keys: a cache of verified UserSigs keyed by it stays right.
    pub fn key_generation(&self) -> u64 {
        self.live.keys.read().unwrap_or_else(|p| p.into_inner()).generation
    }

    /// Checks a UserSig of `identifier` for this app: against the key in force, else against the
    /// previous key while its grace period lasts.
    pub fn check_usersig(&self, sig: &str, sdkappid: u64, identifier: &str, at: i64) -> std::result::Result<KeyCheck, UserSigError> {
        let keys = self.live.keys.read().unwrap_or_else(|p| p.into_inner());
        let generation = keys.generation;
        match usersig::verify_until(sig, sdkappid, identifier, &keys.current, at) {
            Ok(until) => Ok(KeyCheck { until, generation }),
            Err(UserSigError::BadSignature) => match &keys.previous {
                Some((old, grace_until)) if at < *grace_until => usersig::verify_until(sig, sdkappid, identifier, old, at)
                    .map(|until| KeyCheck { until: until.min(*grace_until), generation }),
                _ => Err(UserSigError::BadSignature),
            },
            Err(e) => Err(e),
        }
    }

    /// A new secret key: stored, the old one kept for `grace_secs` (at most a week), audited
    /// and announced to every node. Returns the new key, to be shown once.
    pub async fn rotate_secret_key(&self, grace_secs: i64) -> Result<String> {
        if self.live.keys.read().unwrap_or_else(|p| p.into_inner()).env.1.is_some() {
            return Err(InvalidField::new("secret_key", "set by HERALD_SECRET_KEY (change it there)").into());
        }
        if !(0..=KEY_GRACE_MAX_SECS).contains(&grace_secs) {
            return Err(InvalidField::new("grace", format!("from 0 to {} hours", KEY_GRACE_MAX_SECS / 3600)).into());
        }
        let new_key = random_key();
        let mut tx = self.begin_write().await?;
        let (old,): (String,) =
            sqlx::query_as("select value from app_setting where name = $1").bind(SECRET_KEY).fetch_one(&mut *tx).await?;
        for (name, value) in
            [(SECRET_KEY, new_key.clone()), (PREVIOUS_KEY, old), (PREVIOUS_UNTIL, (self.clock.now() + grace_secs).to_string())]
        {
            sqlx::query("insert into app_setting (name, value) values ($1, $2) on conflict (name) do update set value = excluded.value")
                .bind(name)
                .bind(value)
                .execute(&mut *tx)
                .await?;
        }
        let grace = if grace_secs % 3600 == 0 { format!("{} h", grace_secs / 3600) } else { format!("{grace_secs} s") };
        record(&mut tx, AuditAction::SecretKeyRotated, None, &format!("the previous key works for {grace} more")).await?;
        self.commit_announcing(tx, vec![Change::SettingsChanged]).await?;
        self.load_settings().await?;
        Ok(new_key)
    }
}
