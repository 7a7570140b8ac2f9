//! App settings kept in the database (`app_setting` rows) and applied on every node.
//!
//! * `keys`: the REST identity (SDKAppID and secret key), its rotation with a grace period,
//!   and UserSig checks against it.
//! * here: the editable settings of [`crate::app_settings`]. Each node keeps the values in force
//!   in [`Live`], shared by every clone of [`Messaging`]. A change is stored with its audit event
//!   and announced ([`Change::SettingsChanged`]) in one transaction; every node (this one
//!   included) then reads the rows again. The environment wins over stored values: the server
//!   passes what it was given as [`SettingsOverrides`].

mod keys;

pub use keys::{AppIdentity, KeyCheck};

use crate::app_settings::{AppLimits, AppSettings, SettingField, SettingsChange, SettingsView};
use crate::audit::{record, AuditAction};
use crate::delivery::Change;
use crate::error::{InvalidField, Result};
use crate::webhooks::WebhookSettings;
use crate::Messaging;
use std::sync::RwLock;

/// Values given in the environment: they win over stored ones and cannot be edited.
#[derive(Clone, Default)]
pub struct SettingsOverrides {
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    pub push_url: Option<String>,
    pub broadcasts_per_second: Option<u32>,
    pub broadcasts_per_hour: Option<u32>,
    pub rest_calls_per_second: Option<u32>,
    pub session_idle_hours: Option<u32>,
    pub edit_window_days: Option<u32>,
    /// Where the front door read each of them (its environment variables); the Settings page
    /// and refusals name them. The core knows no variable names of its own.
    pub sources: Vec<(SettingField, String)>,
}

impl SettingsOverrides {
    /// Where `field` was given, as the front door said; else a description.
    fn source(&self, field: SettingField) -> String {
        self.sources.iter().find(|(f, _)| *f == field).map_or_else(|| "the server's environment".to_owned(), |(_, s)| s.clone())
    }

    fn has(&self, field: SettingField) -> bool {
        match field {
            SettingField::WebhookUrl => self.webhook_url.is_some(),
            SettingField::WebhookSecret => self.webhook_secret.is_some(),
            SettingField::PushUrl => self.push_url.is_some(),
            SettingField::BroadcastsPerSecond => self.broadcasts_per_second.is_some(),
            SettingField::BroadcastsPerHour => self.broadcasts_per_hour.is_some(),
            SettingField::RestCallsPerSecond => self.rest_calls_per_second.is_some(),
            SettingField::SessionIdleHours => self.session_idle_hours.is_some(),
            SettingField::EditWindowDays => self.edit_window_days.is_some(),
        }
    }
}

/// The settings in force on this node.
#[derive(Default)]
pub(crate) struct Live {
    overrides: RwLock<SettingsOverrides>,
    values: RwLock<(AppSettings, Option<String>)>,
    pub(crate) keys: RwLock<keys::Keys>,
}

impl Live {
    pub(crate) fn settings(&self) -> AppSettings {
        self.values.read().unwrap_or_else(|p| p.into_inner()).0.clone()
    }

    pub(crate) fn limits(&self) -> AppLimits {
        self.settings().limits()
    }
}

/// Stored values: `app_setting` rows named by [`SettingField::name`]; an empty text is "none".
fn merged(stored: &std::collections::HashMap<String, String>, env: &SettingsOverrides) -> (AppSettings, Option<String>) {
    let d = AppSettings::DEFAULT;
    let text = |field: SettingField, env: &Option<String>| -> Option<String> {
        env.clone().or_else(|| stored.get(field.name()).cloned()).filter(|v| !v.is_empty())
    };
    let number = |field: SettingField, env: Option<u32>, default: u32| -> u32 {
        env.or_else(|| stored.get(field.name()).and_then(|v| v.parse().ok())).unwrap_or(default)
    };
    let settings = AppSettings {
        webhook_url: text(SettingField::WebhookUrl, &env.webhook_url),
        push_url: text(SettingField::PushUrl, &env.push_url),
        broadcasts_per_second: number(SettingField::BroadcastsPerSecond, env.broadcasts_per_second, d.broadcasts_per_second),
        broadcasts_per_hour: number(SettingField::BroadcastsPerHour, env.broadcasts_per_hour, d.broadcasts_per_hour),
        rest_calls_per_second: number(SettingField::RestCallsPerSecond, env.rest_calls_per_second, d.rest_calls_per_second),
        session_idle_hours: number(SettingField::SessionIdleHours, env.session_idle_hours, d.session_idle_hours),
        edit_window_days: number(SettingField::EditWindowDays, env.edit_window_days, d.edit_window_days),
    };
    (settings, text(SettingField::WebhookSecret, &env.webhook_secret))
}

impl Messaging {
    /// The same handle with `overrides` from the environment (call [`Self::load_settings`] next).
    pub fn with_settings_overrides(self, overrides: SettingsOverrides) -> Self {
        *self.live.overrides.write().unwrap_or_else(|p| p.into_inner()) = overrides;
        self
    }

