//! The accept loop: the router served by hyper with the limits a public server needs.
//!
//! `axum::serve` has no knobs for these, so Herald runs hyper itself (axum's serve-with-hyper
//! pattern):
//! * `TCP_NODELAY` on every accepted socket. A streamed SSR page is written in several pieces;
//!   with Nagle's algorithm the second piece waits for the client's delayed ACK (~40 ms) on every
//!   request of a kept-alive connection.
//! * A header-read timeout (hyper's own), so half-sent headers do not hold a connection.
//! * An idle timeout: a connection with no request in flight for that long is closed.
//! * A shutdown deadline: on SIGTERM the listener closes, idle connections close, requests in
//!   flight may finish until the deadline; whatever is left then is cut.
//!
//! Request bodies and handlers are bounded by tower layers in `startup` (body and request timeouts).

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::Service;

/// Connection limits (settings: see `config`).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Time a client has to send a request's headers.
    pub header_read: Duration,
    /// A connection with no request in flight is closed after this long.
    pub idle: Duration,
    /// After a stop signal, requests in flight get this long to finish.
    pub shutdown: Duration,
}

/// When a connection last finished a request, and how many it is serving now.
struct Activity {
    state: Mutex<(usize, Instant)>,
}

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Self { state: Mutex::new((0, Instant::now())) })
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).0 += 1;
        InFlight(self.clone())
    }

    /// `None` while a request is in flight, else when the connection became idle.
    fn idle_since(&self) -> Option<Instant> {
        let (in_flight, last) = *self.state.lock().unwrap_or_else(|p| p.into_inner());
        (in_flight == 0).then_some(last)
    }
}

/// Marks a request in flight until dropped (when its response head is ready).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
        state.0 -= 1;
        state.1 = Instant::now();
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then drains within the deadline.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut make_service = router.into_make_service_with_connect_info::<SocketAddr>();
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read).keep_alive(true);
    builder.http2().timer(TokioTimer::new()).keep_alive_interval(Some(Duration::from_secs(30)));
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);

    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait a little instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
            // Reap finished connection tasks so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY");
        }
        let tower_service = match make_service.call(peer).await {
            Ok(service) => service,
            Err(never) => match never {},
        };
        let activity = Activity::new();
        let counted = activity.clone();
        let hyper_service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let in_flight = counted.begin();
            let response = tower_service.clone().call(request);
            async move {
                let response = response.await;
                drop(in_flight);
                response
            }
        });
        let builder = builder.clone();
        let mut stopping = stopping.clone();
        connections.spawn(async move {
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), hyper_service);
            tokio::pin!(connection);
            let mut closing = false;
            loop {
                let idle_deadline = activity.idle_since().map(|since| since + limits.idle);
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(error = %e, %peer, "connection ended with an error");
                        }
                        break;
                    }
                    _ = stopping.changed(), if !closing => {
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                    }
                    _ = sleep_until(idle_deadline), if !closing => {
                        if activity.idle_since().is_some_and(|since| since.elapsed() >= limits.idle) {
                            connection.as_mut().graceful_shutdown();
                            closing = true;
                        }
                    }
                }
            }
        });
    }

    drop(listener);
    let _ = stop.send(true);
    let open = connections.len();
    let drained = tokio::time::timeout(limits.shutdown, async { while connections.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            cut = connections.len(),
            of = open,
            deadline_secs = limits.shutdown.as_secs_f64(),
            "connections still open at the shutdown deadline were closed"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// Sleeps until `deadline`; with none (a request in flight), wakes every second to look again.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => tokio::time::sleep(Duration::from_secs(1)).await,
    }
}
