//! The app settings the platform owner edits in the console (webhook and push hooks, quotas,
//! session inactivity), with their defaults and ranges in one place. Pure, so the Settings page
//! checks a field while it is typed with the same rule the server applies.
//!
//! Stored in the database (`app_setting`); a value given in the environment wins over the stored
//! one, and the page says so. Storing and applying them on every node: `settings` (backend).

use crate::error::InvalidField;
use serde::{Deserialize, Serialize};

/// The app's quotas. Defaults follow Tencent: 1 broadcast/s and 2/hour per account,
/// 200 calls/s per REST command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppLimits {
    pub broadcasts_per_second: u32,
    pub broadcasts_per_hour: u32,
    pub rest_calls_per_second: u32,
}

impl AppLimits {
    /// The defaults, in one place (the server's flags and [`AppSettings::DEFAULT`] use them).
    pub const DEFAULT: Self = Self { broadcasts_per_second: 1, broadcasts_per_hour: 2, rest_calls_per_second: 200 };
}

impl Default for AppLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The editable settings as they apply (the webhook secret is not here: it is never sent to a
/// page, only replaced).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSettings {
    /// Where webhooks go (docs/rest-api.md §8); `None`: no callbacks.
    pub webhook_url: Option<String>,
    /// The offline push hook; `None`: no pushes.
    pub push_url: Option<String>,
    pub broadcasts_per_second: u32,
    pub broadcasts_per_hour: u32,
    pub rest_calls_per_second: u32,
    /// A console session ends after this many hours without a request.
    pub session_idle_hours: u32,
    /// A sent post may be edited for this many days (docs/rest-api.md §9); 0: never.
    #[serde(default = "default_edit_window_days")]
    pub edit_window_days: u32,
}

fn default_edit_window_days() -> u32 {
    AppSettings::DEFAULT.edit_window_days
}

impl AppSettings {
    /// The defaults.
    pub const DEFAULT: Self = Self {
        webhook_url: None,
        push_url: None,
        broadcasts_per_second: AppLimits::DEFAULT.broadcasts_per_second,
        broadcasts_per_hour: AppLimits::DEFAULT.broadcasts_per_hour,
        rest_calls_per_second: AppLimits::DEFAULT.rest_calls_per_second,
        session_idle_hours: 12,
        edit_window_days: 30,
    };

    /// Checks every field; the first refusal names its field.
    pub fn check(&self) -> Result<(), InvalidField> {
        for (field, url) in [(SettingField::WebhookUrl, &self.webhook_url), (SettingField::PushUrl, &self.push_url)] {
            if let Some(url) = url {
                check_hook_url(field.name(), url)?;
            }
        }
        for field in SettingField::NUMBERS {
            let (min, max) = field.range();
            let value = self.number(field);
            if value < min || value > max {
                return Err(InvalidField::new(field.name(), format!("from {min} to {max}")));
            }
        }
        Ok(())
    }

    pub fn number(&self, field: SettingField) -> u32 {
        match field {
            SettingField::BroadcastsPerSecond => self.broadcasts_per_second,
            SettingField::BroadcastsPerHour => self.broadcasts_per_hour,
            SettingField::RestCallsPerSecond => self.rest_calls_per_second,
            SettingField::SessionIdleHours => self.session_idle_hours,
            SettingField::EditWindowDays => self.edit_window_days,
            _ => 0,
        }
    }
}

impl AppSettings {
    pub fn limits(&self) -> AppLimits {
        AppLimits {
            broadcasts_per_second: self.broadcasts_per_second,
            broadcasts_per_hour: self.broadcasts_per_hour,
            rest_calls_per_second: self.rest_calls_per_second,
        }
    }
}

impl Default for AppSettings {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A hook URL: http or https, with a host, at most 1,024 bytes.
pub fn check_hook_url(field: &str, url: &str) -> Result<(), InvalidField> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        _ if url.len() > 1024 => Err(InvalidField::new(field, "at most 1024 bytes")),
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !url.chars().any(char::is_whitespace) => Ok(()),
        _ => Err(InvalidField::new(field, "an http:// or https:// URL")),
    }
}

