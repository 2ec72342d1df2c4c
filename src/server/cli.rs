//! gearmand's command line (1.1.20 option names), parsed with `lexopt`: `--opt=value`,
//! `--opt value`, `-p value` and `-pVALUE` all work; `--config-file` adds tokens from a file.

use super::config::{Config, Verbose};
use super::log::LogTarget;
use super::store::{self, Backend, QueueConfig, Sync};
use super::VERSION;
use lexopt::prelude::*;
use std::ffi::OsString;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

/// Everything the `gearmand` binary needs besides the server [`Config`].
#[derive(Debug)]
pub struct Options {
    pub config: Config,
    pub pid_file: Option<PathBuf>,
    pub log: LogTarget,
    pub daemon: bool,
    pub file_descriptors: Option<u64>,
    /// `-u`: the user to switch to once the listeners are bound.
    pub user: Option<String>,
    /// `--syslog`: also log to syslog.
    pub syslog: bool,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Parsed {
    Run(Box<Options>),
    /// Print this text on stdout and exit 0 (`--help`, `--version`, `--check-args`).
    Print(String),
    /// `--queue-dump`: list what this persistent queue holds, without starting a server.
    Dump(QueueConfig),
}

const DEFAULT_CONFIG_FILE: &str = "/etc/gearmand.conf";
const MAX_PREFIX: usize = 63 - 1 - 20;

pub const HELP: &str = "\
Usage: gearmand [OPTIONS]

A gearmand 1.1.20 compatible job server.

General options:
  -b, --backlog N               listen backlog (default 32)
  -d, --daemon                  detach and run in the background
      --exceptions              enable protocol exceptions for every connection
  -f, --file-descriptors N      set the open-file limit to N (default: the hard limit)
  -h, --help                    print this help
  -j, --job-retries N           attempts before a job is dropped with WORK_FAIL (0 = no limit)
      --job-handle-prefix PFX   job handles are PFX:<n> (default H:<hostname>)
      --hashtable-buckets N     accepted for compatibility; tables grow on their own
      --keepalive               also set SO_KEEPALIVE and the values below on the listener
      --keepalive-idle S        TCP_KEEPIDLE seconds (-1 = system default)
      --keepalive-interval S    TCP_KEEPINTVL seconds (-1 = system default)
      --keepalive-count N       TCP_KEEPCNT (-1 = system default)
  -l, --log-file FILE           log file; 'stderr' or 'none' (default stderr)
  -L, --listen ADDR             address to listen on (default: all IPv4 and IPv6 addresses)
  -p, --port PORT               port (default 4730, or $GEARMAND_PORT)
  -P, --pid-file FILE           write the process id here; removed on exit (default: none)
  -r, --protocol http           also serve gearmand's HTTP protocol (POST/GET /FUNCTION)
      --http-port PORT          port of the HTTP protocol (default 8080), on the -L addresses
      --http-timeout S          seconds an HTTP client has to send a whole request (default 30)
      --metrics-listen ADDR:PORT  serve Prometheus metrics (/metrics) and JSON (/status) there
  -u, --user USER               switch to USER once the ports are bound (needs root)
      --syslog                  also log to syslog (ident gearmand, facility user)
  -R, --round-robin             rotate a worker's functions after each job taken
      --global-priority         serve high before normal before low across all of a worker's
                                functions (gearmand 2.0 order); default is per function (1.1.20)
  -q, --queue-type TYPE         where background jobs are kept: builtin (in memory, the
                                default), wal (our append-only log), libsqlite3, postgres or
                                redis (gearmand's layouts); see 'Durable queues' in the README
  -t, --threads N               accepted for compatibility; one event loop serves everything
      --verbose LEVEL           FATAL ALERT CRITICAL ERROR WARNING NOTICE INFO DEBUG (default ERROR)
  -V, --version                 print the version
  -w, --worker-wakeup N         sleeping workers woken per new job (0 = all)
      --max-packet-size BYTES   largest packet payload accepted (default 1073741824)
      --busy-poll-us US         after handling events, look for more for US microseconds
                                before sleeping (default 50; 0 = never spin)
      --config-file FILE        read options from FILE (default /etc/gearmand.conf if present)

Durable queues:
      --wal-dir DIR             -q wal: directory of the log (created if missing)
      --wal-sync MODE           -q wal: full (fsync before each acknowledgement, survives power
                                loss; default) or normal (written before it, survives a crash
                                of the server but not of the machine)
      --libsqlite3-db FILE      -q libsqlite3: the database file (created if missing)
      --libsqlite3-table NAME   -q libsqlite3: table (default gearman_queue)
      --libsqlite3-sync MODE    -q libsqlite3: full (default) or normal, as --wal-sync
      --libpq-conninfo STR      -q postgres: libpq connection string or URI (default: libpq's
                                defaults and PG* variables)
      --libpq-table NAME        -q postgres: table (default queue)
      --redis-server HOST       -q redis: host, or a Unix socket path (default 127.0.0.1)
      --redis-port PORT         -q redis: port (default 6379)
      --redis-password PASS     -q redis: password (AUTH)
      --redis-prefix PREFIX     -q redis: key prefix (default _gear_)
      --store-queue-on-shutdown write the queue only at a clean shutdown (fast; a crash loses
                                the jobs of the run and reruns the ones done since the start)
      --queue-dump              list and count the jobs the queue given by -q holds, then exit
                                (the server need not be stopped; nothing is changed)
      --check-args              check the arguments and exit
      --coredump                accepted; no crash handler is installed either way
";

fn value<T: std::str::FromStr>(p: &mut lexopt::Parser, name: &str) -> Result<T, String> {
    let v = p.value().map_err(|e| e.to_string())?;
    let s = v.to_string_lossy();
    s.trim()
        .parse()
        .map_err(|_| format!("invalid value '{s}' for --{name}"))
}

fn string(p: &mut lexopt::Parser) -> Result<String, String> {
    p.value()
        .map_err(|e| e.to_string())?
        .into_string()
        .map_err(|v| format!("invalid UTF-8 in argument {v:?}"))
}

/// Parses the arguments after the program name.
pub fn parse(args: Vec<OsString>) -> Result<Parsed, String> {
    let explicit = find_config_file(&args);
    let mut tokens: Vec<OsString> = Vec::new();
    let path = explicit
        .clone()
        .unwrap_or_else(|| DEFAULT_CONFIG_FILE.into());
    match std::fs::read_to_string(&path) {
        Ok(text) => tokens.extend(text.split_whitespace().map(OsString::from)),
        Err(e) if explicit.is_some() => {
            return Err(format!("cannot read config file {}: {e}", path.display()))
        }
        Err(_) => {}
    }
    // Command-line values come last, so they win over the file's.
    tokens.extend(args);
    parse_tokens(tokens)
}

fn find_config_file(args: &[OsString]) -> Option<PathBuf> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let s = a.to_string_lossy();
        if let Some(v) = s.strip_prefix("--config-file=") {
            return Some(v.into());
        }
        if s == "--config-file" {
            return it.next().map(PathBuf::from);
        }
    }
    None
}

