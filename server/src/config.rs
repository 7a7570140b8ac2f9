//! Configuration: flags, each with an environment variable (`server --help` lists them).
//! Secrets are hidden from `--help` and from `Debug`, so they never reach a log line.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Parser)]
#[command(name = "server", version, about = "Herald: a self-hosted Official Accounts platform")]
pub struct Config {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "HERALD_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Database: sqlite://path (created if missing) or postgres://user@host/db.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://./data/herald.db", hide_env_values = true)]
    pub database_url: String,

    /// The app's SDKAppID for REST calls. Generated on first start and stored when unset.
    #[arg(long, env = "HERALD_SDKAPPID")]
    pub sdkappid: Option<u64>,

    /// The secret key UserSigs are signed with. Generated on first start and stored when unset.
    #[arg(long, env = "HERALD_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// The REST administrator's user ID (the `identifier` query parameter).
    #[arg(long, env = "HERALD_ADMIN_IDENTIFIER", default_value = "administrator")]
    pub admin_identifier: String,

    /// Password of the console's platform owner (user `admin`). When unset, the first start
    /// prints a one-time sign-in link instead.
    #[arg(long, env = "HERALD_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Broadcasts one official account may send per second.
    #[arg(long, env = "HERALD_BROADCASTS_PER_SECOND", default_value_t = 1)]
    pub broadcasts_per_second: u32,

    /// Broadcasts one official account may send per hour.
    #[arg(long, env = "HERALD_BROADCASTS_PER_HOUR", default_value_t = 2)]
    pub broadcasts_per_hour: u32,

    /// REST calls per second to each command; more answer 60007.
    #[arg(long, env = "HERALD_REST_CALLS_PER_SECOND", default_value_t = 200)]
    pub rest_calls_per_second: u32,

    /// The app's webhook URL (rest-api.md §8); unset: no callbacks.
    #[arg(long, env = "HERALD_WEBHOOK_URL")]
    pub webhook_url: Option<String>,

    /// Secret that signs webhook requests (see README, Webhooks).
    #[arg(long, env = "HERALD_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,

    /// The offline push hook: receives batches of AcceptAndNotify subscribers to notify for each
    /// broadcast (see README, Offline push); unset: no pushes. Signed like the webhooks.
    #[arg(long, env = "HERALD_PUSH_URL")]
    pub push_url: Option<String>,

    /// Folder with the built front end (pkg/ with the wasm, JS and CSS; public assets).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let db = match self.database_url.split_once('@') {
            Some((_, host)) if self.database_url.starts_with("postgres") => format!("postgres://***@{host}"),
            _ => self.database_url.clone(),
        };
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("database_url", &db)
            .field("sdkappid", &self.sdkappid)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .field("admin_identifier", &self.admin_identifier)
            .field("admin_password", &self.admin_password.as_ref().map(|_| "***"))
            .field("broadcasts_per_second", &self.broadcasts_per_second)
            .field("broadcasts_per_hour", &self.broadcasts_per_hour)
            .field("rest_calls_per_second", &self.rest_calls_per_second)
            .field("webhook_url", &self.webhook_url)
            .field("webhook_secret", &self.webhook_secret.as_ref().map(|_| "***"))
            .field("push_url", &self.push_url)
            .field("site_root", &self.site_root)
            .finish()
    }
}

impl Config {
    /// Defaults for tests: a given database, port 0, fixed REST identity.
    pub fn for_tests(database_url: &str) -> Self {
        Config::parse_from(["server", "--addr", "127.0.0.1:0", "--database-url", database_url])
    }
}