/// One editable setting: its stored name (also the form field's name) and its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SettingField {
    WebhookUrl,
    WebhookSecret,
    PushUrl,
    BroadcastsPerSecond,
    BroadcastsPerHour,
    RestCallsPerSecond,
    SessionIdleHours,
    EditWindowDays,
}

impl SettingField {
    pub const ALL: [SettingField; 8] = [
        Self::WebhookUrl,
        Self::WebhookSecret,
        Self::PushUrl,
        Self::BroadcastsPerSecond,
        Self::BroadcastsPerHour,
        Self::RestCallsPerSecond,
        Self::SessionIdleHours,
        Self::EditWindowDays,
    ];
    pub const NUMBERS: [SettingField; 5] =
        [Self::BroadcastsPerSecond, Self::BroadcastsPerHour, Self::RestCallsPerSecond, Self::SessionIdleHours, Self::EditWindowDays];

    pub fn name(self) -> &'static str {
        match self {
            Self::WebhookUrl => "webhook_url",
            Self::WebhookSecret => "webhook_secret",
            Self::PushUrl => "push_url",
            Self::BroadcastsPerSecond => "broadcasts_per_second",
            Self::BroadcastsPerHour => "broadcasts_per_hour",
            Self::RestCallsPerSecond => "rest_calls_per_second",
            Self::SessionIdleHours => "session_idle_hours",
            Self::EditWindowDays => "edit_window_days",
        }
    }

    /// Allowed values of a number (inclusive).
    pub fn range(self) -> (u32, u32) {
        match self {
            Self::BroadcastsPerSecond => (1, 10_000),
            Self::BroadcastsPerHour => (1, 1_000_000),
            Self::RestCallsPerSecond => (1, 1_000_000),
            Self::SessionIdleHours => (1, 24 * 30),
            Self::EditWindowDays => (0, 3650),
            _ => (0, 0),
        }
    }
}

/// What the Settings page shows: the values in force, whether a webhook secret is set, and
/// which fields the environment decides (they cannot be edited).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    pub values: AppSettings,
    pub webhook_secret_set: bool,
    pub from_environment: Vec<FromEnvironment>,
}

/// A setting the server was given at start, and where (as the server spells it, say
/// `HERALD_WEBHOOK_URL`), so the page can say where to change it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FromEnvironment {
    pub field: SettingField,
    pub variable: String,
}

/// A change from the Settings page. `webhook_secret`: `None` keeps it, `Some("")` removes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsChange {
    pub values: AppSettings,
    pub webhook_secret: Option<String>,
}

/// What the webhook URL answered to the Settings page's **Send test callback**.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestCallback {
    /// The HTTP status, when the endpoint answered.
    pub status: Option<u16>,
    /// Why there is no status (unreachable, timed out), as a sentence.
    pub error: Option<String>,
    pub millis: u64,
}

/// The longest grace period of a rotated secret key (a week), and the default (a day).
pub const KEY_GRACE_MAX_SECS: i64 = 7 * 24 * 3600;
pub const KEY_GRACE_DEFAULT_SECS: i64 = 24 * 3600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_pass_their_own_checks() {
        assert_eq!(AppSettings::DEFAULT.check(), Ok(()));
    }

    #[test]
    fn a_hook_must_be_an_http_url_and_numbers_stay_in_range() {
        let with = |f: fn(&mut AppSettings)| {
            let mut s = AppSettings::DEFAULT;
            f(&mut s);
            s.check().map_err(|e| e.field)
        };
        assert_eq!(with(|s| s.webhook_url = Some("https://hooks.example/cb?x=1".into())), Ok(()));
        assert_eq!(with(|s| s.webhook_url = Some("ftp://hooks.example".into())), Err("webhook_url".into()));
        assert_eq!(with(|s| s.push_url = Some("http:// x".into())), Err("push_url".into()));
        assert_eq!(with(|s| s.broadcasts_per_second = 0), Err("broadcasts_per_second".into()));
        assert_eq!(with(|s| s.session_idle_hours = 24 * 31), Err("session_idle_hours".into()));
    }
}
