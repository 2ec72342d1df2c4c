//! Differential test: the same seeded random sequence of client, worker and admin operations
//! runs against the server under test and against Debian's gearmand 1.1.20, and every reply
//! must match, step by step.
//!
//! Only behaviour where the two are meant to agree is exercised: no future epoch jobs (timing), no
//! `cancel job` (ours detaches clients of a running job), no 64-byte uniques and no
//! `create function` (fixed 1.1.20 bugs). Packets are compared byte for byte, with two
//! normalisations, both of gearmand's side only:
//! * the WORK_FAIL gearmand 1.1.20 makes from a WORK_EXCEPTION for a client without the
//!   `exceptions` option carries a trailing NUL (a fixed bug: libgearman 1.1.20 drops it and
//!   hangs); in the step that sends that exception, gearmand's NUL is removed, and ours must
//!   send exactly the bare handle;
//! * multi-line admin listings are compared as sets of lines: gearmand 1.1.20 lists
//!   functions, jobs and workers in hash-table or thread order, which no client can rely on;
//!   ours lists them in a stable order, which tests/server_admin.rs checks exactly.
//!
//! The sequences deliberately cover the corners where 1.1.20's order of events shows: a worker
//! holding several jobs when it goes away, a sleeping worker that submits or drops an ability,
//! duplicate CAN_DO, one unique under two functions; server_worker_loss.rs,
//! server_scheduling.rs and server_results.rs pin each of them down in a focused test.
mod common;

use common::proto::cmd::*;
use common::{Conn, Pkt, TestServer};
use std::fmt::Write as _;
use std::time::Duration;

const SLOTS: usize = 4;

/// xorshift64*: tiny, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

#[derive(Debug, Clone)]
enum Op {
    Submit {
        slot: usize,
        kind: u32,
        func: &'static str,
        unique: &'static str,
        data: &'static str,
    },
    CanDo {
        slot: usize,
        func: &'static str,
    },
    CanDoTimeout {
        slot: usize,
        func: &'static str,
    },
    CantDo {
        slot: usize,
        func: &'static str,
    },
    Reset {
        slot: usize,
    },
    Grab {
        slot: usize,
        kind: u32,
    },
    PreSleep {
        slot: usize,
    },
    Work {
        slot: usize,
        kind: u32,
        handle: Vec<u8>,
    },
    GetStatus {
        slot: usize,
        handle: Vec<u8>,
    },
    GetStatusUnique {
        slot: usize,
        unique: &'static str,
    },
    Exceptions {
        slot: usize,
    },
    Admin {
        line: &'static str,
    },
    /// Replaces the connection; `held` lists the jobs it held (filled in by `with_held`).
    Reconnect {
        slot: usize,
        held: Vec<Vec<u8>>,
    },
}

/// Slots below this one submit jobs and never disconnect; the last slot is a worker only and
/// reconnects now and then. A client leaving its queued job would abandon it, and 1.1.20 reaps
/// abandoned jobs lazily (they linger in the lists) where ours may drop them at once.
const CLIENT_SLOTS: usize = SLOTS - 1;

