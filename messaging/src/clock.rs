//! The time the workers schedule by: when a refused webhook event or push batch is tried again
//! and when one is given up on, when a scheduled post is due and when a claim on it expires, and
//! what the front doors check UserSigs' expiry against ([`Messaging::now`]). It is the system's
//! time; tests built with the `testing` feature can move it forward
//! ([`Messaging::advance_clock`]) instead of sleeping, and each test's server has a clock of
//! its own.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Seconds added to the system's time (only ever non-zero in tests).
    ahead_secs: Arc<AtomicI64>,
}

impl Clock {
    /// Unix seconds.
    pub fn now(&self) -> i64 {
        crate::store::now() + self.ahead_secs.load(Ordering::Relaxed)
    }

    #[cfg(feature = "testing")]
    fn advance(&self, secs: i64) {
        self.ahead_secs.fetch_add(secs, Ordering::Relaxed);
    }
}

impl crate::Messaging {
    /// Unix seconds by this node's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

#[cfg(feature = "testing")]
impl crate::Messaging {
    /// Moves this node's delivery clock `secs` forward and wakes the delivery workers, so work
    /// that became due runs now.
    pub fn advance_clock(&self, secs: i64) {
        self.clock.advance(secs);
        self.webhook_queued();
        self.push_queued();
        self.schedule_wake.notify_one();
    }
}
