//! Helpers of the fault tests (tests/fault_*.rs): the C worker and client of tests/c built
//! against our library (or run with Debian's), a ledger that counts every job end to end, and
//! the CPU time of a process read from /proc (its RSS: `common::proc_rss_kib`).
#![allow(dead_code)]

use crate::capi_support::{build_c, our_include, our_lib_dir, Scratch, DEBIAN_HEADER, DEBIAN_LIB};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Which libgearman.so.8 a C program runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lib {
    Ours,
    /// Debian's 1.1.20, for baseline figures only (never asserted).
    Debian,
}

struct Built {
    _scratch: Scratch,
    lib_dir: PathBuf,
    worker: PathBuf,
    client: PathBuf,
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let scratch = Scratch::new(&format!(
            "faults-{}",
            std::env::current_exe()
                .ok()
                .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
                .unwrap_or_default()
        ));
        let lib_dir = our_lib_dir(&scratch);
        let worker = scratch.path("fault_worker");
        let client = scratch.path("fault_client");
        // Built as a 1.1.20 user builds them (Debian's header when installed), linked with ours.
        let include = if Path::new(DEBIAN_HEADER).exists() {
            None
        } else {
            Some(our_include())
        };
        build_c(
            "fault_worker.c",
            "gnu99",
            include.as_deref(),
            Some(&lib_dir),
            &worker,
        );
        build_c(
            "fault_client.c",
            "gnu99",
            include.as_deref(),
            Some(&lib_dir),
            &client,
        );
        Built {
            _scratch: scratch,
            lib_dir,
            worker,
            client,
        }
    })
}

/// True when Debian's library is installed (baseline runs are skipped otherwise).
pub fn debian_lib_present() -> bool {
    Path::new(DEBIAN_LIB).exists()
}

fn lib_path(lib: Lib) -> PathBuf {
    match lib {
        Lib::Ours => built().lib_dir.clone(),
        Lib::Debian => PathBuf::from("/usr/lib/x86_64-linux-gnu"),
    }
}

/// Lines a child printed on stdout, collected by a reader thread.
#[derive(Clone, Default)]
pub struct Lines(Arc<Mutex<Vec<String>>>, Arc<std::sync::atomic::AtomicBool>);

impl Lines {
    fn collect_from(&self, out: impl std::io::Read + Send + 'static) {
        let (lines, eof) = (self.0.clone(), self.1.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                lines.lock().expect("lines").push(line);
            }
            eof.store(true, std::sync::atomic::Ordering::SeqCst);
        });
    }

    /// Waits until the reader saw the end of the output (the child exited and its last lines
    /// were read), or `limit` passes.
    fn wait_eof(&self, limit: Duration) {
        wait_until(limit, || self.1.load(std::sync::atomic::Ordering::SeqCst));
    }

    pub fn snapshot(&self) -> Vec<String> {
        self.0.lock().expect("lines").clone()
    }

    pub fn count(&self, pred: impl Fn(&str) -> bool) -> usize {
        self.0
            .lock()
            .expect("lines")
            .iter()
            .filter(|l| pred(l))
            .count()
    }

    /// Polls until `pred` holds for some line count, or `limit` passes.
    pub fn wait(&self, limit: Duration, pred: impl Fn(&[String]) -> bool) -> bool {
        wait_until(limit, || pred(&self.0.lock().expect("lines")))
    }
}

/// A C program of tests/c running as a child, killed by its pid when dropped.
pub struct CProc {
    pub child: Child,
    pub out: Lines,
    pub stdin: Option<ChildStdin>,
    errs: Lines,
}

impl CProc {
    fn spawn(program: &Path, args: &[&str], lib: Lib, valgrind: Option<&Path>) -> CProc {
        CProc::spawn_env(program, args, lib, valgrind, &[])
    }

    fn spawn_env(
        program: &Path,
        args: &[&str],
        lib: Lib,
        valgrind: Option<&Path>,
        env: &[(&str, &str)],
    ) -> CProc {
        let mut cmd = match valgrind {
            Some(log) => {
                let mut c = Command::new("valgrind");
                c.arg("--leak-check=full")
                    .arg("--errors-for-leak-kinds=definite,indirect")
                    .arg("--error-exitcode=99")
                    .arg(format!("--log-file={}", log.display()))
                    .arg(program);
                c
            }
            None => Command::new(program),
        };
        if valgrind.is_some() {
            cmd.env("FAULT_WORKER_STOPPABLE", "1");
        }
        cmd.args(args)
            .envs(env.iter().copied())
            .env("LD_LIBRARY_PATH", lib_path(lib))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let out = Lines::default();
        out.collect_from(child.stdout.take().expect("stdout"));
        let errs = Lines::default();
        errs.collect_from(child.stderr.take().expect("stderr"));
        let stdin = child.stdin.take();
        CProc {
            child,
            out,
            stdin,
            errs,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stderr(&self) -> String {
        self.errs.snapshot().join("\n")
    }

    /// Sends a signal by pid.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        unsafe { libc::kill(self.pid() as i32, sig) };
    }

    /// Waits for the exit (after a signal or the end of its work).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if let Ok(Some(st)) = self.child.try_wait() {
                // What it printed last may still be in the pipe: read it before answering.
                self.out.wait_eof(Duration::from_secs(5));
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    pub fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{line}").expect("write to child");
        stdin.flush().expect("flush");
    }
}

