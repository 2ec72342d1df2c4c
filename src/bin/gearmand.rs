//! `gearmand`: the job server binary (command line compatible with gearmand 1.1.20).

use gearman::server::cli::{self, Options, Parsed};
use gearman::server::{log, notify, privileges, Controller, Server};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use signal_hook::iterator::Signals;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let opts = match cli::parse(std::env::args_os().skip(1).collect()) {
        Ok(Parsed::Print(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Dump(queue)) => {
            let mut out = std::io::stdout().lock();
            return match gearman::server::store::dump(&queue.backend, &mut out) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("gearmand: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Ok(Parsed::Run(o)) => o,
        Err(msg) => {
            eprintln!("gearmand: {msg}");
            eprintln!("Try 'gearmand --help' for the options.");
            return ExitCode::FAILURE;
        }
    };
    match run(*opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("gearmand: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run(opts: Options) -> Result<(), String> {
    // A file-size limit (RLIMIT_FSIZE) must fail the write (EFBIG: the submission gets
    // QUEUE_ERROR), not kill the server.
    // SAFETY: setting a signal's disposition to SIG_IGN touches no memory of ours.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    match opts.file_descriptors {
        Some(n) => set_nofile(n)?,
        // As gearmand 1.1.20: by default, as many descriptors as the user may have.
        None => raise_nofile_to_hard_limit(),
    }
    log::init(opts.config.verbose, opts.log.clone())
        .map_err(|e| format!("cannot open log file: {e}"))?;
    if opts.syslog {
        log::enable_syslog();
    }
    // Under systemd (Type=notify) the service manager supervises the process: detaching would
    // only make it lose track of the server, so -d (in an old /etc/default file) is ignored.
    let detach = opts.daemon && !notify::expected();
    if opts.daemon && !detach {
        log::log(
            gearman::server::Verbose::Notice,
            format_args!("--daemon ignored: started by a service manager ($NOTIFY_SOCKET)"),
        );
    }
    let ready = if detach { Some(daemonize()?) } else { None };
    let started = start(&opts);
    if let Some(mut pipe) = ready {
        // Tell the waiting parent how the start went: empty = ready, else the error text.
        let msg = started.as_ref().err().cloned().unwrap_or_default();
        let _ = pipe.write_all(msg.as_bytes());
        if !msg.is_empty() {
            // The parent reports the error; the detached child just ends.
            std::process::exit(1);
        }
    }
    let (server, pid_file) = started?;
    let controller = server.controller();
    let signals = Signals::new([SIGTERM, SIGINT, SIGUSR1, SIGHUP])
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || handle_signals(signals, controller))
        .map_err(|e| format!("cannot start the signal thread: {e}"))?;
    log::log(
        gearman::server::Verbose::Notice,
        format_args!("gearmand {} ready", gearman::server::VERSION),
    );
    let status = format!(
        "READY=1\nSTATUS=gearmand {} serving\nMAINPID={}",
        gearman::server::VERSION,
        std::process::id()
    );
    if let Err(e) = notify::notify(&status) {
        log::error(format_args!("readiness notification failed: {e}"));
    }
    let result = server.run().map_err(|e| format!("event loop failed: {e}"));
    let _ = notify::notify("STOPPING=1");
    if let Some(p) = pid_file {
        let _ = std::fs::remove_file(p);
    }
    result
}

/// Binds the listeners, writes the pid file, then switches to the `-u` user.
fn start(opts: &Options) -> Result<(Server, Option<PathBuf>), String> {
    let server = Server::bind(opts.config.clone()).map_err(|e| e.to_string())?;
    if let Some(p) = &opts.pid_file {
        write_pid(p)?;
    }
    if let Some(user) = &opts.user {
        let account = privileges::switch_user(user)?;
        log::info(format_args!(
            "switched to user {} (uid {}, gid {})",
            account.name, account.uid, account.gid
        ));
    }
    // As that user, so the queue's files belong to it; before the ready notification.
    let mut server = server;
    server.open_store().map_err(|e| e.to_string())?;
    Ok((server, opts.pid_file.clone()))
}

fn write_pid(path: &Path) -> Result<(), String> {
    std::fs::write(path, format!("{}\n", std::process::id()))
        .map_err(|e| format!("cannot write pid file {}: {e}", path.display()))
}

/// SIGTERM/SIGINT stop at once; SIGUSR1 stops gracefully (twice: at once); SIGHUP reopens
/// the log file. SIGPIPE is already ignored by the Rust runtime.
fn handle_signals(mut signals: Signals, controller: Controller) {
    let mut graceful = false;
    for sig in signals.forever() {
        match sig {
            SIGHUP => log::reopen(),
            SIGUSR1 if !graceful => {
                graceful = true;
                controller.graceful();
            }
            _ => {
                controller.shutdown();
                return;
            }
        }
    }
}

/// Raises the soft open-file limit to the hard one (best effort: a failure keeps the limit).
fn raise_nofile_to_hard_limit() {
    // SAFETY: all-zero is a valid `rlimit`, which getrlimit fills in.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: getrlimit writes into `lim`, a valid exclusive reference.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0
        || lim.rlim_cur >= lim.rlim_max
    {
        return;
    }
    lim.rlim_cur = lim.rlim_max;
    // SAFETY: setrlimit reads the fully initialised struct we pass by pointer.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
}

fn set_nofile(n: u64) -> Result<(), String> {
    let lim = libc::rlimit {
        rlim_cur: n as libc::rlim_t,
        rlim_max: n as libc::rlim_t,
    };
    // SAFETY: setrlimit reads the fully initialised struct we pass by pointer.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    if rc != 0 {
        return Err(format!(
            "cannot set the file descriptor limit to {n}: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Forks; the parent waits until the child reports that it listens, then exits with 0, or
/// with 1 and the child's error. The child starts a new session and returns the pipe's
/// write end on which it reports.
fn daemonize() -> Result<std::fs::File, String> {
    use std::os::fd::FromRawFd;
    let mut fds = [0i32; 2];
    // SAFETY: pipe writes two descriptors into the array we own.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(format!("pipe: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: the two descriptors were just created by pipe and are owned by nothing else.
    let (mut rd, wr) = unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    };
    // SAFETY: no other thread exists yet, so the child inherits a consistent process.
    match unsafe { libc::fork() } {
        -1 => Err(format!("fork: {}", std::io::Error::last_os_error())),
        0 => {
            drop(rd);
            // SAFETY: plain system calls on our own process and on /dev/null.
            unsafe {
                libc::setsid();
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
                if null >= 0 {
                    libc::dup2(null, 0);
                    libc::dup2(null, 1);
                    if null > 2 {
                        libc::close(null);
                    }
                }
            }
            Ok(wr)
        }
        _child => {
            drop(wr);
            let mut msg = String::new();
            let _ = rd.read_to_string(&mut msg);
            if msg.is_empty() {
                std::process::exit(0);
            }
            eprintln!("gearmand: {msg}");
            std::process::exit(1);
        }
    }
}