fn generate(rng: &mut Rng, handles: &[Vec<u8>]) -> Op {
    let slot = rng.below(SLOTS);
    let client = rng.below(CLIENT_SLOTS);
    let func = rng.pick(&["f", "g"]);
    // Background submissions never share a unique with foreground ones: in 1.1.20 a
    // foreground client leaving such a job abandons it, a bug ours fixes.
    let (fg_uniques, bg_uniques) = (["", "u1", "u2", "-"], ["", "b1", "b2"]);
    let handle = if handles.is_empty() || rng.below(8) == 0 {
        b"P:999".to_vec()
    } else {
        handles[rng.below(handles.len())].clone()
    };
    match rng.below(100) {
        0..=12 => Op::Submit {
            slot: client,
            kind: rng.pick(&[
                SUBMIT_JOB,
                SUBMIT_JOB_HIGH,
                SUBMIT_JOB_LOW,
                SUBMIT_REDUCE_JOB,
            ]),
            func,
            unique: rng.pick(&fg_uniques),
            data: rng.pick(&["d1", "d2", ""]),
        },
        13..=24 => Op::Submit {
            slot: client,
            kind: rng.pick(&[
                SUBMIT_JOB_BG,
                SUBMIT_JOB_HIGH_BG,
                SUBMIT_JOB_LOW_BG,
                SUBMIT_REDUCE_JOB_BACKGROUND,
                SUBMIT_JOB_EPOCH,
            ]),
            func,
            unique: rng.pick(&bg_uniques),
            data: rng.pick(&["d1", "d2", ""]),
        },
        25..=30 => Op::CanDo { slot, func },
        31..=32 => Op::CanDoTimeout { slot, func },
        33..=35 => Op::CantDo { slot, func },
        36..=37 => Op::Reset { slot },
        38..=52 => Op::Grab {
            slot,
            kind: rng.pick(&[GRAB_JOB, GRAB_JOB_UNIQ, GRAB_JOB_ALL]),
        },
        53..=58 => Op::PreSleep { slot },
        59..=78 => Op::Work {
            slot,
            kind: rng.pick(&[
                WORK_DATA,
                WORK_WARNING,
                WORK_STATUS,
                WORK_COMPLETE,
                WORK_COMPLETE,
                WORK_FAIL,
                WORK_EXCEPTION,
            ]),
            handle,
        },
        79..=83 => Op::GetStatus {
            slot: client,
            handle,
        },
        84..=86 => Op::GetStatusUnique {
            slot: client,
            unique: rng.pick(&["u1", "u2", "b1", "b2", "-", "none"]),
        },
        87..=88 => Op::Exceptions { slot: client },
        89..=96 => Op::Admin {
            line: rng.pick(&["show jobs", "status", "prioritystatus", "show unique jobs"]),
        },
        _ => Op::Reconnect {
            slot: SLOTS - 1,
            held: Vec::new(),
        },
    }
}

/// One server with its connection slots and an admin connection.
struct World {
    server: TestServer,
    slots: Vec<Conn>,
    admin: Conn,
}

impl World {
    fn new(server: TestServer) -> World {
        let slots = (0..SLOTS).map(|_| server.connect()).collect();
        let admin = server.connect();
        World {
            server,
            slots,
            admin,
        }
    }

    /// Applies `op` and returns a normalised transcript of everything it caused.
    fn apply(&mut self, op: &Op) -> String {
        let mut out = String::new();
        match op {
            Op::Submit {
                slot,
                kind,
                func,
                unique,
                data,
            } => {
                let mut args: Vec<&[u8]> = vec![func.as_bytes(), unique.as_bytes()];
                if *kind == SUBMIT_REDUCE_JOB || *kind == SUBMIT_REDUCE_JOB_BACKGROUND {
                    args.extend_from_slice(&[b"reducer", b""]);
                }
                if *kind == SUBMIT_JOB_EPOCH {
                    args.push(b"0"); // due at once: no timing involved
                }
                args.push(data.as_bytes());
                self.slots[*slot].send(*kind, &args);
            }
            Op::CanDo { slot, func } => self.slots[*slot].send(CAN_DO, &[func.as_bytes()]),
            // A timeout far beyond the test's run time: the registration path only.
            Op::CanDoTimeout { slot, func } => {
                self.slots[*slot].send(CAN_DO_TIMEOUT, &[func.as_bytes(), b"600000"])
            }
            Op::CantDo { slot, func } => self.slots[*slot].send(CANT_DO, &[func.as_bytes()]),
            Op::Reset { slot } => self.slots[*slot].send(RESET_ABILITIES, &[]),
            Op::Grab { slot, kind } => self.slots[*slot].send(*kind, &[]),
            Op::PreSleep { slot } => self.slots[*slot].send(PRE_SLEEP, &[]),
            Op::Work { slot, kind, handle } => match *kind {
                WORK_STATUS => self.slots[*slot].send(WORK_STATUS, &[handle, b"1", b"2"]),
                WORK_FAIL => self.slots[*slot].send(WORK_FAIL, &[handle]),
                k => self.slots[*slot].send(k, &[handle, b"w"]),
            },
            Op::GetStatus { slot, handle } => self.slots[*slot].send(GET_STATUS, &[handle]),
            Op::GetStatusUnique { slot, unique } => {
                self.slots[*slot].send(GET_STATUS_UNIQUE, &[unique.as_bytes()])
            }
            Op::Exceptions { slot } => self.slots[*slot].send(OPTION_REQ, &[b"exceptions"]),
            Op::Admin { line } => {
                // Compared as a set of lines (see the module docs).
                let reply = self.admin.admin_list(line);
                let mut lines: Vec<&str> = reply.lines().collect();
                lines.sort_unstable();
                let _ = writeln!(out, "admin {line}: {lines:?}");
            }
            Op::Reconnect { slot, held } => {
                self.slots[*slot] = self.server.connect();
                self.wait_for_disconnect(held);
            }
        }
        // The acting slot first (its replies complete the step), then the others (NOOPs,
        // forwarded results).
        let first = match op {
            Op::Admin { .. } | Op::Reconnect { .. } => 0,
            Op::Submit { slot, .. }
            | Op::CanDo { slot, .. }
            | Op::CanDoTimeout { slot, .. }
            | Op::CantDo { slot, .. }
            | Op::Reset { slot }
            | Op::Grab { slot, .. }
            | Op::PreSleep { slot }
            | Op::Work { slot, .. }
            | Op::GetStatus { slot, .. }
            | Op::GetStatusUnique { slot, .. }
            | Op::Exceptions { slot } => *slot,
        };
        let order = std::iter::once(first).chain((0..SLOTS).filter(|&s| s != first));
        for s in order {
            for p in drain(&mut self.slots[s]) {
                let _ = writeln!(out, "slot {s}: {}", render(&p));
            }
        }
        out
    }

