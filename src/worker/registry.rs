//! The worker's function registry: newest registration first, changes sent lazily.

use super::job::JobContext;
use crate::protocol::Command;

/// Outcome of a Rust job handler (see [`Worker::work`](super::Worker::work)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkResult {
    /// WORK_COMPLETE with this payload (unless the handler already finished the job).
    Complete(Vec<u8>),
    /// WORK_FAIL (unless already finished).
    Fail,
    /// WORK_EXCEPTION with this text, then the job counts as failed.
    Exception(Vec<u8>),
    /// Send nothing and drop every connection: the server hands the job out again.
    Retry,
}

/// A Rust job handler (`Send`, so a worker can move to another thread).
pub type Handler = Box<dyn FnMut(&mut JobContext<'_>) -> WorkResult + Send>;

/// What runs a function's jobs.
pub enum Callback {
    /// Registered without a callback (`gearman_worker_register`): for `grab_job` users.
    None,
    /// A Rust handler, run by [`Worker::work`](super::Worker::work).
    Rust(Handler),
    /// A callback owned by a foreign layer (the C API), identified by this value.
    Foreign(usize),
}

impl std::fmt::Debug for Callback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Callback::None => f.write_str("None"),
            Callback::Rust(_) => f.write_str("Rust(..)"),
            Callback::Foreign(v) => write!(f, "Foreign({v})"),
        }
    }
}

/// One registration.
#[derive(Debug)]
pub struct FunctionEntry {
    /// Name as sent and dispatched: namespace prefix (at registration time) + name.
    pub(crate) full_name: Vec<u8>,
    /// Name as given (compared by `function_exist` / `unregister`).
    pub(crate) name: Vec<u8>,
    /// Seconds for CAN_DO_TIMEOUT; 0 = plain CAN_DO.
    pub(crate) timeout: u32,
    pub(crate) callback: Callback,
    /// CANT_DO pending: dropped once sent.
    pub(crate) removed: bool,
}

impl FunctionEntry {
    /// Name as registered (without namespace).
    pub fn name(&self) -> &[u8] {
        &self.name
    }

    /// Name as sent to servers (namespace included).
    pub fn full_name(&self) -> &[u8] {
        &self.full_name
    }

    /// CAN_DO_TIMEOUT value; 0 = plain CAN_DO.
    pub fn timeout(&self) -> u32 {
        self.timeout
    }

    /// What runs its jobs.
    pub fn callback(&self) -> &Callback {
        &self.callback
    }

    /// The registration packet's type and arguments.
    pub(crate) fn can_do(&self) -> (Command, Vec<Vec<u8>>) {
        if self.timeout > 0 {
            (
                Command::CanDoTimeout,
                vec![
                    self.full_name.clone(),
                    self.timeout.to_string().into_bytes(),
                ],
            )
        } else {
            (Command::CanDo, vec![self.full_name.clone()])
        }
    }
}

/// A registration change not yet sent to the connected servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    Add(Command, Vec<Vec<u8>>),
    Remove(Vec<u8>),
    Reset,
}

/// All registrations plus the queue of changes for connected servers.
#[derive(Debug, Default)]
pub struct Registry {
    /// Newest first.
    pub(crate) entries: Vec<FunctionEntry>,
    pub(crate) changes: Vec<Change>,
}

impl Registry {
    pub(crate) fn add(&mut self, entry: FunctionEntry) {
        let (cmd, args) = entry.can_do();
        self.changes.push(Change::Add(cmd, args));
        self.entries.insert(0, entry);
    }

    /// The newest live entry with that (un-prefixed) name.
    pub fn find(&self, name: &[u8]) -> Option<&FunctionEntry> {
        self.entries.iter().find(|e| e.name == name && !e.removed)
    }

    /// The entry that runs jobs of the function `full_name` (newest wins).
    pub fn dispatch(&self, full_name: &[u8]) -> Option<&FunctionEntry> {
        self.entries
            .iter()
            .find(|e| e.full_name == full_name && !e.removed)
    }

