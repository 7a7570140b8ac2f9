//! Herald's messaging core: official accounts, users, subscribers, posts and broadcasts, live
//! delivery and their storage. It knows nothing of HTTP or Leptos; the REST API and the console both call it,
//! so every rule lives here once.
//!
//! # Layout
//! * [`audit`]: the audit log, written in the same transaction as each change.
//! * [`ids`]: [`OfficialAccountId`] and [`UserId`] parse Tencent's ID rules.
//! * [`profile`]: an account's profile with its byte limits ([`AccountProfile`], [`ProfileUpdate`]).
//! * [`error`]: the one [`Error`] enum; front doors map it to their wire codes in one place each.
//! * with the `backend` feature (everything below needs a database):
//!   * `store`: opening SQLite or PostgreSQL and migrating it.
//!   * `accounts`, `users`: official accounts and imported users.
//!   * `console`: console users, roles, sessions, passwords and one-time sign-in links, behind
//!     an area handle of its own ([`Console`], from [`Messaging::console`]) that owns its state
//!     (the sign-in throttle) and holds only the store and the settings in force.
//!   * `settings`: the app's REST identity.
//!   * [`insights`]: what editors learn back (reach, reads, growth), counted with each event,
//!     behind its own handle ([`insights::Insights`], from [`Messaging::insights`]).
//!   * [`public`]: the public web (handle and page switch, invite links), behind its own handle
//!     ([`public::Public`], from [`Messaging::public`]).
//!   * [`polls`]: polls' rules (pure) and, behind their own handle ([`polls::Polls`], from
//!     [`Messaging::polls`]), votes and results.
//!   * [`operations`]: readiness, the gauges operators watch, SQLite backup and restore, and
//!     an account's export page by page, behind its own handle ([`operations::Operations`]).
//!   * [`lifecycle`]: editing a sent post (every version kept) and pinning one.
//!   * [`subscribers`]: who follows an account (counter kept with the rows); concurrent adds
//!     to one account share a transaction (`subscribe_group`).
//!   * [`post`]: the composer's posts (pure types and renderer; drafts and scheduling with
//!     `backend`); [`media`]: uploaded images, checked and re-encoded.
//!   * [`broadcasts`]: send (stored once), history, recall; [`message`] checks bodies.
//!   * [`direct`]: one-to-one messages between an account and a subscriber.
//!   * `limits`: broadcast frequency (stored, so it holds across restarts and nodes) and REST
//!     call rate ([`AppLimits`]).
//!   * [`webhooks`]: "before" callbacks (2 s timeout) and the durable "after" outbox.
//!   * [`push`]: offline push jobs for `AcceptAndNotify` subscribers, walked by keyset.
//!   * [`delivery`]: the client protocol's side: changes announced to every node's hub,
//!     conversations, unread counts, reactions, presence.
//!   * [`usersig`]: TLSSigAPIv2 verification.
//!
//! Without `backend` only the pure types remain, and they compile to WebAssembly so the
//! console's dialogs check the same limits as the server.

pub mod app_settings;
pub mod audit;
pub mod batch;
pub mod error;
pub mod ids;
pub mod insights;
pub mod msg_key;
pub mod polls;
pub mod post;
pub mod profile;
pub mod public;
pub mod roles;

pub use app_settings::{AppLimits, AppSettings, FromEnvironment, SettingField, SettingsChange, SettingsView};
pub use error::{Error, InvalidField, Result};
pub use ids::{OfficialAccountId, UserId};
pub use msg_key::MsgKey;
pub use profile::{AccountProfile, NewAccount, OfficialAccount, ProfileFields, ProfileUpdate, TextLimit};
pub use roles::{Action, PasswordRating, Permissions, Role, TeamMember};

