//! `-q postgres`: gearmand's PostgreSQL table, so a queue moves between gearmand 1.1.20 and
//! this server in both directions.
//!
//! gearmand 1.1.20 (measured with Debian's build) creates
//! `CREATE TABLE IF NOT EXISTS queue (unique_key VARCHAR(64), function_name VARCHAR(255),
//! priority INTEGER, data BYTEA, when_to_run INTEGER, UNIQUE (unique_key, function_name))`,
//! inserts with `INSERT INTO queue (priority, unique_key, function_name, data, when_to_run)
//! VALUES($1,$2,$3,$4::BYTEA,$5)`, reads with `SELECT unique_key,function_name,priority,data,
//! when_to_run FROM queue` and deletes with `DELETE FROM queue WHERE unique_key='..' AND
//! function_name='..'`, the names spliced into the text (a quote in a unique makes the delete a
//! syntax error: the job stays and runs again at every start).
//!
//! This store keys rows by the server's sequence number, in a `seq BIGINT` column with a unique
//! index, so two jobs with the same (unique, function) — every job with an empty unique — are two
//! rows. A table we create has gearmand's columns (names as TEXT, `when_to_run` as BIGINT so
//! epoch times after 2038 fit) plus `seq`, `reducer BYTEA` and `names BYTEA`; a table gearmand
//! created is converted to that shape in one transaction when the server opens it (its unique
//! constraint dropped, the columns added or widened, every row kept). gearmand 1.1.20 reads and
//! writes the converted table unchanged: its statements name their columns. Rows it wrote have
//! no `seq`; they get one when our server next starts.
//!
//! `names` is NULL unless a function or unique is not valid UTF-8 (PostgreSQL's text cannot
//! hold such bytes): then the text columns hold a readable approximation and `names` the exact
//! bytes (4-byte big-endian length of the function, the function, the unique).
//!
//! Each batch is one statement — `WITH gone AS (DELETE … WHERE seq = ANY($1)) INSERT … SELECT
//! FROM unnest($2, …) ON CONFLICT (seq) DO NOTHING` — so a batch of any size costs one round
//! trip and is its own transaction (very large batches are split inside one explicit
//! transaction). Replaying a batch whose outcome is unknown (the connection broke before the
//! reply) is harmless, which lets the store retry it on a fresh connection at once.

use super::link::Link;
use super::{Replayed, Result, Seq, Store, StoreError, StoredJob};
use crate::server::log;
use postgres::types::ToSql;
use postgres::{Client, Config, NoTls, Statement};
use std::collections::HashSet;
use std::time::Duration;

/// How the table is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The table is created or converted; rows written by gearmand get a `seq`.
    Server,
    /// Only read (`--queue-dump`): nothing is created or changed.
    ReadOnly,
}

/// Data bytes per statement; a larger batch is split (PostgreSQL caps a message at 1 GiB).
const CHUNK_BYTES: usize = 32 << 20;

/// The default `--libpq-table`, as gearmand's.
pub const DEFAULT_TABLE: &str = "queue";

pub struct PostgresStore {
    config: Config,
    table: String,
    mode: Mode,
    link: Link<Conn>,
    /// The open batch.
    adds: Vec<StoredJob>,
    dones: Vec<Seq>,
    /// Rows to delete with the next batch that commits: the adds of failed batches (their
    /// commit may have happened before the connection broke; the client was told QUEUE_ERROR).
    pending: Vec<Seq>,
    /// Which optional columns the table has (all of them once converted).
    columns: Columns,
}

struct Conn {
    client: Client,
    write: Statement,
}

#[derive(Debug, Clone, Copy)]
struct Columns {
    seq: bool,
    when: bool,
    reducer: bool,
    names: bool,
}

/// `--libpq-table`: gearmand splices the name into its SQL unquoted, so PostgreSQL folds it to
/// lower case; we accept only names that need no quoting (optionally `schema.table`) and splice
/// them the same way, so both servers mean the same table.
fn valid_table(name: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p.len() <= 63
            && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !p.as_bytes()[0].is_ascii_digit()
    };
    match name.split_once('.') {
        Some((schema, table)) => part(schema) && part(table),
        None => part(name),
    }
}