    /// The same handle with other quotas, as if given in the environment (tests).
    pub fn with_limits(self, limits: AppLimits) -> Self {
        {
            let mut o = self.live.overrides.write().unwrap_or_else(|p| p.into_inner());
            o.broadcasts_per_second = Some(limits.broadcasts_per_second);
            o.broadcasts_per_hour = Some(limits.broadcasts_per_hour);
            o.rest_calls_per_second = Some(limits.rest_calls_per_second);
        }
        let mut values = self.live.values.write().unwrap_or_else(|p| p.into_inner());
        values.0.broadcasts_per_second = limits.broadcasts_per_second;
        values.0.broadcasts_per_hour = limits.broadcasts_per_hour;
        values.0.rest_calls_per_second = limits.rest_calls_per_second;
        drop(values);
        self
    }

    pub fn limits(&self) -> AppLimits {
        self.live.limits()
    }

    /// The settings in force on this node.
    pub fn settings(&self) -> AppSettings {
        self.live.settings()
    }

    /// Reads the stored settings, merges the environment over them and applies the result to
    /// this node (every clone of this handle). Called at start and on every announced change.
    pub async fn load_settings(&self) -> Result<()> {
        let rows: Vec<(String, String)> = sqlx::query_as("select name, value from app_setting").fetch_all(&self.store.pool).await?;
        let stored: std::collections::HashMap<String, String> = rows.into_iter().collect();
        let env = self.live.overrides.read().unwrap_or_else(|p| p.into_inner()).clone();
        let (settings, secret) = merged(&stored, &env);
        self.webhooks.set_settings(WebhookSettings {
            url: settings.webhook_url.clone(),
            secret: secret.clone(),
            push_url: settings.push_url.clone(),
        });
        *self.live.values.write().unwrap_or_else(|p| p.into_inner()) = (settings, secret);
        self.load_keys_from(&stored)?;
        // Hooks may have appeared: the workers look again.
        self.webhook_queued();
        self.push_queued();
        Ok(())
    }

    /// [`Self::load_settings`] from the hub's listener: a failure is logged (the next change
    /// or restart reads them again).
    pub(crate) async fn reload_settings(self) {
        if let Err(e) = self.load_settings().await {
            tracing::error!(error = %e, "reading changed settings failed");
        } else {
            tracing::info!("settings changed on some node: applied here");
        }
    }

    /// What the Settings page shows.
    pub fn settings_view(&self) -> SettingsView {
        let env = self.live.overrides.read().unwrap_or_else(|p| p.into_inner()).clone();
        let values = self.live.values.read().unwrap_or_else(|p| p.into_inner()).clone();
        SettingsView {
            values: values.0,
            webhook_secret_set: values.1.is_some(),
            from_environment: SettingField::ALL
                .into_iter()
                .filter(|f| env.has(*f))
                .map(|field| crate::app_settings::FromEnvironment { field, variable: env.source(field) })
                .collect(),
        }
    }

    /// Stores a change from the Settings page (fields the environment decides must keep their
    /// value), records it in the audit log and makes every node apply it.
    pub async fn save_settings(&self, change: &SettingsChange) -> Result<()> {
        change.values.check()?;
        let env = self.live.overrides.read().unwrap_or_else(|p| p.into_inner()).clone();
        let now_in_force = self.settings();
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let mut rows: Vec<(SettingField, String)> =
            vec![(SettingField::WebhookUrl, text(&change.values.webhook_url)), (SettingField::PushUrl, text(&change.values.push_url))];
        rows.extend(SettingField::NUMBERS.map(|f| (f, change.values.number(f).to_string())));
        if let Some(secret) = &change.webhook_secret {
            rows.push((SettingField::WebhookSecret, secret.clone()));
        }
        let in_force = |f: SettingField| match f {
            SettingField::WebhookUrl => text(&now_in_force.webhook_url),
            SettingField::PushUrl => text(&now_in_force.push_url),
            SettingField::WebhookSecret => String::new(),
            n => now_in_force.number(n).to_string(),
        };
        for (field, value) in &rows {
            if env.has(*field) && (*field == SettingField::WebhookSecret || *value != in_force(*field)) {
                return Err(InvalidField::new(field.name(), format!("set by {} (change it there)", env.source(*field))).into());
            }
        }
        let changed: Vec<&str> =
            rows.iter().filter(|(f, v)| *f == SettingField::WebhookSecret || *v != in_force(*f)).map(|(f, _)| f.name()).collect();
        let mut tx = self.begin_write().await?;
        for (field, value) in rows.iter().filter(|(f, _)| !env.has(*f)) {
            sqlx::query("insert into app_setting (name, value) values ($1, $2) on conflict (name) do update set value = excluded.value")
                .bind(field.name())
                .bind(value)
                .execute(&mut *tx)
                .await?;
        }
        record(
            &mut tx,
            AuditAction::SettingsChanged,
            None,
            &format!("changed: {}", if changed.is_empty() { "nothing".to_string() } else { changed.join(", ") }),
        )
        .await?;
        self.commit_announcing(tx, vec![Change::SettingsChanged]).await?;
        self.load_settings().await
    }
}