#[cfg(feature = "backend")]
mod accounts;
#[cfg(feature = "backend")]
pub mod broadcasts;
#[cfg(feature = "backend")]
mod clock;
#[cfg(feature = "backend")]
mod console;
#[cfg(feature = "backend")]
pub mod delivery;
#[cfg(feature = "backend")]
pub mod direct;
#[cfg(feature = "backend")]
pub mod lifecycle;
#[cfg(feature = "backend")]
mod limits;
#[cfg(feature = "backend")]
pub mod media;
#[cfg(feature = "backend")]
pub mod message;
#[cfg(feature = "backend")]
pub mod operations;
#[cfg(feature = "backend")]
pub mod push;
#[cfg(feature = "backend")]
pub mod settings;
#[cfg(feature = "backend")]
mod store;
#[cfg(feature = "backend")]
mod subscribe_group;
#[cfg(feature = "backend")]
pub mod subscribers;
#[cfg(feature = "backend")]
mod users;
#[cfg(feature = "backend")]
pub mod usersig;
#[cfg(feature = "backend")]
pub mod webhooks;

#[cfg(feature = "backend")]
pub use accounts::UnknownOwner;
#[cfg(feature = "backend")]
pub use console::sessions::ConsoleSession;
#[cfg(feature = "backend")]
pub use console::users::rate_password;
#[cfg(feature = "backend")]
pub use console::users::NEW_PASSWORD_MIN_CHARS;
#[cfg(feature = "backend")]
pub use console::{Allowed, Console, ConsoleUser, FREE_FAILURES, MAX_LOCK_SECS, PLATFORM_OWNER};
#[cfg(feature = "backend")]
pub use media::MediaLimits;
#[cfg(feature = "backend")]
pub use post::store::StoredPost;
pub use post::PostStatus;
#[cfg(feature = "backend")]
pub use settings::{AppIdentity, SettingsOverrides};
#[cfg(feature = "backend")]
pub use store::Backend;
#[cfg(feature = "backend")]
pub use users::{Deleted, NewUser};

/// The handle the `server` and `app` crates hold. Cloning it is cheap: the pool is shared.
///
/// It is becoming a composition of area handles, each owning its state and reaching the others
/// only through what it is given: `console()` is the first. The rest of the areas are still
/// methods of `Messaging` itself; a new area (insights, public pages, polls) gets a handle of its
/// own the way `console` has one, and what spans areas (the accounts a console user may see)
/// stays on `Messaging`.
#[cfg(feature = "backend")]
#[derive(Clone)]
pub struct Messaging {
    /// The database, shared with every area's handle.
    store: store::Store,
    /// Console users, roles, sessions and sign-ins ([`Messaging::console`]).
    console: console::Console,
    /// What editors learn back ([`Messaging::insights`]).
    insights: insights::Insights,
    /// Public pages and invite links ([`Messaging::public`]).
    public: public::Public,
    /// Poll votes and results ([`Messaging::polls`]).
    polls: polls::Polls,
    operations: operations::Operations,
    /// The settings and keys in force on this node (`settings`), shared by every clone.
    live: std::sync::Arc<settings::Live>,
    /// Shared by every clone, so all front doors count against the same windows.
    windows: std::sync::Arc<limits::Windows>,
    webhooks: std::sync::Arc<webhooks::Webhooks>,
    /// Recently read accounts (`accounts::AccountCache`): the hottest read of the API.
    account_cache: std::sync::Arc<accounts::AccountCache>,
    /// `add_subscriber` calls waiting to share a transaction, per account.
    add_queue: std::sync::Arc<subscribe_group::AddQueue>,
    /// When webhook events and push batches are given up on.
    delivery: webhooks::DeliveryPolicy,
    /// This process, as the holder of worker leases.
    node_id: std::sync::Arc<str>,
    /// The REST administrator's identifier: never imported as an ordinary user.
    rest_administrator: Option<std::sync::Arc<str>>,
    /// Set on shutdown: the delivery workers return (`stop_workers`).
    stopping: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Upload sizes (app settings).
    media_limits: media::MediaLimits,
    /// Image decoding and encoding at once: one per core, so uploads cannot take all memory.
    image_permits: std::sync::Arc<tokio::sync::Semaphore>,
    /// Woken when a post is scheduled, so the scheduled-post worker looks at once.
    schedule_wake: std::sync::Arc<tokio::sync::Notify>,
    /// This process's changes for its hub (`delivery`).
    bus: delivery::Bus,
    /// Where the database is: PostgreSQL's LISTEN needs a connection of its own.
    database_url: std::sync::Arc<str>,
    /// What the delivery workers schedule retries by.
    clock: clock::Clock,
}