/// The conninfo as libpq would read it: `key=value` pairs or a `postgresql://` URI, with libpq's
/// environment variables and defaults for what it leaves out (Debian's socket directory, the
/// user running the server).
pub fn parse_conninfo(conninfo: &str) -> Result<Config> {
    let mut config: Config = if conninfo.trim().is_empty() {
        Config::new()
    } else {
        conninfo
            .parse()
            .map_err(|e| StoreError::new(format!("--libpq-conninfo '{conninfo}': {e}")))?
    };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if config.get_hosts().is_empty() {
        match env("PGHOST") {
            Some(h) => {
                for h in h.split(',') {
                    config.host(h);
                }
            }
            None => {
                config.host("/var/run/postgresql");
            }
        }
    }
    if config.get_ports().is_empty() {
        if let Some(p) = env("PGPORT").and_then(|p| p.parse().ok()) {
            config.port(p);
        }
    }
    if config.get_user().is_none() {
        let user = env("PGUSER")
            .or_else(os_user)
            .unwrap_or_else(|| "postgres".into());
        config.user(&user);
    }
    if config.get_dbname().is_none() {
        if let Some(d) = env("PGDATABASE") {
            config.dbname(&d);
        }
    }
    if config.get_password().is_none() {
        if let Some(p) = env("PGPASSWORD") {
            config.password(p);
        }
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    // A database host that vanishes (network cut, machine down) breaks the connection after
    // 30 s of unacknowledged data instead of the kernel's 15 minutes of retransmissions.
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(Duration::from_secs(30));
    }
    config.application_name("gearmand");
    Ok(config)
}

/// The name of the user running the server (libpq's default database user).
fn os_user() -> Option<String> {
    // SAFETY: getpwuid returns NULL or a pointer to a static record valid until the next call;
    // the name is copied out at once, on the one thread that opens the store.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if pw.is_null() || (*pw).pw_name.is_null() {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr((*pw).pw_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

/// Where the store lives, for messages (never the password).
fn describe_config(c: &Config, table: &str) -> String {
    let host = match c.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "?".into(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432);
    let user = c.get_user().unwrap_or("?");
    let db = c.get_dbname().unwrap_or(user);
    format!("PostgreSQL {host}:{port} database {db} (user {user}), table {table}")
}

/// A name as PostgreSQL text, and whether the text is exact (false: the bytes are not valid
/// UTF-8 or hold a NUL, the text is an approximation and the `names` column keeps the bytes).
fn as_text(b: &[u8]) -> (String, bool) {
    match std::str::from_utf8(b) {
        Ok(s) if !s.contains('\0') => (s.to_string(), true),
        _ => (String::from_utf8_lossy(b).replace('\0', "\u{fffd}"), false),
    }
}

fn encode_names(function: &[u8], unique: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + function.len() + unique.len());
    v.extend_from_slice(&(function.len() as u32).to_be_bytes());
    v.extend_from_slice(function);
    v.extend_from_slice(unique);
    v
}

fn decode_names(v: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let len = u32::from_be_bytes(v.get(..4)?.try_into().ok()?) as usize;
    let function = v.get(4..4 + len)?.to_vec();
    let unique = v.get(4 + len..)?.to_vec();
    Some((function, unique))
}

/// Whether an error means the connection is gone (rather than a statement refused on a good
/// one): an I/O error, a closed client, or a FATAL error such as "terminating connection due
/// to administrator command" when the database shuts down.
fn connection_lost(e: &postgres::Error, client: &Client) -> bool {
    match e.as_db_error() {
        None => true,
        Some(db) => {
            client.is_closed()
                || matches!(db.severity(), "FATAL" | "PANIC")
                || db.code().code().starts_with("08")
                || db.code().code().starts_with("57P")
        }
    }
}

fn pg_error(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(inner) = src {
                s.push_str(&format!(": {inner}"));
                src = inner.source();
            }
            s
        }
    }
}

