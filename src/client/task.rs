//! Tasks: one submission (or status request) and everything the client learnt about it.

use crate::error::ReturnCode;
use crate::protocol::Command;
use bytes::{Bytes, BytesMut};

/// Identifies a task of one client. Stale ids (of freed tasks) are detected, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskId {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// `gearman_task_state_t`, numbered as in libgearman 1.1.20.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum TaskState {
    /// Not sent yet.
    New = 0,
    /// Being sent.
    Submit = 1,
    /// Streaming a workload (unused).
    Workload = 2,
    /// Sent; waiting for replies.
    Work = 3,
    /// A deferred JOB_CREATED event.
    Created = 4,
    /// A deferred WORK_DATA event.
    Data = 5,
    /// A deferred WORK_WARNING event.
    Warning = 6,
    /// A deferred status event.
    Status = 7,
    /// A deferred WORK_COMPLETE event.
    Complete = 8,
    /// A deferred WORK_EXCEPTION event.
    Exception = 9,
    /// A deferred WORK_FAIL event.
    Fail = 10,
    /// Done.
    Finished = 11,
}

impl TaskState {
    /// `gearman_task_strstate()` text.
    pub fn name(self) -> &'static str {
        match self {
            TaskState::New => "GEARMAN_TASK_STATE_NEW",
            TaskState::Submit => "GEARMAN_TASK_STATE_SUBMIT",
            TaskState::Workload => "GEARMAN_TASK_STATE_WORKLOAD",
            TaskState::Work => "GEARMAN_TASK_STATE_WORK",
            TaskState::Created => "GEARMAN_TASK_STATE_CREATED",
            TaskState::Data => "GEARMAN_TASK_STATE_DATA",
            TaskState::Warning => "GEARMAN_TASK_STATE_WARNING",
            TaskState::Status => "GEARMAN_TASK_STATE_STATUS",
            TaskState::Complete => "GEARMAN_TASK_STATE_COMPLETE",
            TaskState::Exception => "GEARMAN_TASK_STATE_EXCEPTION",
            TaskState::Fail => "GEARMAN_TASK_STATE_FAIL",
            TaskState::Finished => "GEARMAN_TASK_STATE_FINISHED",
        }
    }
}

/// `gearman_job_priority_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Priority {
    /// SUBMIT_JOB_HIGH(_BG).
    High = 0,
    /// SUBMIT_JOB(_BG).
    #[default]
    Normal = 1,
    /// SUBMIT_JOB_LOW(_BG).
    Low = 2,
}

/// What a task asks of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// SUBMIT_JOB, _HIGH, _LOW and their _BG variants.
    Job {
        /// Queue priority.
        priority: Priority,
        /// Done once the server created the job (no results come back).
        background: bool,
    },
    /// SUBMIT_JOB_EPOCH: a background job to run at a Unix time.
    Epoch {
        /// Seconds since 1970 (0 = now).
        when: i64,
    },
    /// SUBMIT_REDUCE_JOB(_BACKGROUND) with the reducer function's name.
    Reduce {
        /// The reducer function's name.
        reducer: Vec<u8>,
        /// SUBMIT_REDUCE_JOB_BACKGROUND.
        background: bool,
    },
    /// GET_STATUS for a job handle.
    Status,
    /// GET_STATUS_UNIQUE for a unique.
    StatusUnique,
}

impl Request {
    /// The packet type that carries this request.
    pub fn command(&self) -> Command {
        match self {
            Request::Job {
                priority,
                background,
            } => match (priority, background) {
                (Priority::Normal, false) => Command::SubmitJob,
                (Priority::High, false) => Command::SubmitJobHigh,
                (Priority::Low, false) => Command::SubmitJobLow,
                (Priority::Normal, true) => Command::SubmitJobBg,
                (Priority::High, true) => Command::SubmitJobHighBg,
                (Priority::Low, true) => Command::SubmitJobLowBg,
            },
            Request::Epoch { .. } => Command::SubmitJobEpoch,
            Request::Reduce {
                background: false, ..
            } => Command::SubmitReduceJob,
            Request::Reduce {
                background: true, ..
            } => Command::SubmitReduceJobBackground,
            Request::Status => Command::GetStatus,
            Request::StatusUnique => Command::GetStatusUnique,
        }
    }

