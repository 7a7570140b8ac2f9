//! The threads that write a large broadcast's frames to the sockets: one per core, started on
//! the first large broadcast, at a lower CPU priority than everything else in the process.
//!
//! Why threads of their own, and why a lower priority: a broadcast to 19,000 connections is
//! 19,000 system calls, enough to keep every core busy for a hundred milliseconds. It starts
//! the moment the broadcast commits, which is also the moment the REST send that made it is
//! about to answer. At equal priority the answer waits for a share of the cores; at a lower
//! one (nice [`WRITER_NICE`]) the request that is being answered, and every other request,
//! runs first and the writes take the rest. Delivery loses nothing by it: the same writes take
//! the same CPU, only a little later.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// How much lower the writers' priority is than the process's (Linux nice levels: each step is
/// about 1.25× less CPU when the cores are contended; 5 is about a third of a normal thread's).
const WRITER_NICE: i32 = 5;

type Job = Box<dyn FnOnce() + Send>;

/// The writer threads; jobs go to whichever is free.
pub(super) struct Writers {
    jobs: mpsc::Sender<Job>,
}

impl Writers {
    /// Starts one writer thread per core. They end when the `Writers` is dropped.
    pub(super) fn start() -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
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
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "a broadcast writer thread could not start");
            }
        }
        Writers { jobs }
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
