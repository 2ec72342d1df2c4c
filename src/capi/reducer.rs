//! Map/reduce on the worker side (libgearman 1.1.20's `gearman_job_reducer_st`): a job assigned
//! with a reducer name (a client's `gearman_execute_by_partition`) and run by a partition function
//! (`gearman_function_create_partition`) gets a reducer. Each `gearman_job_send_data` of the
//! function becomes a job for the reducer function, submitted through a client configured like the
//! worker; when the function returns SUCCESS, the reducer jobs are run, the aggregator combines
//! their results and the combination is the job's WORK_COMPLETE.

use super::actions::gearman_actions_t;
use super::aggregator::gearman_aggregator_st;
use super::callbacks::{callback, gearman_aggregator_fn, AggregatorFn};
use super::client::{client_ptr, gearman_client_context, gearman_client_free, gearman_client_st};
use super::client_run::gearman_client_run_tasks;
use super::error::to_c;
use super::result::gearman_result_st;
use super::return_code::{gearman_return_t, GearmanReturn};
use super::task::{attach_task, gearman_task_return, gearman_task_st};
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

    /// Queues `data` as a job for the reducer function (sent by [`Reducer::complete`]). Like
    /// 1.1.20's reducer tasks it collects its result into `gearman_task_result` (the execute
    /// action set), which is what the aggregator reads.
    ///
    /// # Safety
    ///
    /// The reducer's client must be live.
    pub unsafe fn add(&mut self, data: &[u8]) -> GearmanReturn {
        // SAFETY: a live client shell (caller guarantee).
        let Some(c) = (unsafe { client_ptr(self.client) }) else {
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
        // SAFETY: a live client.
        let id = match unsafe { (*c).core.add_task_with(t) } {
            Ok(id) => id,
            Err(e) => return to_c(e.code()),
        };
        // SAFETY: a live client; a heap shell for the task just added.
        let shell = unsafe {
            attach_task(
                c,
                std::ptr::null_mut(),
                id,
                gearman_actions_t::default(),
                std::ptr::null_mut(),
            )
        };
        if shell.is_null() {
            return to_c(ReturnCode::MemoryAllocationFailure);
        }
        self.newest = shell;
        to_c(ReturnCode::Success)
    }

    /// Runs the reducer jobs; any failed one → its code. Then the aggregator (if any) combines
    /// the results: its result is returned (empty without aggregator or value).
    ///
    /// # Safety
    ///
    /// The reducer's client must be live; the aggregator NULL or a `gearman_aggregator_fn`.
    pub unsafe fn complete(&mut self) -> Result<Vec<u8>, GearmanReturn> {
        // SAFETY: a live client.
        let rc = unsafe { gearman_client_run_tasks(self.client) };
        if rc != gearman_return_t::GEARMAN_SUCCESS {
            return Err(rc);
        }
        if self.newest.is_null() {
            return Ok(Vec::new());
        }
        let mut task = self.newest;
        while !task.is_null() {
            // SAFETY: tasks of the live client.
            let rc = unsafe { gearman_task_return(task) };
            if rc != gearman_return_t::GEARMAN_SUCCESS {
                return Err(rc);
            }
            // SAFETY: as above.
            task = unsafe { super::task::gearman_next(task) };
        }
        // SAFETY: the caller guarantees the aggregator's signature.
        let Some(aggregate) = (unsafe { callback::<_, AggregatorFn>(self.aggregator) }) else {
            return Ok(Vec::new());
        };
        // SAFETY: a live client.
        let context = unsafe { gearman_client_context(self.client) };
        let mut aggregator = gearman_aggregator_st::new(context);
        let mut result = gearman_result_st::new();
        // SAFETY: calling the user's aggregator with live objects that outlive the call.
        unsafe { aggregate(&mut aggregator, self.newest, &mut result) };
        Ok(result.bytes().map(<[u8]>::to_vec).unwrap_or_default())
    }
}

impl Drop for Reducer {
    fn drop(&mut self) {
        // SAFETY: the reducer owns its client (freeing it also frees the reducer tasks).
        unsafe { gearman_client_free(self.client) };
    }
}
