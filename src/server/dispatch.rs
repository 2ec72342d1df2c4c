//! One binary packet or admin line from a connection, routed to its handler.

use super::assign::requeue_order;
use super::core::{Core, Verdict};
use super::model::{Ability, ConnId};
use super::wire::{self, Backing, Num};
use crate::protocol::admin;
use crate::protocol::{Command, Frame, Magic, Packet};

/// CAN_DO_TIMEOUT values below this are raised to it, as gearmand 1.1.20 does.
const MIN_TIMEOUT_MS: u64 = 1000;
/// gearmand keeps at most this much of a SET_CLIENT_ID.
const MAX_CLIENT_ID: usize = 127;
/// Handles and uniques this long or longer are unknown to GET_STATUS(_UNIQUE).
const MAX_HANDLE: usize = 64;

impl Core {
    pub fn frame(&mut self, id: ConnId, frame: &Frame<'_>, backing: Backing<'_>) -> Verdict {
        match frame {
            Frame::Binary(p) => self.packet(id, p, backing),
            Frame::Text(line) => self.admin_line(id, line),
        }
    }

    /// One binary packet; `backing` lets the core keep or forward its payload without a copy.
    pub fn packet(&mut self, id: ConnId, p: &Packet<'_>, backing: Backing<'_>) -> Verdict {
        if p.magic == Magic::Response {
            self.peers
                .error(id, "INVALID_MAGIC", "Request magic expected");
            return Verdict::Keep;
        }
        match p.command {
            Command::CanDo => self.can_do(id, p.arg(0), 0),
            Command::CanDoTimeout => match wire::strtoll(p.arg(1)) {
                // gearmand reads the number with strtol and ignores the whole packet when it is
                // out of range (or LONG_MAX itself).
                None | Some(i64::MAX) => {}
                Some(ms) => {
                    let ms = if ms <= 0 {
                        0
                    } else {
                        (ms as u64).max(MIN_TIMEOUT_MS)
                    };
                    self.can_do(id, p.arg(0), ms);
                }
            },
            Command::CantDo => self.cant_do(id, p.arg(0)),
            Command::ResetAbilities => self.reset_abilities(id),
            Command::PreSleep => self.pre_sleep(id),
            Command::GrabJob | Command::GrabJobUniq | Command::GrabJobAll => {
                self.grab(id, p.command)
            }
            Command::SubmitJob
            | Command::SubmitJobBg
            | Command::SubmitJobHigh
            | Command::SubmitJobHighBg
            | Command::SubmitJobLow
            | Command::SubmitJobLowBg
            | Command::SubmitJobEpoch
            | Command::SubmitReduceJob
            | Command::SubmitReduceJobBackground => return self.submit(id, p, backing),
            Command::WorkStatus
            | Command::WorkComplete
            | Command::WorkFail
            | Command::WorkException
            | Command::WorkData
            | Command::WorkWarning => self.work_result(id, p, backing),
            Command::GetStatus => self.get_status(id, p.arg(0)),
            Command::GetStatusUnique => self.get_status_unique(id, p.arg(0)),
            Command::EchoReq => {
                self.peers
                    .send_shared(id, Command::EchoRes, &[], backing.share(p.data()))
            }
            Command::SetClientId => {
                if let Some(s) = self.peers.get_mut(id) {
                    let v = p.arg(0);
                    s.client_id = Some(v[..v.len().min(MAX_CLIENT_ID)].into());
                }
            }
            Command::OptionReq => self.option(id, p.arg(0)),
            // Response types, the unused number, ALL_YOURS and SUBMIT_JOB_SCHED.
            _ => self
                .peers
                .error(id, "INVALID_COMMAND", "Command not expected"),
        }
        Verdict::Keep
    }

    fn can_do(&mut self, id: ConnId, name: &[u8], timeout_ms: u64) {
        let func = self.func_id(name);
        self.func_mut(func).workers.push(id);
        if let Some(s) = self.peers.get_mut(id) {
            let reg = s.next_reg;
            s.next_reg += 1;
            s.abilities.push(Ability {
                func,
                reg,
                timeout_ms,
            });
        }
    }

    fn cant_do(&mut self, id: ConnId, name: &[u8]) {
        let Some(&func) = self.func_ids.get(name) else {
            return;
        };
        // As gearmand: requeue first (waking the function's sleepers, this one included),
        // then drop the ability.
        self.release_jobs(id, |f| f == func);
        let Some(s) = self.peers.get_mut(id) else {
            return;
        };
        s.abilities.retain(|a| a.func != func);
        self.func_mut(func).workers.retain(|&c| c != id);
    }

    fn reset_abilities(&mut self, id: ConnId) {
        self.release_jobs(id, |_| true);
        let Some(s) = self.peers.get_mut(id) else {
            return;
        };
        let abilities = std::mem::take(&mut s.abilities);
        for a in abilities {
            if let Some(f) = self.funcs[a.func].as_mut() {
                f.workers.retain(|&c| c != id);
            }
        }
    }

