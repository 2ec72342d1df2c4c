//! A raw-protocol load generator for Gearman job servers (std only; built by compare.sh with
//! `rustc -O`). It measures the server alone: no client library is involved.
//!
//! Usage: load PORT SCENARIO N [ARG]
//!   echo N           one connection, N sequential ECHO round trips
//!   bg N C           C connections submit N background jobs in total, 100 in flight each
//!   bgseq N C        the same, one at a time: each connection waits for JOB_CREATED
//!   bguniq N C       bgseq with a distinct unique per job, as libgearman sends (gearmand's
//!                    postgres queue refuses a second job with an empty unique)
//!   drain N W        W workers GRAB_JOB/WORK_COMPLETE until N queued jobs are done
//!   fg N C           C clients each run sequential foreground jobs (N in total) against
//!                    4 workers that sleep with PRE_SLEEP and are woken by NOOP
//!   pipe N           one client keeps 100 foreground jobs in flight, 4 workers
//!   paced N R        one client runs N sequential foreground jobs, starting one every 1/R
//!                    seconds (a light, steady load), through one sleeping worker
//! Prints "<scenario> <ops per second> ops/s".

use std::io::{BufReader, BufWriter, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

const SUBMIT_JOB: u32 = 7;
const JOB_CREATED: u32 = 8;
const GRAB_JOB: u32 = 9;
const NO_JOB: u32 = 10;
const JOB_ASSIGN: u32 = 11;
const WORK_COMPLETE: u32 = 13;
const ECHO_REQ: u32 = 16;
const ECHO_RES: u32 = 17;
const SUBMIT_JOB_BG: u32 = 18;
const CAN_DO: u32 = 1;
const PRE_SLEEP: u32 = 4;
const NOOP: u32 = 6;

const FUNC: &[u8] = b"bench";
const DATA: &[u8] = b"0123456789abcdef";

struct Conn {
    r: BufReader<TcpStream>,
    w: BufWriter<TcpStream>,
}

impl Conn {
    fn new(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_nodelay(true).expect("nodelay");
        Conn {
            r: BufReader::with_capacity(1 << 16, s.try_clone().expect("clone")),
            w: BufWriter::with_capacity(1 << 16, s),
        }
    }

    fn put(&mut self, kind: u32, args: &[&[u8]]) {
        let len: usize = args.iter().map(|a| a.len()).sum::<usize>() + args.len().saturating_sub(1);
        self.w.write_all(b"\0REQ").unwrap();
        self.w.write_all(&kind.to_be_bytes()).unwrap();
        self.w.write_all(&(len as u32).to_be_bytes()).unwrap();
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                self.w.write_all(&[0]).unwrap();
            }
            self.w.write_all(a).unwrap();
        }
    }

    fn flush(&mut self) {
        self.w.flush().expect("flush");
    }

    fn get(&mut self) -> (u32, Vec<u8>) {
        let mut h = [0u8; 12];
        self.r.read_exact(&mut h).expect("read header");
        assert_eq!(&h[..4], b"\0RES", "bad magic from server");
        let kind = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
        let len = u32::from_be_bytes([h[8], h[9], h[10], h[11]]) as usize;
        let mut p = vec![0u8; len];
        self.r.read_exact(&mut p).expect("read payload");
        (kind, p)
    }

    fn expect(&mut self, kind: u32) -> Vec<u8> {
        let (k, p) = self.get();
        assert_eq!(
            k,
            kind,
            "unexpected packet {k}: {:?}",
            String::from_utf8_lossy(&p)
        );
        p
    }
}

/// A worker loop: grab, complete, sleep with PRE_SLEEP when idle, until `stop`.
fn worker(port: u16, stop: Arc<AtomicBool>, done: Arc<AtomicUsize>) {
    let mut c = Conn::new(port);
    c.put(CAN_DO, &[FUNC]);
    c.flush();
    c.r.get_ref()
        .set_read_timeout(Some(std::time::Duration::from_millis(100)))
        .unwrap();
    while !stop.load(Ordering::Relaxed) {
        c.put(GRAB_JOB, &[]);
        c.flush();
        let (k, p) = match read_or_timeout(&mut c) {
            Some(x) => x,
            None => continue,
        };
        match k {
            JOB_ASSIGN => {
                let handle = p.split(|&b| b == 0).next().unwrap().to_vec();
                c.put(WORK_COMPLETE, &[&handle, DATA]);
                c.flush();
                done.fetch_add(1, Ordering::Relaxed);
            }
            NO_JOB => {
                c.put(PRE_SLEEP, &[]);
                c.flush();
                // Wait for NOOP (or time out to check `stop`).
                loop {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    if let Some((k, _)) = read_or_timeout(&mut c) {
                        assert_eq!(k, NOOP);
                        break;
                    }
                }
            }
            k => panic!("worker got packet {k}"),
        }
    }
}

fn read_or_timeout(c: &mut Conn) -> Option<(u32, Vec<u8>)> {
    // Only called between packets; a timeout there means "nothing yet".
    match c.r.fill_buf_nonempty() {
        true => Some(c.get()),
        false => None,
    }
}

