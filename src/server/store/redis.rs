//! `-q redis`: gearmand's Redis key layout, so a queue moves between gearmand 1.1.20 and this
//! server in both directions.
//!
//! gearmand 1.1.20 (measured with Debian's build) stores each job as a hash under the key
//! `<prefix>-<function>-<unique>` (`--redis-prefix`, default `_gear_`) with `HMSET key data
//! <data> priority <0|1|2>`, deletes it with `DEL key`, refuses epoch jobs (QUEUE_ERROR) and
//! replays with `KEYS <prefix>*`, recovering function and unique by parsing the key with
//! `%[^-]-%[^-]-%s`. That parse breaks on a function containing `-` (`f-x` comes back as `f`),
//! on a unique containing white space, and on an empty unique (the job inherits the previous
//! key's unique, and its DEL then misses); two jobs with an empty unique share one key.
//!
//! This store writes the same keys and fields, plus the fields later gearmand versions added
//! for exactly this reason — `function` and `unique` — and its own: `seq` (the server's
//! sequence number), `when` (epoch jobs are stored, not refused) and `reducer`. Replay reads
//! `function` and `unique` when present and parses the key otherwise, taking everything after
//! the first `-` following the prefix as the unique; so keys gearmand 1.1.20 wrote still
//! replay. A unique that 1.1.20 cannot read back from a key (empty, with white space, over 64
//! bytes) is replaced in the key by `#<seq>` (the real one is in the `unique` field), and a
//! second live job with the same key gets `#<seq>` appended: every job has a key of its own,
//! and gearmand 1.1.20 replays and deletes it (under the stand-in unique).
//!
//! Each batch is one `MULTI … EXEC` sent as a single pipeline (one round trip, all or
//! nothing); replay uses `SCAN` (never `KEYS`, which blocks Redis on a large keyspace), with
//! `HGETALL` pipelined per page. Writes are idempotent (HSET and DEL), so a batch whose
//! outcome is unknown is simply sent again on a fresh connection.

use super::link::Link;
use super::{Replayed, Result, Seq, Store, StoreError, StoredJob};
use crate::server::log;
use ::redis::{
    Cmd, Connection, ConnectionAddr, IntoConnectionInfo, Pipeline, RedisConnectionInfo, Value,
};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// gearmand's default `--redis-prefix`.
pub const DEFAULT_PREFIX: &str = "_gear_";

/// How long one command may take before the connection counts as broken.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the Redis server is (`--redis-server`, `--redis-port`, `--redis-password`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// A host name or address, or the path of a Unix socket (starting with `/`).
    pub server: String,
    pub port: u16,
    pub password: Option<String>,
}

impl Default for Address {
    fn default() -> Address {
        Address {
            server: "127.0.0.1".into(),
            port: 6379,
            password: None,
        }
    }
}

impl Address {
    fn describe(&self) -> String {
        if self.server.starts_with('/') {
            format!("Redis {}", self.server)
        } else {
            format!("Redis {}:{}", self.server, self.port)
        }
    }

    fn connect(&self) -> std::result::Result<Connection, String> {
        let addr = if self.server.starts_with('/') {
            ConnectionAddr::Unix(self.server.clone().into())
        } else {
            ConnectionAddr::Tcp(self.server.clone(), self.port)
        };
        let mut settings = RedisConnectionInfo::default().set_skip_set_lib_name();
        if let Some(p) = &self.password {
            settings = settings.set_password(p);
        }
        let info = addr
            .into_connection_info()
            .map_err(|e| e.to_string())?
            .set_redis_settings(settings);
        let client = ::redis::Client::open(info).map_err(|e| e.to_string())?;
        let mut conn = client
            .get_connection_with_timeout(IO_TIMEOUT)
            .map_err(|e| e.to_string())?;
        conn.set_read_timeout(Some(IO_TIMEOUT))
            .and_then(|()| conn.set_write_timeout(Some(IO_TIMEOUT)))
            .map_err(|e| e.to_string())?;
        // Without a password the connection itself succeeds; the first command says NOAUTH.
        Cmd::new()
            .arg("PING")
            .exec(&mut conn)
            .map_err(|e| e.to_string())?;
        Ok(conn)
    }
}

