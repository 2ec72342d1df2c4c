//! Raw-protocol load generator for `bench/compare.sh`: measures a job server alone, without any
//! client library in the way. Usage: `bench_load PORT SCENARIO N SIZE`, prints `SCENARIO <ops/s>`.
//!
//! Scenarios: `echo` (pipelined ECHO_REQ), `bg-submit` (pipelined SUBMIT_JOB_BG),
//! `drain` (one worker grabbing and completing N queued jobs), `do` (one client, one job at a
//! time, one worker), `do-window` (one client keeping 64 foreground jobs in flight, two workers).

use gearman::protocol::{decode_packet, encode, Command, Decoded, Limits, Magic};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

const FUNC: &[u8] = b"bench_echo";

struct Peer {
    s: TcpStream,
    buf: Vec<u8>,
    start: usize,
}

impl Peer {
    fn connect(port: u16) -> Peer {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_nodelay(true).expect("nodelay");
        Peer {
            s,
            buf: Vec::with_capacity(1 << 16),
            start: 0,
        }
    }

    fn send(&mut self, cmd: Command, args: &[&[u8]]) {
        self.s
            .write_all(&encode(Magic::Request, cmd, args))
            .expect("write");
    }

    /// Reads the next packet; returns its command and arguments as owned vectors.
    fn recv(&mut self) -> (Command, Vec<Vec<u8>>) {
        let limits = Limits::default();
        loop {
            if let Decoded::Complete(p, n) =
                decode_packet(&self.buf[self.start..], &limits).expect("decode")
            {
                let out = (p.command, p.args().iter().map(|a| a.to_vec()).collect());
                self.start += n;
                if self.start == self.buf.len() {
                    self.buf.clear();
                    self.start = 0;
                }
                return out;
            }
            let mut chunk = [0u8; 65536];
            let n = self.s.read(&mut chunk).expect("read");
            assert!(n > 0, "server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn expect(&mut self, cmd: Command) -> Vec<Vec<u8>> {
        let (c, args) = self.recv();
        assert_eq!(c, cmd, "unexpected packet");
        args
    }
}

/// A worker that serves `n` jobs (0 = until the server goes away) as libgearman does:
/// GRAB_JOB_ALL, NO_JOB -> PRE_SLEEP -> NOOP, WORK_COMPLETE echoing the workload.
fn worker(port: u16, n: usize) {
    let mut w = Peer::connect(port);
    w.send(Command::CanDo, &[FUNC]);
    let mut done = 0;
    while n == 0 || done < n {
        w.send(Command::GrabJobAll, &[]);
        let (c, args) = w.recv();
        match c {
            Command::NoJob => {
                w.send(Command::PreSleep, &[]);
                w.expect(Command::Noop);
            }
            Command::JobAssignUniq => {
                w.send(Command::WorkComplete, &[&args[0], &args[3]]);
                done += 1;
            }
            other => panic!("worker got {other:?}"),
        }
    }
}

fn pipelined(port: u16, n: usize, window: usize, send: impl Fn(&mut Peer, usize), reply: Command) {
    let mut p = Peer::connect(port);
    let mut sent = 0;
    let mut got = 0;
    while got < n {
        while sent < n && sent - got < window {
            send(&mut p, sent);
            sent += 1;
        }
        p.expect(reply);
        got += 1;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: bench_load PORT SCENARIO N SIZE");
        std::process::exit(2);
    }
    let port: u16 = args[1].parse().expect("port");
    let scenario = args[2].as_str();
    let n: usize = args[3].parse().expect("n");
    let size: usize = args[4].parse().expect("size");
    let payload: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
    let t0 = Instant::now();
    match scenario {
        "echo" => pipelined(
            port,
            n,
            64,
            |p, _| p.send(Command::EchoReq, &[&payload]),
            Command::EchoRes,
        ),
        "bg-submit" => pipelined(
            port,
            n,
            64,
            |p, _| p.send(Command::SubmitJobBg, &[FUNC, b"", &payload]),
            Command::JobCreated,
        ),
        "drain" => worker(port, n),
        "do" => {
            let w = std::thread::spawn(move || worker(port, n));
            let mut c = Peer::connect(port);
            for _ in 0..n {
                c.send(Command::SubmitJob, &[FUNC, b"", &payload]);
                c.expect(Command::JobCreated);
                let r = c.expect(Command::WorkComplete);
                assert_eq!(r[1].len(), size);
            }
            w.join().expect("worker");
        }
        "do-window" => {
            let workers: Vec<_> = (0..2)
                .map(|_| std::thread::spawn(move || worker(port, 0)))
                .collect();
            let mut c = Peer::connect(port);
            let (mut sent, mut done) = (0, 0);
            while done < n {
                while sent < n && sent - done < 64 {
                    c.send(Command::SubmitJob, &[FUNC, b"", &payload]);
                    sent += 1;
                }
                match c.recv().0 {
                    Command::JobCreated => {}
                    Command::WorkComplete => done += 1,
                    other => panic!("client got {other:?}"),
                }
            }
            let dt = t0.elapsed().as_secs_f64();
            println!("{scenario} {:.0}", n as f64 / dt);
            // The workers sleep forever; the caller stops the server, which ends them.
            drop(workers);
            std::process::exit(0);
        }
        other => panic!("unknown scenario {other}"),
    }
    let dt = t0.elapsed().as_secs_f64();
    println!("{scenario} {:.0}", n as f64 / dt);
}