    /// Submissions are answered by JOB_CREATED (status requests are not).
    pub fn is_submit(&self) -> bool {
        !matches!(self, Request::Status | Request::StatusUnique)
    }

    /// Background submissions are done once JOB_CREATED arrives.
    pub fn is_background(&self) -> bool {
        match self {
            Request::Job { background, .. } | Request::Reduce { background, .. } => *background,
            Request::Epoch { .. } => true,
            Request::Status | Request::StatusUnique => false,
        }
    }
}

/// `bytes` with one NUL kept after its end, inside the allocation, so that C can read an
/// exception text with `%s`/`strcmp` as libgearman 1.1.20 allows (its exception strings are
/// NUL-terminated; other payloads are not). The NUL is not part of the length; it stays as long
/// as the vector is not grown or shrunk, and a clone (which does not copy spare capacity) must
/// be made through this function again.
pub fn nul_terminated(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.reserve_exact(1);
    bytes.push(0);
    bytes.pop();
    bytes
}

/// How a task's replies are consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Every reply is handed to the caller as a [`TaskEvent`](super::TaskEvent).
    Events,
    /// libgearman's "do" action set: WORK_DATA and WORK_COMPLETE payloads are appended to
    /// [`Task::result`], nothing is reported as an event (used by `do`, `execute`, status).
    Collect,
}

/// Which API created the task (`gearman_task_kind_t`): the C layer frees ADD_TASK tasks under
/// FREE_TASKS and never runs the context-free function for DO tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskKind {
    /// `add_task*`.
    AddTask = 0,
    /// `gearman_execute`.
    Execute = 1,
    /// `gearman_client_do*` and the other synchronous helpers.
    Do = 2,
}

/// One task of a client.
#[derive(Debug, Clone)]
pub struct Task {
    pub(crate) request: Request,
    pub(crate) mode: Mode,
    pub(crate) kind: TaskKind,
    pub(crate) function: Vec<u8>,
    pub(crate) unique: Vec<u8>,
    /// Shared with the output queue while it is being sent (no copy).
    pub(crate) workload: Bytes,
    pub(crate) handle: Vec<u8>,
    pub(crate) state: TaskState,
    /// Id of the server connection the request went to.
    pub(crate) server: Option<u64>,
    pub(crate) known: bool,
    pub(crate) running: bool,
    pub(crate) numerator: u32,
    pub(crate) denominator: u32,
    pub(crate) client_count: u32,
    pub(crate) ret: ReturnCode,
    /// Slices of the buffers the replies were read into (large payloads are not copied).
    pub(crate) data: Option<Bytes>,
    pub(crate) result: Option<Bytes>,
    pub(crate) exception: Option<Vec<u8>>,
    /// Already sent again once after its connection broke before the server answered.
    pub(crate) resent: bool,
    /// Opaque value for the layer above (the C layer keeps its task shell's address here).
    pub(crate) tag: usize,
}

impl Task {
    pub(crate) fn new(
        request: Request,
        mode: Mode,
        kind: TaskKind,
        function: Vec<u8>,
        unique: Vec<u8>,
        workload: Vec<u8>,
    ) -> Task {
        Task {
            request,
            mode,
            kind,
            function,
            unique,
            workload: Bytes::from(workload),
            handle: Vec::new(),
            state: TaskState::New,
            server: None,
            known: false,
            running: false,
            numerator: 0,
            denominator: 0,
            client_count: 0,
            ret: ReturnCode::UnknownState,
            data: None,
            result: None,
            exception: None,
            resent: false,
            tag: 0,
        }
    }

    /// The opaque value stored with [`Task::set_tag`] (0 by default).
    pub fn tag(&self) -> usize {
        self.tag
    }

    /// Stores an opaque value with the task, e.g. the address of a foreign handle, so an
    /// event's [`TaskId`] leads straight to it.
    pub fn set_tag(&mut self, tag: usize) {
        self.tag = tag;
    }

