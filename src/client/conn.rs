//! The client's view of one server: its link plus what is needed to route replies.

use super::task::TaskId;
use crate::net::poll::Ready;
use crate::net::{Link, ServerAddress};
use std::collections::{HashMap, VecDeque};

/// One configured server of a client.
#[derive(Debug)]
pub(crate) struct ServerConn {
    /// Stable id (tasks refer to their server by it; list positions change on add_server).
    pub(crate) id: u64,
    pub(crate) link: Link,
    /// Submissions waiting for their JOB_CREATED, oldest first (the n-th JOB_CREATED on a
    /// connection answers the n-th submission). Ids of freed tasks stay as placeholders.
    pub(crate) awaiting: VecDeque<TaskId>,
    /// Tasks by job handle (several tasks may share a handle: coalesced submissions).
    pub(crate) by_handle: HashMap<Vec<u8>, Vec<TaskId>>,
    /// Status requests (by handle or unique) waiting for their STATUS_RES(_UNIQUE).
    pub(crate) status_waiting: Vec<TaskId>,
    /// Replies still owed to the OPTION_REQs replayed when this connection was set up.
    pub(crate) option_replies: usize,
    /// Connecting to it failed during the current call: try the next server.
    pub(crate) failed: bool,
    /// Why the last asynchronous connection attempt failed (reported as COULD_NOT_CONNECT).
    pub(crate) connect_error: Option<crate::error::Error>,
    /// What the last [`Client::wait`](super::Client::wait) found ready on this connection: a
    /// non-blocking run loop serves only these, once (it never polls itself).
    pub(crate) ready: Ready,
    /// The last request queued on this connection while it was not fully written: shown as
    /// SUBMIT until its bytes are out (libgearman 1.1.20's view of a blocked send).
    pub(crate) submitting: Option<TaskId>,
}

impl ServerConn {
    pub(crate) fn new(id: u64, address: ServerAddress) -> ServerConn {
        ServerConn {
            id,
            link: Link::new(address),
            awaiting: VecDeque::new(),
            by_handle: HashMap::new(),
            status_waiting: Vec::new(),
            option_replies: 0,
            failed: false,
            connect_error: None,
            ready: Ready::default(),
            submitting: None,
        }
    }

    /// Forgets everything bound to the connection and closes it.
    pub(crate) fn reset(&mut self) {
        self.link.close();
        self.awaiting.clear();
        self.by_handle.clear();
        self.status_waiting.clear();
        self.option_replies = 0;
        self.ready = Ready::default();
        self.submitting = None;
    }

    pub(crate) fn bind_handle(&mut self, handle: &[u8], task: TaskId) {
        self.by_handle
            .entry(handle.to_vec())
            .or_default()
            .push(task);
    }

    pub(crate) fn unbind_handle(&mut self, handle: &[u8], task: TaskId) {
        if let Some(v) = self.by_handle.get_mut(handle) {
            v.retain(|t| *t != task);
            if v.is_empty() {
                self.by_handle.remove(handle);
            }
        }
    }

    /// The newest task bound to `handle` (one trailing NUL of the wire handle is ignored).
    pub(crate) fn task_for_handle(&self, handle: &[u8]) -> Option<TaskId> {
        let h = handle.strip_suffix(b"\0").unwrap_or(handle);
        self.by_handle.get(h).and_then(|v| v.last().copied())
    }
}