fn parse_tokens(tokens: Vec<OsString>) -> Result<Parsed, String> {
    let mut config = Config::default();
    let mut port: Option<u16> = None;
    let mut listen: Option<String> = None;
    let mut pid_file = None;
    let mut log = LogTarget::Stderr;
    let mut daemon = false;
    let mut file_descriptors = None;
    let mut check_only = false;
    let mut queue_type = String::from("builtin");
    let mut wal_dir: Option<PathBuf> = None;
    let mut wal_sync = Sync::Full;
    let mut sqlite_db: Option<PathBuf> = None;
    let mut sqlite_table = String::from("gearman_queue");
    let mut sqlite_sync = Sync::Full;
    let mut on_shutdown = false;
    let mut dump = false;
    let mut pg_conninfo = String::new();
    let mut pg_table = String::from(store::postgres::DEFAULT_TABLE);
    let mut redis = store::redis::Address::default();
    let mut redis_prefix = String::from(store::redis::DEFAULT_PREFIX);
    let mut user = None;
    let mut http = false;
    let mut http_port: u16 = 8080;
    let mut syslog = false;
    let mut p = lexopt::Parser::from_args(tokens);
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            Short('p') | Long("port") => {
                let s = string(&mut p)?;
                port = Some(if s.is_empty() {
                    4730
                } else {
                    s.parse().map_err(|_| format!("invalid port '{s}'"))?
                });
            }
            Short('L') | Long("listen") => listen = Some(string(&mut p)?),
            Short('b') | Long("backlog") => config.backlog = value(&mut p, "backlog")?,
            Short('j') | Long("job-retries") => config.job_retries = value(&mut p, "job-retries")?,
            Short('w') | Long("worker-wakeup") => {
                config.worker_wakeup = value(&mut p, "worker-wakeup")?
            }
            Short('R') | Long("round-robin") => config.round_robin = true,
            Long("global-priority") => config.global_priority = true,
            Long("job-handle-prefix") => {
                let pfx = string(&mut p)?;
                // Handles are at most 63 bytes: prefix, ':' and up to 20 digits.
                if pfx.len() > MAX_PREFIX {
                    return Err(format!(
                        "--job-handle-prefix is longer than {MAX_PREFIX} bytes: handles would exceed 63 bytes"
                    ));
                }
                config.job_handle_prefix = pfx;
            }
            Long("exceptions") => config.exceptions = true,
            Short('t') | Long("threads") => {
                let _: u32 = value(&mut p, "threads")?;
            }
            Long("hashtable-buckets") => {
                let n: u32 = value(&mut p, "hashtable-buckets")?;
                if n == 0 {
                    return Err("--hashtable-buckets must be greater than 0".into());
                }
            }
            Long("verbose") => {
                let s = string(&mut p)?;
                config.verbose = Verbose::from_name(&s).ok_or_else(|| {
                    format!("invalid verbose level '{s}' (FATAL ALERT CRITICAL ERROR WARNING NOTICE INFO DEBUG)")
                })?;
            }
            Short('v') => {
                // As gearmand 1.1.20, which dropped -v.
                return Err("option -v is deprecated: use --verbose=LEVEL".into());
            }
            Short('l') | Long("log-file") => {
                log = match string(&mut p)?.as_str() {
                    "stderr" => LogTarget::Stderr,
                    "none" => LogTarget::None,
                    path => LogTarget::File(path.into()),
                }
            }
            Short('P') | Long("pid-file") => pid_file = Some(PathBuf::from(string(&mut p)?)),
            Short('d') | Long("daemon") => daemon = true,
            Long("keepalive") => config.keepalive.on_listener = true,
            Long("keepalive-idle") => {
                config.keepalive.idle_secs = keepalive(&mut p, "keepalive-idle")?
            }
            Long("keepalive-interval") => {
                config.keepalive.interval_secs = keepalive(&mut p, "keepalive-interval")?
            }
            Long("keepalive-count") => {
                config.keepalive.count = keepalive(&mut p, "keepalive-count")?
            }
            Short('q') | Long("queue-type") => {
                queue_type = string(&mut p)?.to_ascii_lowercase();
                if !["builtin", "wal", "libsqlite3", "postgres", "redis"]
                    .contains(&queue_type.as_str())
                {
                    return Err(format!(
                        "queue type '{queue_type}' is not available: use builtin, wal, \
                         libsqlite3, postgres or redis"
                    ));
                }
            }
            Long("wal-dir") => wal_dir = Some(PathBuf::from(string(&mut p)?)),
            Long("wal-sync") => wal_sync = sync_mode(&mut p, "wal-sync")?,
            Long("libsqlite3-db") => sqlite_db = Some(PathBuf::from(string(&mut p)?)),
            Long("libsqlite3-table") => sqlite_table = string(&mut p)?,
            Long("libsqlite3-sync") => sqlite_sync = sync_mode(&mut p, "libsqlite3-sync")?,
            Long("libpq-conninfo") => pg_conninfo = string(&mut p)?,
            Long("libpq-table") => pg_table = string(&mut p)?,
            Long("redis-server") => redis.server = string(&mut p)?,
            Long("redis-port") => redis.port = value(&mut p, "redis-port")?,
            Long("redis-password") => redis.password = Some(string(&mut p)?),
            Long("redis-prefix") => redis_prefix = string(&mut p)?,
            Long("store-queue-on-shutdown") => on_shutdown = true,
            Long("queue-dump") => dump = true,
            Short('f') | Long("file-descriptors") => {
                file_descriptors = Some(value(&mut p, "file-descriptors")?)
            }
            Long("max-packet-size") => config.max_packet_size = value(&mut p, "max-packet-size")?,
            Long("busy-poll-us") => {
                let us: u64 = value(&mut p, "busy-poll-us")?;
                config.busy_poll = std::time::Duration::from_micros(us.min(1_000_000));
            }
            Long("config-file") => {
                let _ = string(&mut p)?;
            }
            Short('u') | Long("user") => user = Some(string(&mut p)?),
            Short('r') | Long("protocol") => {
                let name = string(&mut p)?;
                if name != "http" {
                    return Err(format!("Unknown protocol module : {name}"));
                }
                http = true;
            }
            Long("http-port") => http_port = value(&mut p, "http-port")?,
            Long("http-timeout") => {
                let s: u64 = value(&mut p, "http-timeout")?;
                config.http_timeout = std::time::Duration::from_secs(s.max(1));
            }
            Long("metrics-listen") => {
                let s = string(&mut p)?;
                let addr = s
                    .to_socket_addrs()
                    .ok()
                    .and_then(|mut a| a.next())
                    .ok_or_else(|| format!("invalid --metrics-listen '{s}' (ADDR:PORT)"))?;
                config.metrics_listen = Some(addr);
            }
            Long("syslog") => syslog = true,
            Long("check-args") => check_only = true,
            Long("coredump") => {}
            Short('h') | Long("help") => return Ok(Parsed::Print(HELP.to_string())),
            Short('V') | Long("version") => {
                return Ok(Parsed::Print(format!(
                    "\ngearmand {VERSION} - https://github.com/gearman/gearmand/issues\n"
                )))
            }
            Long(name @ ("ssl" | "ssl-ca-file" | "ssl-certificate" | "ssl-key")) => {
                return Err(format!("option --{name} is not supported by this server"));
            }
            other => return Err(other.unexpected().to_string()),
        }
    }
    let port = match port {
        Some(p) => p,
        None => match std::env::var("GEARMAND_PORT") {
            Ok(s) if !s.is_empty() => s
                .parse()
                .map_err(|_| format!("invalid GEARMAND_PORT '{s}'"))?,
            _ => 4730,
        },
    };
    config.listen = listen_addrs(listen.as_deref(), port)?;
    if http {
        // As gearmand: the HTTP listener binds the same addresses as the job port.
        config.http_listen = listen_addrs(listen.as_deref(), http_port)?;
    }
    // As gearmand, a queue's options are ignored unless -q picks that queue.
    let backend = match queue_type.as_str() {
        "wal" => Backend::Wal {
            dir: wal_dir.ok_or("-q wal needs --wal-dir DIR")?,
            sync: wal_sync,
        },
        "libsqlite3" => Backend::Sqlite {
            path: sqlite_db.ok_or("-q libsqlite3 needs --libsqlite3-db FILE")?,
            table: sqlite_table,
            sync: sqlite_sync,
        },
        "postgres" => Backend::Postgres {
            conninfo: pg_conninfo,
            table: pg_table,
        },
        "redis" => Backend::Redis {
            address: redis,
            prefix: redis_prefix,
        },
        _ => Backend::Builtin,
    };
    if on_shutdown && !matches!(backend, Backend::Sqlite { .. }) {
        return Err("--store-queue-on-shutdown needs -q libsqlite3 (as in gearmand)".into());
    }
    config.queue = QueueConfig {
        backend,
        on_shutdown,
    };
    if dump {
        return Ok(Parsed::Dump(config.queue));
    }
    if check_only {
        return Ok(Parsed::Print(String::new()));
    }
    Ok(Parsed::Run(Box::new(Options {
        config,
        pid_file,
        log,
        daemon,
        file_descriptors,
        user,
        syslog,
    })))
}

