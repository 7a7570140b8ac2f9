//! Herald's server: the console (Leptos SSR + server functions), the Tencent-compatible REST
//! API and sessions, wired around one [`messaging::Messaging`] handle.
//!
//! * [`config`]: flags and environment variables.
//! * [`startup`]: [`startup::Application`] opens the database, builds the router, serves.
//! * `rest`: `/v4/{service}/{command}`, the Tencent wire contract (envelope, UserSig, codes).
//! * `client`: `/v1/client`, the WebSocket end users' apps speak (docs/client-protocol.md).
//! * `public`: the public web: `/c/{handle}` pages, feeds, oEmbed and embeds, and invite
//!   links' `/join/{code}` pages and QR codes (no script, bounded per client address).
//! * `try_page`: `/try`, a subscriber view built on the TypeScript client library.
//! * `console`: sign-in guard, one-time sign-in links, sessions, server-function statuses.
//! * `media`: image uploads (`POST /media`) and serving them (`GET /media/{hash}.{ext}`).
//! * `layers`: RequestId and caught panics, request logs, cross-site refusal, security headers.
//! * `health`: `/healthz`, `/readyz` and the drain a stop signal starts; [`metrics`]: the
//!   Prometheus listener, request timing and the sampled gauges; `export`: an account's ZIP
//!   (docs/operations.md).
//! * [`serve`]: the accept loop (TCP_NODELAY, header/idle timeouts, shutdown deadline).
//! * [`state`]: [`state::AppState`], what handlers share.

mod client;
pub mod config;
mod console;
mod export;
mod health;
mod insights_csv;
mod layers;
mod media;
pub mod metrics;
mod public;
mod rest;
pub mod serve;
pub mod startup;
pub mod state;
pub mod telemetry;
mod try_page;
