//! `-q wal`: an append-only log of our own, one file `queue.log` in `--wal-dir`.
//!
//! ```text
//! file   = "GMRSLOG1" frame*
//! frame  = len:u32 hcrc:u32 bcrc:u32 body[len]     one committed batch; hcrc = crc32(len bytes),
//!                                                  bcrc = crc32(body); integers little-endian
//! body   = record*
//! record = 1 seq:u64 prio:u8 when:i64 flen:u32 function ulen:u32 unique
//!            has_reducer:u8 [rlen:u32 reducer] dlen:u32 data           (add)
//!        | 2 seq:u64                                                   (done)
//! ```
//!
//! A commit appends one frame with a single write and, with `--wal-sync=full`, `fdatasync`s
//! it before the batch is acknowledged. Replay reads the frames in order. A damaged last frame
//! (cut short, or failing a checksum with nothing but zero bytes after it) is the torn tail
//! of a commit that never returned: it is cut off and replay ends there. A damaged frame with
//! data after it is corruption: the store refuses to open, naming the file, the frame and its
//! byte offset. When the records of finished jobs outnumber the live ones, the live records
//! are copied into a fresh file that atomically replaces the log (compaction).

use super::{Replayed, Result, Seq, Store, StoreError, StoredJob, Sync};
use crate::server::log;
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The log's file name inside its directory.
pub const FILE_NAME: &str = "queue.log";
const MAGIC: &[u8; 8] = b"GMRSLOG1";
const HEADER: usize = 12;
const ADD: u8 = 1;
const DONE: u8 = 2;
/// Compaction starts once this many dead records have piled up and they outnumber the live ones.
const COMPACT_MIN_DEAD: u64 = 4096;
/// Frames written by compaction are cut at about this size.
const COPY_FRAME: usize = 4 << 20;
/// Zeros written ahead of the log at a time.
const PREALLOC: u64 = 4 << 20;

/// How the log is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Created if missing, locked against a second server, torn tail cut off.
    Server,
    /// Only read (`--queue-dump`): nothing is created, locked or repaired.
    ReadOnly,
}

/// Where an add record lives in the file (for compaction).
#[derive(Debug, Clone, Copy)]
struct Loc {
    offset: u64,
    len: u32,
}

enum Pending {
    Add { seq: Seq, rel: usize, len: u32 },
    Done(Seq),
}

pub struct WalStore {
    dir: PathBuf,
    path: PathBuf,
    sync: Sync,
    mode: Mode,
    file: Option<File>,
    /// Length of the committed log.
    len: u64,
    /// Length of the file: beyond `len` it holds zeros written ahead of time, so that a
    /// commit overwrites allocated blocks and its fdatasync has no file size to record.
    alloc: u64,
    /// Records of the open batch and what they do.
    batch: Vec<u8>,
    pending: Vec<Pending>,
    live: HashMap<Seq, Loc>,
    /// Records that describe finished jobs (their add and their done).
    dead: u64,
    /// A failed write could not be cut back off: the next commit repairs first.
    needs_repair: bool,
}

fn io_err(path: &Path, what: &str, e: std::io::Error) -> StoreError {
    StoreError::new(format!("queue log {}: {what}: {e}", path.display()))
}

