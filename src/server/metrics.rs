//! Counters the core keeps while it works, and their exposition for Prometheus.
//!
//! The core updates plain integers in the records it already touches (a function's
//! [`FuncStats`], the session table's [`ErrorCounts`], the loop's [`IoStats`]): no allocation,
//! no atomics, no lock on the job path. The text is only built when `/metrics` is scraped, from
//! the core's tables as they stand ([`render`]), in the Prometheus text format 0.0.4 or, when
//! the scraper asks for it, OpenMetrics 1.0.

use super::core::Core;
use super::model::Function;
use std::fmt::Write as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Upper bounds of the latency histograms' buckets, in seconds (an implicit `+Inf` follows).
pub const BUCKETS: [f64; 20] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];

const fn nanos(bounds: [f64; 20]) -> [u64; 20] {
    let mut out = [0u64; 20];
    let mut i = 0;
    while i < 20 {
        out[i] = (bounds[i] * 1e9) as u64;
        i += 1;
    }
    out
}

const BUCKET_NANOS: [u64; 20] = nanos(BUCKETS);

/// A latency histogram: per-bucket counts (not cumulative; the last slot is `+Inf`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    counts: [u64; 21],
    sum_nanos: u64,
}

impl Histogram {
    pub fn observe(&mut self, d: Duration) {
        let n = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let i = BUCKET_NANOS.partition_point(|&b| b < n);
        self.counts[i] += 1;
        self.sum_nanos = self.sum_nanos.saturating_add(n);
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn sum_seconds(&self) -> f64 {
        self.sum_nanos as f64 / 1e9
    }
}

/// What happened to one function's jobs since the server started.
#[derive(Debug, Clone, Default)]
pub struct FuncStats {
    /// New jobs created, by priority (high, normal, low).
    pub submitted: [u64; 3],
    /// Submissions attached to an existing job with the same unique.
    pub coalesced: u64,
    pub completed: u64,
    /// WORK_FAIL from the worker.
    pub failed: u64,
    pub exceptions: u64,
    /// CAN_DO_TIMEOUT expiries (each also counts as a requeue).
    pub timeouts: u64,
    /// Jobs given back to the queue: worker gone, CANT_DO, RESET_ABILITIES, timeout.
    pub requeued: u64,
    /// Jobs dropped with WORK_FAIL after `--job-retries` attempts.
    pub retries_exhausted: u64,
    /// From (re)queueing to assignment.
    pub queue_wait: Histogram,
    /// From assignment to WORK_COMPLETE / WORK_FAIL / WORK_EXCEPTION.
    pub run_time: Histogram,
}

/// ERROR packets sent, by error code (a handful of distinct codes: a short list).
#[derive(Debug, Clone, Default)]
pub struct ErrorCounts(Vec<(&'static str, u64)>);

impl ErrorCounts {
    pub fn add(&mut self, code: &'static str) {
        match self.0.iter_mut().find(|(c, _)| *c == code) {
            Some((_, n)) => *n += 1,
            None => self.0.push((code, 1)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        self.0.iter().copied()
    }
}

/// Kinds of listener a connection came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnKind {
    Gearman = 0,
    Http = 1,
    Metrics = 2,
}

impl ConnKind {
    pub const ALL: [ConnKind; 3] = [ConnKind::Gearman, ConnKind::Http, ConnKind::Metrics];

    pub fn name(self) -> &'static str {
        match self {
            ConnKind::Gearman => "gearman",
            ConnKind::Http => "http",
            ConnKind::Metrics => "metrics",
        }
    }
}

/// What the event loop counts: connections and bytes.
#[derive(Debug, Clone, Default)]
pub struct IoStats {
    pub accepted: [u64; 3],
    pub open: [u64; 3],
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// HTTP requests answered with a 4xx/5xx before reaching the core, by status.
    pub http_rejected: ErrorCounts,
    /// Latency of durable-store commits (empty while no store is configured).
    pub store_commit: Histogram,
    /// Batches whose commit failed (their submitters got QUEUE_ERROR).
    pub store_failed: u64,
    pub store_configured: bool,
}

/// Exposition text format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`
    Prometheus,
    /// `application/openmetrics-text; version=1.0.0`
    OpenMetrics,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// Metric type of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Builds an exposition: families with HELP and TYPE lines, then their samples.
pub struct Writer {
    out: String,
    format: Format,
}

impl Writer {
    pub fn new(format: Format) -> Writer {
        Writer {
            out: String::with_capacity(8 << 10),
            format,
        }
    }

    /// Starts a family. Counter names end in `_total` in samples; OpenMetrics names the
    /// family without the suffix.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let family = match (kind, self.format) {
            (Kind::Counter, Format::OpenMetrics) => name.strip_suffix("_total").unwrap_or(name),
            _ => name,
        };
        let kind = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let _ = writeln!(self.out, "# HELP {family} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {family} {kind}");
    }

    /// One sample line.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        self.labels(labels, None);
        let _ = writeln!(self.out, " {}", Number(value));
    }

