//! `-q libsqlite3`: gearmand's SQLite table, so a database file moves between gearmand 1.1.20
//! and this server in both directions.
//!
//! gearmand 1.1.20 creates
//! `CREATE TABLE gearman_queue ( unique_key TEXT, function_name TEXT, priority INTEGER,
//! data BLOB, when_to_run INTEGER, PRIMARY KEY (unique_key, function_name))`, binds unique and
//! function as TEXT, encodes priority as 0 = high, 1 = normal, 2 = low, names its columns in
//! every statement and replays in rowid order.
//!
//! This store keys rows by rowid, which is the server's sequence number (inserted
//! explicitly), so two jobs with the same (unique, function) — every job with an empty unique —
//! are two rows. That needs a table without gearmand's primary key: a table we create has the
//! same columns, a plain index on (unique_key, function_name) instead of the key, and a
//! `reducer BLOB` column; a table gearmand created is converted to that shape in one
//! transaction when the server opens it, keeping every row and its rowid. gearmand 1.1.20 reads
//! and writes the converted table unchanged (its statements name their columns; without the
//! key its INSERT OR REPLACE simply inserts).

use super::{Replayed, Result, Seq, Store, StoreError, StoredJob, Sync};
use crate::server::log;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{params, Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How the database is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Created if missing; the table is created or converted.
    Server,
    /// Only read (`--queue-dump`): nothing is created or changed.
    ReadOnly,
}

pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    table: String,
    sync: Sync,
    in_batch: bool,
    has_when: bool,
    has_reducer: bool,
}

/// Bytes bound as TEXT (gearmand compares unique and function as text; a BLOB never equals).
struct Text<'a>(&'a [u8]);

impl rusqlite::ToSql for Text<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Text(self.0)))
    }
}