impl WalStore {
    pub fn open(dir: &Path, sync: Sync, mode: Mode) -> Result<WalStore> {
        let path = dir.join(FILE_NAME);
        let file = match mode {
            Mode::Server => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| io_err(dir, "cannot create the directory", e))?;
                let f = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(&path)
                    .map_err(|e| io_err(&path, "cannot open", e))?;
                // SAFETY: flock on a descriptor we own; no memory is passed.
                let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
                if rc != 0 {
                    return Err(io_err(
                        &path,
                        "is locked by another server",
                        std::io::Error::last_os_error(),
                    ));
                }
                Some(f)
            }
            Mode::ReadOnly => match File::open(&path) {
                Ok(f) => Some(f),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(io_err(&path, "there is no queue log here", e))
                }
                Err(e) => return Err(io_err(&path, "cannot open", e)),
            },
        };
        Ok(WalStore {
            dir: dir.to_path_buf(),
            path,
            sync,
            mode,
            file,
            len: 0,
            alloc: 0,
            batch: Vec::new(),
            pending: Vec::new(),
            live: HashMap::new(),
            dead: 0,
            needs_repair: false,
        })
    }

    fn file(&self) -> Result<&File> {
        self.file.as_ref().ok_or_else(|| {
            StoreError::new(format!("queue log {} is not open", self.path.display()))
        })
    }

    /// Cuts the file back to the committed length (after a failed or torn write).
    fn truncate_to(&mut self, len: u64) -> Result<()> {
        let f = self.file()?;
        f.set_len(len)
            .and_then(|()| f.sync_all())
            .map_err(|e| io_err(&self.path, "cannot cut off an incomplete write", e))?;
        self.alloc = len;
        Ok(())
    }

    /// Makes room for `need` more bytes after the log by writing zeros ahead (and flushing
    /// them once), so commits do not grow the file. A failure (disk nearly full) is not an
    /// error: the commit then grows the file itself.
    fn preallocate(&mut self, need: u64) {
        if self.len + need <= self.alloc {
            return;
        }
        let target = (self.len + need).max(self.alloc) + PREALLOC;
        let Ok(f) = self.file() else { return };
        let zeros = vec![0u8; 1 << 20];
        let mut at = self.alloc;
        let written = (|| -> std::io::Result<()> {
            while at < target {
                let n = ((target - at) as usize).min(zeros.len());
                f.write_all_at(&zeros[..n], at)?;
                at += n as u64;
            }
            f.sync_all()
        })();
        match written {
            Ok(()) => self.alloc = target,
            Err(_) => {
                let _ = f.set_len(self.len);
                self.alloc = self.len;
            }
        }
    }

    fn corrupt(&self, frame: u64, offset: u64, why: &str) -> StoreError {
        StoreError::new(format!(
            "queue log {} is damaged at frame {frame} (byte offset {offset}): {why}; \
             refusing to start rather than drop the jobs after it (move the file away to \
             start empty, or inspect it with --queue-dump)",
            self.path.display()
        ))
    }

    /// Writes a fresh log holding `records` (encoded add records) to a temporary file and
    /// moves it over the log. Returns the new length and each record's location.
    fn rewrite(&mut self, records: &mut dyn Iterator<Item = Result<(Seq, Vec<u8>)>>) -> Result<()> {
        let tmp = self.dir.join(format!("{FILE_NAME}.compact"));
        let result = (|| -> Result<(u64, HashMap<Seq, Loc>)> {
            let mut out = File::create(&tmp).map_err(|e| io_err(&tmp, "cannot create", e))?;
            out.write_all(MAGIC)
                .map_err(|e| io_err(&tmp, "cannot write", e))?;
            let mut len = MAGIC.len() as u64;
            let mut live = HashMap::new();
            let mut body = Vec::new();
            let mut locs: Vec<(Seq, usize, u32)> = Vec::new();
            let mut flush = |body: &mut Vec<u8>,
                             locs: &mut Vec<(Seq, usize, u32)>,
                             len: &mut u64|
             -> Result<()> {
                if body.is_empty() {
                    return Ok(());
                }
                out.write_all(&frame(body))
                    .map_err(|e| io_err(&tmp, "cannot write", e))?;
                for (seq, rel, n) in locs.drain(..) {
                    live.insert(
                        seq,
                        Loc {
                            offset: *len + (HEADER + rel) as u64,
                            len: n,
                        },
                    );
                }
                *len += (HEADER + body.len()) as u64;
                body.clear();
                Ok(())
            };
            for r in records {
                let (seq, rec) = r?;
                locs.push((seq, body.len(), rec.len() as u32));
                body.extend_from_slice(&rec);
                if body.len() >= COPY_FRAME {
                    flush(&mut body, &mut locs, &mut len)?;
                }
            }
            flush(&mut body, &mut locs, &mut len)?;
            out.sync_all()
                .map_err(|e| io_err(&tmp, "cannot flush", e))?;
            Ok((len, live))
        })();
        let (len, live) = match result {
            Ok(x) => x,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&tmp)
            .map_err(|e| io_err(&tmp, "cannot open", e))?;
        // SAFETY: flock on a descriptor we own; no memory is passed.
        unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        std::fs::rename(&tmp, &self.path).map_err(|e| io_err(&tmp, "cannot rename", e))?;
        sync_dir(&self.dir);
        self.file = Some(f);
        self.len = len;
        self.alloc = len;
        self.live = live;
        self.dead = 0;
        Ok(())
    }

    fn maybe_compact(&mut self) {
        if self.dead < COMPACT_MIN_DEAD || self.dead <= self.live.len() as u64 {
            return;
        }
        let mut locs: Vec<(Seq, Loc)> = self.live.iter().map(|(s, l)| (*s, *l)).collect();
        locs.sort_unstable_by_key(|(s, _)| *s);
        let Some(old) = self.file.take() else { return };
        let path = self.path.clone();
        let mut it = locs.into_iter().map(|(seq, loc)| {
            let mut rec = vec![0u8; loc.len as usize];
            old.read_exact_at(&mut rec, loc.offset)
                .map_err(|e| io_err(&path, "cannot read for compaction", e))?;
            Ok((seq, rec))
        });
        let before = self.len;
        let result = self.rewrite(&mut it);
        drop(it);
        match result {
            Ok(()) => log::info(format_args!(
                "queue log {} compacted: {before} -> {} bytes, {} live jobs",
                self.path.display(),
                self.len,
                self.live.len()
            )),
            Err(e) => {
                self.file = Some(old);
                // Try again after as many more dead records.
                self.dead /= 2;
                log::warning(format_args!(
                    "compaction failed, the log keeps growing: {e}"
                ));
            }
        }
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A frame around `body`: length, header checksum, body checksum, body.
fn frame(body: &[u8]) -> Vec<u8> {
    let len = (body.len() as u32).to_le_bytes();
    let mut f = Vec::with_capacity(HEADER + body.len());
    f.extend_from_slice(&len);
    f.extend_from_slice(&crc32fast::hash(&len).to_le_bytes());
    f.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    f.extend_from_slice(body);
    f
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

/// Appends the add record of `job`.
pub fn encode_add(out: &mut Vec<u8>, job: &StoredJob) {
    out.push(ADD);
    out.extend_from_slice(&job.seq.to_le_bytes());
    out.push(job.priority);
    out.extend_from_slice(&job.when.to_le_bytes());
    put_bytes(out, &job.function);
    put_bytes(out, &job.unique);
    match &job.reducer {
        Some(r) => {
            out.push(1);
            put_bytes(out, r);
        }
        None => out.push(0),
    }
    put_bytes(out, &job.data);
}

fn encode_done(out: &mut Vec<u8>, seq: Seq) {
    out.push(DONE);
    out.extend_from_slice(&seq.to_le_bytes());
}

/// One decoded record and where it sits in its frame body.
enum Record {
    Add(StoredJob, usize, usize),
    Done(Seq),
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        if self.b.len() - self.at < n {
            return Err(format!("record cut short at body byte {}", self.at));
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    fn u8(&mut self) -> std::result::Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> std::result::Result<u32, String> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u64(&mut self) -> std::result::Result<u64, String> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }
    fn bytes(&mut self) -> std::result::Result<Vec<u8>, String> {
        let n = self.u32()? as usize;
        Ok(self.take(n)?.to_vec())
    }
}

/// Decodes the records of one frame body; the error names the record (1-based).
fn decode_body(body: &[u8]) -> std::result::Result<Vec<Record>, String> {
    let mut c = Cursor { b: body, at: 0 };
    let mut out = Vec::new();
    while c.at < body.len() {
        let start = c.at;
        let n = out.len() + 1;
        let rec = (|| -> std::result::Result<Record, String> {
            match c.u8()? {
                ADD => {
                    let seq = c.u64()?;
                    let priority = c.u8()?;
                    if priority > 2 {
                        return Err(format!("priority {priority} is not 0, 1 or 2"));
                    }
                    let when = c.u64()? as i64;
                    let function = c.bytes()?;
                    let unique = c.bytes()?;
                    let reducer = match c.u8()? {
                        0 => None,
                        1 => Some(c.bytes()?),
                        x => return Err(format!("reducer flag {x}")),
                    };
                    let data = c.bytes()?;
                    Ok(Record::Add(
                        StoredJob {
                            seq,
                            function,
                            unique,
                            priority,
                            when,
                            reducer,
                            data: data.into(),
                        },
                        start,
                        c.at - start,
                    ))
                }
                DONE => Ok(Record::Done(c.u64()?)),
                k => Err(format!("unknown record kind {k}")),
            }
        })()
        .map_err(|e| format!("record {n}: {e}"))?;
        out.push(rec);
    }
    Ok(out)
}

/// True when every byte of `f` from `from` to its end is zero (space a crash left unwritten).
fn zeros_from(f: &File, from: u64, end: u64) -> std::io::Result<bool> {
    let mut at = from;
    let mut buf = vec![0u8; 64 << 10];
    while at < end {
        let n = ((end - at) as usize).min(buf.len());
        f.read_exact_at(&mut buf[..n], at)?;
        if buf[..n].iter().any(|&b| b != 0) {
            return Ok(false);
        }
        at += n as u64;
    }
    Ok(true)
}

impl Store for WalStore {
    fn describe(&self) -> String {
        format!(
            "queue log {} (sync {})",
            self.path.display(),
            self.sync.name()
        )
    }

    fn replay(&mut self) -> Result<Replayed> {
        let Some(f) = self.file.as_ref() else {
            return Ok(Replayed {
                jobs: Vec::new(),
                next_seq: 1,
            });
        };
        let end = f
            .metadata()
            .map_err(|e| io_err(&self.path, "cannot stat", e))?
            .len();
        let mut head = [0u8; 8];
        let got = (end as usize).min(8);
        f.read_exact_at(&mut head[..got], 0)
            .map_err(|e| io_err(&self.path, "cannot read", e))?;
        if head[..got] != MAGIC[..got] {
            return Err(StoreError::new(format!(
                "{} is not a queue log of this server (it does not start with {:?})",
                self.path.display(),
                String::from_utf8_lossy(MAGIC)
            )));
        }
        if got < 8 {
            // Empty, or the creation was cut short.
            if self.mode == Mode::Server {
                let f = self.file()?;
                f.set_len(0)
                    .and_then(|()| f.write_all_at(MAGIC, 0))
                    .and_then(|()| f.sync_all())
                    .map_err(|e| io_err(&self.path, "cannot write the header", e))?;
                sync_dir(&self.dir);
            }
            self.len = 8;
            self.alloc = 8;
            return Ok(Replayed {
                jobs: Vec::new(),
                next_seq: 1,
            });
        }
        let mut reader = std::io::BufReader::with_capacity(1 << 20, f);
        let mut skip = [0u8; 8];
        reader
            .read_exact(&mut skip)
            .map_err(|e| io_err(&self.path, "cannot read", e))?;
        let mut jobs: BTreeMap<Seq, StoredJob> = BTreeMap::new();
        let mut max_seq: Seq = 0;
        let mut offset: u64 = 8;
        let mut frame_no: u64 = 0;
        let mut torn = false;
        let mut body = Vec::new();
        while offset < end {
            frame_no += 1;
            let left = end - offset;
            if left < HEADER as u64 {
                torn = true;
                break;
            }
            let mut h = [0u8; HEADER];
            reader
                .read_exact(&mut h)
                .map_err(|e| io_err(&self.path, "cannot read", e))?;
            let len_bytes = [h[0], h[1], h[2], h[3]];
            let len = u32::from_le_bytes(len_bytes) as u64;
            let hcrc = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
            let bcrc = u32::from_le_bytes([h[8], h[9], h[10], h[11]]);
            let zeros_after = |from: u64| {
                zeros_from(f, from, end).map_err(|e| io_err(&self.path, "cannot read", e))
            };
            if h == [0u8; HEADER] && zeros_after(offset)? {
                // The zeros written ahead of the log: its clean end.
                break;
            }
            if crc32fast::hash(&len_bytes) != hcrc {
                // A header written only in part, then nothing (zeros): torn.
                if zeros_after(offset + HEADER as u64)? {
                    torn = true;
                    break;
                }
                return Err(self.corrupt(frame_no, offset, "frame header checksum mismatch"));
            }
            let frame_end = offset + HEADER as u64 + len;
            if frame_end > end {
                torn = true;
                break;
            }
            body.resize(len as usize, 0);
            reader
                .read_exact(&mut body)
                .map_err(|e| io_err(&self.path, "cannot read", e))?;
            if crc32fast::hash(&body) != bcrc {
                if zeros_after(frame_end)? {
                    torn = true;
                    break;
                }
                return Err(self.corrupt(frame_no, offset, "frame checksum mismatch"));
            }
            let records = decode_body(&body).map_err(|e| self.corrupt(frame_no, offset, &e))?;
            for r in records {
                match r {
                    Record::Add(job, rel, n) => {
                        let seq = job.seq;
                        max_seq = max_seq.max(seq);
                        if jobs.insert(seq, job).is_some() {
                            return Err(self.corrupt(
                                frame_no,
                                offset,
                                &format!("job {seq} is added twice"),
                            ));
                        }
                        self.live.insert(
                            seq,
                            Loc {
                                offset: offset + (HEADER + rel) as u64,
                                len: n as u32,
                            },
                        );
                    }
                    Record::Done(seq) => {
                        max_seq = max_seq.max(seq);
                        if jobs.remove(&seq).is_some() {
                            self.live.remove(&seq);
                            self.dead += 2;
                        } else {
                            self.dead += 1;
                        }
                    }
                }
            }
            offset = frame_end;
        }
        if torn {
            log::warning(format_args!(
                "queue log {}: the last {} bytes (frame {frame_no}) are an incomplete commit \
                 from a crash, never acknowledged: {}",
                self.path.display(),
                end - offset,
                if self.mode == Mode::Server {
                    "cut off"
                } else {
                    "ignored"
                }
            ));
            if self.mode == Mode::Server {
                self.truncate_to(offset)?;
            }
        }
        self.len = offset;
        self.alloc = if torn { offset } else { end };
        if self.mode == Mode::Server {
            self.maybe_compact();
        }
        Ok(Replayed {
            jobs: jobs.into_values().collect(),
            next_seq: max_seq + 1,
        })
    }

    fn add(&mut self, job: &StoredJob) -> Result<()> {
        let rel = self.batch.len();
        encode_add(&mut self.batch, job);
        let len = (self.batch.len() - rel) as u32;
        self.pending.push(Pending::Add {
            seq: job.seq,
            rel,
            len,
        });
        Ok(())
    }

    fn done(&mut self, seq: Seq) -> Result<()> {
        encode_done(&mut self.batch, seq);
        self.pending.push(Pending::Done(seq));
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if self.mode == Mode::ReadOnly {
            self.rollback();
            return Err(StoreError::new("the queue log was opened read-only"));
        }
        if self.needs_repair {
            if let Err(e) = self.truncate_to(self.len) {
                self.rollback();
                return Err(e);
            }
            self.needs_repair = false;
        }
        let bytes = frame(&self.batch);
        self.preallocate(bytes.len() as u64);
        let write = self.file().and_then(|f| {
            f.write_all_at(&bytes, self.len)
                .map_err(|e| io_err(&self.path, "cannot append", e))?;
            if self.sync == Sync::Full {
                f.sync_data()
                    .map_err(|e| io_err(&self.path, "cannot flush to disk", e))?;
            }
            Ok(())
        });
        if let Err(e) = write {
            // Nothing of this frame may stay: a later frame after it would read as corruption.
            if self.truncate_to(self.len).is_err() {
                self.needs_repair = true;
            }
            self.rollback();
            return Err(e);
        }
        let base = self.len + HEADER as u64;
        for p in self.pending.drain(..) {
            match p {
                Pending::Add { seq, rel, len } => {
                    self.live.insert(
                        seq,
                        Loc {
                            offset: base + rel as u64,
                            len,
                        },
                    );
                }
                Pending::Done(seq) => {
                    if self.live.remove(&seq).is_some() {
                        self.dead += 2;
                    } else {
                        self.dead += 1;
                    }
                }
            }
        }
        self.len += bytes.len() as u64;
        self.alloc = self.alloc.max(self.len);
        self.batch.clear();
        if self.batch.capacity() > COPY_FRAME {
            self.batch = Vec::new();
        }
        self.maybe_compact();
        Ok(())
    }

    fn rollback(&mut self) {
        self.batch.clear();
        self.pending.clear();
    }

    fn replace_all(&mut self, jobs: &[StoredJob]) -> Result<()> {
        self.rollback();
        if self.mode == Mode::ReadOnly {
            return Err(StoreError::new("the queue log was opened read-only"));
        }
        let mut it = jobs.iter().map(|j| {
            let mut rec = Vec::new();
            encode_add(&mut rec, j);
            Ok((j.seq, rec))
        });
        self.rewrite(&mut it)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(seq: Seq, data: &[u8]) -> StoredJob {
        StoredJob {
            seq,
            function: b"f".to_vec(),
            unique: Vec::new(),
            priority: 1,
            when: 0,
            reducer: None,
            data: data.to_vec().into(),
        }
    }

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("gearman-wal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn write_jobs(dir: &Path, batches: &[&[Seq]]) -> u64 {
        let mut s = WalStore::open(dir, Sync::Normal, Mode::Server).unwrap();
        s.replay().unwrap();
        for b in batches {
            for &seq in *b {
                s.add(&job(seq, format!("job{seq}").as_bytes())).unwrap();
            }
            s.commit().unwrap();
        }
        s.len
    }

    fn replay(dir: &Path, mode: Mode) -> Result<Vec<Seq>> {
        let mut s = WalStore::open(dir, Sync::Normal, mode)?;
        Ok(s.replay()?.jobs.iter().map(|j| j.seq).collect())
    }

    #[test]
    fn every_cut_of_the_last_frame_is_a_torn_tail() {
        let dir = temp_dir("torn");
        let good = write_jobs(&dir, &[&[1, 2]]);
        let full = write_jobs(&dir, &[&[3, 4, 5]]);
        let bytes = std::fs::read(dir.join(FILE_NAME)).unwrap();
        for cut in good..full {
            std::fs::write(dir.join(FILE_NAME), &bytes[..cut as usize]).unwrap();
            assert_eq!(
                replay(&dir, Mode::ReadOnly).unwrap(),
                vec![1, 2],
                "cut {cut}"
            );
            assert_eq!(replay(&dir, Mode::Server).unwrap(), vec![1, 2], "cut {cut}");
            // The server cut the tail off: the file is the good prefix again.
            assert_eq!(std::fs::metadata(dir.join(FILE_NAME)).unwrap().len(), good);
        }
        // A tail extended with zeros (power loss after the size was updated) is torn too.
        let mut zeroed = bytes.clone();
        for b in &mut zeroed[good as usize + 5..] {
            *b = 0;
        }
        std::fs::write(dir.join(FILE_NAME), &zeroed).unwrap();
        assert_eq!(replay(&dir, Mode::Server).unwrap(), vec![1, 2]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn damage_before_the_tail_refuses_to_open() {
        let dir = temp_dir("corrupt");
        write_jobs(&dir, &[&[1], &[2], &[3]]);
        let mut bytes = std::fs::read(dir.join(FILE_NAME)).unwrap();
        // Flip a data byte of the second frame.
        let first = 8 + HEADER + {
            let mut b = Vec::new();
            encode_add(&mut b, &job(1, b"job1"));
            b.len()
        };
        bytes[first + HEADER + 30] ^= 0xff;
        std::fs::write(dir.join(FILE_NAME), &bytes).unwrap();
        let err = replay(&dir, Mode::Server).unwrap_err().0;
        assert!(err.contains(FILE_NAME), "{err}");
        assert!(err.contains("frame 2"), "{err}");
        assert!(err.contains(&format!("byte offset {first}")), "{err}");
        // Nothing was changed by the refusal.
        assert_eq!(std::fs::read(dir.join(FILE_NAME)).unwrap(), bytes);
        // A damaged length field in the middle is corruption as well, not a tail.
        bytes[first + HEADER + 30] ^= 0xff;
        bytes[first] ^= 0x40;
        std::fs::write(dir.join(FILE_NAME), &bytes).unwrap();
        let err = replay(&dir, Mode::Server).unwrap_err().0;
        assert!(err.contains("header checksum"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn not_a_log_refuses() {
        let dir = temp_dir("foreign");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(FILE_NAME), b"SQLite format 3\0").unwrap();
        let err = replay(&dir, Mode::Server).unwrap_err().0;
        assert!(err.contains("not a queue log"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn compaction_keeps_the_live_jobs() {
        let dir = temp_dir("compact");
        let mut s = WalStore::open(&dir, Sync::Normal, Mode::Server).unwrap();
        s.replay().unwrap();
        let n = COMPACT_MIN_DEAD + 100;
        for seq in 1..=n {
            s.add(&job(seq, b"x")).unwrap();
            if seq % 3 == 0 {
                s.commit().unwrap();
            }
        }
        s.commit().unwrap();
        let before = s.len;
        // Finish all but every 50th job: dead records soon outnumber the live ones.
        for seq in 1..=n {
            if seq % 50 != 0 {
                s.done(seq).unwrap();
                s.commit().unwrap();
            }
        }
        assert!(s.len < before, "compacted: {} < {before}", s.len);
        assert!(s.dead <= s.live.len() as u64 + COMPACT_MIN_DEAD);
        s.add(&job(n + 1, b"after")).unwrap();
        s.commit().unwrap();
        drop(s);
        let mut want: Vec<Seq> = (1..=n).filter(|s| s % 50 == 0).collect();
        want.push(n + 1);
        assert_eq!(replay(&dir, Mode::Server).unwrap(), want);
        assert!(!dir.join(format!("{FILE_NAME}.compact")).exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_second_server_is_locked_out() {
        let dir = temp_dir("lock");
        let _a = WalStore::open(&dir, Sync::Normal, Mode::Server).unwrap();
        let err = WalStore::open(&dir, Sync::Normal, Mode::Server)
            .err()
            .unwrap()
            .0;
        assert!(err.contains("locked"), "{err}");
        // Reading for a dump is allowed while a server runs.
        assert!(WalStore::open(&dir, Sync::Normal, Mode::ReadOnly).is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