trait FillNonEmpty {
    fn fill_buf_nonempty(&mut self) -> bool;
}

impl FillNonEmpty for BufReader<TcpStream> {
    fn fill_buf_nonempty(&mut self) -> bool {
        use std::io::BufRead;
        match self.fill_buf() {
            Ok(b) => !b.is_empty(),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                false
            }
            Err(e) => panic!("read: {e}"),
        }
    }
}

fn start_workers(port: u16, n: usize) -> (Arc<AtomicBool>, Vec<std::thread::JoinHandle<()>>) {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let handles = (0..n)
        .map(|_| {
            let (s, d) = (stop.clone(), done.clone());
            std::thread::spawn(move || worker(port, s, d))
        })
        .collect();
    (stop, handles)
}

fn stop_workers(stop: Arc<AtomicBool>, handles: Vec<std::thread::JoinHandle<()>>) {
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().unwrap();
    }
}

fn echo(port: u16, n: usize) {
    let mut c = Conn::new(port);
    for _ in 0..n {
        c.put(ECHO_REQ, &[DATA]);
        c.flush();
        c.expect(ECHO_RES);
    }
}

/// Submits `n` background jobs on one connection with `window` in flight.
fn submit_bg(port: u16, n: usize, window: usize, uniques: Option<usize>) {
    let mut c = Conn::new(port);
    let mut sent = 0;
    let mut got = 0;
    while got < n {
        while sent < n && sent - got < window {
            let unique = uniques.map_or(String::new(), |t| format!("{}-{t}-{sent}", std::process::id()));
            c.put(SUBMIT_JOB_BG, &[FUNC, unique.as_bytes(), DATA]);
            sent += 1;
        }
        c.flush();
        c.expect(JOB_CREATED);
        got += 1;
    }
}

fn bg(port: u16, n: usize, conns: usize, window: usize, uniques: bool) {
    let per = n / conns;
    let hs: Vec<_> = (0..conns)
        .map(|t| std::thread::spawn(move || submit_bg(port, per, window, uniques.then_some(t))))
        .collect();
    for h in hs {
        h.join().unwrap();
    }
}

fn drain(port: u16, n: usize, workers: usize) {
    let per = n / workers;
    let hs: Vec<_> = (0..workers)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = Conn::new(port);
                c.put(CAN_DO, &[FUNC]);
                for _ in 0..per {
                    c.put(GRAB_JOB, &[]);
                    c.flush();
                    let p = c.expect(JOB_ASSIGN);
                    let handle = p.split(|&b| b == 0).next().unwrap().to_vec();
                    c.put(WORK_COMPLETE, &[&handle, b""]);
                }
                c.flush();
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
}

/// Runs foreground jobs on one connection with `window` in flight; returns when all are done.
fn submit_fg(port: u16, n: usize, window: usize) {
    let mut c = Conn::new(port);
    let mut sent = 0;
    let mut done = 0;
    while done < n {
        while sent < n && sent - done < window {
            c.put(SUBMIT_JOB, &[FUNC, b"", DATA]);
            sent += 1;
        }
        c.flush();
        match c.get().0 {
            JOB_CREATED => {}
            WORK_COMPLETE => done += 1,
            k => panic!("client got packet {k}"),
        }
    }
}

fn fg(port: u16, n: usize, clients: usize, window: usize) {
    let (stop, ws) = start_workers(port, 4);
    let per = n / clients;
    let hs: Vec<_> = (0..clients)
        .map(|_| std::thread::spawn(move || submit_fg(port, per, window)))
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    stop_workers(stop, ws);
}

/// One client, one worker: `n` sequential foreground jobs started `rate` times a second.
fn paced(port: u16, n: usize, rate: usize) {
    let (stop, ws) = start_workers(port, 1);
    let mut c = Conn::new(port);
    let period = std::time::Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let start = Instant::now();
    for i in 0..n {
        let due = start + period * i as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        c.put(SUBMIT_JOB, &[FUNC, b"", DATA]);
        c.flush();
        c.expect(JOB_CREATED);
        c.expect(WORK_COMPLETE);
    }
    stop_workers(stop, ws);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: load PORT echo|bg|bgseq|bguniq|drain|fg|pipe|paced N [ARG]");
        std::process::exit(2);
    }
    let port: u16 = args[1].parse().expect("port");
    let scenario = args[2].as_str();
    let n: usize = args[3].parse().expect("count");
    let arg: usize = args.get(4).map(|a| a.parse().expect("arg")).unwrap_or(4);
    let t = Instant::now();
    match scenario {
        "echo" => echo(port, n),
        "bg" => bg(port, n, arg, 100, false),
        "bgseq" => bg(port, n, arg, 1, false),
        "bguniq" => bg(port, n, arg, 1, true),
        "drain" => drain(port, n, arg),
        "fg" => fg(port, n, arg, 1),
        "pipe" => fg(port, n, 1, 100),
        "paced" => paced(port, n, arg),
        _ => {
            eprintln!("unknown scenario {scenario}");
            std::process::exit(2);
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!("{scenario} {:.0} ops/s", n as f64 / secs);
}
