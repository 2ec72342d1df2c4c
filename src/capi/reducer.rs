//! Map/reduce on the worker side (libgearman 1.1.20's `gearman_job_reducer_st`): a job assigned
//! with a reducer name (a client's `gearman_execute_by_partition`) and run by a partition function
//! (`gearman_function_create_partition`) gets a reducer. Each `gearman_job_send_data` of the
//! function becomes a job for the reducer function, submitted through a client configured like the
//! worker; when the function returns SUCCESS, the reducer jobs are run, the aggregator combines
//! their results and the combination is the job's WORK_COMPLETE.

use super::actions::gearman_actions_t;
use super::aggregator::gearman_aggregator_st;
use super::boundary::{Handle, Storage};
use super::callbacks::{callback, gearman_aggregator_fn};
use super::client_impl::ClientRef;
use super::error::to_c;
use super::result::gearman_result_st;
use super::return_code::{gearman_return_t, GearmanReturn};
use super::run_loop;
use super::shells::{gearman_client_st, gearman_task_st};
use super::task_impl::{self, TaskRef};
use crate::client::{Mode, NewTask, Priority, Request, TaskKind};
use crate::error::ReturnCode;

/// The reducer of one map job.
pub struct Reducer {
    client: *mut gearman_client_st,
    /// The reducer function's name, NUL-terminated.
    function: Vec<u8>,
    aggregator: *mut gearman_aggregator_fn,
    /// The newest reducer task (the head of the client's task list), NULL before the first.
    newest: *mut gearman_task_st,
}

impl Reducer {
    /// A reducer submitting to `function` through `client` (owned from now on).
    pub fn new(
        client: *mut gearman_client_st,
        function: &[u8],
        aggregator: *mut gearman_aggregator_fn,
    ) -> Reducer {
        let mut name = function.to_vec();
        name.retain(|&b| b != 0);
        name.push(0);
        Reducer {
            client,
            function: name,
            aggregator,
            newest: std::ptr::null_mut(),
        }
    }

    /// The reducer function's name (without the NUL).
    pub fn name(&self) -> String {
        String::from_utf8_lossy(&self.function[..self.function.len() - 1]).into_owned()
    }

    /// The handle of the reducer's client.
    fn client(&self) -> Option<ClientRef> {
        // SAFETY: the reducer owns its client (a shell `WorkerImpl::client_like` installed),
        // live until the reducer is dropped, used by this thread only.
        unsafe { ClientRef::from_c(self.client) }
    }

    /// Queues `data` as a job for the reducer function (sent by [`Reducer::complete`]). Like
    /// 1.1.20's reducer tasks it collects its result into `gearman_task_result` (the execute
    /// action set), which is what the aggregator reads.
    pub fn add(&mut self, data: &[u8]) -> GearmanReturn {
        let Some(mut c) = self.client() else {
            return to_c(ReturnCode::InvalidArgument);
        };
        let t = NewTask {
            request: Request::Job {
                priority: Priority::Normal,
                background: false,
            },
            function: &self.function[..self.function.len() - 1],
            unique: None,
            workload: data.to_vec(),
            mode: Mode::Events,
            kind: TaskKind::Execute,
        };
        let id = match c.core.add_task_with(t) {
            Ok(id) => id,
            Err(e) => return to_c(e.code()),
        };
        let actions = gearman_actions_t::default();
        let shell = task_impl::attach(&c, Storage::heap(), id, actions, std::ptr::null_mut());
        if shell.is_null() {
            return to_c(ReturnCode::MemoryAllocationFailure);
        }
        self.newest = shell;
        to_c(ReturnCode::Success)
    }

    /// Runs the reducer jobs; any failed one → its code. Then the aggregator (if any) combines
    /// the results: its result is returned (empty without aggregator or value). The aggregator
    /// was registered by C with the `gearman_aggregator_fn` signature.
    pub fn complete(&mut self) -> Result<Vec<u8>, GearmanReturn> {
        let Some(mut c) = self.client() else {
            return Err(to_c(ReturnCode::InvalidArgument));
        };
        let rc = run_loop::run_tasks(&mut c);
        if rc != gearman_return_t::GEARMAN_SUCCESS {
            return Err(rc);
        }
        let mut task = self.newest;
        while !task.is_null() {
            // SAFETY: NULL or a live task of the reducer's client.
            let Some(mut r) = (unsafe { TaskRef::from_c(task) }) else {
                break;
            };
            let rc = r
                .core()
                .map_or(to_c(ReturnCode::InvalidArgument), |t| to_c(t.return_code()));
            if rc != gearman_return_t::GEARMAN_SUCCESS {
                return Err(rc);
            }
            let (record, client) = r.split();
            task = task_impl::next_shell(client, record.id);
        }
        if self.newest.is_null() {
            return Ok(Vec::new());
        }
        // SAFETY: the aggregator has the gearman_aggregator_fn signature (the contract of
        // `gearman_function_create_partition`).
        let Some(aggregate) = (unsafe { callback(self.aggregator) }) else {
            return Ok(Vec::new());
        };
        let mut aggregator = gearman_aggregator_st::new(c.context);
        let mut result = gearman_result_st::new();
        let newest: *mut gearman_task_st = self.newest;
        drop(c);
        // SAFETY: calling the user's aggregator with live objects that outlive the call.
        unsafe { aggregate(&mut aggregator, newest, &mut result) };
        Ok(result.bytes().map(<[u8]>::to_vec).unwrap_or_default())
    }
}

impl Drop for Reducer {
    fn drop(&mut self) {
        // The reducer owns its client (freeing it also frees the reducer tasks).
        if let Some(c) = self.client() {
            task_impl::release_client(c);
        }
    }
}
