//! One client connection's socket, written from two places: the hub writes event frames
//! straight from its own task (a broadcast to 19,000 connections wakes none of their tasks),
//! and the connection's task reads requests and writes answers through tungstenite.
//!
//! Every write goes through `Socket::write`: the kernel takes what it can at once, and the
//! rest waits, in order, for the connection's task to flush when the socket is writable again
//! ([`Socket::poll_flush_waiting`]). Whole frames go in one call, so frames never interleave. A
//! connection with more than [`WAITING_MAX`] bytes waiting does not read: it is closed.

use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use messaging::delivery::hub::{Frame, Outbox};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// Bytes that may wait for a slow client; past this it is dropped.
pub const WAITING_MAX: usize = 1 << 20;
/// The most a connection keeps allocated for waiting bytes once they are written.
const WAITING_KEPT: usize = 4 * 1024;

struct State {
    /// None until the upgrade completes (the connection is registered before it).
    io: Option<TokioIo<Upgraded>>,
    waiting: Vec<u8>,
    closed: bool,
}

pub struct Socket {
    state: Mutex<State>,
    /// Told when bytes wait that only the connection's task flushes.
    pub has_waiting: Notify,
}

impl Socket {
    /// A socket whose connection is not upgraded yet: what is written meanwhile waits.
    pub fn new() -> Arc<Self> {
        Arc::new(Self { state: Mutex::new(State { io: None, waiting: Vec::new(), closed: false }), has_waiting: Notify::new() })
    }

    /// The upgraded connection: from now on writes go to it.
    pub fn attach(&self, io: TokioIo<Upgraded>) {
        self.lock().io = Some(io);
        self.has_waiting.notify_one();
    }

    pub fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        s.waiting = Vec::new();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes `bytes` (whole frames): what the socket takes now (polled with `cx`), the rest
    /// kept for the connection's task. False: the connection is closed, or too far behind.
    fn write(&self, bytes: &[u8], cx: &mut Context<'_>) -> bool {
        let mut s = self.lock();
        if s.closed {
            return false;
        }
        let mut written = 0;
        if let (true, Some(io)) = (s.waiting.is_empty(), s.io.as_mut()) {
            match Pin::new(io).poll_write(cx, bytes) {
                Poll::Ready(Ok(n)) => written = n,
                Poll::Ready(Err(_)) => {
                    s.closed = true;
                    return false;
                }
                Poll::Pending => {}
            }
        }
        if written == bytes.len() {
            return true;
        }
        s.waiting.extend_from_slice(&bytes[written..]);
        if s.waiting.len() > WAITING_MAX {
            s.closed = true;
            s.waiting = Vec::new();
            return false;
        }
        drop(s);
        self.has_waiting.notify_one();
        true
    }

    /// Writes what waits; ready once nothing does (or the connection failed).
    pub fn poll_flush_waiting(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut s = self.lock();
        let State { io, waiting, closed } = &mut *s;
        if *closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let Some(io) = io.as_mut() else { return Poll::Ready(Ok(())) };
        while !waiting.is_empty() {
            match Pin::new(&mut *io).poll_write(cx, waiting) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    waiting.drain(..n);
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        // A burst's buffer is not kept: across thousands of mostly idle connections, what each
        // keeps after its largest burst adds up (the soak grew 20 MiB a minute keeping 64 KiB).
        if waiting.capacity() > WAITING_KEPT {
            *waiting = Vec::new();
        }
        Poll::Ready(Ok(()))
    }
}

/// An unmasked text frame's header (RFC 6455 §5.2: FIN, opcode 1, the payload length).
fn text_header(len: usize) -> ([u8; 10], usize) {
    let mut h = [0u8; 10];
    h[0] = 0x81;
    if len < 126 {
        h[1] = len as u8;
        (h, 2)
    } else if len <= usize::from(u16::MAX) {
        h[1] = 126;
        h[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        (h, 4)
    } else {
        h[1] = 127;
        h[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        (h, 10)
    }
}

impl Outbox for Socket {
    /// Called on the hub's task: nothing here may wait, so the socket is polled with a waker
    /// that does nothing; what it does not take now is the connection task's to flush.
    /// The frames go out in one write (one system call): a copy of a few hundred bytes costs
    /// far less than a second call.
    fn push(&self, frames: &[&Frame]) -> bool {
        let mut bytes = Vec::with_capacity(frames.iter().map(|f| f.len() + 10).sum());
        for frame in frames {
            let (header, n) = text_header(frame.len());
            bytes.extend_from_slice(&header[..n]);
            bytes.extend_from_slice(frame);
        }
        self.write(&bytes, &mut Context::from_waker(Waker::noop()))
    }

    /// An empty ping (RFC 6455 §5.5.2: FIN, opcode 9, no payload), written like a frame.
    fn ping(&self) -> bool {
        self.write(&[0x89, 0x00], &mut Context::from_waker(Waker::noop()))
    }
}

/// The connection as tungstenite sees it: reads from the socket, writes through [`Socket::write`].
pub struct Io(pub Arc<Socket>);

impl AsyncRead for Io {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let mut s = self.0.lock();
        match s.io.as_mut() {
            Some(io) => Pin::new(io).poll_read(cx, buf),
            None => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.0.write(buf, cx) {
            Poll::Ready(Ok(buf.len()))
        } else {
            Poll::Ready(Err(io::Error::new(io::ErrorKind::BrokenPipe, "the connection is closed or too far behind")))
        }
    }

    /// What waits is flushed by the connection's task as the socket takes it.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.0.poll_flush_waiting(cx) {
            Poll::Ready(Ok(())) => {}
            other => return other,
        }
        let mut s = self.0.lock();
        match s.io.as_mut() {
            Some(io) => Pin::new(io).poll_shutdown(cx),
            None => Poll::Ready(Ok(())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::text_header;

    #[test]
    fn text_headers_carry_the_length_in_the_shortest_form() {
        assert_eq!(&text_header(5).0[..2], [0x81, 5]);
        assert_eq!(&text_header(300).0[..4], [0x81, 126, 1, 44]);
        assert_eq!(&text_header(70_000).0[..10], [0x81, 127, 0, 0, 0, 0, 0, 1, 17, 112]);
    }
}
