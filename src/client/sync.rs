//! Synchronous helpers: `do`, background submission, status queries (all on the run loop),
//! and the request/reply exchanges that talk to every server in turn (echo, server options,
//! cancel, identifier).

use super::run::TaskEvent;
use super::task::{Mode, Priority, Request, Task, TaskId, TaskKind};
use super::{Client, NewTask};
use crate::endpoint::{self as endpoint, server_error};
use crate::error::{Error, ReturnCode};
use crate::net::{LinkState, Reply};
use crate::protocol::Command;

/// Answer to a status query by job handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobStatus {
    /// The server knows the job.
    pub known: bool,
    /// A worker is running it.
    pub running: bool,
    /// Progress numerator last reported by the worker.
    pub numerator: u32,
    /// Progress denominator last reported by the worker.
    pub denominator: u32,
}

/// Answer to a status query by unique (STATUS_RES_UNIQUE also counts waiting clients).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UniqueStatus {
    /// The server knows the job.
    pub known: bool,
    /// A worker is running it.
    pub running: bool,
    /// Progress numerator last reported by the worker.
    pub numerator: u32,
    /// Progress denominator last reported by the worker.
    pub denominator: u32,
    /// Clients waiting for the job.
    pub client_count: u32,
}

impl Client {
    /// Runs the loop until `target` finishes. Events of other tasks met on the way are
    /// completed without further handling (their task fields are still updated).
    pub fn run_until(&mut self, target: TaskId) -> Result<(), Error> {
        loop {
            match self.next_event_for(target) {
                Ok(Some(_ev)) => self.complete_event(),
                Ok(None) => return Ok(()),
                Err(e) => {
                    self.submit_before_io_wait(&e);
                    return Err(e);
                }
            }
        }
    }

    /// libgearman 1.1.20's `do*` on a non-blocking client submit in blocking mode and only
    /// then answer IO_WAIT (the result is lost, but the job runs): after an IO_WAIT from a
    /// synchronous helper, finish connecting and writing what is queued (client timeout per
    /// wait). Failures are left for the next call to see.
    pub fn submit_before_io_wait(&mut self, e: &Error) {
        if e.code() != ReturnCode::IoWait {
            return;
        }
        let timeout = self.wait_timeout();
        for s in &mut self.servers {
            if s.link.has_output() && s.link.connect_blocking(timeout).is_ok() {
                let _ = s.link.flush_blocking(timeout);
            }
        }
    }

    /// Runs every task to completion, handing each event to `handler`. Returning
    /// [`ReturnCode::Success`] moves on; anything else (e.g. [`ReturnCode::Pause`]) stops the
    /// loop with that code and the same event is delivered first by the next call. The
    /// handler gets the client back, so it may inspect, add or free tasks.
    pub fn run_tasks<F>(&mut self, mut handler: F) -> Result<(), Error>
    where
        F: FnMut(&mut Client, TaskEvent) -> ReturnCode,
    {
        while let Some(ev) = self.next_event()? {
            let rc = handler(self, ev);
            if rc != ReturnCode::Success {
                self.defer_event();
                return Err(Error::code_only(rc));
            }
            self.complete_event();
        }
        Ok(())
    }

    /// Submits a foreground job (SUBMIT_JOB) and waits for its result: WORK_DATA chunks and
    /// the WORK_COMPLETE payload concatenated. WORK_FAIL / WORK_EXCEPTION become errors with
    /// those codes (an exception's error message is the worker's text; exceptions are only
    /// forwarded after [`Client::enable_exceptions`], otherwise the server reports WORK_FAIL).
    pub fn do_job(&mut self, function: &str, workload: &[u8]) -> Result<Vec<u8>, Error> {
        self.do_job_with(Priority::Normal, function.as_bytes(), None, workload)
    }