impl Drop for CProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts tests/c/fault_worker on `servers`; returns once it printed "ready".
pub fn c_worker(
    servers: &str,
    function: &str,
    delay_ms: u32,
    can_do_timeout: u32,
    id: &str,
    lib: Lib,
) -> CProc {
    let w = CProc::spawn(
        &built().worker,
        &[
            servers,
            function,
            &delay_ms.to_string(),
            &can_do_timeout.to_string(),
            id,
        ],
        lib,
        None,
    );
    assert!(
        w.out
            .wait(Duration::from_secs(20), |l| l.iter().any(|x| x == "ready")),
        "worker did not start: {}",
        w.stderr()
    );
    w
}

/// Starts tests/c/fault_client: it runs one job per line written to its stdin.
pub fn c_client(
    servers: &str,
    function: &str,
    count: usize,
    timeout_ms: i32,
    prefix: &str,
    lib: Lib,
) -> CProc {
    CProc::spawn(
        &built().client,
        &[
            servers,
            function,
            &count.to_string(),
            &timeout_ms.to_string(),
            prefix,
        ],
        lib,
        None,
    )
}

/// tests/c/fault_client with its servers taken from `GEARMAN_SERVERS`.
pub fn c_client_from_env(gearman_servers: &str, count: usize, prefix: &str, lib: Lib) -> CProc {
    CProc::spawn_env(
        &built().client,
        &["-", "echo", &count.to_string(), "20000", prefix],
        lib,
        None,
        &[("GEARMAN_SERVERS", gearman_servers)],
    )
}

/// The C programs under valgrind (log written to `log`).
pub fn c_worker_valgrind(servers: &str, function: &str, log: &Path) -> CProc {
    CProc::spawn(
        &built().worker,
        &[servers, function, "0", "0", "vg-worker"],
        Lib::Ours,
        Some(log),
    )
}

pub fn c_client_valgrind(servers: &str, function: &str, count: usize, log: &Path) -> CProc {
    CProc::spawn(
        &built().client,
        &[servers, function, &count.to_string(), "20000", "cj"],
        Lib::Ours,
        Some(log),
    )
}

/// The result lines of fault_client: job id -> (return code name, milliseconds, result).
pub fn client_results(lines: &[String]) -> Vec<(String, String, u64, String)> {
    lines
        .iter()
        .filter_map(|l| {
            let mut f = l.splitn(5, ' ');
            if f.next()? != "job" {
                return None;
            }
            let id = f.next()?.to_string();
            let rc = f.next()?.to_string();
            let ms = f.next()?.parse().ok()?;
            Some((id, rc, ms, f.next().unwrap_or("").to_string()))
        })
        .collect()
}

/// Waits until a worker has printed at least `n` "start" lines (a client can get its result
/// before the test's reader thread has seen the worker's line).
pub fn wait_for_starts(w: &CProc, n: usize) {
    let ok = w.out.wait(Duration::from_secs(10), |l| {
        l.iter().filter(|x| x.starts_with("start ")).count() >= n
    });
    assert!(ok, "the worker printed fewer than {n} start lines");
}

/// How often each workload was started and finished by fault_worker processes.
pub fn worker_runs(lines: &[String], kind: &str) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for l in lines {
        if let Some(id) = l.strip_prefix(kind).and_then(|r| r.strip_prefix(' ')) {
            *m.entry(id.to_string()).or_insert(0) += 1;
        }
    }
    m
}

/// End-to-end job accounting: what clients submitted and how each ended, against what the
/// workers ran.
#[derive(Default, Debug)]
pub struct Ledger {
    pub submitted: usize,
    pub completed: usize,
    pub failed_reported: usize,
    pub lost: usize,
    pub duplicated: usize,
}

impl Ledger {
    /// `outcomes`: each submitted job id with whether its client got its result (true) or an
    /// error (false). `runs`: how many times a worker completed each id. A job is lost when its
    /// client got neither (absent from `outcomes`) or got a result no worker produced;
    /// duplicated when it was completed more than once.
    pub fn account(
        ids: &[String],
        outcomes: &HashMap<String, bool>,
        runs: &HashMap<String, usize>,
    ) -> Ledger {
        let mut l = Ledger {
            submitted: ids.len(),
            ..Ledger::default()
        };
        for id in ids {
            let done = runs.get(id).copied().unwrap_or(0);
            if done > 1 {
                l.duplicated += 1;
            }
            match outcomes.get(id) {
                Some(true) if done >= 1 => l.completed += 1,
                Some(true) => l.lost += 1,
                Some(false) => l.failed_reported += 1,
                None => l.lost += 1,
            }
        }
        l
    }

    pub fn print(&self, scenario: &str) {
        eprintln!(
            "FIGURES {scenario}: submitted {} completed {} failed-reported {} lost {} duplicated {}",
            self.submitted, self.completed, self.failed_reported, self.lost, self.duplicated
        );
    }

    pub fn assert_sound(&self, scenario: &str) {
        self.print(scenario);
        assert_eq!(self.lost, 0, "{scenario}: lost jobs {self:?}");
        assert_eq!(self.duplicated, 0, "{scenario}: duplicated jobs {self:?}");
    }
}

/// Polls `cond` every 10 ms until true or `limit` passes.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

/// CPU time (user + system) a process used so far, from /proc/<pid>/stat.
pub fn proc_cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read stat");
    // Fields after the ")" that ends the command name: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().expect("utime") + f[12].parse::<u64>().expect("stime");
    // SAFETY: sysconf has no memory effects.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_millis(ticks * 1000 / hz.max(1))
}

/// Raises this process's open-file limit to at least `want` (up to the hard limit).
pub fn raise_nofile(want: u64) -> u64 {
    // SAFETY: a plain struct filled by getrlimit, then passed back to setrlimit.
    unsafe {
        let mut rl: libc::rlimit = std::mem::zeroed();
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl);
        if rl.rlim_cur < want {
            rl.rlim_cur = want.min(rl.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &rl);
        }
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl);
        rl.rlim_cur
    }
}