pub struct RedisStore {
    address: Address,
    prefix: String,
    link: Link<Connection>,
    /// The key of every job this store knows (committed, in the open batch, or due for delete).
    keys: HashMap<Seq, Arc<[u8]>>,
    /// Every key in `keys`, to give a second job with the same key another one.
    used: HashSet<Arc<[u8]>>,
    /// The open batch.
    adds: Vec<StoredJob>,
    dones: Vec<Seq>,
    /// Keys to delete with the next batch that commits: the adds of failed batches (EXEC may
    /// have run before the connection broke; the client was told QUEUE_ERROR).
    pending: Vec<Seq>,
}

/// `MATCH` pattern for the keys of `prefix`: glob characters in the prefix escaped.
fn match_pattern(prefix: &str) -> Vec<u8> {
    let mut p = Vec::with_capacity(prefix.len() + 3);
    for &b in prefix.as_bytes() {
        if matches!(b, b'*' | b'?' | b'[' | b']' | b'\\') {
            p.push(b'\\');
        }
        p.push(b);
    }
    p.extend_from_slice(b"-*");
    p
}

/// gearmand's key: `<prefix>-<function>-<unique>`.
fn base_key(prefix: &str, function: &[u8], unique: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + function.len() + unique.len() + 2);
    k.extend_from_slice(prefix.as_bytes());
    k.push(b'-');
    k.extend_from_slice(function);
    k.push(b'-');
    k.extend_from_slice(unique);
    k
}

/// Function and unique from a key without the `function`/`unique` fields (written by gearmand
/// 1.1.20): the function ends at the first `-` after the prefix.
fn parse_key(prefix: &str, key: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let rest = key.strip_prefix(prefix.as_bytes())?.strip_prefix(b"-")?;
    let dash = rest.iter().position(|&b| b == b'-')?;
    Some((rest[..dash].to_vec(), rest[dash + 1..].to_vec()))
}

fn redis_error(e: &::redis::RedisError) -> String {
    e.to_string()
}

/// A hash reply as field → value.
fn fields(v: Value) -> Option<HashMap<Vec<u8>, Vec<u8>>> {
    let bytes = |v: Value| match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.into_bytes()),
        Value::Int(i) => Some(i.to_string().into_bytes()),
        _ => None,
    };
    let mut m = HashMap::new();
    match v {
        Value::Array(items) => {
            let mut it = items.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                m.insert(bytes(k)?, bytes(v)?);
            }
        }
        Value::Map(pairs) => {
            for (k, v) in pairs {
                m.insert(bytes(k)?, bytes(v)?);
            }
        }
        _ => return None,
    }
    Some(m)
}

fn number<T: std::str::FromStr>(b: &[u8]) -> Option<T> {
    std::str::from_utf8(b).ok()?.trim().parse().ok()
}

impl RedisStore {
    /// Connects (failing when Redis cannot be reached: the queue could not be replayed).
    pub fn open(address: Address, prefix: &str) -> Result<RedisStore> {
        if prefix.is_empty() {
            return Err(StoreError::new("--redis-prefix must not be empty"));
        }
        let what = format!("{}, prefix {prefix}", address.describe());
        let mut conn = address
            .connect()
            .map_err(|e| StoreError::new(format!("{what}: cannot connect: {e}")))?;
        let aof: ::redis::RedisResult<Vec<String>> = Cmd::new()
            .arg("CONFIG")
            .arg("GET")
            .arg("appendonly")
            .query(&mut conn);
        if let Ok(v) = aof {
            if v.get(1).map(String::as_str) == Some("no") {
                log::warning(format_args!(
                    "{what}: appendonly is off: jobs acknowledged since Redis's last snapshot \
                     are lost if Redis restarts (set appendonly yes)"
                ));
            }
        }
        let mut link = Link::new(what);
        link.set(conn);
        Ok(RedisStore {
            address,
            prefix: prefix.to_string(),
            link,
            keys: HashMap::new(),
            used: HashSet::new(),
            adds: Vec::new(),
            dones: Vec::new(),
            pending: Vec::new(),
        })
    }