fn sync_mode(p: &mut lexopt::Parser, name: &str) -> Result<Sync, String> {
    let s = string(p)?;
    Sync::parse(&s).ok_or_else(|| format!("invalid value '{s}' for --{name} (full or normal)"))
}

fn keepalive(p: &mut lexopt::Parser, name: &str) -> Result<Option<u32>, String> {
    let n: i64 = value(p, name)?;
    Ok(u32::try_from(n).ok())
}

/// `-L HOST` resolves to every address of HOST; without it, all IPv4 and IPv6 addresses.
fn listen_addrs(listen: Option<&str>, port: u16) -> Result<Vec<SocketAddr>, String> {
    match listen {
        None => Ok(vec![
            SocketAddr::from(([0, 0, 0, 0], port)),
            SocketAddr::from(([0u16; 8], port)),
        ]),
        Some(host) => {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let addrs: Vec<SocketAddr> = (host, port)
                .to_socket_addrs()
                .map_err(|e| format!("cannot resolve listen address '{host}': {e}"))?
                .collect();
            if addrs.is_empty() {
                return Err(format!("listen address '{host}' has no addresses"));
            }
            Ok(addrs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Options {
        match parse_tokens(args.iter().map(OsString::from).collect()) {
            Ok(Parsed::Run(o)) => *o,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn option_forms() {
        let o = run(&[
            "-p",
            "4999",
            "-L",
            "127.0.0.1",
            "--job-retries=3",
            "-w2",
            "-R",
        ]);
        assert_eq!(o.config.listen, vec!["127.0.0.1:4999".parse().unwrap()]);
        assert_eq!(o.config.job_retries, 3);
        assert_eq!(o.config.worker_wakeup, 2);
        assert!(o.config.round_robin);
        let o = run(&[
            "-p4998",
            "--listen=127.0.0.1",
            "--verbose",
            "INFO",
            "--log-file=none",
        ]);
        assert_eq!(o.config.listen[0].port(), 4998);
        assert_eq!(o.config.verbose, Verbose::Info);
        assert_eq!(o.log, LogTarget::None);
        let o = run(&["--job-handle-prefix", "PFX", "-q", "BUILTIN", "-t", "8"]);
        assert_eq!(o.config.job_handle_prefix, "PFX");
        let o = run(&["-u", "nobody", "--syslog"]);
        assert_eq!(o.user.as_deref(), Some("nobody"));
        assert!(o.syslog);
        assert_eq!(run(&["--user=gearman"]).user.as_deref(), Some("gearman"));
        let o = run(&[
            "-L",
            "127.0.0.1",
            "-r",
            "http",
            "--metrics-listen",
            "127.0.0.1:9713",
        ]);
        assert_eq!(
            o.config.http_listen,
            vec!["127.0.0.1:8080".parse().unwrap()]
        );
        assert_eq!(
            o.config.metrics_listen,
            Some("127.0.0.1:9713".parse().unwrap())
        );
        let o = run(&["-L", "127.0.0.1", "--protocol=http", "--http-port=8081"]);
        assert_eq!(o.config.http_listen[0].port(), 8081);
        // --http-port alone does not start the HTTP listener (as gearmand).
        assert!(run(&["--http-port=8081"]).config.http_listen.is_empty());
    }

    #[test]
    fn queue_options() {
        let o = run(&["-q", "WAL", "--wal-dir", "/tmp/q", "--wal-sync=normal"]);
        assert_eq!(
            o.config.queue.backend,
            Backend::Wal {
                dir: "/tmp/q".into(),
                sync: Sync::Normal
            }
        );
        let o = run(&[
            "-q",
            "libsqlite3",
            "--libsqlite3-db=/tmp/q.db",
            "--store-queue-on-shutdown",
        ]);
        assert_eq!(
            o.config.queue.backend,
            Backend::Sqlite {
                path: "/tmp/q.db".into(),
                table: "gearman_queue".into(),
                sync: Sync::Full
            }
        );
        assert!(o.config.queue.on_shutdown);
        let o = run(&["-q", "postgres", "--libpq-conninfo", "host=db port=5433"]);
        assert_eq!(
            o.config.queue.backend,
            Backend::Postgres {
                conninfo: "host=db port=5433".into(),
                table: "queue".into()
            }
        );
        let o = run(&[
            "-q",
            "redis",
            "--redis-port=6380",
            "--redis-password",
            "pw",
            "--redis-prefix=q1",
        ]);
        assert_eq!(
            o.config.queue.backend,
            Backend::Redis {
                address: store::redis::Address {
                    server: "127.0.0.1".into(),
                    port: 6380,
                    password: Some("pw".into())
                },
                prefix: "q1".into()
            }
        );
        // Options of a queue not picked are ignored, as gearmand does.
        let o = run(&["--libsqlite3-db=/tmp/q.db"]);
        assert_eq!(o.config.queue.backend, Backend::Builtin);
        match parse_tokens(
            ["--queue-dump", "-q", "wal", "--wal-dir", "/d"]
                .iter()
                .map(OsString::from)
                .collect(),
        ) {
            Ok(Parsed::Dump(q)) => assert!(q.is_durable()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refusals() {
        let bad = |a: &[&str]| parse_tokens(a.iter().map(OsString::from).collect()).is_err();
        assert!(bad(&["-q", "libsqlite3"]));
        assert!(bad(&["-q", "wal"]));
        assert!(bad(&["-q", "mysql"]));
        assert!(bad(&["-q", "redis", "--redis-port=x"]));
        assert!(bad(&["-q", "wal", "--wal-dir=/x", "--wal-sync=off"]));
        assert!(bad(&[
            "-q",
            "wal",
            "--wal-dir=/x",
            "--store-queue-on-shutdown"
        ]));
        assert!(bad(&["--verbose=info"]));
        assert!(bad(&["-u"]));
        assert!(bad(&["-r", "HTTP"]));
        assert!(bad(&["--metrics-listen", "nonsense"]));
        assert!(bad(&["-v"]));
        assert!(bad(&["--nonsense"]));
        assert!(bad(&["-p", "notaport"]));
        assert!(bad(&["--hashtable-buckets=0"]));
        assert!(bad(&["--job-handle-prefix", &"x".repeat(43)]));
    }
}
