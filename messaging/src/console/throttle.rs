//! What keeps the unauthenticated sign-in from being a lever on the server:
//!
//! * **Hashing permits.** argon2 takes ~19 MiB and tens of milliseconds per check. Checks run on
//!   one dedicated thread per core ([`HashingThreads`]), never on tokio's blocking pool: each
//!   thread that ever hashed keeps a malloc arena holding its 19 MiB, so hundreds of pool
//!   threads meant hundreds of MiB kept. A sign-in that cannot get a permit within
//!   [`PERMIT_WAIT`] is answered "busy" without hashing, so memory stays flat whatever arrives.
//! * **Failure throttle.** Failures are counted per user name and per client address. From the
//!   [`FREE_FAILURES`]th on, each failure locks that key for 2, 4, 8 … seconds, at most
//!   [`MAX_LOCK_SECS`]; a sign-in on a locked key is refused at once with a sentence saying how
//!   long to wait. The table is bounded ([`MAX_TRACKED`] keys), so made-up user names cannot
//!   grow it without end. A success clears the user name and the address.
//!
//! The counts live in the node's memory: a restart forgets them, and each node counts its own.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Failures allowed before the lock starts.
pub const FREE_FAILURES: u32 = 5;
/// The longest lock: 15 minutes.
pub const MAX_LOCK_SECS: i64 = 15 * 60;
/// How long a sign-in waits for a hashing permit before it is told the server is busy.
pub const PERMIT_WAIT: Duration = Duration::from_secs(2);
/// Keys tracked at most (user names and addresses together).
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    /// Unix seconds of the last failure.
    last: i64,
}

impl Failures {
    /// Until when this key is locked (Unix seconds), if at all.
    fn locked_until(&self) -> Option<i64> {
        (self.count >= FREE_FAILURES).then(|| self.last + lock_secs(self.count))
    }

    /// Forgotten once the lock is over and another quarter hour passed without a failure.
    fn forgotten_at(&self) -> i64 {
        self.locked_until().unwrap_or(self.last) + MAX_LOCK_SECS
    }
}

/// 2, 4, 8 … seconds from the [`FREE_FAILURES`]th failure on, at most [`MAX_LOCK_SECS`].
pub fn lock_secs(failures: u32) -> i64 {
    let doublings = failures.saturating_sub(FREE_FAILURES - 1).min(20);
    (1i64 << doublings).min(MAX_LOCK_SECS)
}

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads that run password hashing, one per core, for the process's life.
pub(crate) struct HashingThreads {
    jobs: Mutex<std::sync::mpsc::Sender<Job>>,
}

impl HashingThreads {
    fn start(threads: usize) -> Self {
        let (send, receive) = std::sync::mpsc::channel::<Job>();
        let receive = std::sync::Arc::new(Mutex::new(receive));
        for i in 0..threads {
            let receive = receive.clone();
            std::thread::Builder::new()
                .name(format!("password-hashing-{i}"))
                .spawn(move || loop {
                    let job = receive.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })
                .expect("a hashing thread starts");
        }
        Self { jobs: Mutex::new(send) }
    }

    /// Runs `work` on a hashing thread. Call it holding a permit, so jobs never queue up here.
    pub(crate) async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job)
            .map_err(|_| Error::Internal("the password hashing threads stopped".into()))?;
        result.await.map_err(|_| Error::Internal("a password hashing job failed".into()))
    }
}

/// One set of hashing threads per process, however many `Messaging` handles are opened.
fn hashing_threads() -> &'static HashingThreads {
    static THREADS: std::sync::OnceLock<HashingThreads> = std::sync::OnceLock::new();
    THREADS.get_or_init(|| HashingThreads::start(cores()))
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
}

pub(crate) struct SignInThrottle {
    hashing: Semaphore,
    failures: Mutex<HashMap<String, Failures>>,
}

impl Default for SignInThrottle {
    fn default() -> Self {
        Self { hashing: Semaphore::new(cores()), failures: Mutex::default() }
    }
}