    /// A key for a new job: gearmand's `<prefix>-<function>-<unique>`, with `#<seq>` standing
    /// in for a unique that gearmand 1.1.20 cannot read back from a key (empty, containing
    /// white space, or longer than its 64 bytes) and appended when another live job holds the
    /// key. gearmand 1.1.20 then replays such a job under the stand-in unique and its DEL finds
    /// the key; with the bare key it would read a wrong unique and never delete it.
    fn claim_key(&mut self, job: &StoredJob) -> Arc<[u8]> {
        let tag = format!("#{}", job.seq);
        let readable = !job.unique.is_empty()
            && job.unique.len() <= 64
            && !job.unique.iter().any(u8::is_ascii_whitespace);
        let unique = if readable {
            &job.unique[..]
        } else {
            tag.as_bytes()
        };
        let mut key = base_key(&self.prefix, &job.function, unique);
        while self.used.contains(key.as_slice()) {
            key.extend_from_slice(tag.as_bytes());
        }
        let key: Arc<[u8]> = key.into();
        self.used.insert(key.clone());
        self.keys.insert(job.seq, key.clone());
        key
    }

    fn forget(&mut self, seq: Seq) {
        if let Some(k) = self.keys.remove(&seq) {
            self.used.remove(&k);
        }
    }

    fn hset(&self, key: &[u8], j: &StoredJob) -> Cmd {
        let mut c = Cmd::new();
        c.arg("HSET")
            .arg(key)
            .arg("data")
            .arg(&j.data[..])
            .arg("priority")
            .arg(j.priority)
            .arg("function")
            .arg(&j.function[..])
            .arg("unique")
            .arg(&j.unique[..])
            .arg("seq")
            .arg(j.seq);
        if j.when != 0 {
            c.arg("when").arg(j.when);
        }
        if let Some(r) = &j.reducer {
            c.arg("reducer").arg(&r[..]);
        }
        c
    }

    /// Every key of the prefix, page by page with SCAN.
    fn scan(conn: &mut Connection, pattern: &[u8]) -> ::redis::RedisResult<Vec<Vec<u8>>> {
        let mut keys = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, page): (u64, Vec<Vec<u8>>) = Cmd::new()
                .arg("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000)
                .query(conn)?;
            keys.extend(page);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        // SCAN may return a key twice (when Redis rehashes between pages).
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    /// Reads one stored job; `Ok(None)` for a key that vanished since SCAN. `store` names the
    /// store in messages.
    fn read_job(
        store: &str,
        prefix: &str,
        key: &[u8],
        reply: Value,
        string_value: Option<Value>,
    ) -> Result<Option<(Option<Seq>, StoredJob)>> {
        let what = || format!("{store}: key '{}'", super::printable(key));
        let bad = |why: &str| {
            StoreError::new(format!(
                "{} {why}; refusing to start rather than drop it",
                what()
            ))
        };
        let mut f = match (reply, string_value) {
            // A plain string: the layout of gearmand before 1.1 (SET key data).
            (_, Some(Value::BulkString(data))) => {
                let mut m = HashMap::new();
                m.insert(b"data".to_vec(), data);
                m
            }
            (_, Some(Value::Nil)) => return Ok(None),
            (Value::Array(a), _) if a.is_empty() => return Ok(None),
            (Value::Map(a), _) if a.is_empty() => return Ok(None),
            (reply, _) => fields(reply).ok_or_else(|| bad("is not a hash of strings"))?,
        };
        let (function, unique) = match (f.remove(&b"function"[..]), f.remove(&b"unique"[..])) {
            (Some(func), Some(u)) => (func, u),
            _ => parse_key(prefix, key).ok_or_else(|| {
                bad("has no function and unique fields and is not <prefix>-<function>-<unique>")
            })?,
        };
        let priority = match f.get(&b"priority"[..]) {
            None => 1,
            Some(p) => match number::<u8>(p) {
                Some(p) if p <= 2 => p,
                _ => {
                    return Err(bad(&format!(
                        "has priority '{}', not 0, 1 or 2",
                        super::printable(p)
                    )))
                }
            },
        };
        let when = match f.get(&b"when"[..]) {
            None => 0,
            Some(w) => number::<i64>(w).ok_or_else(|| bad("has a when that is not a number"))?,
        };
        let seq = match f.get(&b"seq"[..]) {
            None => None,
            Some(s) => Some(
                number::<Seq>(s)
                    .filter(|&s| s > 0)
                    .ok_or_else(|| bad("has a seq that is not a positive number"))?,
            ),
        };
        Ok(Some((
            seq,
            StoredJob {
                seq: 0,
                function,
                unique,
                priority,
                when,
                reducer: f.remove(&b"reducer"[..]),
                data: f.remove(&b"data"[..]).unwrap_or_default().into(),
            },
        )))
    }

    /// Sends one batch as MULTI/EXEC; true when it was applied.
    fn exec(conn: &mut Connection, pipe: &Pipeline) -> ::redis::RedisResult<()> {
        let replies: Vec<Value> = pipe.query(conn)?;
        for r in replies {
            if let Value::ServerError(e) = r {
                return Err(::redis::RedisError::from(e));
            }
        }
        Ok(())
    }
}

impl Store for RedisStore {
    fn describe(&self) -> String {
        format!("{}, prefix {}", self.address.describe(), self.prefix)
    }