    /// Requeues the jobs `id` holds whose function matches, as if the worker had left.
    fn release_jobs(&mut self, id: ConnId, matches: impl Fn(usize) -> bool) {
        let Some(s) = self.peers.get_mut(id) else {
            return;
        };
        let held = std::mem::take(&mut s.assigned);
        let mut released = vec![false; held.len()];
        for i in requeue_order(&held, &s.abilities) {
            let Some(job) = self.jobs.get(&held[i].job) else {
                continue;
            };
            if matches(job.func) {
                released[i] = true;
                self.requeue(held[i].job);
            }
        }
        let keep = held
            .iter()
            .zip(released)
            .filter(|(_, r)| !r)
            .map(|(h, _)| *h)
            .collect();
        if let Some(s) = self.peers.get_mut(id) {
            s.assigned = keep;
        }
    }

    fn option(&mut self, id: ConnId, name: &[u8]) {
        if name.eq_ignore_ascii_case(b"exceptions") {
            if let Some(s) = self.peers.get_mut(id) {
                s.exceptions = true;
            }
            self.peers.send(id, Command::OptionRes, &[name]);
        } else {
            self.peers.error(
                id,
                "UNKNOWN_OPTION",
                "Server does not recognize given option",
            );
        }
    }

    fn get_status(&mut self, id: ConnId, handle: &[u8]) {
        let found = if handle.len() >= MAX_HANDLE {
            None
        } else {
            self.lookup(handle).and_then(|j| self.jobs.get(&j))
        };
        match found {
            Some(job) => {
                let running: &[u8] = if job.worker.is_some() { b"1" } else { b"0" };
                let (num, den) = (
                    Num::new(job.numerator.into()),
                    Num::new(job.denominator.into()),
                );
                self.peers.send(
                    id,
                    Command::StatusRes,
                    &[handle, b"1", running, num.bytes(), den.bytes()],
                );
            }
            None => self
                .peers
                .send(id, Command::StatusRes, &[handle, b"0", b"0", b"0", b"0"]),
        }
    }

    fn get_status_unique(&mut self, id: ConnId, unique: &[u8]) {
        // Matched across functions; with several jobs of that unique the newest answers.
        let found = if unique.len() >= MAX_HANDLE || unique.is_empty() {
            None
        } else {
            self.funcs
                .iter()
                .flatten()
                .filter_map(|f| f.by_unique.get(unique))
                .max()
                .and_then(|j| self.jobs.get(j))
        };
        match found {
            Some(job) => {
                let running: &[u8] = if job.worker.is_some() { b"1" } else { b"0" };
                let num = Num::new(job.numerator.into());
                let den = Num::new(job.denominator.into());
                let clients = Num::new(job.clients.len() as u64);
                self.peers.send(
                    id,
                    Command::StatusResUnique,
                    &[
                        unique,
                        b"1",
                        running,
                        num.bytes(),
                        den.bytes(),
                        clients.bytes(),
                    ],
                );
            }
            None => self.peers.send(
                id,
                Command::StatusResUnique,
                &[unique, b"0", b"0", b"0", b"0", b"0"],
            ),
        }
    }

    /// Work results from a worker: checked against the holder, forwarded to attached clients.
    fn work_result(&mut self, id: ConnId, p: &Packet<'_>, backing: Backing<'_>) {
        let cmd = p.command;
        let raw_handle = p.arg(0);
        let handle = wire::until_nul(raw_handle);
        if cmd == Command::WorkFail && handle.len() >= MAX_HANDLE {
            self.peers.error(
                id,
                "ARGUMENT_TOO_LARGE",
                "Error occurred due to GEARMAND_JOB_HANDLE_SIZE being too small from snprintf",
            );
            return;
        }
        let job_id = match self.lookup(handle) {
            Some(j) if self.jobs.get(&j).and_then(|j| j.worker) == Some(id) => j,
            _ => {
                let text = match cmd {
                    Command::WorkData | Command::WorkWarning => "Job does not exist on server",
                    Command::WorkException => {
                        "An exception was received for a job that does not exist"
                    }
                    _ => "Job given in work result not found",
                };
                self.peers.error(id, "JOB_NOT_FOUND", text);
                return;
            }
        };
        let Some(job) = self.jobs.get_mut(&job_id) else {
            return;
        };
        if cmd == Command::WorkStatus {
            job.numerator = admin::atoi(p.arg(1)) as u32;
            job.denominator = admin::atoi(p.arg(2)) as u32;
        }
        // The payload is taken out of the frame once and shared by every client's queue.
        let data = cmd.has_data().then(|| backing.share(p.data()));
        // Most recently attached client first, as gearmand.
        for &c in job.clients.iter().rev() {
            match (cmd, &data) {
                (Command::WorkException, _) if !self.peers.get(c).is_some_and(|s| s.exceptions) => {
                    self.peers.send(c, Command::WorkFail, &[handle]);
                }
                (_, Some(data)) => self.peers.send_shared(c, cmd, &[raw_handle], data.clone()),
                (_, None) => self.peers.send(c, cmd, p.args()),
            }
        }
        if matches!(
            cmd,
            Command::WorkComplete | Command::WorkFail | Command::WorkException
        ) {
            self.finish(id, job_id, cmd);
        }
    }

    fn admin_line(&mut self, id: ConnId, line: &[u8]) -> Verdict {
        match admin::tokenize(line) {
            None => Verdict::Close,
            Some(tokens) => {
                let cmd = admin::parse(&tokens);
                self.admin(id, cmd);
                Verdict::Keep
            }
        }
    }
}
