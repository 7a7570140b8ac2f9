//! Pings to every client connection, and dropping the ones whose client went silent
//! (docs/client-protocol.md: a ping every 30 s, dropped after 90 s without a frame).
//!
//! Why here and not in each connection's task: a timer per connection wakes every task once
//! per period, and each wake-up costs far more than the ping it sends (50,000 idle clients on
//! three nodes took 8% of a core, nearly all of it pings). The hub instead pings one slice of
//! its connections every [`TICK`], straight to their sockets like a broadcast's frames: the
//! connections are spread over `ping_every / TICK` slices by ID, so each is pinged once a
//! period and the work is even over time, whenever the clients connected (after a restart
//! they all reconnect at once). The socket code marks each frame it reads as heard
//! ([`Connection::heard`]); a connection silent for too long is dropped, and its task closes
//! it with 1001 ([`Connection::went_silent`]).

use super::{Hub, Keepalive, Outbox};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How often a slice of the connections is pinged.
pub(super) const TICK: Duration = Duration::from_millis(250);

/// One connection as the keep-alive sees it, shared with its [`super::Connection`].
pub(super) struct Beat {
    id: u64,
    out: Arc<dyn Outbox>,
    dropped: Arc<Notify>,
    /// When the client was last heard from, in milliseconds since `Slices::since`.
    heard_ms: AtomicU64,
    /// Set before `dropped` is notified when the reason is silence.
    silent: AtomicBool,
    since: Instant,
}

/// Milliseconds since `since` (the keep-alive's clock).
fn ms_since(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

impl Beat {
    pub(super) fn heard(&self) {
        self.heard_ms.store(ms_since(self.since), Ordering::Relaxed);
    }

    pub(super) fn went_silent(&self) -> bool {
        self.silent.load(Ordering::Relaxed)
    }
}

/// The client connections in slices by ID; one slice is pinged per tick.
pub(super) struct Slices {
    slices: Mutex<Vec<Vec<Arc<Beat>>>>,
    silence_max_ms: u64,
    since: Instant,
}

impl Slices {
    pub(super) fn new(keepalive: Keepalive) -> Self {
        let n = (Duration::from_secs(keepalive.ping_every_secs).as_millis() / TICK.as_millis()).max(1) as usize;
        Slices {
            slices: Mutex::new(vec![Vec::new(); n]),
            silence_max_ms: keepalive.silence_max_secs.saturating_mul(1000),
            since: Instant::now(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<Arc<Beat>>>> {
        self.slices.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a new connection (heard from now).
    pub(super) fn add(&self, id: u64, out: Arc<dyn Outbox>, dropped: Arc<Notify>) -> Arc<Beat> {
        let beat = Arc::new(Beat { id, out, dropped, heard_ms: AtomicU64::new(0), silent: AtomicBool::new(false), since: self.since });
        beat.heard();
        let mut slices = self.lock();
        let n = slices.len();
        slices[id as usize % n].push(beat.clone());
        beat
    }

    pub(super) fn remove(&self, id: u64) {
        let mut slices = self.lock();
        let n = slices.len();
        slices[id as usize % n].retain(|b| b.id != id);
    }

    /// Tick `tick`'s work: pings its slice, drops the silent and the failed.
    pub(super) fn tick(&self, tick: u64) {
        let slice: Vec<Arc<Beat>> = {
            let slices = self.lock();
            slices[tick as usize % slices.len()].clone()
        };
        let now = ms_since(self.since);
        for beat in slice {
            let silent = now.saturating_sub(beat.heard_ms.load(Ordering::Relaxed)) > self.silence_max_ms;
            if silent {
                beat.silent.store(true, Ordering::Relaxed);
            }
            if silent || !beat.out.ping() {
                beat.dropped.notify_one();
            }
        }
    }
}

impl Hub {
    /// Runs the keep-alive until the hub stops.
    pub(super) async fn keep_alive(&self) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        for n in 0u64.. {
            tick.tick().await;
            if self.lock().stopped {
                return;
            }
            // Unconstrained for the same reason as the hub's changes: past tokio's budget every
            // socket would answer "not now".
            tokio::task::unconstrained(async { self.beats.tick(n) }).await;
        }
    }
}
