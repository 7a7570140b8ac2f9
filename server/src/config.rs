//! Configuration: flags, each with an environment variable (`server --help` lists them).
//! Secrets are hidden from `--help` and from `Debug`, so they never reach a log line.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug, Parser)]
#[command(name = "server", version, about = "Herald: a self-hosted Official Accounts platform")]
pub struct Config {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "HERALD_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Database: sqlite://path (created if missing) or postgres://user@host/db.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://./data/herald.db", hide_env_values = true)]
    pub database_url: DatabaseUrl,

    /// The app's SDKAppID for REST calls. Generated on first start and stored when unset.
    #[arg(long, env = "HERALD_SDKAPPID")]
    pub sdkappid: Option<u64>,

    /// The secret key UserSigs are signed with. Generated on first start and stored when unset.
    #[arg(long, env = "HERALD_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<Secret>,

    /// The REST administrator's user ID (the `identifier` query parameter).
    #[arg(long, env = "HERALD_ADMIN_IDENTIFIER", default_value = "administrator")]
    pub admin_identifier: String,

    /// Password of the console's platform owner (user `admin`). When unset, the first start
    /// prints a one-time sign-in link instead.
    #[arg(long, env = "HERALD_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<Secret>,

    // The settings below (hooks, quotas, session inactivity) are editable on the console's
    // Settings page and stored in the database; given here, they win and the page cannot change
    // them. Their defaults: messaging::AppSettings::DEFAULT.
    /// Broadcasts one official account may send per second (default 1).
    #[arg(long, env = "HERALD_BROADCASTS_PER_SECOND")]
    pub broadcasts_per_second: Option<u32>,

    /// Broadcasts one official account may send per hour (default 2).
    #[arg(long, env = "HERALD_BROADCASTS_PER_HOUR")]
    pub broadcasts_per_hour: Option<u32>,

    /// REST calls per second to each command; more answer 60007 (default 200).
    #[arg(long, env = "HERALD_REST_CALLS_PER_SECOND")]
    pub rest_calls_per_second: Option<u32>,

    /// Hours without a request after which a console session ends (default 12).
    #[arg(long, env = "HERALD_SESSION_IDLE_HOURS")]
    pub session_idle_hours: Option<u32>,

    /// Days a sent post may be edited (default 30; 0 turns editing off).
    #[arg(long, env = "HERALD_EDIT_WINDOW_DAYS")]
    pub edit_window_days: Option<u32>,

    /// The app's webhook URL (docs/rest-api.md §8); unset: no callbacks.
    #[arg(long, env = "HERALD_WEBHOOK_URL")]
    pub webhook_url: Option<String>,

    /// Secret that signs webhook requests (see README, Webhooks).
    #[arg(long, env = "HERALD_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<Secret>,

    /// The offline push hook: receives batches of AcceptAndNotify subscribers to notify for each
    /// broadcast (see README, Offline push); unset: no pushes. Signed like the webhooks.
    #[arg(long, env = "HERALD_PUSH_URL")]
    pub push_url: Option<String>,

    /// Folder with the built front end (pkg/ with the wasm, JS and CSS; public assets).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// The console's public URL (`https://herald.example.com`) when Herald runs behind a proxy:
    /// cross-site requests are refused by comparing the browser's Origin with it. Unset: the
    /// request's own Host.
    #[arg(long, env = "HERALD_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// The app's deep link for invite links' **Open in the app** button, with `{account}` and
    /// `{code}` filled in (`myapp://subscribe?account={account}&invite={code}`). Unset: the
    /// landing page shows the code to enter in the app instead.
    #[arg(long, env = "HERALD_APP_LINK_TEMPLATE")]
    pub app_link_template: Option<String>,

    /// Requests per second one client address may make to the public web pages, feeds, embeds
    /// and invite pages (twice as many in a burst); beyond it they get 429 with a sentence.
    #[arg(long, env = "HERALD_PUBLIC_REQUESTS_PER_SECOND", default_value_t = 20)]
    pub public_requests_per_second: u32,

    /// Whether the session cookie is `Secure` (sent over HTTPS only). Default: on when the public
    /// URL is https.
    #[arg(long, env = "HERALD_COOKIE_SECURE")]
    pub cookie_secure: Option<bool>,

    /// Seconds a client has to send a request's headers.
    #[arg(long, env = "HERALD_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,

    /// Seconds a request may take, its body included (WebSocket sessions excepted).
    #[arg(long, env = "HERALD_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Seconds a kept-alive connection may stay idle before it is closed.
    #[arg(long, env = "HERALD_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    pub idle_timeout_secs: u64,

    /// On SIGTERM, seconds requests in flight get to finish before their connections are cut.
    #[arg(long, env = "HERALD_SHUTDOWN_TIMEOUT_SECS", default_value_t = 10)]
    pub shutdown_timeout_secs: u64,

    /// Attempts at an "after" webhook or a push batch before it moves to the dead letters.
    #[arg(long, env = "HERALD_DELIVERY_MAX_ATTEMPTS", default_value_t = messaging::webhooks::DeliveryPolicy::DEFAULT.max_attempts)]
    pub delivery_max_attempts: u32,

    /// Seconds an undelivered webhook event or push batch is retried before it moves to the
    /// dead letters.
    #[arg(long, env = "HERALD_DELIVERY_MAX_AGE_SECS", default_value_t = messaging::webhooks::DeliveryPolicy::DEFAULT.max_age_secs)]
    pub delivery_max_age_secs: i64,

    /// Largest image upload, in bytes (post images and avatars).
    #[arg(long, env = "HERALD_UPLOAD_MAX_BYTES", default_value_t = messaging::MediaLimits::DEFAULT.max_bytes)]
    pub upload_max_bytes: usize,

    /// Largest image upload, in pixels (width × height, read from the header before decoding).
    #[arg(long, env = "HERALD_UPLOAD_MAX_PIXELS", default_value_t = messaging::MediaLimits::DEFAULT.max_pixels)]
    pub upload_max_pixels: u64,

    /// Seconds between the pings the server sends each client connection (`/v1/client`).
    #[arg(long, env = "HERALD_CLIENT_PING_SECS", default_value_t = messaging::delivery::Keepalive::DEFAULT.ping_every_secs)]
    pub client_ping_secs: u64,

    /// Seconds a client connection may stay silent (not even a pong) before it is closed.
    #[arg(long, env = "HERALD_CLIENT_SILENCE_SECS", default_value_t = messaging::delivery::Keepalive::DEFAULT.silence_max_secs)]
    pub client_silence_secs: u64,

    /// Address of the Prometheus metrics listener (`/metrics`, docs/operations.md); unset: off.
    /// Keep it off the public network.
    #[arg(long, env = "HERALD_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// On SIGTERM, seconds the node keeps serving with `/readyz` at 503 (so a load balancer
    /// stops sending it traffic) before it stops accepting connections. Client connections are
    /// closed with 1012 at once.
    #[arg(long, env = "HERALD_DRAIN_SECS", default_value_t = 5)]
    pub drain_secs: u64,

    /// Log lines as `text` (for people) or `json` (one object a line, for a log pipeline).
    #[arg(long, env = "HERALD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// What the binary does besides serving.
