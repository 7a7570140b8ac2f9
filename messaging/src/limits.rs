//! Rate rules kept in memory: the per-account broadcast frequency (rest-api.md §5) and the
//! per-command REST call rate (§1). Both limits are app settings (`AppLimits`).
//!
//! Kept per server process: a restart resets the windows, and with several nodes each node
//! counts its own calls. That errs toward letting a message through, never toward losing one.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// The app's quotas. Defaults follow Tencent: 1 broadcast/s and 2/hour per account,
/// 200 calls/s per REST command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppLimits {
    pub broadcasts_per_second: u32,
    pub broadcasts_per_hour: u32,
    pub rest_calls_per_second: u32,
}

impl Default for AppLimits {
    fn default() -> Self {
        Self { broadcasts_per_second: 1, broadcasts_per_hour: 2, rest_calls_per_second: 200 }
    }
}

#[derive(Default)]
pub(crate) struct Windows {
    /// account → send times (Unix seconds) within the last hour, oldest first
    sends: Mutex<HashMap<String, VecDeque<i64>>>,
    /// command → (second, calls in that second)
    calls: Mutex<HashMap<String, (i64, u32)>>,
}

impl Windows {
    /// Records a broadcast for `account` at `now` unless it would break a limit; says which.
    pub(crate) fn try_broadcast(&self, limits: &AppLimits, account: &str, now: i64) -> Result<(), String> {
        let mut sends = self.sends.lock().unwrap_or_else(|p| p.into_inner());
        let times = sends.entry(account.to_owned()).or_default();
        while times.front().is_some_and(|t| *t <= now - 3600) {
            times.pop_front();
        }
        let this_second = times.iter().rev().take_while(|t| **t == now).count() as u32;
        if this_second >= limits.broadcasts_per_second {
            return Err(format!("at most {} broadcast(s) per second per account", limits.broadcasts_per_second));
        }
        if times.len() as u32 >= limits.broadcasts_per_hour {
            return Err(format!("at most {} broadcasts per hour per account", limits.broadcasts_per_hour));
        }
        times.push_back(now);
        Ok(())
    }

    /// Counts a call to `command` at `now`; false when over the per-second limit.
    pub(crate) fn try_call(&self, limits: &AppLimits, command: &str, now: i64) -> bool {
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        let entry = calls.entry(command.to_owned()).or_insert((now, 0));
        if entry.0 != now {
            *entry = (now, 0);
        }
        if entry.1 >= limits.rest_calls_per_second {
            return false;
        }
        entry.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_allows_one_broadcast_a_second_and_two_an_hour() {
        let w = Windows::default();
        let l = AppLimits::default();
        assert!(w.try_broadcast(&l, "a", 100).is_ok());
        assert!(w.try_broadcast(&l, "a", 100).unwrap_err().contains("per second"));
        assert!(w.try_broadcast(&l, "a", 101).is_ok());
        assert!(w.try_broadcast(&l, "a", 200).unwrap_err().contains("per hour"));
        assert!(w.try_broadcast(&l, "b", 200).is_ok(), "limits are per account");
        assert!(w.try_broadcast(&l, "a", 100 + 3600).is_ok(), "the hour window slides");
    }

    #[test]
    fn rest_calls_are_counted_per_command_per_second() {
        let w = Windows::default();
        let l = AppLimits { rest_calls_per_second: 2, ..Default::default() };
        assert!(w.try_call(&l, "x", 5) && w.try_call(&l, "x", 5));
        assert!(!w.try_call(&l, "x", 5));
        assert!(w.try_call(&l, "y", 5));
        assert!(w.try_call(&l, "x", 6));
    }
}
