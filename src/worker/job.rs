//! Jobs handed out by the server, and what a worker sends back for them.

use super::Worker;
use crate::error::{Error, ReturnCode};
use crate::protocol::Command;
use bytes::Bytes;

/// A job assigned by JOB_ASSIGN / JOB_ASSIGN_UNIQ / JOB_ASSIGN_ALL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub(crate) handle: Vec<u8>,
    pub(crate) function: Vec<u8>,
    pub(crate) unique: Vec<u8>,
    pub(crate) reducer: Vec<u8>,
    /// A slice of the buffer the assignment was read into (no copy).
    pub(crate) workload: Bytes,
    /// The server connection it came from (id and connection generation).
    pub(crate) server: u64,
    pub(crate) generation: u64,
    /// A terminal packet (COMPLETE / FAIL / EXCEPTION) was sent: later ones are suppressed.
    pub(crate) finished: bool,
}

impl Job {
    /// The job handle, e.g. `H:host:42`.
    pub fn handle(&self) -> &[u8] {
        &self.handle
    }

    /// Function name as assigned (namespace included).
    pub fn function_name(&self) -> &[u8] {
        &self.function
    }

    /// The unique ("" when grabbed with plain GRAB_JOB).
    pub fn unique(&self) -> &[u8] {
        &self.unique
    }

    /// The reducer named by a map/reduce submission ("" otherwise).
    pub fn reducer(&self) -> &[u8] {
        &self.reducer
    }

    /// The workload bytes.
    pub fn workload(&self) -> &[u8] {
        &self.workload
    }

    /// Takes the workload out of the job (it is empty afterwards).
    pub fn take_workload(&mut self) -> Vec<u8> {
        Vec::from(std::mem::take(&mut self.workload))
    }

    /// True once a terminal packet was sent for it.
    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

/// How the C layer (or [`Worker::work`]) ends a job after its callback returned; see
/// [`Worker::finish_job`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// WORK_COMPLETE(result) unless already finished; `work` returns SUCCESS.
    Success(Vec<u8>),
    /// WORK_COMPLETE(result) unless already finished; `work` returns SHUTDOWN.
    Shutdown(Vec<u8>),
    /// WORK_FAIL unless already finished; `work` returns this code.
    Fail(ReturnCode),
    /// Nothing is sent and every connection is closed, so the server hands the job out
    /// again; `work` returns SUCCESS.
    Retry,
}

/// How long a connection may stay quiet before a job result checks it for a server-side close.
const STALE_CHECK_AFTER: std::time::Duration = std::time::Duration::from_millis(100);

impl Outcome {
    /// libgearman 1.1.20's mapping for a v1 callback (`gearman_worker_fn`) that set `*ret_ptr`
    /// to `ret` and returned `result`: SUCCESS → complete, SHUTDOWN → complete and return
    /// SHUTDOWN, LOST_CONNECTION → retry (drop the connections), anything else → WORK_FAIL
    /// and return that value. Values outside the enum come back as `Err(raw)`: the caller
    /// sends WORK_FAIL (`Outcome::Fail`) and returns the raw value itself.
    pub fn from_v1(ret: i32, result: Vec<u8>) -> Result<Outcome, i32> {
        match ReturnCode::from_i32(ret) {
            Some(ReturnCode::Success) => Ok(Outcome::Success(result)),
            Some(ReturnCode::Shutdown) => Ok(Outcome::Shutdown(result)),
            Some(ReturnCode::LostConnection) => Ok(Outcome::Retry),
            Some(code) if code != ReturnCode::MaxReturn => Ok(Outcome::Fail(code)),
            _ => Err(ret),
        }
    }

    /// The mapping for a v2 callback (`gearman_function_fn`) returning `ret`: SUCCESS →
    /// empty complete; SHUTDOWN → empty complete and return SHUTDOWN; FAIL (24) or
    /// WORK_EXCEPTION → WORK_FAIL, return WORK_FAIL; ERROR (19) → retry. Anything else is
    /// treated as ERROR, with the INVALID_ARGUMENT error libgearman records
    /// (`Worker returned invalid gearman_return_t: <name>`).
    pub fn from_v2(ret: i32) -> (Outcome, Option<Error>) {
        match ReturnCode::from_i32(ret) {
            Some(ReturnCode::Success) => (Outcome::Success(Vec::new()), None),
            Some(ReturnCode::Shutdown) => (Outcome::Shutdown(Vec::new()), None),
            Some(ReturnCode::WorkFail | ReturnCode::WorkException) => {
                (Outcome::Fail(ReturnCode::WorkFail), None)
            }
            Some(ReturnCode::WorkError) => (Outcome::Retry, None),
            _ => (
                Outcome::Retry,
                Some(Error::new(
                    ReturnCode::InvalidArgument,
                    "gearman_worker_work",
                    format!(
                        "Worker returned invalid gearman_return_t: {}",
                        ReturnCode::strerror(ret)
                    ),
                )),
            ),
        }
    }
}

