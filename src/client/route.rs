//! Routing replies to tasks: JOB_CREATED by submission order, work packets by job handle,
//! status answers by handle or unique, server ERRORs to the oldest unanswered submission.

use super::run::{EventKind, TaskEvent, RUN};
use super::task::{Mode, TaskId, TaskState};
use super::Client;
use crate::error::{Error, ReturnCode};
use crate::net::servers::atoi_bytes;
use crate::net::Reply;
use crate::protocol::Command;
use bytes::Bytes;

impl Client {
    /// Applies one reply; returns the event it produced for an event-mode task.
    pub(crate) fn route(&mut self, sid: u64, mut reply: Reply) -> Result<Option<TaskEvent>, Error> {
        let Some(si) = self.servers.iter().position(|s| s.id == sid) else {
            return Ok(None);
        };
        match reply.command {
            Command::JobCreated => {
                let Some(id) = self.servers[si].awaiting.pop_front() else {
                    return Ok(None);
                };
                let handle = strip_nul(reply.arg(0)).to_vec();
                let Some(t) = self.tasks.get_mut(id) else {
                    return Ok(None);
                };
                if t.state == TaskState::Finished {
                    return Ok(None);
                }
                t.handle.clone_from(&handle);
                t.known = true;
                let terminal = t.request.is_background();
                if terminal {
                    t.ret = ReturnCode::Success;
                } else {
                    self.servers[si].bind_handle(&handle, id);
                }
                Ok(self.deliver(id, EventKind::Created, None, terminal))
            }
            Command::WorkData
            | Command::WorkWarning
            | Command::WorkStatus
            | Command::WorkComplete
            | Command::WorkException
            | Command::WorkFail => {
                let Some(id) = self.servers[si].task_for_handle(reply.arg(0)) else {
                    return Ok(None);
                };
                let (numerator, denominator) = if reply.command == Command::WorkStatus {
                    (parse_u32(reply.arg(1)), parse_u32(reply.arg(2)))
                } else {
                    (0, 0)
                };
                let mut payload = reply.take_data();
                if reply.command == Command::WorkException {
                    // A copy with a NUL after the bytes (the allocation is kept by `Bytes`).
                    payload = super::task::nul_terminated(payload.to_vec()).into();
                }
                let Some(t) = self.tasks.get_mut(id) else {
                    return Ok(None);
                };
                let (kind, terminal) = match reply.command {
                    Command::WorkData => {
                        t.known = true;
                        t.running = true;
                        (EventKind::Data, false)
                    }
                    Command::WorkWarning => (EventKind::Warning, false),
                    Command::WorkStatus => {
                        t.numerator = numerator;
                        t.denominator = denominator;
                        (EventKind::Status, false)
                    }
                    Command::WorkComplete => {
                        t.ret = ReturnCode::Success;
                        (EventKind::Complete, true)
                    }
                    Command::WorkException => {
                        t.ret = ReturnCode::WorkException;
                        t.exception = Some(super::task::nul_terminated(payload.to_vec()));
                        t.result = None;
                        (EventKind::Exception, true)
                    }
                    _ => {
                        t.ret = ReturnCode::WorkFail;
                        t.result = None;
                        (EventKind::Fail, true)
                    }
                };
                if terminal {
                    t.known = false;
                    t.running = false;
                    let handle = t.handle.clone();
                    self.servers[si].unbind_handle(&handle, id);
                }
                let data = match kind {
                    EventKind::Status | EventKind::Fail => None,
                    _ => Some(payload),
                };
                Ok(self.deliver(id, kind, data, terminal))
            }
            Command::StatusRes | Command::StatusResUnique => {
                let key = strip_nul(reply.arg(0));
                let s = &mut self.servers[si];
                let tasks = &self.tasks;
                let Some(pos) = s
                    .status_waiting
                    .iter()
                    .position(|id| tasks.get(*id).is_some_and(|t| t.workload == key))
                else {
                    return Ok(None);
                };
                let id = s.status_waiting.remove(pos);
                let num = |i: usize| atoi_bytes(reply.arg(i));
                let Some(t) = self.tasks.get_mut(id) else {
                    return Ok(None);
                };
                t.known = num(1) != 0;
                t.running = num(2) != 0;
                t.numerator = num(3) as u32;
                t.denominator = parse_u32(reply.arg(4));
                if reply.command == Command::StatusResUnique {
                    t.client_count = num(5) as u32;
                }
                t.ret = ReturnCode::Success;
                Ok(self.deliver(id, EventKind::Status, None, true))
            }
            Command::Error => {
                let s = &mut self.servers[si];
                if s.option_replies > 0 {
                    s.option_replies -= 1;
                    return Ok(None);
                }
                let code =
                    ReturnCode::from_server_text(reply.arg(0)).unwrap_or(ReturnCode::ServerError);
                let text = format!(
                    "{}:{}",
                    String::from_utf8_lossy(strip_nul(reply.arg(0))),
                    String::from_utf8_lossy(reply.arg(1))
                );
                if let Some(id) = s.awaiting.pop_front() {
                    let live = self
                        .tasks
                        .get_mut(id)
                        .filter(|t| t.state != TaskState::Finished)
                        .map(|t| t.ret = code)
                        .is_some();
                    if live {
                        self.end_quietly(id);
                    }
                }
                Err(Error::new(code, RUN, text))
            }
            Command::OptionRes => {
                let s = &mut self.servers[si];
                s.option_replies = s.option_replies.saturating_sub(1);
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// Hands a reply to its task: an event for event-mode tasks, accumulation for collect-mode
    /// ones (which finish silently).
    fn deliver(
        &mut self,
        id: TaskId,
        kind: EventKind,
        data: Option<Bytes>,
        terminal: bool,
    ) -> Option<TaskEvent> {
        let t = self.tasks.get_mut(id)?;
        match t.mode {
            Mode::Events => {
                t.data = data;
                let ev = TaskEvent {
                    task: id,
                    kind,
                    terminal,
                };
                self.current = Some(ev);
                Some(ev)
            }
            Mode::Collect => {
                if let (EventKind::Data | EventKind::Complete, Some(d)) = (kind, data) {
                    t.append_result(d);
                }
                if terminal {
                    self.set_state(id, TaskState::Finished);
                }
                None
            }
        }
    }
}

/// A numerator/denominator text: `atoi` over at most 10 characters, as libgearman reads them.
fn parse_u32(text: &[u8]) -> u32 {
    atoi_bytes(&text[..text.len().min(10)]) as u32
}

/// A handle as sent by the server, without one trailing NUL (gearmand appends one to
/// WORK_FAIL packets it converts from exceptions).
fn strip_nul(b: &[u8]) -> &[u8] {
    b.strip_suffix(b"\0").unwrap_or(b)
}
