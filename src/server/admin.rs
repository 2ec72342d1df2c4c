//! Replies to admin text commands, byte for byte as gearmand 1.1.20 writes them.

use super::core::Core;
use super::model::{ConnId, JobId};
use super::wire::until_nul;
use crate::protocol::admin::AdminCommand;
use crate::protocol::Command;
use std::io::Write;

/// What `version` answers: the Debian build of gearmand this server is compatible with.
pub const VERSION: &str = "1.1.20+ds";

impl Core {
    pub fn admin(&mut self, id: ConnId, cmd: AdminCommand<'_>) {
        let mut out: Vec<u8> = Vec::new();
        match cmd {
            AdminCommand::Status => {
                for f in self.funcs.iter().flatten() {
                    // gearmand prints names as C strings: a NUL (possible in the last
                    // argument of CAN_DO) ends them.
                    out.extend_from_slice(until_nul(&f.name));
                    let _ = writeln!(out, "\t{}\t{}\t{}", f.total, f.running, f.workers.len());
                }
                out.extend_from_slice(b".\n");
            }
            AdminCommand::PriorityStatus => {
                for f in self.funcs.iter().flatten() {
                    out.extend_from_slice(until_nul(&f.name));
                    let (h, n, l) = (f.queued(0), f.queued(1), f.queued(2));
                    let _ = writeln!(out, "\t{h}\t{n}\t{l}\t{}", f.workers.len());
                }
                out.extend_from_slice(b".\n");
            }
            AdminCommand::Workers => {
                let mut sessions: Vec<_> = self.peers.iter().map(|(_, s)| s).collect();
                sessions.sort_by_key(|s| std::cmp::Reverse(s.seq));
                for s in sessions {
                    let _ = write!(out, "{} {} ", s.fd, s.ip);
                    match &s.client_id {
                        Some(cid) => out.extend_from_slice(until_nul(cid)),
                        None => out.push(b'-'),
                    }
                    out.extend_from_slice(b" :");
                    for a in s.abilities.iter().rev() {
                        out.push(b' ');
                        if let Some(f) = &self.funcs[a.func] {
                            out.extend_from_slice(until_nul(&f.name));
                        }
                    }
                    out.push(b'\n');
                }
                out.extend_from_slice(b".\n");
            }
            AdminCommand::ShowJobs => {
                for id in self.sorted_jobs() {
                    let j = &self.jobs[&id];
                    out.extend_from_slice(&j.handle);
                    let _ = writeln!(
                        out,
                        "\t{}\t{}\t{}",
                        j.retries,
                        u8::from(j.ignore),
                        u8::from(j.persisted)
                    );
                }
                out.extend_from_slice(b".\n");
            }
            AdminCommand::ShowUniqueJobs => {
                for id in self.sorted_jobs() {
                    out.extend_from_slice(&self.jobs[&id].unique);
                    out.push(b'\n');
                }
                out.extend_from_slice(b".\n");
            }
            AdminCommand::CancelJob(handle) => match self.lookup(handle) {
                Some(job_id) => {
                    self.cancel(job_id);
                    out.extend_from_slice(b"OK\r\n");
                }
                None => out.extend_from_slice(b"ERR UNKNOWN_JOB\r\n"),
            },
            AdminCommand::CreateFunction(name) => {
                self.func_id(name);
                out.extend_from_slice(b"OK\r\n");
            }
            AdminCommand::DropFunction(name) => out.extend_from_slice(self.drop_function(name)),
            AdminCommand::MaxQueue { function, limits } => {
                if let Some(&f) = self.func_ids.get(function) {
                    self.func_mut(f).max_queue = limits;
                }
                out.extend_from_slice(b"OK\r\n");
            }
            AdminCommand::Version => {
                let _ = writeln!(out, "OK {VERSION}");
            }
            AdminCommand::GetPid => {
                let _ = writeln!(out, "OK {}", self.pid);
            }
            AdminCommand::Verbose => {
                let _ = writeln!(out, "OK {}", self.rules.verbose);
            }
            AdminCommand::Error(e) => out = e.reply(),
        }
        self.peers.send_text(id, &out);
    }

    fn sorted_jobs(&self) -> Vec<JobId> {
        let mut ids: Vec<JobId> = self.jobs.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// `cancel job`: WORK_FAIL to the attached clients, which are then detached (so a running
    /// job's later results reach nobody), and the job is flagged to be reaped.
    fn cancel(&mut self, job_id: JobId) {
        let Some(job) = self.jobs.get_mut(&job_id) else {
            return;
        };
        let clients = std::mem::take(&mut job.clients);
        for &c in clients.iter().rev() {
            self.peers.send(c, Command::WorkFail, &[&job.handle]);
            if let Some(s) = self.peers.get_mut(c) {
                s.attached.remove(&job_id);
            }
        }
        self.abandon(job_id);
    }

    fn drop_function(&mut self, name: &[u8]) -> &'static [u8] {
        let found = self.funcs.iter().position(|f| {
            f.as_ref()
                .is_some_and(|f| f.name.eq_ignore_ascii_case(name))
        });
        let Some(idx) = found else {
            return b"ERR function not found\r\n";
        };
        let f = self.func(idx);
        // gearmand 1.1.20 drops a function with queued jobs and orphans them; we refuse.
        if !f.workers.is_empty() || f.total > 0 {
            return b"ERR there are still connected workers or executing clients\r\n";
        }
        let name = f.name.clone();
        self.func_ids.remove(&name);
        self.funcs[idx] = None;
        b"OK\r\n"
    }
}
