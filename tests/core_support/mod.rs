//! Helpers shared by the client_* and worker_* tests: a Rust worker on its own thread.
#![allow(dead_code)]

use gearman::worker::Worker;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A worker serving on a thread until dropped (stopped through its wake-up pipe).
pub struct WorkerThread {
    handle: Option<JoinHandle<()>>,
    wake_fd: i32,
}

/// Starts a worker on `servers` (a `host:port` list) after `setup` registered its functions.
pub fn spawn_worker<F>(servers: &str, setup: F) -> WorkerThread
where
    F: FnOnce(&mut Worker) + Send + 'static,
{
    let servers = servers.to_string();
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let mut w = Worker::new().expect("worker");
        w.add_servers(&servers).expect("servers");
        setup(&mut w);
        tx.send(w.wake_fds().1).expect("send fd");
        loop {
            match w.work() {
                Ok(()) => {}
                Err(e)
                    if e.code() == gearman::ReturnCode::ShutdownGraceful
                        || e.code() == gearman::ReturnCode::Shutdown =>
                {
                    break
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    let wake_fd = rx.recv().expect("worker started");
    WorkerThread {
        handle: Some(handle),
        wake_fd,
    }
}

impl Drop for WorkerThread {
    fn drop(&mut self) {
        let _ = gearman::net::wake::interrupt_fd(self.wake_fd);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Polls `cond` every 10 ms until true or `limit` passes.
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}
