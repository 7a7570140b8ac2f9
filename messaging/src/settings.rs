//! App-wide settings kept in the database: for now the REST identity (SDKAppID + secret key).

use crate::error::{Error, Result};
use crate::Messaging;
use rand::Rng;

/// The app's REST identity: UserSigs are signed with `secret_key` for `sdkappid`.
#[derive(Clone, PartialEq, Eq)]
pub struct AppIdentity {
    pub sdkappid: u64,
    pub secret_key: String,
    /// True when both came from the environment; false when Herald generated and stored them.
    pub from_environment: bool,
}

// Hand-written so the secret never reaches a log line.
impl std::fmt::Debug for AppIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppIdentity")
            .field("sdkappid", &self.sdkappid)
            .field("secret_key", &"***")
            .field("from_environment", &self.from_environment)
            .finish()
    }
}

impl Messaging {
    async fn setting(&self, name: &str) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as("select value from app_setting where name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(v,)| v))
    }

    async fn put_setting_if_absent(&self, name: &str, value: &str) -> Result<()> {
        sqlx::query("insert into app_setting (name, value) values ($1, $2) on conflict (name) do nothing")
            .bind(name)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The REST identity: from the environment when given, else the stored one, else a new one
    /// generated now and stored (so it survives restarts).
    pub async fn app_identity(&self, sdkappid: Option<u64>, secret_key: Option<String>) -> Result<AppIdentity> {
        if let (Some(sdkappid), Some(secret_key)) = (sdkappid, secret_key.clone()) {
            return Ok(AppIdentity { sdkappid, secret_key, from_environment: true });
        }
        let generated_id = rand::thread_rng().gen_range(1_400_000_000u64..1_500_000_000).to_string();
        let generated_key: String = (0..32).map(|_| format!("{:02x}", rand::thread_rng().gen::<u8>())).collect();
        self.put_setting_if_absent("sdkappid", &generated_id).await?;
        self.put_setting_if_absent("secret_key", &generated_key).await?;
        let stored_id = self.setting("sdkappid").await?.unwrap_or(generated_id);
        let stored_key = self.setting("secret_key").await?.unwrap_or(generated_key);
        Ok(AppIdentity {
            sdkappid: match sdkappid {
                Some(id) => id,
                None => stored_id.parse().map_err(|_| Error::Internal("stored sdkappid is not a number".into()))?,
            },
            secret_key: secret_key.unwrap_or(stored_key),
            from_environment: false,
        })
    }
}