impl Worker {
    fn send_for_job(&mut self, job: &Job, command: Command, args: &[&[u8]]) -> Result<(), Error> {
        let timeout = self.wait_timeout();
        let Some(s) = self
            .servers
            .iter_mut()
            .find(|s| s.id == job.server && s.generation == job.generation)
            .filter(|s| s.link.is_connected())
        else {
            return self.fail(Error::new(
                ReturnCode::LostConnection,
                "gearman_job_send",
                "the connection the job came from is gone",
            ));
        };
        // A server that closed the connection would swallow the first write silently: after
        // a quiet spell (a job that ran a while), look for its EOF before sending.
        let quiet = s.link.idle_for() > STALE_CHECK_AFTER;
        if s.link.is_eof() || (quiet && (s.link.fill().is_err() || s.link.is_eof())) {
            s.lost();
            return self.fail(Error::new(
                ReturnCode::LostConnection,
                "gearman_job_send",
                "lost connection to server (EOF)",
            ));
        }
        s.last_reported = Some(job.handle.clone());
        // Job results are written out completely even on a non-blocking worker; a server
        // that stops reading for longer than the timeout (at least 1 s) fails the send. A
        // large result is written straight from the caller's buffer.
        let wait = timeout.map(|t| t.max(std::time::Duration::from_secs(1)));
        if let Err(e) = s.link.send_blocking(command, args, wait) {
            s.lost();
            return self.fail(e);
        }
        Ok(())
    }

    /// WORK_DATA: a chunk of output (nothing is sent once the job is finished).
    pub fn job_send_data(&mut self, job: &Job, data: &[u8]) -> Result<(), Error> {
        if job.finished {
            return Ok(());
        }
        self.send_for_job(job, Command::WorkData, &[&job.handle, data])
    }

    /// WORK_WARNING.
    pub fn job_send_warning(&mut self, job: &Job, warning: &[u8]) -> Result<(), Error> {
        if job.finished {
            return Ok(());
        }
        self.send_for_job(job, Command::WorkWarning, &[&job.handle, warning])
    }

    /// WORK_STATUS numerator/denominator.
    pub fn job_send_status(
        &mut self,
        job: &Job,
        numerator: u32,
        denominator: u32,
    ) -> Result<(), Error> {
        if job.finished {
            return Ok(());
        }
        let (n, d) = (numerator.to_string(), denominator.to_string());
        self.send_for_job(
            job,
            Command::WorkStatus,
            &[&job.handle, n.as_bytes(), d.as_bytes()],
        )
    }

    /// WORK_COMPLETE; the first terminal packet wins, later ones are no-ops.
    pub fn job_send_complete(&mut self, job: &mut Job, result: &[u8]) -> Result<(), Error> {
        if job.finished {
            return Ok(());
        }
        self.send_for_job(job, Command::WorkComplete, &[&job.handle, result])?;
        job.finished = true;
        Ok(())
    }

    /// WORK_FAIL (the bare handle).
    pub fn job_send_fail(&mut self, job: &mut Job) -> Result<(), Error> {
        if job.finished {
            return Ok(());
        }
        self.send_for_job(job, Command::WorkFail, &[&job.handle])?;
        job.finished = true;
        Ok(())
    }

    /// WORK_EXCEPTION with a non-empty text (empty → INVALID_ARGUMENT); finishes the job.
    pub fn job_send_exception(&mut self, job: &mut Job, exception: &[u8]) -> Result<(), Error> {
        if exception.is_empty() {
            return self.fail(Error::new(
                ReturnCode::InvalidArgument,
                "gearman_job_send_exception",
                "No exception was provided",
            ));
        }
        if job.finished {
            return Ok(());
        }
        self.send_for_job(job, Command::WorkException, &[&job.handle, exception])?;
        job.finished = true;
        Ok(())
    }