    /// The request kind.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// How replies are consumed.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Which API created the task.
    pub fn kind(&self) -> TaskKind {
        self.kind
    }

    /// Function name as sent, namespace included (the handle for status tasks, the unique
    /// for status-by-unique tasks).
    pub fn function_name(&self) -> &[u8] {
        match self.request {
            Request::Status => &self.handle,
            Request::StatusUnique => &self.unique,
            _ => &self.function,
        }
    }

    /// The unique sent ("" for status tasks).
    pub fn unique(&self) -> &[u8] {
        match self.request {
            Request::Status | Request::StatusUnique => &[],
            _ => &self.unique,
        }
    }

    /// The workload to be (or already) sent.
    pub fn workload(&self) -> &[u8] {
        &self.workload
    }

    /// Replaces the workload of a task not yet submitted (`gearman_task_give_workload`).
    pub fn set_workload(&mut self, workload: Vec<u8>) {
        if self.state == TaskState::New {
            self.workload = Bytes::from(workload);
        }
    }

    /// The job handle from JOB_CREATED ("" before; the queried handle for status tasks).
    pub fn job_handle(&self) -> &[u8] {
        &self.handle
    }

    /// The state (NEW, WORK, FINISHED, or where a deferred event resumes).
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// The server knows the job (JOB_CREATED, WORK_DATA, or a status answer).
    pub fn is_known(&self) -> bool {
        self.known
    }

    /// A worker is running it (WORK_DATA or a status answer).
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Last numerator from WORK_STATUS or a status answer.
    pub fn numerator(&self) -> u32 {
        self.numerator
    }

    /// Last denominator from WORK_STATUS or a status answer.
    pub fn denominator(&self) -> u32 {
        self.denominator
    }

    /// Clients waiting for the job (STATUS_RES_UNIQUE only).
    pub fn client_count(&self) -> u32 {
        self.client_count
    }

    /// UNKNOWN_STATE until resolved; then SUCCESS, WORK_FAIL, WORK_EXCEPTION or the error
    /// that ended the task.
    pub fn return_code(&self) -> ReturnCode {
        self.ret
    }

    /// Payload of the reply being delivered right now (None outside an event).
    pub fn data(&self) -> Option<&[u8]> {
        self.data.as_deref()
    }

    /// Detaches the payload of the current reply.
    pub fn take_data(&mut self) -> Option<Bytes> {
        self.data.take()
    }

    /// Accumulated WORK_DATA + WORK_COMPLETE payloads of a [`Mode::Collect`] task.
    pub fn result(&self) -> Option<&[u8]> {
        self.result.as_deref()
    }

    /// Takes the accumulated result.
    pub fn take_result(&mut self) -> Option<Bytes> {
        self.result.take()
    }

    /// Appends a WORK_DATA / WORK_COMPLETE payload to the result: the first one is kept as
    /// it arrived (a slice of the read buffer), later ones are appended to it. (What a
    /// [`Mode::Collect`] task does; the C library's do action set collects the same way.)
    pub(crate) fn append_result(&mut self, data: Bytes) {
        self.result = Some(match self.result.take() {
            None => data,
            Some(r) => {
                let mut all = r.try_into_mut().unwrap_or_else(|r| BytesMut::from(&r[..]));
                all.extend_from_slice(&data);
                all.freeze()
            }
        });
    }

    /// The WORK_EXCEPTION payload, if a non-empty one arrived.
    pub fn exception(&self) -> Option<&[u8]> {
        self.exception.as_deref().filter(|e| !e.is_empty())
    }

    /// True once the task reached a terminal state (COMPLETE/EXCEPTION/FAIL/FINISHED).
    pub fn is_finished(&self) -> bool {
        matches!(
            self.state,
            TaskState::Complete | TaskState::Exception | TaskState::Fail | TaskState::Finished
        )
    }
}

/// A slot of the task arena, linked into the client's task list (newest first).
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) generation: u32,
    pub(crate) task: Option<Task>,
    pub(crate) prev: Option<u32>,
    pub(crate) next: Option<u32>,
}