#[derive(Clone, Debug, clap::Subcommand)]
pub enum Command {
    /// Removes a console user's password, revokes their sign-in links and prints a new one-time
    /// sign-in link (valid 24 h); the user then sets a new password in Settings.
    ResetPassword {
        /// The console user (the platform owner is `admin`).
        username: String,
    },
    /// Writes a consistent copy of the SQLite database (uploaded media included) to PATH while
    /// servers keep running. On PostgreSQL, use pg_dump (see the README).
    Backup {
        /// The backup file to write; it must not exist.
        path: PathBuf,
    },
    /// Replaces the SQLite database with the backup at PATH (checked first; the current one is
    /// kept as FILE.replaced). Refused while a server uses the database.
    Restore {
        /// A file written by `server backup`.
        path: PathBuf,
    },
}

/// A setting that must never be printed: `Debug` shows `***`, so `Config` derives `Debug` and a
/// field added later cannot leak by being forgotten in a hand-written one.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// The database's URL; `Debug` hides a PostgreSQL URL's user and password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl std::ops::Deref for DatabaseUrl {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.split_once('@') {
            Some((_, host)) if self.0.starts_with("postgres") => write!(f, "postgres://***@{host}"),
            _ => f.write_str(&self.0),
        }
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl Config {
    /// The environment variable each editable setting is read from, as the flags above declare
    /// it (so the console names exactly the variable the operator set).
    pub fn setting_sources() -> Vec<(messaging::SettingField, String)> {
        use clap::CommandFactory;
        let command = Config::command();
        messaging::SettingField::ALL
            .into_iter()
            .filter_map(|field| {
                let arg = command.get_arguments().find(|a| a.get_id() == field.name())?;
                Some((field, arg.get_env()?.to_string_lossy().into_owned()))
            })
            .collect()
    }

    /// The session cookie's `Secure` flag: the setting, else whether the public URL is https.
    pub fn cookie_secure(&self) -> bool {
        self.cookie_secure.unwrap_or_else(|| self.public_url.as_deref().is_some_and(|u| u.starts_with("https://")))
    }

    /// `scheme://host[:port]` of [`Self::public_url`], as browsers send it in `Origin`.
    pub fn public_origin(&self) -> Option<String> {
        let url = self.public_url.as_deref()?.trim_end_matches('/');
        let (scheme, rest) = url.split_once("://")?;
        let host = rest.split('/').next()?;
        Some(format!("{}://{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
    }

    /// Defaults for tests: a given database, port 0, fixed REST identity.
    #[cfg(feature = "testing")]
    pub fn for_tests(database_url: &str) -> Self {
        // Tests run in server/: the front end scripts/build.sh wrote is in the workspace's target/.
        let site_root = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site");
        Config::parse_from([
            "server",
            "--addr",
            "127.0.0.1:0",
            "--database-url",
            database_url,
            "--site-root",
            site_root,
            "--drain-secs",
            "0",
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_prints_no_secret_and_no_database_password() {
        let config = Config::parse_from([
            "server",
            "--database-url",
            "postgres://herald:db-pass-1@db.example/herald",
            "--secret-key",
            "key-value-2",
            "--admin-password",
            "admin-pass-3",
            "--webhook-secret",
            "hook-secret-4",
        ]);
        let printed = format!("{config:?}");
        for secret in ["db-pass-1", "key-value-2", "admin-pass-3", "hook-secret-4", "herald:"] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(printed.contains("postgres://***@db.example/herald"), "{printed}");
        assert!(printed.contains("client_silence_secs"), "every field is printed: {printed}");
        assert_eq!(config.secret_key.as_ref().map(Secret::expose), Some("key-value-2"));
    }

    #[test]
    fn every_editable_setting_names_the_variable_it_is_read_from() {
        let sources = Config::setting_sources();
        assert_eq!(sources.len(), messaging::SettingField::ALL.len(), "{sources:?}");
        assert!(sources.contains(&(messaging::SettingField::BroadcastsPerHour, "HERALD_BROADCASTS_PER_HOUR".into())));
        assert!(sources.contains(&(messaging::SettingField::WebhookSecret, "HERALD_WEBHOOK_SECRET".into())));
    }
}
