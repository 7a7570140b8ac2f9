//! Operations (docs/operations.md): what the people who run Herald ask of the core, behind its
//! own handle ([`Operations`], from [`crate::Messaging::operations`]).
//!
//! * [`health`]: is this node ready to serve (the database answers, every migration of this
//!   build is applied, LISTEN is in place on PostgreSQL)? The server adds "not draining".
//! * [`gauges`]: the figures a scrape reads from storage (outboxes, dead letters, scheduled
//!   posts due, the pool), sampled on a timer so that a scrape never queries the database.
//! * [`backup`]: a consistent copy of a SQLite database while it serves (`VACUUM INTO`), and
//!   restoring one while no server uses it.
//! * [`export`]: an account's posts, media and subscribers page by page, so an export of an
//!   account with a million subscribers is bounded in memory.

pub mod backup;
pub mod export;
pub mod gauges;
pub mod health;

use crate::clock::Clock;
use crate::store::Store;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The operations handle: the store, the clock and whether this node hears every node's changes.
#[derive(Clone)]
pub struct Operations {
    store: Store,
    clock: Clock,
    listening: Arc<AtomicBool>,
}

impl Operations {
    pub(crate) fn new(store: Store, clock: Clock) -> Self {
        // SQLite has no LISTEN: changes go on the bus directly, so it always "hears" them.
        let ops = Self { store, clock, listening: Default::default() };
        ops.set_listening(ops.store.backend == crate::Backend::Sqlite);
        ops
    }

    /// Told by the LISTEN loop when it is in place or lost (PostgreSQL).
    pub(crate) fn set_listening(&self, on: bool) {
        self.listening.store(on, Ordering::Relaxed);
        metrics::gauge!("herald_listening").set(if on { 1.0 } else { 0.0 });
    }

    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::Relaxed)
    }
}