    /// Ends a job the way libgearman 1.1.20's `gearman_worker_work` does after the callback,
    /// and returns what `work` returns (see [`Outcome`]). A failed send is returned instead.
    pub fn finish_job(&mut self, job: &mut Job, outcome: Outcome) -> ReturnCode {
        let sent = match &outcome {
            Outcome::Success(r) | Outcome::Shutdown(r) => self.job_send_complete(job, r),
            Outcome::Fail(_) => self.job_send_fail(job),
            Outcome::Retry => {
                self.close_connections();
                Ok(())
            }
        };
        match (sent, outcome) {
            (Err(e), _) => e.code(),
            (Ok(()), Outcome::Success(_) | Outcome::Retry) => ReturnCode::Success,
            (Ok(()), Outcome::Shutdown(_)) => ReturnCode::Shutdown,
            (Ok(()), Outcome::Fail(code)) => code,
        }
    }
}

/// What a Rust job handler sees: the job and the operations that report on it.
pub struct JobContext<'a> {
    pub(crate) worker: &'a mut Worker,
    pub(crate) job: &'a mut Job,
}

impl JobContext<'_> {
    /// The job being run.
    pub fn job(&self) -> &Job {
        self.job
    }

    /// The workload bytes.
    pub fn workload(&self) -> &[u8] {
        &self.job.workload
    }

    /// The job handle.
    pub fn handle(&self) -> &[u8] {
        &self.job.handle
    }

    /// The unique ("" with plain GRAB_JOB).
    pub fn unique(&self) -> &[u8] {
        &self.job.unique
    }

    /// The function name as assigned (namespace included).
    pub fn function_name(&self) -> &[u8] {
        &self.job.function
    }

    /// Streams a chunk of output to the client (WORK_DATA).
    pub fn send_data(&mut self, data: &[u8]) -> Result<(), Error> {
        self.worker.job_send_data(self.job, data)
    }

    /// Sends a warning (WORK_WARNING).
    pub fn send_warning(&mut self, warning: &[u8]) -> Result<(), Error> {
        self.worker.job_send_warning(self.job, warning)
    }

    /// Reports progress (WORK_STATUS).
    pub fn send_status(&mut self, numerator: u32, denominator: u32) -> Result<(), Error> {
        self.worker
            .job_send_status(self.job, numerator, denominator)
    }

    /// Completes the job now; the handler's own result is then ignored.
    pub fn send_complete(&mut self, result: &[u8]) -> Result<(), Error> {
        self.worker.job_send_complete(self.job, result)
    }

    /// Fails the job now.
    pub fn send_fail(&mut self) -> Result<(), Error> {
        self.worker.job_send_fail(self.job)
    }

    /// Ends the job with an exception now.
    pub fn send_exception(&mut self, text: &[u8]) -> Result<(), Error> {
        self.worker.job_send_exception(self.job, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_and_v2_result_mapping() {
        assert_eq!(
            Outcome::from_v1(0, b"r".to_vec()),
            Ok(Outcome::Success(b"r".to_vec()))
        );
        assert_eq!(Outcome::from_v1(2, vec![]), Ok(Outcome::Shutdown(vec![])));
        assert_eq!(Outcome::from_v1(14, vec![]), Ok(Outcome::Retry));
        assert_eq!(
            Outcome::from_v1(23, vec![]),
            Ok(Outcome::Fail(ReturnCode::WorkException))
        );
        assert_eq!(Outcome::from_v1(1000, vec![]), Err(1000));
        assert_eq!(Outcome::from_v2(0).0, Outcome::Success(vec![]));
        assert_eq!(Outcome::from_v2(24).0, Outcome::Fail(ReturnCode::WorkFail));
        assert_eq!(Outcome::from_v2(23).0, Outcome::Fail(ReturnCode::WorkFail));
        assert_eq!(Outcome::from_v2(19), (Outcome::Retry, None));
        let (o, e) = Outcome::from_v2(35);
        assert_eq!(o, Outcome::Retry);
        let e = e.expect("error recorded");
        assert_eq!(e.code(), ReturnCode::InvalidArgument);
        assert!(e.message().contains("GEARMAN_NO_JOBS"));
    }
}

#[cfg(test)]
mod send_tests {
    fn assert_send<T: Send>() {}

    #[test]
    fn client_and_worker_can_move_between_threads() {
        assert_send::<crate::Client>();
        assert_send::<crate::Worker>();
    }
}