    /// Waits until the server has processed the close of a replaced connection: it is gone
    /// from `workers`, and none of the jobs it held still shows as running (gearmand drops
    /// the connection from the list before it requeues its jobs).
    fn wait_for_disconnect(&mut self, held: &[Vec<u8>]) {
        let ok = common::proto::eventually(Duration::from_secs(3), || {
            let listing = self.admin.admin_list("workers");
            let lines: Vec<&str> = listing.lines().filter(|l| *l != ".").collect();
            lines.len() == SLOTS + 1
                && !lines.iter().any(|l| l.starts_with("-1 "))
                && held.iter().all(|h| {
                    let status = self.admin.get_status(h);
                    status.split('\0').nth(2) == Some("0")
                })
        });
        assert!(ok, "the server never finished with the closed connection");
    }
}

/// Reads the packets that precede the reply to a fresh ECHO on this connection.
fn drain(c: &mut Conn) -> Vec<Pkt> {
    c.send(ECHO_REQ, &[b"step"]);
    let mut out = Vec::new();
    loop {
        let p = c.recv();
        if p.kind == ECHO_RES && p.payload == b"step" {
            return out;
        }
        out.push(p);
    }
}

fn render(p: &Pkt) -> String {
    format!("{} {:?}", p.kind, String::from_utf8_lossy(&p.payload))
}

/// gearmand 1.1.20's transcript of `op` with its one known divergence from ours removed: the
/// WORK_FAIL it makes from this step's WORK_EXCEPTION (for clients without the `exceptions`
/// option) ends with a NUL that ours does not send. Nothing else is touched.
fn normalise_reference(op: &Op, transcript: &str) -> String {
    let Op::Work {
        kind: WORK_EXCEPTION,
        handle,
        ..
    } = op
    else {
        return transcript.to_string();
    };
    let with_nul = format!(
        ": {WORK_FAIL} {:?}",
        format!("{}\0", String::from_utf8_lossy(handle))
    );
    let bare = format!(": {WORK_FAIL} {:?}", String::from_utf8_lossy(handle));
    transcript.replace(&with_nul, &bare)
}

/// Handles that appear in a transcript (JOB_CREATED and the assignments).
fn handles_in(transcript: &str, handles: &mut Vec<Vec<u8>>) {
    for line in transcript.lines() {
        let Some((_, rest)) = line.split_once(": ") else {
            continue;
        };
        let Some((kind, payload)) = rest.split_once(' ') else {
            continue;
        };
        if matches!(kind, "8" | "11" | "31" | "40") {
            let text = payload.trim_matches('"');
            let handle = text.split("\\0").next().unwrap_or("").as_bytes().to_vec();
            if !handle.is_empty() && !handles.contains(&handle) {
                handles.push(handle);
            }
        }
    }
}