impl PostgresStore {
    /// Connects and prepares the table. Fails when the database cannot be reached: a server
    /// must not start without its queue (it could not replay it).
    pub fn open(conninfo: &str, table: &str, mode: Mode) -> Result<PostgresStore> {
        if !valid_table(table) {
            return Err(StoreError::new(format!(
                "--libpq-table '{table}': use letters, digits and '_' only (optionally schema.table)"
            )));
        }
        let config = parse_conninfo(conninfo)?;
        let what = describe_config(&config, table);
        let mut store = PostgresStore {
            config,
            table: table.to_string(),
            mode,
            link: Link::new(what.clone()),
            adds: Vec::new(),
            dones: Vec::new(),
            pending: Vec::new(),
            columns: Columns {
                seq: true,
                when: true,
                reducer: true,
                names: true,
            },
        };
        let mut client = store
            .config
            .connect(NoTls)
            .map_err(|e| StoreError::new(format!("{what}: cannot connect: {}", pg_error(&e))))?;
        let fail = |what2: &str, e: postgres::Error| {
            StoreError::new(format!("{what}: {what2}: {}", pg_error(&e)))
        };
        if mode == Mode::Server {
            store
                .prepare_table(&mut client)
                .map_err(|e| fail("cannot prepare the table", e))?;
            if let Ok(row) = client.query_one("SHOW synchronous_commit", &[]) {
                let v: String = row.get(0);
                if v == "off" {
                    log::warning(format_args!(
                        "{what}: synchronous_commit is off: a job acknowledged just before \
                         PostgreSQL crashes can be lost"
                    ));
                }
            }
            let write = client
                .prepare(&store.write_sql())
                .map_err(|e| fail("cannot prepare the insert", e))?;
            store.link.set(Conn { client, write });
        } else {
            store.columns = store
                .read_columns(&mut client)
                .map_err(|e| fail("cannot read the table", e))?
                .unwrap_or(store.columns);
            // Read-only: the statement is never run; any prepared one will do.
            let write = client
                .prepare("SELECT 1")
                .map_err(|e| fail("cannot prepare", e))?;
            store.link.set(Conn { client, write });
        }
        Ok(store)
    }

    fn write_sql(&self) -> String {
        let t = &self.table;
        format!(
            "WITH gone AS (DELETE FROM {t} WHERE seq = ANY($1::int8[])) \
             INSERT INTO {t} (seq, unique_key, function_name, priority, data, when_to_run, reducer, names) \
             SELECT * FROM unnest($2::int8[], $3::text[], $4::text[], $5::int4[], $6::bytea[], \
             $7::int8[], $8::bytea[], $9::bytea[]) \
             ON CONFLICT (seq) DO NOTHING"
        )
    }

    /// The optional columns present, or `None` when the table does not exist.
    fn read_columns(
        &self,
        client: &mut Client,
    ) -> std::result::Result<Option<Columns>, postgres::Error> {
        let exists: Option<String> = client
            .query_one("SELECT to_regclass($1)::text", &[&self.table])?
            .get(0);
        if exists.is_none() {
            return Ok(None);
        }
        let rows = client.query(
            "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped",
            &[&self.table],
        )?;
        let has = |c: &str| rows.iter().any(|r| r.get::<_, String>(0) == c);
        Ok(Some(Columns {
            seq: has("seq"),
            when: has("when_to_run"),
            reducer: has("reducer"),
            names: has("names"),
        }))
    }