/// The task arena: O(1) insert at the head, O(1) removal, stable ids with generations.
#[derive(Debug, Default)]
pub(crate) struct Tasks {
    slots: Vec<Slot>,
    free: Vec<u32>,
    head: Option<u32>,
    len: usize,
}

impl Tasks {
    pub(crate) fn insert_head(&mut self, task: Task) -> TaskId {
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    task: None,
                    prev: None,
                    next: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let old_head = self.head;
        {
            let slot = &mut self.slots[index as usize];
            slot.task = Some(task);
            slot.prev = None;
            slot.next = old_head;
        }
        if let Some(h) = old_head {
            self.slots[h as usize].prev = Some(index);
        }
        self.head = Some(index);
        self.len += 1;
        TaskId {
            index,
            generation: self.slots[index as usize].generation,
        }
    }

    pub(crate) fn get(&self, id: TaskId) -> Option<&Task> {
        self.slots
            .get(id.index as usize)
            .filter(|s| s.generation == id.generation)
            .and_then(|s| s.task.as_ref())
    }

    pub(crate) fn get_mut(&mut self, id: TaskId) -> Option<&mut Task> {
        self.slots
            .get_mut(id.index as usize)
            .filter(|s| s.generation == id.generation)
            .and_then(|s| s.task.as_mut())
    }

    pub(crate) fn remove(&mut self, id: TaskId) -> Option<Task> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation || slot.task.is_none() {
            return None;
        }
        let task = slot.task.take();
        let (prev, next) = (slot.prev.take(), slot.next.take());
        slot.generation = slot.generation.wrapping_add(1);
        match prev {
            Some(p) => self.slots[p as usize].next = next,
            None => self.head = next,
        }
        if let Some(n) = next {
            self.slots[n as usize].prev = prev;
        }
        self.free.push(id.index);
        self.len -= 1;
        task
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The newest task.
    pub(crate) fn head(&self) -> Option<TaskId> {
        self.head.map(|i| self.id_at(i))
    }

    /// The next older task (`gearman_next`).
    pub(crate) fn next(&self, id: TaskId) -> Option<TaskId> {
        self.get(id)?;
        self.slots[id.index as usize].next.map(|i| self.id_at(i))
    }

    fn id_at(&self, index: u32) -> TaskId {
        TaskId {
            index,
            generation: self.slots[index as usize].generation,
        }
    }

    /// Ids newest first.
    pub(crate) fn ids(&self) -> Vec<TaskId> {
        let mut out = Vec::with_capacity(self.len);
        let mut cur = self.head;
        while let Some(i) = cur {
            out.push(self.id_at(i));
            cur = self.slots[i as usize].next;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str) -> Task {
        Task::new(
            Request::Status,
            Mode::Events,
            TaskKind::AddTask,
            name.as_bytes().to_vec(),
            vec![],
            vec![],
        )
    }

    #[test]
    fn arena_is_lifo_and_detects_stale_ids() {
        let mut a = Tasks::default();
        let x = a.insert_head(t("x"));
        let y = a.insert_head(t("y"));
        let z = a.insert_head(t("z"));
        assert_eq!(a.ids(), vec![z, y, x]);
        assert!(a.remove(y).is_some());
        assert_eq!(a.ids(), vec![z, x]);
        assert!(a.get(y).is_none());
        let w = a.insert_head(t("w"));
        assert_eq!(w.index, y.index);
        assert!(a.get(y).is_none());
        assert_eq!(a.next(w), Some(z));
        assert_eq!(a.len(), 3);
    }

    #[test]
    fn nul_terminated_keeps_a_nul_after_the_bytes() {
        for text in [&b"dog"[..], b"", b"exactly sixteen!"] {
            let v = nul_terminated(text.to_vec());
            assert_eq!(v, text);
            assert!(v.capacity() > v.len());
            // SAFETY: the byte after the contents lies inside the allocation (capacity > len)
            // and was written by `nul_terminated`.
            assert_eq!(unsafe { *v.as_ptr().add(v.len()) }, 0);
        }
    }
}