    fn replay(&mut self) -> Result<Replayed> {
        let what = self.describe();
        let pattern = match_pattern(&self.prefix);
        let fail = |e: ::redis::RedisError| {
            StoreError::new(format!(
                "{what}: cannot read the queue: {}",
                redis_error(&e)
            ))
        };
        let conn = self.link.get(|| Err("not connected".into()))?;
        let keys = Self::scan(conn, &pattern).map_err(fail)?;
        let mut found = Vec::with_capacity(keys.len());
        for page in keys.chunks(500) {
            let mut p = ::redis::pipe();
            for k in page {
                p.cmd("HGETALL").arg(&k[..]);
            }
            p.ignore_errors();
            let conn = self.link.get(|| Err("not connected".into()))?;
            let replies: Vec<Value> = p.query(conn).map_err(fail)?;
            for (k, reply) in page.iter().zip(replies) {
                let string_value = match &reply {
                    Value::ServerError(e) if e.code() == "WRONGTYPE" => {
                        let v: Value = Cmd::new()
                            .arg("GET")
                            .arg(&k[..])
                            .query(conn)
                            .map_err(fail)?;
                        Some(v)
                    }
                    Value::ServerError(e) => {
                        return Err(StoreError::new(format!(
                            "{what}: cannot read key '{}': {e:?}",
                            super::printable(k)
                        )))
                    }
                    _ => None,
                };
                if let Some(job) = Self::read_job(&what, &self.prefix, k, reply, string_value)? {
                    found.push((k.clone(), job));
                }
            }
        }
        // Jobs we wrote carry their seq; those gearmand wrote are numbered after them, in key
        // order. A seq seen twice (a copied key) counts as unnumbered.
        let mut max_seq: Seq = 0;
        let mut seen = HashSet::new();
        let mut numbered = Vec::new();
        let mut unnumbered = Vec::new();
        for (key, (seq, job)) in found {
            match seq {
                Some(s) if seen.insert(s) => {
                    max_seq = max_seq.max(s);
                    numbered.push((key, StoredJob { seq: s, ..job }));
                }
                _ => unnumbered.push((key, job)),
            }
        }
        numbered.sort_by_key(|(_, j)| j.seq);
        for (key, mut job) in unnumbered {
            max_seq += 1;
            job.seq = max_seq;
            numbered.push((key, job));
        }
        self.keys.clear();
        self.used.clear();
        let mut jobs = Vec::with_capacity(numbered.len());
        for (key, job) in numbered {
            let key: Arc<[u8]> = key.into();
            self.used.insert(key.clone());
            self.keys.insert(job.seq, key);
            jobs.push(job);
        }
        Ok(Replayed {
            jobs,
            next_seq: max_seq + 1,
        })
    }

    fn add(&mut self, job: &StoredJob) -> Result<()> {
        self.claim_key(job);
        self.adds.push(job.clone());
        Ok(())
    }