    /// Creates the table, or converts gearmand's: drops its unique constraint on (unique_key,
    /// function_name), adds the columns we need and widens `when_to_run`, all in one
    /// transaction that keeps every row.
    fn prepare_table(&mut self, client: &mut Client) -> std::result::Result<(), postgres::Error> {
        let t = self.table.clone();
        // The index names are derived from the table name without its schema (an index lives
        // in its table's schema).
        let base = t.rsplit('.').next().unwrap_or(&t).to_string();
        let mut tx = client.transaction()?;
        // Two servers starting on one database at once must not both convert.
        tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&t])?;
        let exists: Option<String> = tx.query_one("SELECT to_regclass($1)::text", &[&t])?.get(0);
        if exists.is_none() {
            tx.batch_execute(&format!(
                "CREATE TABLE {t} (unique_key TEXT, function_name TEXT, priority INTEGER, \
                 data BYTEA, when_to_run BIGINT, seq BIGINT, reducer BYTEA, names BYTEA)"
            ))?;
        } else {
            let cols: Vec<(String, String)> = tx
                .query(
                    "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute \
                     WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped",
                    &[&t],
                )?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            let ty = |c: &str| cols.iter().find(|(n, _)| n == c).map(|(_, ty)| ty.as_str());
            let mut changes = Vec::new();
            match ty("when_to_run") {
                None => changes.push("ADD COLUMN when_to_run BIGINT".to_string()),
                Some("bigint") => {}
                Some(_) => changes.push("ALTER COLUMN when_to_run TYPE BIGINT".to_string()),
            }
            for (c, sqlty) in [("seq", "BIGINT"), ("reducer", "BYTEA"), ("names", "BYTEA")] {
                if ty(c).is_none() {
                    changes.push(format!("ADD COLUMN {c} {sqlty}"));
                }
            }
            // gearmand's VARCHAR(64) would refuse a longer unique with an error at submit time.
            for c in ["unique_key", "function_name"] {
                if ty(c).is_some_and(|ty| ty.starts_with("character varying")) {
                    changes.push(format!("ALTER COLUMN {c} TYPE TEXT"));
                }
            }
            // Unique constraints (and bare unique indexes) on exactly (unique_key, function_name).
            let keys: Vec<(String, bool)> = tx
                .query(
                    "SELECT i.indexrelid::regclass::text, c.conname IS NOT NULL \
                     FROM pg_index i \
                     LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid \
                     WHERE i.indrelid = to_regclass($1) AND i.indisunique \
                     AND (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute a \
                          WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)) \
                         = ARRAY['function_name', 'unique_key']",
                    &[&t],
                )?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            for (index, is_constraint) in &keys {
                if *is_constraint {
                    let con: String = tx
                        .query_one(
                            "SELECT conname::text FROM pg_constraint WHERE conindid = to_regclass($1)",
                            &[index],
                        )?
                        .get(0);
                    changes.push(format!("DROP CONSTRAINT \"{}\"", con.replace('"', "\"\"")));
                }
            }
            if !changes.is_empty() {
                tx.batch_execute(&format!("ALTER TABLE {t} {}", changes.join(", ")))?;
            }
            for (index, is_constraint) in &keys {
                if !is_constraint {
                    tx.batch_execute(&format!("DROP INDEX {index}"))?;
                }
            }
            if !changes.is_empty() || !keys.is_empty() {
                let rows: i64 = tx
                    .query_one(&format!("SELECT count(*) FROM {t}"), &[])?
                    .get(0);
                log::warning(format_args!(
                    "{}: table converted ({rows} rows kept): {}; jobs with the same unique and \
                     function (such as empty uniques) are now stored separately; gearmand 1.1.20 \
                     still reads and writes it",
                    describe_config(&self.config, &t),
                    changes.join(", ")
                ));
            }
        }
        tx.batch_execute(&format!(
            "CREATE UNIQUE INDEX IF NOT EXISTS {base}_seq ON {t} (seq); \
             CREATE INDEX IF NOT EXISTS {base}_key ON {t} (unique_key, function_name)"
        ))?;
        tx.commit()
    }

    /// Gives rows without a `seq` (written by gearmand) one above every existing key, in the
    /// table's physical order (the order gearmand replays them in).
    fn number_foreign_rows(&mut self) -> Result<()> {
        let t = self.table.clone();
        let sql = format!(
            "UPDATE {t} SET seq = m.top + s.n \
             FROM (SELECT ctid AS row, row_number() OVER () AS n FROM {t} WHERE seq IS NULL) s, \
                  (SELECT coalesce(max(seq), 0) AS top FROM {t}) m \
             WHERE {t}.ctid = s.row"
        );
        let conn = self.link.get(|| Err("not connected".into()))?;
        match conn.client.execute(&sql, &[]) {
            Ok(0) => Ok(()),
            Ok(n) => {
                log::info(format_args!(
                    "{t}: {n} rows written by another server numbered"
                ));
                Ok(())
            }
            Err(e) => Err(StoreError::new(format!(
                "{}: cannot number the rows without seq: {}",
                describe_config(&self.config, &t),
                pg_error(&e)
            ))),
        }
    }

    fn connect(config: &Config, table: &str, sql: &str) -> std::result::Result<Conn, String> {
        let mut client = config.connect(NoTls).map_err(|e| pg_error(&e))?;
        let write = client
            .prepare(sql)
            .map_err(|e| format!("cannot prepare the insert into {table}: {}", pg_error(&e)))?;
        Ok(Conn { client, write })
    }

    /// Runs one batch: `deletes` and `rows`, as one statement or, when large, as several in one
    /// transaction.
    fn write(
        conn: &mut Conn,
        deletes: &[i64],
        rows: &[&StoredJob],
    ) -> std::result::Result<(), postgres::Error> {
        let mut chunks: Vec<&[&StoredJob]> = Vec::new();
        let mut start = 0;
        let mut bytes = 0;
        for (i, j) in rows.iter().enumerate() {
            let size = j.data.len() + j.reducer.as_ref().map_or(0, Vec::len);
            if bytes + size > CHUNK_BYTES && i > start {
                chunks.push(&rows[start..i]);
                start = i;
                bytes = 0;
            }
            bytes += size;
        }
        if start < rows.len() || chunks.is_empty() {
            chunks.push(&rows[start..]);
        }
        if chunks.len() == 1 {
            return Self::write_chunk(&mut conn.client, &conn.write, deletes, chunks[0]);
        }
        let mut tx = conn.client.transaction()?;
        for (i, chunk) in chunks.iter().enumerate() {
            let d: &[i64] = if i == 0 { deletes } else { &[] };
            tx.execute(&conn.write, &Self::params(d, chunk).as_refs())?;
        }
        tx.commit()
    }

    fn write_chunk(
        client: &mut Client,
        st: &Statement,
        deletes: &[i64],
        rows: &[&StoredJob],
    ) -> std::result::Result<(), postgres::Error> {
        client.execute(st, &Self::params(deletes, rows).as_refs())?;
        Ok(())
    }

    fn params<'a>(deletes: &'a [i64], rows: &[&'a StoredJob]) -> Params<'a> {
        let mut p = Params {
            deletes,
            seqs: Vec::with_capacity(rows.len()),
            uniques: Vec::with_capacity(rows.len()),
            functions: Vec::with_capacity(rows.len()),
            priorities: Vec::with_capacity(rows.len()),
            data: Vec::with_capacity(rows.len()),
            whens: Vec::with_capacity(rows.len()),
            reducers: Vec::with_capacity(rows.len()),
            names: Vec::with_capacity(rows.len()),
        };
        for j in rows {
            let (unique, u_ok) = as_text(&j.unique);
            let (function, f_ok) = as_text(&j.function);
            p.seqs.push(j.seq as i64);
            p.uniques.push(unique);
            p.functions.push(function);
            p.priorities.push(i32::from(j.priority));
            p.data.push(&j.data);
            p.whens.push(j.when);
            p.reducers.push(j.reducer.as_deref());
            p.names
                .push((!(u_ok && f_ok)).then(|| encode_names(&j.function, &j.unique)));
        }
        p
    }
}

