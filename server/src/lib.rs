//! Herald's server: the console (Leptos SSR + server functions), the Tencent-compatible REST
//! API and sessions, wired around one [`messaging::Messaging`] handle.
//!
//! * [`config`]: flags and environment variables.
//! * [`startup`]: [`startup::Application`] opens the database, builds the router, serves.
//! * `rest`: `/v4/{service}/{command}`, the Tencent wire contract (envelope, UserSig, codes).
//! * `console`: sign-in guard, one-time sign-in links, sessions.

pub mod config;
mod console;
mod rest;
pub mod startup;
pub mod telemetry;