/// The jobs each slot holds, as (handle, function), from the reference server's replies: a
/// replaced connection's jobs are what `wait_for_disconnect` watches.
type Held = Vec<Vec<(String, String)>>;

/// Fills in the jobs a Reconnect gives up.
fn with_held(op: Op, held: &Held) -> Op {
    match op {
        Op::Reconnect { slot, .. } => Op::Reconnect {
            slot,
            held: held[slot]
                .iter()
                .map(|(h, _)| h.as_bytes().to_vec())
                .collect(),
        },
        op => op,
    }
}

fn track(op: &Op, transcript: &str, held: &mut Held) {
    match op {
        Op::Grab { slot, .. } => {
            for line in transcript.lines() {
                for kind in [": 11 \"", ": 31 \"", ": 40 \""] {
                    if let Some(i) = line.find(kind) {
                        let mut fields = line[i + kind.len()..].split("\\0");
                        let handle = fields.next().unwrap_or("").to_string();
                        let func = fields.next().unwrap_or("").to_string();
                        held[*slot].push((handle, func));
                    }
                }
            }
        }
        Op::Work { slot, kind, handle }
            if matches!(*kind, WORK_COMPLETE | WORK_FAIL | WORK_EXCEPTION)
                && !transcript.contains(&format!("slot {slot}: 19 ")) =>
        {
            let handle = String::from_utf8_lossy(handle).into_owned();
            held[*slot].retain(|(h, _)| *h != handle);
        }
        Op::CantDo { slot, func } => held[*slot].retain(|(_, f)| f != func),
        Op::Reset { slot } | Op::Reconnect { slot, .. } => held[*slot].clear(),
        _ => {}
    }
}

fn run(seed: u64, steps: usize, options: &[&str]) {
    let reference = common::reference_tool("/usr/sbin/gearmand");
    let Some(reference) = reference else { return };
    let mut args = vec!["--job-handle-prefix=P"];
    args.extend_from_slice(options);
    let mut ours = World::new(TestServer::start(&args));
    let mut theirs = World::new(TestServer::start_bin(&reference, &args));
    let mut rng = Rng(seed);
    let mut handles = Vec::new();
    let mut held: Held = vec![Vec::new(); SLOTS];
    let mut history = String::new();
    for step in 0..steps {
        let op = with_held(generate(&mut rng, &handles), &held);
        let a = ours.apply(&op);
        let b = theirs.apply(&op);
        // Against gearmand itself (GEARMAND_BIN) both sides carry the NUL.
        let b = if common::is_ours() {
            normalise_reference(&op, &b)
        } else {
            b
        };
        let _ = writeln!(history, "{step}: {op:?}");
        for line in b.lines() {
            let _ = writeln!(history, "      {line}");
        }
        assert_eq!(
            a, b,
            "seed {seed}, step {step}: {op:?}\nserver under test:\n{a}\ngearmand 1.1.20:\n{b}\nhistory:\n{history}"
        );
        handles_in(&b, &mut handles);
        track(&op, &b, &mut held);
    }
}

#[test]
fn differential_default_options() {
    run(0x9E37_79B9_7F4A_7C15, 250, &[]);
    run(0xD1B5_4A32_D192_ED03, 250, &[]);
}

#[test]
fn differential_round_robin() {
    run(0x8CB9_2BA7_2F3D_8DD7, 250, &["-R"]);
}

#[test]
fn differential_retries_one_round_robin() {
    run(0x1234_5678_9ABC_DEF1, 250, &["-j", "1", "-R"]);
}

#[test]
fn differential_worker_wakeup() {
    // Which sleepers a partial wake-up picks, and how the choice rotates.
    run(0x5851_F42D_4C95_7F2D, 250, &["-w", "1"]);
    run(0x2545_F491_4F6C_DD1D, 250, &["-w", "2", "-R"]);
}

#[test]
fn differential_retries_and_exceptions() {
    run(0x0F1E_2D3C_4B5A_6978, 250, &["-j", "2", "--exceptions"]);
}

#[test]
fn differential_more_seeds() {
    let configs: [&[&str]; 3] = [&[], &["-R", "--exceptions"], &["-j", "3", "-w", "1"]];
    for n in 1..=9u64 {
        run(
            n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            200,
            configs[(n % 3) as usize],
        );
    }
}