    /// [`Client::do_job`] with a priority and an optional unique.
    pub fn do_job_with(
        &mut self,
        priority: Priority,
        function: &[u8],
        unique: Option<&[u8]>,
        workload: &[u8],
    ) -> Result<Vec<u8>, Error> {
        self.settings.error.reset();
        let id = self.add_task_with(NewTask {
            request: Request::Job {
                priority,
                background: false,
            },
            function,
            unique,
            workload: workload.to_vec(),
            mode: Mode::Collect,
            kind: TaskKind::Do,
        })?;
        let run = self.run_until(id);
        let task = self.free_task(id);
        run?;
        let Some(mut task) = task else {
            return Err(Error::code_only(ReturnCode::UnknownState));
        };
        match task.return_code() {
            // The Rust API hands out a Vec: its one copy of the result.
            ReturnCode::Success => Ok(task.take_result().map(Vec::from).unwrap_or_default()),
            // The error slot shows "GEARMAN_WORK_EXCEPTION" as in libgearman; the returned
            // error carries the worker's exception text.
            ReturnCode::WorkException => {
                self.settings.error.set_code(ReturnCode::WorkException);
                let text = String::from_utf8_lossy(task.exception().unwrap_or(b"")).into_owned();
                Err(Error::with_message(ReturnCode::WorkException, text))
            }
            code => self.fail(Error::new(
                code,
                "gearman_client_do",
                "job did not complete",
            )),
        }
    }

    /// Submits a background job and returns its handle once the server created it.
    pub fn submit_background(
        &mut self,
        priority: Priority,
        function: &[u8],
        unique: Option<&[u8]>,
        workload: &[u8],
    ) -> Result<Vec<u8>, Error> {
        self.submit_and_wait(
            Request::Job {
                priority,
                background: true,
            },
            function,
            unique,
            workload,
        )
    }

    /// Submits a background job to be run at the Unix time `when` (SUBMIT_JOB_EPOCH).
    pub fn submit_at(
        &mut self,
        when: i64,
        function: &[u8],
        unique: Option<&[u8]>,
        workload: &[u8],
    ) -> Result<Vec<u8>, Error> {
        self.submit_and_wait(Request::Epoch { when }, function, unique, workload)
    }

    fn submit_and_wait(
        &mut self,
        request: Request,
        function: &[u8],
        unique: Option<&[u8]>,
        workload: &[u8],
    ) -> Result<Vec<u8>, Error> {
        self.settings.error.reset();
        let id = self.add_task_with(NewTask {
            request,
            function,
            unique,
            workload: workload.to_vec(),
            mode: Mode::Collect,
            kind: TaskKind::Do,
        })?;
        let run = self.run_until(id);
        let task = self.free_task(id);
        run?;
        match task {
            Some(t) if t.return_code() == ReturnCode::Success => Ok(t.job_handle().to_vec()),
            Some(t) => self.fail(Error::new(
                t.return_code(),
                "gearman_client_do_background",
                "job was not created",
            )),
            None => Err(Error::code_only(ReturnCode::UnknownState)),
        }
    }

    /// Asks the server for a job's status (GET_STATUS). An unknown handle answers
    /// `known == false`.
    pub fn job_status(&mut self, handle: &[u8]) -> Result<JobStatus, Error> {
        self.settings.error.reset();
        let id = self.add_status_task(handle, Mode::Collect);
        let t = self.finish_status_task(id)?;
        Ok(JobStatus {
            known: t.is_known(),
            running: t.is_running(),
            numerator: t.numerator(),
            denominator: t.denominator(),
        })
    }

    /// Runs the status task `id` to its end and frees it: the task when it succeeded, else
    /// its return code as the error.
    fn finish_status_task(&mut self, id: TaskId) -> Result<Task, Error> {
        let run = self.run_until(id);
        let task = self.free_task(id);
        run?;
        match task {
            Some(t) if t.return_code() == ReturnCode::Success => Ok(t),
            Some(t) => Err(Error::code_only(t.return_code())),
            None => Err(Error::code_only(ReturnCode::UnknownState)),
        }
    }

    /// Asks the server for the status of the job with `unique` (GET_STATUS_UNIQUE).
    pub fn unique_status(&mut self, unique: &[u8]) -> Result<UniqueStatus, Error> {
        self.settings.error.reset();
        let id = self.add_status_unique_task(unique, Mode::Collect)?;
        let t = self.finish_status_task(id)?;
        Ok(UniqueStatus {
            known: t.is_known(),
            running: t.is_running(),
            numerator: t.numerator(),
            denominator: t.denominator(),
            client_count: t.client_count(),
        })
    }

    /// Sends OPTION_REQ to every server; on success remembers it (replayed on every new
    /// connection) and, for `exceptions`, turns on exception forwarding.
    pub fn set_server_option(&mut self, option: &[u8]) -> Result<(), Error> {
        endpoint::set_server_option(self, option)?;
        if option == b"exceptions" {
            self.exceptions = true;
        }
        Ok(())
    }