/// gearmand splices the table name into its SQL; we accept only names that need no quoting.
fn valid_table(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

impl SqliteStore {
    pub fn open(path: &Path, table: &str, sync: Sync, mode: Mode) -> Result<SqliteStore> {
        let fail = |what: &str, e: rusqlite::Error| {
            StoreError::new(format!(
                "sqlite database {} (table {table}): {what}: {e}",
                path.display()
            ))
        };
        if !valid_table(table) {
            return Err(StoreError::new(format!(
                "--libsqlite3-table '{table}': use letters, digits and '_' only"
            )));
        }
        let flags = match mode {
            Mode::Server => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
            Mode::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
        } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| fail("cannot open", e))?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(|e| fail("cannot set the busy timeout", e))?;
        let mut store = SqliteStore {
            conn,
            path: path.to_path_buf(),
            table: table.to_string(),
            sync,
            in_batch: false,
            has_when: true,
            has_reducer: true,
        };
        if mode == Mode::Server {
            // SQLite quietly falls back to read-only when the file cannot be written; a server
            // would then refuse every submission, so refuse to start instead.
            if store
                .conn
                .is_readonly(rusqlite::MAIN_DB)
                .map_err(|e| fail("cannot open", e))?
            {
                return Err(StoreError::new(format!(
                    "sqlite database {} (table {table}) can only be read (file, directory or \
                     file system not writable)",
                    path.display()
                )));
            }
            // WAL: a commit appends to one file (one fsync with synchronous=FULL, none with
            // NORMAL); readers such as --queue-dump do not block the server.
            let journal: String = store
                .conn
                .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
                .map_err(|e| fail("cannot switch to WAL mode", e))?;
            if !journal.eq_ignore_ascii_case("wal") {
                log::warning(format_args!(
                    "sqlite database {}: journal mode is {journal}, not wal",
                    path.display()
                ));
            }
            let level = match sync {
                Sync::Full => "FULL",
                Sync::Normal => "NORMAL",
            };
            store
                .conn
                .execute_batch(&format!("PRAGMA synchronous={level}"))
                .map_err(|e| fail("cannot set synchronous", e))?;
            store
                .prepare_table()
                .map_err(|e| fail("cannot prepare the table", e))?;
        } else {
            store
                .read_columns()
                .map_err(|e| fail("cannot read the table", e))?;
        }
        Ok(store)
    }

    fn exists(&self) -> rusqlite::Result<bool> {
        self.conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?1",
                [&self.table],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
    }

    fn columns(&self) -> rusqlite::Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare(&format!("PRAGMA table_info(\"{}\")", self.table))?;
        let cols = st
            .query_map([], |r| r.get::<_, String>(1))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(cols)
    }

    /// Whether some unique index (gearmand's primary key) covers exactly (unique_key,
    /// function_name): then two jobs with one (unique, function) cannot both be stored.
    fn has_unique_key(&self) -> rusqlite::Result<bool> {
        let mut st = self
            .conn
            .prepare(&format!("PRAGMA index_list(\"{}\")", self.table))?;
        let unique: Vec<String> = st
            .query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .filter(|(_, u)| *u != 0)
            .map(|(n, _)| n)
            .collect();
        for index in unique {
            let mut st = self
                .conn
                .prepare(&format!("PRAGMA index_info(\"{index}\")"))?;
            let mut cols: Vec<String> = st
                .query_map([], |r| r.get::<_, String>(2))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            cols.sort();
            if cols == ["function_name", "unique_key"] {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn read_columns(&mut self) -> rusqlite::Result<()> {
        if !self.exists()? {
            return Ok(());
        }
        let cols = self.columns()?;
        self.has_when = cols.iter().any(|c| c == "when_to_run");
        self.has_reducer = cols.iter().any(|c| c == "reducer");
        Ok(())
    }

    fn create_sql(&self, name: &str) -> String {
        format!(
            "CREATE TABLE \"{name}\" (unique_key TEXT, function_name TEXT, priority INTEGER, \
             data BLOB, when_to_run INTEGER, reducer BLOB)"
        )
    }

    /// Creates the table, adds missing columns, or converts gearmand's keyed table.
    fn prepare_table(&mut self) -> rusqlite::Result<()> {
        let t = self.table.clone();
        let index = format!(
            "CREATE INDEX IF NOT EXISTS \"{t}_key\" ON \"{t}\" (unique_key, function_name)"
        );
        if !self.exists()? {
            self.conn
                .execute_batch(&format!("{}; {index};", self.create_sql(&t)))?;
            return Ok(());
        }
        let cols = self.columns()?;
        if !cols.iter().any(|c| c == "when_to_run") {
            // As gearmand does with a table from before epoch jobs.
            self.conn.execute_batch(&format!(
                "ALTER TABLE \"{t}\" ADD COLUMN when_to_run INTEGER"
            ))?;
        }
        if !cols.iter().any(|c| c == "reducer") {
            self.conn
                .execute_batch(&format!("ALTER TABLE \"{t}\" ADD COLUMN reducer BLOB"))?;
        }
        if self.has_unique_key()? {
            let rows: i64 =
                self.conn
                    .query_row(&format!("SELECT count(*) FROM \"{t}\""), [], |r| r.get(0))?;
            let new = format!("{t}__gearman_rs_new");
            self.conn.execute_batch(&format!(
                "BEGIN IMMEDIATE;
                 DROP TABLE IF EXISTS \"{new}\";
                 {create};
                 INSERT INTO \"{new}\" (rowid, unique_key, function_name, priority, data, when_to_run, reducer)
                   SELECT rowid, unique_key, function_name, priority, data, when_to_run, reducer
                   FROM \"{t}\" ORDER BY rowid;
                 DROP TABLE \"{t}\";
                 ALTER TABLE \"{new}\" RENAME TO \"{t}\";
                 {index};
                 COMMIT;",
                create = self.create_sql(&new)
            ))?;
            log::warning(format_args!(
                "sqlite database {}: table {t} converted ({rows} rows kept) so that jobs with the \
                 same unique and function (such as empty uniques) are stored separately; \
                 gearmand 1.1.20 still reads and writes it",
                self.path.display()
            ));
        } else {
            self.conn.execute_batch(&format!("{index};"))?;
        }
        Ok(())
    }

    fn fail(&self, what: &str, e: rusqlite::Error) -> StoreError {
        StoreError::new(format!(
            "sqlite database {} (table {}): {what}: {e}",
            self.path.display(),
            self.table
        ))
    }

    fn begin(&mut self) -> Result<()> {
        if !self.in_batch {
            self.conn
                .execute_batch("BEGIN IMMEDIATE")
                .map_err(|e| self.fail("cannot begin a transaction", e))?;
            self.in_batch = true;
        }
        Ok(())
    }

    fn insert(&self, job: &StoredJob) -> rusqlite::Result<()> {
        let mut st = self.conn.prepare_cached(&format!(
            "INSERT INTO \"{}\" (rowid, unique_key, function_name, priority, data, when_to_run, reducer) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            self.table
        ))?;
        st.execute(params![
            job.seq as i64,
            Text(&job.unique),
            Text(&job.function),
            i64::from(job.priority),
            &job.data[..],
            job.when,
            job.reducer
        ])?;
        Ok(())
    }
}

/// Bytes of a column that gearmand writes as TEXT (or anyone as BLOB); NULL is empty.
fn bytes_of(v: ValueRef<'_>) -> std::result::Result<Vec<u8>, &'static str> {
    match v {
        ValueRef::Null => Ok(Vec::new()),
        ValueRef::Text(b) | ValueRef::Blob(b) => Ok(b.to_vec()),
        ValueRef::Integer(i) => Ok(i.to_string().into_bytes()),
        ValueRef::Real(_) => Err("a floating-point value"),
    }
}

fn int_of(v: ValueRef<'_>) -> std::result::Result<i64, &'static str> {
    match v {
        ValueRef::Null => Ok(0),
        ValueRef::Integer(i) => Ok(i),
        ValueRef::Text(t) => std::str::from_utf8(t)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or("text that is not a number"),
        _ => Err("not an integer"),
    }
}

impl Store for SqliteStore {
    fn describe(&self) -> String {
        format!(
            "sqlite database {}, table {} (synchronous {})",
            self.path.display(),
            self.table,
            self.sync.name()
        )
    }

    fn replay(&mut self) -> Result<Replayed> {
        let exists = self
            .exists()
            .map_err(|e| self.fail("cannot read the schema", e))?;
        if !exists {
            return Ok(Replayed {
                jobs: Vec::new(),
                next_seq: 1,
            });
        }
        let sql = format!(
            "SELECT rowid, unique_key, function_name, priority, data, {}, {} FROM \"{}\" ORDER BY rowid",
            if self.has_when { "when_to_run" } else { "0" },
            if self.has_reducer { "reducer" } else { "NULL" },
            self.table
        );
        let mut st = self
            .conn
            .prepare(&sql)
            .map_err(|e| self.fail("cannot read the table", e))?;
        let mut rows = st
            .query([])
            .map_err(|e| self.fail("cannot read the table", e))?;
        let mut jobs = Vec::new();
        let mut max_seq: i64 = 0;
        loop {
            let row = match rows.next() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => return Err(self.fail("cannot read the table", e)),
            };
            let rowid: i64 = row
                .get(0)
                .map_err(|e| self.fail("cannot read the table", e))?;
            let bad = |col: &str, why: &str| {
                StoreError::new(format!(
                    "sqlite database {} (table {}): row with rowid {rowid} has an unusable {col} \
                     ({why}); refusing to start rather than drop it",
                    self.path.display(),
                    self.table
                ))
            };
            let get = |i: usize| {
                row.get_ref(i)
                    .map_err(|e| self.fail("cannot read the table", e))
            };
            let unique = bytes_of(get(1)?).map_err(|w| bad("unique_key", w))?;
            let function = bytes_of(get(2)?).map_err(|w| bad("function_name", w))?;
            let priority = int_of(get(3)?).map_err(|w| bad("priority", w))?;
            if !(0..=2).contains(&priority) {
                return Err(bad("priority", &format!("{priority} is not 0, 1 or 2")));
            }
            let data = bytes_of(get(4)?).map_err(|w| bad("data", w))?;
            let when = int_of(get(5)?).map_err(|w| bad("when_to_run", w))?;
            let reducer = match get(6)? {
                ValueRef::Null => None,
                v => Some(bytes_of(v).map_err(|w| bad("reducer", w))?),
            };
            if rowid <= 0 {
                return Err(bad("rowid", "not positive"));
            }
            max_seq = max_seq.max(rowid);
            jobs.push(StoredJob {
                seq: rowid as Seq,
                function,
                unique,
                priority: priority as u8,
                when,
                reducer,
                data: data.into(),
            });
        }
        Ok(Replayed {
            jobs,
            next_seq: max_seq as Seq + 1,
        })
    }

    fn add(&mut self, job: &StoredJob) -> Result<()> {
        self.begin()?;
        self.insert(job)
            .map_err(|e| self.fail(&format!("cannot add job {}", job.seq), e))
    }

    fn done(&mut self, seq: Seq) -> Result<()> {
        self.begin()?;
        let sql = format!("DELETE FROM \"{}\" WHERE rowid = ?1", self.table);
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut st| st.execute([seq as i64]))
            .map(|_| ())
            .map_err(|e| self.fail(&format!("cannot remove job {seq}"), e))
    }

    fn commit(&mut self) -> Result<()> {
        if !self.in_batch {
            return Ok(());
        }
        match self.conn.execute_batch("COMMIT") {
            Ok(()) => {
                self.in_batch = false;
                Ok(())
            }
            Err(e) => {
                let err = self.fail("cannot commit", e);
                self.rollback();
                Err(err)
            }
        }
    }

    fn rollback(&mut self) {
        if self.in_batch {
            // After a failed COMMIT SQLite may already have rolled back: ignore "no transaction".
            let _ = self.conn.execute_batch("ROLLBACK");
            self.in_batch = false;
        }
    }

    fn replace_all(&mut self, jobs: &[StoredJob]) -> Result<()> {
        self.rollback();
        self.begin()?;
        let sql = format!("DELETE FROM \"{}\"", self.table);
        let result = self
            .conn
            .execute_batch(&sql)
            .map_err(|e| self.fail("cannot clear the table", e))
            .and_then(|()| {
                for j in jobs {
                    self.insert(j)
                        .map_err(|e| self.fail(&format!("cannot add job {}", j.seq), e))?;
                }
                Ok(())
            });
        match result {
            Ok(()) => self.commit(),
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db(name: &str) -> PathBuf {
        let p =
            std::env::temp_dir().join(format!("gearman-sqlite-{name}-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
        }
        p
    }

    fn job(seq: Seq, unique: &[u8]) -> StoredJob {
        StoredJob {
            seq,
            function: b"f".to_vec(),
            unique: unique.to_vec(),
            priority: 1,
            when: 0,
            reducer: None,
            data: format!("d{seq}").into_bytes().into(),
        }
    }

    #[test]
    fn gearmands_keyed_table_is_converted_keeping_rows() {
        let db = temp_db("convert");
        {
            let c = Connection::open(&db).unwrap();
            // Exactly what gearmand 1.1.20 creates and writes.
            c.execute_batch(
                "CREATE TABLE gearman_queue ( unique_key TEXT, function_name TEXT, priority INTEGER, \
                 data BLOB, when_to_run INTEGER, PRIMARY KEY (unique_key, function_name));
                 INSERT INTO gearman_queue VALUES ('u1', 'f', 0, X'6869', 0);
                 INSERT INTO gearman_queue VALUES ('u2', 'g', 2, X'', 1900000000);",
            )
            .unwrap();
        }
        let mut s = SqliteStore::open(&db, "gearman_queue", Sync::Normal, Mode::Server).unwrap();
        let r = s.replay().unwrap();
        assert_eq!(r.jobs.len(), 2);
        assert_eq!(r.jobs[0].unique, b"u1");
        assert_eq!((r.jobs[0].priority, &r.jobs[0].data[..]), (0, &b"hi"[..]));
        assert_eq!((r.jobs[1].priority, r.jobs[1].when), (2, 1_900_000_000));
        assert_eq!(r.next_seq, 3);
        // Two jobs with one (unique, function) now fit.
        s.add(&job(3, b"")).unwrap();
        s.add(&job(4, b"")).unwrap();
        s.commit().unwrap();
        drop(s);
        let mut s = SqliteStore::open(&db, "gearman_queue", Sync::Normal, Mode::ReadOnly).unwrap();
        let seqs: Vec<Seq> = s.replay().unwrap().jobs.iter().map(|j| j.seq).collect();
        assert_eq!(seqs, vec![1, 2, 3, 4]);
    }

    #[test]
    fn a_bad_row_names_its_rowid() {
        let db = temp_db("badrow");
        {
            let c = Connection::open(&db).unwrap();
            c.execute_batch(
                "CREATE TABLE gearman_queue ( unique_key TEXT, function_name TEXT, priority INTEGER, \
                 data BLOB, when_to_run INTEGER);
                 INSERT INTO gearman_queue VALUES ('u1', 'f', 1, X'00', 0);
                 INSERT INTO gearman_queue VALUES ('u2', 'f', 7, X'00', 0);",
            )
            .unwrap();
        }
        let mut s = SqliteStore::open(&db, "gearman_queue", Sync::Normal, Mode::Server).unwrap();
        let err = s.replay().unwrap_err().0;
        assert!(err.contains("rowid 2"), "{err}");
        assert!(err.contains(&db.display().to_string()), "{err}");
    }

    #[test]
    fn table_names_are_checked() {
        assert!(valid_table("gearman_queue"));
        assert!(!valid_table("x; DROP TABLE y"));
        assert!(!valid_table("1abc"));
        assert!(!valid_table(""));
    }

    #[test]
    fn not_a_database_refuses() {
        let db = temp_db("garbage");
        std::fs::write(&db, vec![0x5a; 8192]).unwrap();
        let err = SqliteStore::open(&db, "gearman_queue", Sync::Normal, Mode::Server)
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(err.contains(&db.display().to_string()), "{err}");
    }
}
