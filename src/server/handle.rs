//! Stopping a running server from other threads, and a server running on its own thread.

use mio::Waker;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Requests from other threads (signal handlers, tests) to a running loop.
#[derive(Debug, Default)]
pub(super) struct Flags {
    pub(super) shutdown: AtomicBool,
    pub(super) graceful: AtomicBool,
    /// Load the TLS certificate and key again (SIGHUP).
    pub(super) reload_tls: AtomicBool,
}

/// Stops a running server from any thread.
#[derive(Clone)]
pub struct Controller {
    pub(super) flags: Arc<Flags>,
    pub(super) waker: Arc<Waker>,
}

impl Controller {
    /// Stop at once (SIGTERM, SIGINT).
    pub fn shutdown(&self) {
        self.flags.shutdown.store(true, Ordering::SeqCst);
        let _ = self.waker.wake();
    }

    /// Stop listening; exit once no job is queued or running (SIGUSR1).
    pub fn graceful(&self) {
        self.flags.graceful.store(true, Ordering::SeqCst);
        let _ = self.waker.wake();
    }

    /// Load the TLS files again for new connections (SIGHUP); established ones keep their
    /// sessions. A file that cannot be used is logged and the old certificate stays.
    pub fn reload_tls(&self) {
        self.flags.reload_tls.store(true, Ordering::SeqCst);
        let _ = self.waker.wake();
    }
}

/// A server running on its own thread; dropping it stops the server.
pub struct ServerHandle {
    pub(super) addr: SocketAddr,
    pub(super) controller: Controller,
    pub(super) thread: Option<JoinHandle<io::Result<()>>>,
}

impl ServerHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn controller(&self) -> Controller {
        self.controller.clone()
    }

    /// Stops the loop and waits for its thread.
    pub fn shutdown(mut self) -> io::Result<()> {
        self.stop()
    }

    fn stop(&mut self) -> io::Result<()> {
        self.controller.shutdown();
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| io::Error::other("server thread panicked"))?,
            None => Ok(()),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