    /// Asks every server to forward WORK_EXCEPTION packets (the "exceptions" option).
    pub fn enable_exceptions(&mut self) -> Result<(), Error> {
        self.set_server_option(b"exceptions")
    }

    /// Sends a WORK_FAIL request for `handle` to every server, one reply each. gearmand only
    /// accepts that from the worker holding the job, so it answers JOB_NOT_FOUND.
    pub fn cancel_job(&mut self, handle: &[u8]) -> Result<(), Error> {
        const OP: &str = "gearman_client_cancel_job";
        self.settings.error.reset();
        if self.servers.is_empty() {
            return self.fail(Error::new(ReturnCode::NoServers, OP, "no servers provided"));
        }
        for si in 0..self.servers.len() {
            match self.exchange(si, Command::WorkFail, &[handle], |_| true) {
                Ok(reply) if reply.command == Command::Error => {
                    return self.fail(server_error(OP, &reply, ReturnCode::ServerError));
                }
                Ok(_) => {}
                Err(e) => return self.fail(e),
            }
        }
        Ok(())
    }

    /// Stores an identifier without sending it now (new connections send it first); for
    /// copying settings, e.g. `gearman_client_clone`. Same validation as `set_identifier`.
    pub fn remember_identifier(&mut self, id: &[u8]) -> Result<(), Error> {
        self.settings
            .remember_identifier(id, "gearman_client_set_identifier")
    }

    /// Validates and stores the client identifier, then sends SET_CLIENT_ID to every server
    /// (send failures are ignored). New connections send it before anything else.
    pub fn set_identifier(&mut self, id: &[u8]) -> Result<(), Error> {
        if let Err(e) = self.remember_identifier(id) {
            return self.fail(e);
        }
        let timeout = self.wait_timeout();
        for si in 0..self.servers.len() {
            let s = &mut self.servers[si];
            if s.link.state() == LinkState::Closed {
                // The connection preamble carries the identifier.
                if self.prepare_link(si).is_ok() {
                    let _ = self.servers[si].link.connect_blocking(timeout);
                    let _ = self.servers[si].link.flush_blocking(timeout);
                }
            } else {
                s.link.queue(Command::SetClientId, &[id]);
                let _ = s.link.connect_blocking(timeout);
                let _ = s.link.flush_blocking(timeout);
            }
        }
        Ok(())
    }

    /// One blocking request/reply with server `si`: connects if needed, sends, and waits for a
    /// reply accepted by `want`. Replies owed to the connection preamble are consumed; replies
    /// for tasks are kept for the run loop.
    fn exchange(
        &mut self,
        si: usize,
        command: Command,
        args: &[&[u8]],
        want: impl Fn(Command) -> bool,
    ) -> Result<Reply, Error> {
        let reused = self.servers[si].link.state() == LinkState::Connected;
        match self.exchange_once(si, command, args, &want) {
            // A connection the server closed while idle: try once more on a fresh one.
            Err(e) if reused && e.code() == ReturnCode::LostConnection => {
                self.exchange_once(si, command, args, &want)
            }
            r => r,
        }
    }

    fn exchange_once(
        &mut self,
        si: usize,
        command: Command,
        args: &[&[u8]],
        want: &impl Fn(Command) -> bool,
    ) -> Result<Reply, Error> {
        let timeout = self.wait_timeout();
        let sid = self.servers[si].id;
        self.prepare_link(si)?;
        let r: Result<Reply, Error> = (|| {
            let s = &mut self.servers[si];
            s.link.connect_blocking(timeout)?;
            s.link.queue(command, args);
            s.link.flush_blocking(timeout)?;
            loop {
                let reply = s.link.recv_blocking(timeout)?;
                let preamble = s.option_replies > 0
                    && matches!(reply.command, Command::OptionRes | Command::Error);
                if preamble {
                    s.option_replies -= 1;
                } else if want(reply.command) {
                    return Ok(reply);
                } else {
                    self.stash.push_back((sid, reply));
                }
            }
        })();
        if let Err(e) = &r {
            if e.code() != ReturnCode::Timeout {
                self.abandon_server_tasks(sid, e.code());
            }
        }
        r
    }
}

crate::endpoint::endpoint_impl!(
    Client,
    "gearman_client_echo",
    "gearman_client_set_server_option"
);
