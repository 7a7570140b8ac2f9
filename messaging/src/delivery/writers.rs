//! Writing the hub's frames to the connections: [`Outgoing`] holds what the hub gathered, and
//! a large broadcast goes out on [`Writers`], threads that write to the sockets: one per core,
//! started on the first large broadcast, at a lower CPU priority than everything else in the
//! process. Its writes go to them in shares, the first while the hub is still gathering the
//! rest (gathering 19,000 recipients takes about ten milliseconds).
//!
//! Why threads of their own, and why a lower priority: a broadcast to 19,000 connections is
//! 19,000 system calls, enough to keep every core busy for a hundred milliseconds. It starts
//! the moment the broadcast commits, which is also the moment the REST send that made it is
//! about to answer. At equal priority the answer waits for a share of the cores; at a lower
//! one (nice [`WRITER_NICE`]) the request that is being answered, and every other request,
//! runs first and the writes take the rest. Delivery loses nothing by it: the same writes take
//! the same CPU, only a little later.

use super::hub::{Frame, Outbox};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

/// A broadcast to more connections than this is written on the writer threads (each write is a
/// system call, and one thread alone would leave the other cores idle). Smaller ones are
/// written on the hub's task.
pub(super) const WRITE_SHARE: usize = 512;
/// A large broadcast is cut into this many shares per writer thread: the first goes out while
/// the hub is still gathering the rest.
const SHARES_PER_THREAD: usize = 4;

/// Frames for connections, gathered under the hub's lock. Small sets are written once the lock
/// is released (a write is a system call; the lock is wanted by every connect and disconnect
/// meanwhile); a large broadcast's go to the writer threads a share at a time as they are
/// gathered.
#[derive(Default)]
pub(super) struct Outgoing {
    writes: Vec<Write>,
    large: Option<Large>,
}

/// A large broadcast's shares: where they go, how big each is, and their results to come.
struct Large {
    jobs: mpsc::Sender<Job>,
    share: usize,
    results: Vec<tokio::sync::oneshot::Receiver<Vec<(Arc<str>, u64)>>>,
}

/// One or two frames for one connection, written in one call.
pub(super) struct Write {
    pub(super) user: Arc<str>,
    pub(super) id: u64,
    pub(super) out: Arc<dyn Outbox>,
    pub(super) frame: Frame,
    pub(super) then: Option<Frame>,
}

/// Writes `writes` in order; answers the connections that could not take their frames.
fn write_all(writes: Vec<Write>) -> Vec<(Arc<str>, u64)> {
    let mut written = 0u64;
    let dropped = writes
        .into_iter()
        .filter(|w| {
            let (taken, frames) = match &w.then {
                Some(then) => (w.out.push(&[&w.frame, then]), 2),
                None => (w.out.push(&[&w.frame]), 1),
            };
            written += if taken { frames } else { 0 };
            !taken
        })
        .map(|w| (w.user, w.id))
        .collect();
    metrics::counter!("herald_frames_written_total").increment(written);
    dropped
}

impl Outgoing {
    /// For a broadcast to about `recipients` connections, at most one write each (so its writes
    /// may go out in shares on several threads): past [`WRITE_SHARE`], on the writer threads,
    /// started on first use. Otherwise like `Outgoing::default()`: written on the hub's task.
    pub(super) fn for_broadcast(writers: &OnceLock<Writers>, recipients: usize) -> Self {
        let mut outgoing = Outgoing::default();
        if recipients > WRITE_SHARE {
            let writers = writers.get_or_init(Writers::start);
            if writers.threads > 0 {
                let share = recipients.div_ceil(writers.threads * SHARES_PER_THREAD).max(WRITE_SHARE);
                outgoing.writes.reserve(share);
                outgoing.large = Some(Large { jobs: writers.jobs.clone(), share, results: Vec::new() });
                return outgoing;
            }
        }
        outgoing.writes.reserve(recipients);
        outgoing
    }

    pub(super) fn push(&mut self, write: Write) {
        self.writes.push(write);
        if let Some(large) = &mut self.large {
            if self.writes.len() >= large.share {
                let share = std::mem::replace(&mut self.writes, Vec::with_capacity(large.share));
                large.send(share);
            }
        }
    }

    /// Writes everything (what is left of a large broadcast goes to the writers, and this waits
    /// for every share); answers the connections that could not take their frames, to be dropped.
    pub(super) async fn write(mut self) -> Vec<(Arc<str>, u64)> {
        let Some(mut large) = self.large.take() else {
            return write_all(self.writes);
        };
        if !self.writes.is_empty() {
            large.send(std::mem::take(&mut self.writes));
        }
        let mut dropped = Vec::new();
        for result in large.results {
            dropped.extend(result.await.unwrap_or_default());
        }
        dropped
    }
}

impl Large {
    /// Hands one share to whichever writer thread is free: off the runtime's workers, at a lower
    /// priority (see the top of this file), so requests (the REST send that caused this
    /// broadcast among them) answer first. Outside a task there is no tokio budget either.
    /// Should the writers be gone, the share is written here: no frame is lost.
    fn send(&mut self, share: Vec<Write>) {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(write_all(share));
        });
        if let Err(mpsc::SendError(job)) = self.jobs.send(job) {
            job();
        }
        self.results.push(result);
    }
}

/// How much lower the writers' priority is than the process's (Linux nice levels: each step is
/// about 1.25× less CPU when the cores are contended; 5 is about a third of a normal thread's).
const WRITER_NICE: i32 = 5;

type Job = Box<dyn FnOnce() + Send>;

/// The writer threads; jobs go to whichever is free.
pub(super) struct Writers {
    jobs: mpsc::Sender<Job>,
    /// How many started (none: every write goes out on the hub's task).
    threads: usize,
}

impl Writers {
    /// Starts one writer thread per core. They end when the `Writers` is dropped.
    pub(super) fn start() -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut threads = 0;
        for i in 0..cores {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new().name(format!("herald-writer-{i}")).spawn(move || {
                lower_priority();
                loop {
                    let job = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
            match spawned {
                Ok(_) => threads += 1,
                Err(e) => tracing::warn!(error = %e, "a broadcast writer thread could not start"),
            }
        }
        Writers { jobs, threads }
    }
}

/// Lowers the calling thread's CPU priority by [`WRITER_NICE`] (on Linux a nice value belongs to
/// a thread). A process may always lower its own priority; where it cannot, nothing changes.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on the calling thread; no memory is shared with them.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        let now = libc::getpriority(libc::PRIO_PROCESS, tid);
        if libc::setpriority(libc::PRIO_PROCESS, tid, now + WRITER_NICE) != 0 {
            tracing::debug!("a broadcast writer thread keeps its priority");
        }
    }
}