    fn done(&mut self, seq: Seq) -> Result<()> {
        if self.keys.contains_key(&seq) {
            self.dones.push(seq);
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        if self.adds.is_empty() && self.dones.is_empty() && self.pending.is_empty() {
            return Ok(());
        }
        let done: HashSet<Seq> = self.dones.iter().copied().collect();
        let mut pipe = ::redis::pipe();
        pipe.atomic();
        for seq in self.pending.iter().chain(self.dones.iter()) {
            if let Some(k) = self.keys.get(seq) {
                pipe.cmd("DEL").arg(&k[..]);
            }
        }
        for j in self.adds.iter().filter(|j| !done.contains(&j.seq)) {
            let key = self.keys.get(&j.seq).expect("claimed in add").clone();
            pipe.add_command(self.hset(&key, j));
        }
        let address = self.address.clone();
        let (adds, removals) = (self.adds.len(), self.dones.len() + self.pending.len());
        let outcome = self
            .link
            .run(
                || address.connect(),
                |conn| {
                    Self::exec(conn, &pipe).map_err(|e| {
                        // Anything but an error reply of Redis (out of memory, read-only
                        // replica) means the connection is no good.
                        let broke = e.is_io_error()
                            || e.is_connection_dropped()
                            || e.is_timeout()
                            || e.is_unrecoverable_error();
                        (redis_error(&e), broke)
                    })
                },
            )
            .map_err(|e| {
                StoreError::new(format!(
                    "{e} (a batch of {adds} adds and {removals} removals)"
                ))
            });
        match outcome {
            Ok(()) => {
                let gone: Vec<Seq> = self.pending.drain(..).chain(self.dones.drain(..)).collect();
                for seq in gone {
                    self.forget(seq);
                }
                self.adds.clear();
                Ok(())
            }
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    fn rollback(&mut self) {
        // As in the PostgreSQL store: the dones go (the server hands them over again), the adds
        // are deleted with the next batch that commits (their EXEC may have run; their clients
        // got QUEUE_ERROR). Their keys stay claimed until then, so no new job takes a key that
        // a pending DEL would remove.
        self.dones.clear();
        self.pending.extend(self.adds.drain(..).map(|j| j.seq));
    }

    fn replace_all(&mut self, jobs: &[StoredJob]) -> Result<()> {
        self.rollback();
        let what = self.describe();
        let fail = |e: ::redis::RedisError| {
            StoreError::new(format!(
                "{what}: cannot replace the queue: {}",
                redis_error(&e)
            ))
        };
        let address = self.address.clone();
        let pattern = match_pattern(&self.prefix);
        let conn = self.link.get(|| address.connect())?;
        let old = Self::scan(conn, &pattern).map_err(fail)?;
        self.keys.clear();
        self.used.clear();
        self.pending.clear();
        let mut pipe = ::redis::pipe();
        pipe.atomic();
        for k in &old {
            pipe.cmd("DEL").arg(&k[..]);
        }
        for j in jobs {
            let key = self.claim_key(j);
            pipe.add_command(self.hset(&key, j));
        }
        let conn = self.link.get(|| address.connect())?;
        Self::exec(conn, &pipe).map_err(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_as_gearmand_writes_them() {
        assert_eq!(
            parse_key("_gear_", b"_gear_-fn-6a1f-44c2 x"),
            Some((b"fn".to_vec(), b"6a1f-44c2 x".to_vec()))
        );
        assert_eq!(
            parse_key("_gear_", b"_gear_-fn-"),
            Some((b"fn".to_vec(), Vec::new()))
        );
        assert_eq!(parse_key("_gear_", b"_gear_-fn"), None);
        assert_eq!(parse_key("_gear_", b"other-fn-u"), None);
        assert_eq!(base_key("p", b"f", b"u"), b"p-f-u");
    }

    #[test]
    fn glob_characters_in_the_prefix_are_escaped() {
        assert_eq!(match_pattern("_gear_"), b"_gear_-*");
        assert_eq!(match_pattern("a*b?[c]"), b"a\\*b\\?\\[c\\]-*");
    }

    #[test]
    fn hash_replies_become_fields() {
        let v = Value::Array(vec![
            Value::BulkString(b"data".to_vec()),
            Value::BulkString(b"x".to_vec()),
            Value::BulkString(b"priority".to_vec()),
            Value::BulkString(b"0".to_vec()),
        ]);
        let f = fields(v).unwrap();
        assert_eq!(f[&b"priority"[..]], b"0");
        assert!(fields(Value::Int(3)).is_none());
    }
}