    pub(crate) fn dispatch_index(&self, full_name: &[u8]) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.full_name == full_name && !e.removed)
    }

    /// Marks the newest entry named `name` removed and queues its CANT_DO.
    pub(crate) fn remove(&mut self, name: &[u8]) -> bool {
        let Some(e) = self
            .entries
            .iter_mut()
            .find(|e| e.name == name && !e.removed)
        else {
            return false;
        };
        e.removed = true;
        let full = e.full_name.clone();
        self.changes.push(Change::Remove(full));
        true
    }

    /// Drops every entry and queues RESET_ABILITIES. False when nothing was registered.
    pub(crate) fn remove_all(&mut self) -> bool {
        if !self.entries.iter().any(|e| !e.removed) {
            return false;
        }
        self.entries.clear();
        self.changes.clear();
        self.changes.push(Change::Reset);
        true
    }

    /// Whether any live function is registered.
    pub fn is_empty(&self) -> bool {
        !self.entries.iter().any(|e| !e.removed)
    }

    /// Registration packets for a fresh connection, newest first as libgearman 1.1.20 sends
    /// them (gearmand hands out queued jobs in the order of its worker's function list, so
    /// the order is visible to clients).
    pub(crate) fn registration_packets(&self) -> Vec<(Command, Vec<Vec<u8>>)> {
        self.entries
            .iter()
            .filter(|e| !e.removed)
            .map(FunctionEntry::can_do)
            .collect()
    }

    /// Whether changes wait to be sent (`GEARMAN_WORKER_CHANGE`).
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Takes the pending changes and drops entries whose CANT_DO goes out with them. Within
    /// each run of consecutive registrations the newest comes first (as 1.1.20 sends them).
    pub(crate) fn take_changes(&mut self) -> Vec<Change> {
        self.entries.retain(|e| !e.removed);
        let mut changes = std::mem::take(&mut self.changes);
        let mut start = 0;
        while start < changes.len() {
            let run = changes[start..]
                .iter()
                .take_while(|c| matches!(c, Change::Add(..)))
                .count();
            changes[start..start + run].reverse();
            start += run.max(1);
        }
        changes
    }

    /// Names of all live registrations, newest first.
    pub fn names(&self) -> Vec<Vec<u8>> {
        self.entries
            .iter()
            .filter(|e| !e.removed)
            .map(|e| e.name.clone())
            .collect()
    }

    /// Live entries, newest first.
    pub fn entries(&self) -> impl Iterator<Item = &FunctionEntry> {
        self.entries.iter().filter(|e| !e.removed)
    }
}

#[cfg(test)]
mod order_tests {
    use super::*;

    fn entry(name: &str) -> FunctionEntry {
        FunctionEntry {
            full_name: name.as_bytes().to_vec(),
            name: name.as_bytes().to_vec(),
            timeout: 0,
            callback: Callback::None,
            removed: false,
        }
    }

    fn added(c: &Change) -> &[u8] {
        match c {
            Change::Add(_, args) => &args[0],
            Change::Remove(name) => name,
            Change::Reset => b"<reset>",
        }
    }

    #[test]
    fn registrations_go_out_newest_first() {
        let mut r = Registry::default();
        for n in ["a", "b", "c"] {
            r.add(entry(n));
        }
        let names: Vec<Vec<u8>> = r
            .registration_packets()
            .into_iter()
            .map(|(_, args)| args[0].clone())
            .collect();
        assert_eq!(names, [b"c".to_vec(), b"b".to_vec(), b"a".to_vec()]);
        assert!(r.remove(b"a"));
        r.add(entry("d"));
        r.add(entry("e"));
        let changes = r.take_changes();
        let order: Vec<&[u8]> = changes.iter().map(added).collect();
        assert_eq!(
            order,
            [&b"c"[..], b"b", b"a", b"a", b"e", b"d"],
            "runs of additions reversed, the CANT_DO of a kept in place"
        );
    }
}