/// The parameters of one write statement, column by column.
struct Params<'a> {
    deletes: &'a [i64],
    seqs: Vec<i64>,
    uniques: Vec<String>,
    functions: Vec<String>,
    priorities: Vec<i32>,
    data: Vec<&'a [u8]>,
    whens: Vec<i64>,
    reducers: Vec<Option<&'a [u8]>>,
    names: Vec<Option<Vec<u8>>>,
}

impl<'a> Params<'a> {
    fn as_refs(&self) -> [&(dyn ToSql + Sync); 9] {
        [
            &self.deletes,
            &self.seqs,
            &self.uniques,
            &self.functions,
            &self.priorities,
            &self.data,
            &self.whens,
            &self.reducers,
            &self.names,
        ]
    }
}

impl Store for PostgresStore {
    fn describe(&self) -> String {
        describe_config(&self.config, &self.table)
    }

    fn replay(&mut self) -> Result<Replayed> {
        let what = self.describe();
        if self.mode == Mode::Server {
            self.number_foreign_rows()?;
        }
        let c = self.columns;
        let t = self.table.clone();
        let conn = self.link.get(|| Err("not connected".into()))?;
        let exists: Option<String> = conn
            .client
            .query_one("SELECT to_regclass($1)::text", &[&t])
            .map_err(|e| StoreError::new(format!("{what}: {}", pg_error(&e))))?
            .get(0);
        if exists.is_none() {
            return Ok(Replayed {
                jobs: Vec::new(),
                next_seq: 1,
            });
        }
        let sql =
            format!(
            "SELECT {}, unique_key::text, function_name::text, priority::int4, data, {}, {}, {} \
             FROM {t} ORDER BY {}",
            if c.seq { "seq" } else { "NULL::int8" },
            if c.when { "when_to_run::int8" } else { "0::int8" },
            if c.reducer { "reducer" } else { "NULL::bytea" },
            if c.names { "names" } else { "NULL::bytea" },
            if c.seq { "seq NULLS LAST, ctid" } else { "ctid" },
        );
        let read_err = |e: postgres::Error| {
            StoreError::new(format!("{what}: cannot read the table: {}", pg_error(&e)))
        };
        let rows = conn
            .client
            .query_raw(sql.as_str(), std::iter::empty::<i64>())
            .map_err(read_err)?;
        let mut jobs = Vec::new();
        let mut max_seq: Seq = 0;
        let mut unnumbered = Vec::new();
        let mut seen = HashSet::new();
        use postgres::fallible_iterator::FallibleIterator;
        let mut rows = rows;
        while let Some(row) = rows.next().map_err(read_err)? {
            let seq: Option<i64> = row.get(0);
            let unique: Option<String> = row.get(1);
            let function: Option<String> = row.get(2);
            let priority: Option<i32> = row.get(3);
            let data: Option<Vec<u8>> = row.get(4);
            let when: Option<i64> = row.get(5);
            let reducer: Option<Vec<u8>> = row.get(6);
            let names: Option<Vec<u8>> = row.get(7);
            let name_of = || {
                format!(
                    "row (unique_key '{}', function_name '{}'{})",
                    unique.as_deref().unwrap_or(""),
                    function.as_deref().unwrap_or(""),
                    seq.map_or(String::new(), |s| format!(", seq {s}"))
                )
            };
            let bad = |why: String| {
                StoreError::new(format!(
                    "{what}: {} {why}; refusing to start rather than drop it",
                    name_of()
                ))
            };
            let priority = priority.unwrap_or(1);
            if !(0..=2).contains(&priority) {
                return Err(bad(format!("has priority {priority}, not 0, 1 or 2")));
            }
            if let Some(s) = seq.filter(|&s| s <= 0) {
                return Err(bad(format!("has seq {s}, not positive")));
            }
            let (function, unique) = match names {
                Some(n) => match decode_names(&n) {
                    Some(names) => names,
                    None => return Err(bad("has an unreadable names column".into())),
                },
                None => (
                    function.unwrap_or_default().into_bytes(),
                    unique.unwrap_or_default().into_bytes(),
                ),
            };
            let job = StoredJob {
                seq: 0,
                function,
                unique,
                priority: priority as u8,
                when: when.unwrap_or(0),
                reducer,
                data: data.unwrap_or_default().into(),
            };
            match seq {
                Some(s) if s > 0 && seen.insert(s) => {
                    max_seq = max_seq.max(s as Seq);
                    jobs.push(StoredJob {
                        seq: s as Seq,
                        ..job
                    });
                }
                _ => unnumbered.push(job),
            }
        }
        // Rows without a seq (read-only view of a table gearmand wrote) are numbered after the
        // others, in table order.
        for mut j in unnumbered {
            max_seq += 1;
            j.seq = max_seq;
            jobs.push(j);
        }
        Ok(Replayed {
            jobs,
            next_seq: max_seq + 1,
        })
    }

