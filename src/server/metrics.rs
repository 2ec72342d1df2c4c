//! Counters the core keeps while it works, and their exposition for Prometheus.
//!
//! The core updates plain integers in the records it already touches (a function's
//! [`FuncStats`], the session table's [`ErrorCounts`], the loop's [`IoStats`]): no allocation,
//! no atomics, no lock on the job path. The text is only built when `/metrics` is scraped, from
//! the core's tables as they stand ([`render`]), in the Prometheus text format 0.0.4 or, when
//! the scraper asks for it, OpenMetrics 1.0.

use std::fmt::Write as _;
use std::time::Duration;

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
