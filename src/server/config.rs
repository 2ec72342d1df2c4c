//! Settings of one job server instance, filled by the command line or by a program embedding it.

use std::net::SocketAddr;

/// Log levels of gearmand, most severe first; `verbose` answers with the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbose {
    Fatal,
    Alert,
    Critical,
    Error,
    Warning,
    Notice,
    Info,
    Debug,
}

impl Verbose {
    pub const ALL: [Verbose; 8] = [
        Verbose::Fatal,
        Verbose::Alert,
        Verbose::Critical,
        Verbose::Error,
        Verbose::Warning,
        Verbose::Notice,
        Verbose::Info,
        Verbose::Debug,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Verbose::Fatal => "FATAL",
            Verbose::Alert => "ALERT",
            Verbose::Critical => "CRITICAL",
            Verbose::Error => "ERROR",
            Verbose::Warning => "WARNING",
            Verbose::Notice => "NOTICE",
            Verbose::Info => "INFO",
            Verbose::Debug => "DEBUG",
        }
    }

    /// Exact upper-case match, as gearmand 1.1.20.
    pub fn from_name(s: &str) -> Option<Verbose> {
        Verbose::ALL.into_iter().find(|v| v.name() == s)
    }
}

/// TCP keepalive settings for sockets (`None` = system default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Keepalive {
    /// `--keepalive`: also set SO_KEEPALIVE and these values on the listening socket.
    pub on_listener: bool,
    pub idle_secs: Option<u32>,
    pub interval_secs: Option<u32>,
    pub count: Option<u32>,
}

/// Everything that shapes one server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Addresses to listen on; port 0 picks a free port.
    pub listen: Vec<SocketAddr>,
    pub backlog: i32,
    /// Job handle prefix: handles are `<prefix>:<n>`. Default `H:<nodename>`.
    pub job_handle_prefix: String,
    /// `-j`: attempts before a job is dropped with WORK_FAIL; 0 = unlimited.
    pub job_retries: u32,
    /// `-w`: sleeping workers woken per queued job; 0 = all.
    pub worker_wakeup: u32,
    /// `-R`: rotate a worker's abilities after each job taken from one.
    pub round_robin: bool,
    /// `--global-priority`: gearmand 2.0 order, priority first across all of a worker's functions.
    pub global_priority: bool,
    /// `--exceptions`: every connection starts with the `exceptions` option.
    pub exceptions: bool,
    pub verbose: Verbose,
    /// Largest accepted packet payload in bytes; larger ones close the connection.
    pub max_packet_size: u32,
    /// Above this many bytes of pending output, a connection's input is not read.
    pub max_output_backlog: usize,
    /// `--busy-poll-us`: after a round that handled events, how long the loop keeps looking for
    /// more without sleeping (zero: always sleep in epoll_wait).
    pub busy_poll: std::time::Duration,
    pub keepalive: Keepalive,
    /// `-r http`: addresses of gearmand's HTTP protocol listener (empty: off).
    pub http_listen: Vec<SocketAddr>,
    /// How long an HTTP client may take to send a whole request before it gets 408.
    pub http_timeout: std::time::Duration,
    /// `--metrics-listen`: where `/metrics` and `/status` are served (off by default).
    pub metrics_listen: Option<SocketAddr>,
    /// `-q` and its options: where background jobs are kept (in memory by default).
    pub queue: super::store::QueueConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: vec![SocketAddr::from(([0, 0, 0, 0], 4730))],
            backlog: 32,
            job_handle_prefix: format!("H:{}", nodename()),
            job_retries: 0,
            worker_wakeup: 0,
            round_robin: false,
            global_priority: false,
            exceptions: false,
            verbose: Verbose::Error,
            max_packet_size: crate::protocol::packet::DEFAULT_MAX_PAYLOAD,
            max_output_backlog: 8 << 20,
            busy_poll: std::time::Duration::from_micros(50),
            keepalive: Keepalive::default(),
            http_listen: Vec::new(),
            http_timeout: std::time::Duration::from_secs(30),
            metrics_listen: None,
            queue: Default::default(),
        }
    }
}

impl Config {
    /// A config listening on 127.0.0.1 with a free port, for tests and embedding.
    pub fn loopback() -> Config {
        Config {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 0))],
            ..Config::default()
        }
    }
}

/// The machine's node name as `uname -n` prints it.
pub fn nodename() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}