#[cfg(feature = "backend")]
impl Messaging {
    /// Opens (creating a SQLite file if needed) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<Self> {
        let (pool, backend) = store::open(url).await?;
        let store = store::Store { pool, backend };
        let live: std::sync::Arc<settings::Live> = Default::default();
        let node_id: std::sync::Arc<str> = {
            use rand::distributions::{Alphanumeric, DistString};
            Alphanumeric.sample_string(&mut rand::thread_rng(), 16).into()
        };
        let clock = clock::Clock::default();
        let stopping: std::sync::Arc<std::sync::atomic::AtomicBool> = Default::default();
        let bus = delivery::Bus::default();
        let announcer = delivery::Announcer::new(store.backend, bus.clone());
        Ok(Self {
            polls: polls::Polls::new(store.clone(), clock.clone(), announcer),
            console: console::Console::new(store.clone(), live.clone()),
            insights: insights::Insights::new(store.clone(), clock.clone(), node_id.clone(), stopping.clone()),
            public: public::Public::new(store.clone(), clock.clone()),
            operations: operations::Operations::new(store.clone(), clock.clone()),
            store,
            live,
            windows: Default::default(),
            webhooks: std::sync::Arc::new(webhooks::Webhooks::new()),
            account_cache: Default::default(),
            add_queue: Default::default(),
            delivery: Default::default(),
            node_id,
            rest_administrator: None,
            stopping,
            media_limits: media::MediaLimits::DEFAULT,
            image_permits: std::sync::Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
            )),
            schedule_wake: Default::default(),
            clock,
            bus,
            database_url: url.into(),
        })
    }

    /// The same handle giving up on deliveries by `policy` (app settings).
    pub fn with_delivery_policy(mut self, policy: webhooks::DeliveryPolicy) -> Self {
        self.delivery = policy;
        self
    }

    /// The same handle refusing to import `identifier` (the REST administrator) as a user: an
    /// app that issues UserSigs by user ID would otherwise hand that user admin rights.
    pub fn with_rest_administrator(mut self, identifier: &str) -> Self {
        self.rest_administrator = Some(identifier.into());
        self
    }

    /// The same handle with other upload limits (app settings).
    pub fn with_media_limits(mut self, limits: media::MediaLimits) -> Self {
        self.media_limits = limits;
        self
    }

    /// Counts one REST call to `command`; [`Error::RateLimited`] past the per-second quota.
    pub fn count_rest_call(&self, command: &str) -> Result<()> {
        let limits = self.limits();
        if self.windows.try_call(&limits, command, store::now()) {
            Ok(())
        } else {
            Err(Error::RateLimited(limits.rest_calls_per_second))
        }
    }

    pub fn backend(&self) -> Backend {
        self.store.backend
    }

    /// Starts a transaction that will write ([`store::Store::begin_write`]).
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        self.store.begin_write().await
    }

    /// Console users, roles, sessions and sign-ins: who may use the console and what they may do.
    pub fn console(&self) -> &console::Console {
        &self.console
    }

    /// Insights: per account and per post figures, counted as the events happen.
    pub fn insights(&self) -> &insights::Insights {
        &self.insights
    }

    /// The public web: an account's handle and page switch, what its public pages read, and
    /// its invite links.
    pub fn public(&self) -> &public::Public {
        &self.public
    }

    /// Polls: votes and results.
    pub fn polls(&self) -> &polls::Polls {
        &self.polls
    }

    /// Readiness, the stored gauges of `/metrics`, backup and restore, exports.
    pub fn operations(&self) -> &operations::Operations {
        &self.operations
    }

    /// Table → column names of Herald's own tables, sorted; the schema test compares backends.
    #[cfg(feature = "testing")]
    pub async fn schema(&self) -> Result<Vec<(String, Vec<String>)>> {
        store::schema(&self.store.pool, self.store.backend).await
    }

    pub async fn close(&self) {
        self.store.pool.close().await;
    }
}