    fn add(&mut self, job: &StoredJob) -> Result<()> {
        self.adds.push(job.clone());
        Ok(())
    }

    fn done(&mut self, seq: Seq) -> Result<()> {
        self.dones.push(seq);
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        if self.adds.is_empty() && self.dones.is_empty() && self.pending.is_empty() {
            return Ok(());
        }
        if self.mode == Mode::ReadOnly {
            return Err(StoreError::new(format!(
                "{}: opened read-only",
                self.describe()
            )));
        }
        // A job added and done within one batch is never written.
        let done: HashSet<Seq> = self.dones.iter().copied().collect();
        let rows: Vec<&StoredJob> = self
            .adds
            .iter()
            .filter(|j| !done.contains(&j.seq))
            .collect();
        let deletes: Vec<i64> = self
            .pending
            .iter()
            .chain(self.dones.iter())
            .map(|&s| s as i64)
            .collect();
        let (config, table, sql) = (&self.config, &self.table, self.write_sql());
        let outcome = self
            .link
            .run(
                || Self::connect(config, table, &sql),
                |conn| {
                    Self::write(conn, &deletes, &rows)
                        .map_err(|e| (pg_error(&e), connection_lost(&e, &conn.client)))
                },
            )
            .map_err(|e| {
                StoreError::new(format!(
                    "{e} (a batch of {} adds and {} removals)",
                    rows.len(),
                    deletes.len()
                ))
            });
        drop(rows);
        match outcome {
            Ok(()) => {
                self.adds.clear();
                self.dones.clear();
                self.pending.clear();
                Ok(())
            }
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    fn rollback(&mut self) {
        // The dones go (the server hands them over again with its next batch). The adds may
        // have been committed just before a connection broke, though their clients are told
        // QUEUE_ERROR: their rows are deleted with the next batch that commits.
        self.dones.clear();
        self.pending.extend(self.adds.drain(..).map(|j| j.seq));
    }

    fn replace_all(&mut self, jobs: &[StoredJob]) -> Result<()> {
        self.rollback();
        let t = self.table.clone();
        let (config, sql) = (&self.config, self.write_sql());
        let conn = self.link.get(|| Self::connect(config, &t, &sql))?;
        let what = describe_config(config, &t);
        let fail = |e: postgres::Error| {
            StoreError::new(format!(
                "{what}: cannot replace the queue: {}",
                pg_error(&e)
            ))
        };
        let mut tx = conn.client.transaction().map_err(fail)?;
        tx.batch_execute(&format!("DELETE FROM {t}"))
            .map_err(fail)?;
        let rows: Vec<&StoredJob> = jobs.iter().collect();
        for chunk in rows.chunks(1000) {
            tx.execute(&conn.write, &Self::params(&[], chunk).as_refs())
                .map_err(fail)?;
        }
        tx.commit().map_err(fail)?;
        self.pending.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_checked() {
        assert!(valid_table("queue"));
        assert!(valid_table("gearman.queue"));
        assert!(!valid_table("queue; DROP TABLE x"));
        assert!(!valid_table("1queue"));
        assert!(!valid_table("a.b.c"));
        assert!(!valid_table(""));
    }

    #[test]
    fn names_round_trip() {
        let v = encode_names(&[b'f', 0xff], b"u-1");
        assert_eq!(decode_names(&v), Some((vec![b'f', 0xff], b"u-1".to_vec())));
        assert_eq!(decode_names(&[0, 0, 0, 9, 1]), None);
    }

    #[test]
    fn text_or_names() {
        assert_eq!(as_text(b"fn"), ("fn".to_string(), true));
        assert!(!as_text(&[0xff]).1);
        assert!(!as_text(b"a\0b").1);
    }

    #[test]
    fn conninfo_gets_libpq_defaults() {
        let c = parse_conninfo("host=127.0.0.1 port=5433 user=u dbname=d").unwrap();
        assert_eq!(c.get_ports(), &[5433]);
        assert_eq!(c.get_dbname(), Some("d"));
        assert!(describe_config(&c, "queue").contains("127.0.0.1:5433 database d"));
        let c = parse_conninfo("postgresql://u@localhost:6000/db").unwrap();
        assert_eq!(c.get_ports(), &[6000]);
        assert!(parse_conninfo("nonsense without equals").is_err());
    }
}
