//! Writing the hub's frames to the connections: [`Outgoing`] holds what the hub gathered, and
//! a large broadcast goes out on [`Writers`], threads that write to the sockets: one per core,
//! started on the first large broadcast, at a lower CPU priority than everything else in the
//! process.
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

/// A broadcast to more connections than this is written on the writer threads, one share per
/// core (each write is a system call, and one thread alone would leave the other
/// cores idle). Smaller ones are written on the hub's task.
pub(super) const WRITE_SHARE: usize = 512;

/// Frames for connections, gathered under the hub's lock and written once it is released (a
/// write is a system call; the lock is wanted by every connect and disconnect meanwhile).
#[derive(Default)]
pub(super) struct Outgoing(pub(super) Vec<Write>);

/// One or two frames for one connection, written in one call.
pub(super) struct Write {
    pub(super) user: Arc<str>,
    pub(super) id: u64,
    pub(super) out: Arc<dyn Outbox>,
    pub(super) frame: Frame,
    pub(super) then: Option<Frame>,
}

impl Outgoing {
    /// Writes everything, in order; the connections that could not take their frames, to be
    /// dropped. `writers`: where a large broadcast goes, started on first use (no connection
    /// appears twice in one, so its writes may go out in shares on several threads); otherwise
    /// the writes go out here, one after the other, keeping each connection's frames in order.
    pub(super) async fn write(self, writers: Option<&OnceLock<Writers>>) -> Vec<(Arc<str>, u64)> {
        fn write(writes: Vec<Write>) -> Vec<(Arc<str>, u64)> {
            writes
                .into_iter()
                .filter(|w| !match &w.then {
                    Some(then) => w.out.push(&[&w.frame, then]),
                    None => w.out.push(&[&w.frame]),
                })
                .map(|w| (w.user, w.id))
                .collect()
        }
        let mut writes = self.0;
        let large = writers.filter(|_| writes.len() > WRITE_SHARE).map(|w| w.get_or_init(Writers::start));
        let Some(writers) = large.filter(|w| w.threads > 0) else {
            return write(writes);
        };
        // Off the runtime's workers, at a lower priority (see the top of this file): requests,
        // the REST send that caused this broadcast among them, answer first. The OS spreads the
        // shares over the cores. Outside a task there is no tokio budget either.
        let per_share = writes.len().div_ceil(writers.threads);
        let mut shares = Vec::new();
        while !writes.is_empty() {
            let share = writes.split_off(writes.len().saturating_sub(per_share));
            shares.push(writers.run(move || write(share)));
        }
        let mut dropped = Vec::new();
        for share in shares {
            dropped.extend(share.await.unwrap_or_default());
        }
        dropped
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

    /// Hands `work` to a writer thread now; the answer is its result (None if the writers are gone).
    pub(super) fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> impl std::future::Future<Output = Option<T>> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        let sent = self.jobs.send(job).is_ok();
        async move { if sent { result.await.ok() } else { None } }
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