fn user_key(username: &str) -> String {
    format!("user:{}", username.to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("addr:{address}")
}

/// "15 minutes", "1 minute", "40 seconds", "1 second".
fn duration_words(secs: i64) -> String {
    let plural = |n: i64, unit: &str| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") };
    if secs >= 120 {
        plural((secs + 59) / 60, "minute")
    } else {
        plural(secs.max(1), "second")
    }
}

impl SignInThrottle {
    /// Refuses at once while the user name or the address is locked.
    pub(crate) fn check(&self, username: &str, address: &str, now: i64) -> Result<()> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let until =
            [user_key(username), address_key(address)].iter().filter_map(|k| failures.get(k).and_then(Failures::locked_until)).max();
        match until {
            Some(until) if until > now => Err(Error::Throttled(format!(
                "too many failed sign-ins for this user name or from this address; try again in {}",
                duration_words(until - now)
            ))),
            _ => Ok(()),
        }
    }

    /// Runs `work` (a password hash or check) on a hashing thread once a permit is free;
    /// [`Error::Throttled`] without running it when none frees up within [`PERMIT_WAIT`].
    pub(crate) async fn hash<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let _permit: SemaphorePermit<'_> = match tokio::time::timeout(PERMIT_WAIT, self.hashing.acquire()).await {
            Ok(Ok(permit)) => permit,
            _ => return Err(Error::Throttled("the server is busy checking other sign-ins; try again in a moment".into())),
        };
        hashing_threads().run(work).await
    }

    /// Counts a failure against the user name and the address; returns the user name's count.
    pub(crate) fn failed(&self, username: &str, address: &str, now: i64) -> u32 {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= MAX_TRACKED {
            failures.retain(|_, f| f.forgotten_at() > now);
        }
        if failures.len() >= MAX_TRACKED {
            // Still full of live entries: forget the one whose last failure is oldest, and of
            // those the one with the fewest failures (never a busy attacker's address first).
            if let Some(oldest) = failures.iter().min_by_key(|(_, f)| (f.last, f.count)).map(|(k, _)| k.clone()) {
                failures.remove(&oldest);
            }
        }
        let mut count = 0;
        for key in [user_key(username), address_key(address)] {
            let entry = failures.entry(key).or_insert(Failures { count: 0, last: now });
            if entry.forgotten_at() <= now {
                entry.count = 0;
            }
            entry.count += 1;
            entry.last = now;
            if count == 0 {
                count = entry.count;
            }
        }
        count
    }

    pub(crate) fn succeeded(&self, username: &str, address: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(&user_key(username));
        failures.remove(&address_key(address));
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.failures.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_are_free_then_the_lock_doubles_up_to_a_quarter_hour() {
        assert_eq!([5, 6, 7, 8].map(lock_secs), [2, 4, 8, 16]);
        assert_eq!(lock_secs(30), MAX_LOCK_SECS);
        let t = SignInThrottle::default();
        for _ in 0..4 {
            t.failed("alice", "10.0.0.1", 100);
            assert!(t.check("alice", "10.0.0.1", 100).is_ok());
        }
        t.failed("alice", "10.0.0.1", 100);
        let e = t.check("alice", "10.0.0.9", 100).unwrap_err().to_string();
        assert!(e.contains("try again in 2 seconds"), "{e}");
        assert!(t.check("ALICE", "10.0.0.9", 101).is_err(), "user names are counted without case");
        assert!(t.check("bob", "10.0.0.1", 101).is_err(), "the address is locked too");
        assert!(t.check("bob", "10.0.0.2", 101).is_ok());
        assert!(t.check("alice", "10.0.0.9", 102).is_ok(), "the lock runs out");
        t.succeeded("alice", "10.0.0.1");
        assert!(t.check("alice", "10.0.0.1", 102).is_ok());
    }

    #[test]
    fn the_table_stays_bounded_whatever_names_arrive() {
        let t = SignInThrottle::default();
        for i in 0..(MAX_TRACKED + 500) {
            t.failed(&format!("made-up-{i}"), "10.0.0.1", 100);
        }
        assert!(t.tracked() <= MAX_TRACKED, "{}", t.tracked());
        assert!(t.check("x", "10.0.0.1", 100).is_err(), "the busy address stays locked");
    }

    #[test]
    fn waits_are_said_in_words() {
        assert_eq!(duration_words(1), "1 second");
        assert_eq!(duration_words(40), "40 seconds");
        assert_eq!(duration_words(900), "15 minutes");
    }
}