    fn labels(&mut self, labels: &[(&str, &str)], le: Option<&str>) {
        if labels.is_empty() && le.is_none() {
            return;
        }
        self.out.push('{');
        let extra = le.map(|v| ("le", v));
        for (i, (k, v)) in labels.iter().copied().chain(extra).enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            let _ = write!(self.out, "{k}=\"");
            escape_label(&mut self.out, v);
            self.out.push('"');
        }
        self.out.push('}');
    }

    /// The bucket, sum and count samples of a histogram family.
    pub fn histogram(&mut self, name: &str, labels: &[(&str, &str)], h: &Histogram) {
        let mut cumulative = 0u64;
        for (i, bound) in BUCKETS.iter().enumerate() {
            cumulative += h.counts[i];
            let le = Number(*bound).to_string();
            let _ = write!(self.out, "{name}_bucket");
            self.labels(labels, Some(&le));
            let _ = writeln!(self.out, " {cumulative}");
        }
        cumulative += h.counts[BUCKETS.len()];
        let _ = write!(self.out, "{name}_bucket");
        self.labels(labels, Some("+Inf"));
        let _ = writeln!(self.out, " {cumulative}");
        self.sample(&format!("{name}_sum"), labels, h.sum_seconds());
        self.sample(&format!("{name}_count"), labels, cumulative as f64);
    }

    pub fn finish(mut self) -> Vec<u8> {
        if self.format == Format::OpenMetrics {
            self.out.push_str("# EOF\n");
        }
        self.out.into_bytes()
    }
}

/// A sample value: integers without a fraction, others in plain decimal.
struct Number(f64);

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        if v.is_infinite() {
            f.write_str(if v > 0.0 { "+Inf" } else { "-Inf" })
        } else if v.is_nan() {
            f.write_str("NaN")
        } else if v.fract() == 0.0 && v.abs() < 1e15 {
            write!(f, "{}", v as i64)
        } else {
            write!(f, "{v}")
        }
    }
}

fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_label(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Writes `s` as a JSON string literal.
pub fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The label text of a name: up to its first NUL (as `status` prints it), lossy UTF-8.
fn label(name: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(super::wire::until_nul(name))
}

const PRIORITIES: [&str; 3] = ["high", "normal", "low"];

/// How far down a queue the oldest-job search looks past abandoned or future epoch jobs.
const AGE_SCAN: usize = 16;

/// Seconds the oldest runnable job of `f` has waited since it was (re)queued, or 0.
fn oldest_age(core: &Core, f: &Function, now: Instant) -> f64 {
    f.queues
        .iter()
        .filter_map(|q| {
            q.iter()
                .take(AGE_SCAN)
                .filter_map(|id| core.jobs.get(id))
                .find(|j| !j.ignore && j.when == 0)
                .map(|j| now.saturating_duration_since(j.queued_at))
        })
        .max()
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The `/metrics` text: every function's counters and gauges, then the server's.
pub fn render(core: &Core, io: &IoStats, started: SystemTime, format: Format) -> Vec<u8> {
    let now = Instant::now();
    let funcs: Vec<(std::borrow::Cow<'_, str>, &Function)> = core
        .funcs
        .iter()
        .flatten()
        .map(|f| (label(&f.name), f))
        .collect();
    let mut w = Writer::new(format);
    type Counter = fn(&FuncStats) -> u64;
    let counters: [(&str, &str, Counter); 7] = [
        ("gearmand_jobs_coalesced_total", "Submissions attached to an existing job with the same unique.", |s| s.coalesced),
        ("gearmand_jobs_completed_total", "Jobs a worker completed (WORK_COMPLETE).", |s| s.completed),
        ("gearmand_jobs_failed_total", "Jobs a worker failed (WORK_FAIL).", |s| s.failed),
        ("gearmand_jobs_exceptions_total", "Jobs that ended with WORK_EXCEPTION.", |s| s.exceptions),
        ("gearmand_jobs_timeouts_total", "Jobs taken back from a worker when its CAN_DO_TIMEOUT expired.", |s| s.timeouts),
        ("gearmand_jobs_requeued_total", "Jobs put back in the queue after their worker lost them (disconnect, CANT_DO, RESET_ABILITIES, timeout).", |s| s.requeued),
        ("gearmand_jobs_retries_exhausted_total", "Jobs dropped with WORK_FAIL after --job-retries attempts.", |s| s.retries_exhausted),
    ];
    w.family(
        "gearmand_jobs_submitted_total",
        Kind::Counter,
        "Jobs created, by function and priority (coalesced submissions are counted apart).",
    );
    for (name, f) in &funcs {
        for (p, prio) in PRIORITIES.iter().enumerate() {
            let labels = [("function", name.as_ref()), ("priority", *prio)];
            w.sample(
                "gearmand_jobs_submitted_total",
                &labels,
                f.stats.submitted[p] as f64,
            );
        }
    }
    for (metric, help, get) in counters {
        w.family(metric, Kind::Counter, help);
        for (name, f) in &funcs {
            w.sample(metric, &[("function", name)], get(&f.stats) as f64);
        }
    }
    w.family(
        "gearmand_queued_jobs",
        Kind::Gauge,
        "Jobs waiting for a worker, by function and priority (as prioritystatus).",
    );
    for (name, f) in &funcs {
        for (p, prio) in PRIORITIES.iter().enumerate() {
            let labels = [("function", name.as_ref()), ("priority", *prio)];
            w.sample("gearmand_queued_jobs", &labels, f.queued(p) as f64);
        }
    }
    type Gauge = fn(&Core, &Function, Instant) -> f64;
    let gauges: [(&str, &str, Gauge); 3] = [
        ("gearmand_running_jobs", "Jobs a worker is running.", |_, f, _| f.running as f64),
        ("gearmand_workers", "Worker registrations for the function (as status).", |_, f, _| f.workers.len() as f64),
        ("gearmand_oldest_queued_job_age_seconds", "Seconds the oldest runnable queued job has waited since it was queued or requeued (0: none).", oldest_age),
    ];
    for (metric, help, get) in gauges {
        w.family(metric, Kind::Gauge, help);
        for (name, f) in &funcs {
            w.sample(metric, &[("function", name)], get(core, f, now));
        }
    }
    w.family(
        "gearmand_job_queue_wait_seconds",
        Kind::Histogram,
        "Time from queueing (or requeueing) to assignment to a worker.",
    );
    for (name, f) in &funcs {
        w.histogram(
            "gearmand_job_queue_wait_seconds",
            &[("function", name)],
            &f.stats.queue_wait,
        );
    }
    w.family(
        "gearmand_job_run_seconds",
        Kind::Histogram,
        "Time from assignment to WORK_COMPLETE, WORK_FAIL or WORK_EXCEPTION.",
    );
    for (name, f) in &funcs {
        w.histogram(
            "gearmand_job_run_seconds",
            &[("function", name)],
            &f.stats.run_time,
        );
    }

    w.family(
        "gearmand_jobs",
        Kind::Gauge,
        "Jobs queued or running, all functions.",
    );
    w.sample("gearmand_jobs", &[], core.jobs.len() as f64);
    w.family(
        "gearmand_connections",
        Kind::Gauge,
        "Open connections, by listener.",
    );
    for k in ConnKind::ALL {
        w.sample(
            "gearmand_connections",
            &[("kind", k.name())],
            io.open[k as usize] as f64,
        );
    }
    w.family(
        "gearmand_connections_accepted_total",
        Kind::Counter,
        "Connections accepted, by listener.",
    );
    for k in ConnKind::ALL {
        let v = io.accepted[k as usize] as f64;
        w.sample(
            "gearmand_connections_accepted_total",
            &[("kind", k.name())],
            v,
        );
    }
    let (mut workers, mut clients, mut others) = (0u64, 0u64, 0u64);
    for (_, s) in core.peers.iter() {
        if !s.abilities.is_empty() {
            workers += 1;
        } else if !s.attached.is_empty() {
            clients += 1;
        } else {
            others += 1;
        }
    }
    w.family(
        "gearmand_sessions",
        Kind::Gauge,
        "Sessions by role: worker (registered a function), client (waiting for a job), other.",
    );
    for (role, n) in [("worker", workers), ("client", clients), ("other", others)] {
        w.sample("gearmand_sessions", &[("role", role)], n as f64);
    }
    w.family(
        "gearmand_received_bytes_total",
        Kind::Counter,
        "Bytes read from all connections.",
    );
    w.sample("gearmand_received_bytes_total", &[], io.bytes_in as f64);
    w.family(
        "gearmand_sent_bytes_total",
        Kind::Counter,
        "Bytes written to all connections.",
    );
    w.sample("gearmand_sent_bytes_total", &[], io.bytes_out as f64);
    w.family(
        "gearmand_errors_sent_total",
        Kind::Counter,
        "ERROR packets sent, by error code.",
    );
    for (code, n) in core.peers.errors_sent.iter() {
        w.sample("gearmand_errors_sent_total", &[("code", code)], n as f64);
    }
    w.family(
        "gearmand_http_rejected_total",
        Kind::Counter,
        "HTTP requests refused before reaching the job queue, by status.",
    );
    for (status, n) in io.http_rejected.iter() {
        w.sample(
            "gearmand_http_rejected_total",
            &[("status", status)],
            n as f64,
        );
    }
    if io.store_configured {
        w.family(
            "gearmand_store_commit_seconds",
            Kind::Histogram,
            "Latency of the durable queue's commits.",
        );
        w.histogram("gearmand_store_commit_seconds", &[], &io.store_commit);
        w.family(
            "gearmand_store_commit_failures_total",
            Kind::Counter,
            "Durable queue commits that failed (their submissions were answered QUEUE_ERROR).",
        );
        w.sample(
            "gearmand_store_commit_failures_total",
            &[],
            io.store_failed as f64,
        );
    }
    w.family(
        "gearmand_start_time_seconds",
        Kind::Gauge,
        "Unix time the server started.",
    );
    let start = started
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    w.sample("gearmand_start_time_seconds", &[], start);
    w.family(
        "gearmand_build_info",
        Kind::Gauge,
        "Versions: the gearmand it is compatible with, the crate.",
    );
    let labels = [
        ("version", super::VERSION),
        ("crate", env!("CARGO_PKG_VERSION")),
    ];
    w.sample("gearmand_build_info", &labels, 1.0);
    w.finish()
}

/// `/status`: what `status`, `workers`, `show jobs` and `show unique jobs` say, as JSON, in the
/// same order as those listings.
pub fn status_json(core: &Core) -> Vec<u8> {
    let mut o = String::with_capacity(1024);
    o.push_str("{\"version\":");
    json_string(&mut o, super::VERSION);
    o.push_str(",\"status\":[");
    for (i, f) in core.funcs.iter().flatten().enumerate() {
        if i > 0 {
            o.push(',');
        }
        o.push_str("{\"function\":");
        json_string(&mut o, &label(&f.name));
        let _ = write!(
            o,
            ",\"total\":{},\"running\":{},\"workers\":{},\"queued\":{{\"high\":{},\"normal\":{},\"low\":{}}}}}",
            f.total,
            f.running,
            f.workers.len(),
            f.queued(0),
            f.queued(1),
            f.queued(2)
        );
    }
    o.push_str("],\"workers\":[");
    let mut sessions: Vec<_> = core.peers.iter().map(|(_, s)| s).collect();
    sessions.sort_by_key(|s| std::cmp::Reverse(s.seq));
    for (i, s) in sessions.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        let _ = write!(o, "{{\"fd\":{},\"ip\":", s.fd);
        json_string(&mut o, &s.ip);
        o.push_str(",\"client_id\":");
        match &s.client_id {
            Some(c) => json_string(&mut o, &label(c)),
            None => o.push_str("null"),
        }
        o.push_str(",\"functions\":[");
        for (j, a) in s.abilities.iter().rev().enumerate() {
            if j > 0 {
                o.push(',');
            }
            let name = core.funcs[a.func].as_ref().map(|f| label(&f.name));
            json_string(&mut o, name.as_deref().unwrap_or(""));
        }
        o.push_str("]}");
    }
    o.push_str("],\"jobs\":[");
    let mut ids: Vec<_> = core.jobs.keys().copied().collect();
    ids.sort_unstable();
    for (i, id) in ids.iter().enumerate() {
        let j = &core.jobs[id];
        if i > 0 {
            o.push(',');
        }
        o.push_str("{\"handle\":");
        json_string(&mut o, &String::from_utf8_lossy(&j.handle));
        o.push_str(",\"function\":");
        let name = core.funcs[j.func].as_ref().map(|f| label(&f.name));
        json_string(&mut o, name.as_deref().unwrap_or(""));
        o.push_str(",\"unique\":");
        json_string(&mut o, &String::from_utf8_lossy(&j.unique));
        let _ = write!(
            o,
            ",\"priority\":\"{}\",\"background\":{},\"running\":{},\"retries\":{},\"ignore\":{},\"persisted\":{}}}",
            PRIORITIES[j.priority as usize],
            j.background,
            j.worker.is_some(),
            j.retries,
            j.ignore,
            j.persisted
        );
    }
    o.push_str("],\"unique_jobs\":[");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        json_string(&mut o, &String::from_utf8_lossy(&core.jobs[id].unique));
    }
    o.push_str("]}\n");
    o.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_with_sum_and_count() {
        let mut h = Histogram::default();
        h.observe(Duration::from_micros(50));
        h.observe(Duration::from_millis(1)); // on a bound: counted in that bucket (le)
        h.observe(Duration::from_secs(2000));
        assert_eq!(h.count(), 3);
        let mut w = Writer::new(Format::Prometheus);
        w.family("x_seconds", Kind::Histogram, "help");
        w.histogram("x_seconds", &[("function", "f")], &h);
        let text = String::from_utf8(w.finish()).unwrap();
        assert!(
            text.contains("x_seconds_bucket{function=\"f\",le=\"0.0001\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("x_seconds_bucket{function=\"f\",le=\"0.001\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("x_seconds_bucket{function=\"f\",le=\"900\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("x_seconds_bucket{function=\"f\",le=\"+Inf\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("x_seconds_sum{function=\"f\"} 2000.00105\n"),
            "{text}"
        );
        assert!(
            text.contains("x_seconds_count{function=\"f\"} 3\n"),
            "{text}"
        );
    }

    #[test]
    fn names_labels_and_formats() {
        for (format, family, eof) in [
            (Format::Prometheus, "a_total", false),
            (Format::OpenMetrics, "a", true),
        ] {
            let mut w = Writer::new(format);
            w.family("a_total", Kind::Counter, "Jobs \\ done\nok");
            w.sample("a_total", &[("function", "q\"u\\o\nte")], 3.0);
            w.sample("b", &[], 0.25);
            let text = String::from_utf8(w.finish()).unwrap();
            assert!(text.starts_with(&format!(
                "# HELP {family} Jobs \\\\ done\\nok\n# TYPE {family} counter\n"
            )));
            assert!(text.contains("a_total{function=\"q\\\"u\\\\o\\nte\"} 3\nb 0.25\n"));
            assert_eq!(text.ends_with("# EOF\n"), eof);
        }
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut s = String::new();
        json_string(&mut s, "a\"b\\c\n\u{1}é");
        assert_eq!(s, "\"a\\\"b\\\\c\\n\\u0001é\"");
    }

    #[test]
    fn error_counts() {
        let mut e = ErrorCounts::default();
        e.add("X");
        e.add("Y");
        e.add("X");
        assert_eq!(e.iter().collect::<Vec<_>>(), [("X", 2), ("Y", 1)]);
    }
}
