//! The file-backed key-value store used when no backend is configured (Spin's
//! `type = "spin"`).
//!
//! Spin keeps its default store in SQLite and pays a query and a mutex for
//! every operation. Here every live pair is held in memory and each write is
//! appended to a log file before it is acknowledged, so reads never touch the
//! disk and a write costs one `write(2)`. The log is replayed on open (a torn
//! tail record from a crash is cut off) and rewritten compactly when most of
//! it is dead.
//!
//! The file starts with a magic line, so a file that is not ours (say, a
//! Spin SQLite store named by mistake) is refused instead of truncated.
//! Record layout after it, little endian: `op:u8 key_len:u32 value_len:u32 key value
//! checksum:u32`, where `op` is SET or DELETE and the checksum is FNV-1a over
//! everything before it.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

const MAGIC: &[u8] = b"SPINSTACK-KV 1\n";
const OP_SET: u8 = 1;
const OP_DELETE: u8 = 2;
const HEADER_LEN: usize = 1 + 4 + 4;
const CHECKSUM_LEN: usize = 4;
/// Compact when the log holds this much more than the live data, and at least
/// this many bytes are dead (small stores are never worth rewriting).
const COMPACT_RATIO: u64 = 2;
const COMPACT_MIN_DEAD_BYTES: u64 = 4 * 1024 * 1024;
/// Largest key and value accepted; a corrupt length field beyond these ends replay.
const MAX_KEY_LEN: usize = 64 * 1024;
const MAX_VALUE_LEN: usize = 64 * 1024 * 1024;

/// The live pairs, by key.
type Entries = HashMap<String, Arc<[u8]>>;

pub struct FileStore {
    /// None: kept in memory only (`type = "spin"` with no path).
    path: Option<PathBuf>,
    entries: RwLock<Entries>,
    log: Mutex<Option<Log>>,
}

struct Log {
    file: File,
    /// Bytes in the log file.
    len: u64,
    /// Bytes the live records would take if rewritten.
    live: u64,
}

impl FileStore {
    /// Opens (creating if needed) the store at `path`, replaying its log.
    pub fn open(path: &Path) -> io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        if file.metadata()?.len() == 0 {
            file.write_all(MAGIC)?;
        }
        let (entries, good_len) = replay(&mut file)?;
        if good_len < file.metadata()?.len() {
            // A crash mid-append left a partial record: drop it.
            file.set_len(good_len)?;
        }
        file.seek(SeekFrom::End(0))?;
        let live = entries.iter().map(|(k, v)| record_len(k, v)).sum();
        Ok(Self {
            path: Some(path.to_path_buf()),
            entries: RwLock::new(entries),
            log: Mutex::new(Some(Log {
                file,
                len: good_len,
                live,
            })),
        })
    }

    /// A store that lives only as long as the process.
    pub fn in_memory() -> Self {
        Self {
            path: None,
            entries: RwLock::new(HashMap::new()),
            log: Mutex::new(None),
        }
    }

    pub fn get(&self, key: &str) -> Option<Arc<[u8]>> {
        self.entries.read().get(key).cloned()
    }

    pub fn exists(&self, key: &str) -> bool {
        self.entries.read().contains_key(key)
    }

    pub fn keys(&self) -> Vec<String> {
        self.entries.read().keys().cloned().collect()
    }

    pub fn set(&self, key: &str, value: &[u8]) -> io::Result<()> {
        // The log lock orders writers, so the log and the map agree on which
        // write came last.
        let mut guard = self.log.lock();
        self.set_locked(&mut guard, key, value)
    }

    /// Reads `key` and writes what `decide` makes of its value (`None`: no
    /// write), with no other writer in between: the atomic operations of
    /// `wasi:keyvalue` (increment, compare-and-swap).
    pub fn update<R>(
        &self,
        key: &str,
        decide: impl FnOnce(Option<&[u8]>) -> (Option<Vec<u8>>, R),
    ) -> io::Result<R> {
        let mut guard = self.log.lock();
        let current = self.entries.read().get(key).cloned();
        let (write, outcome) = decide(current.as_deref());
        if let Some(value) = write {
            self.set_locked(&mut guard, key, &value)?;
        }
        Ok(outcome)
    }

    fn set_locked(&self, guard: &mut Option<Log>, key: &str, value: &[u8]) -> io::Result<()> {
        if key.len() > MAX_KEY_LEN || value.len() > MAX_VALUE_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "key or value too large",
            ));
        }
        let Some(log) = guard.as_mut() else {
            self.entries
                .write()
                .insert(key.to_owned(), Arc::from(value));
            return Ok(());
        };
        let record = encode(OP_SET, key, value);
        log.file.write_all(&record)?;
        log.len += record.len() as u64;
        let previous = self
            .entries
            .write()
            .insert(key.to_owned(), Arc::from(value));
        log.live += record.len() as u64;
        if let Some(old) = previous {
            log.live -= record_len(key, &old);
        }
        self.maybe_compact(log)
    }

    pub fn delete(&self, key: &str) -> io::Result<()> {
        let mut guard = self.log.lock();
        let Some(log) = guard.as_mut() else {
            self.entries.write().remove(key);
            return Ok(());
        };
        let Some(old) = self.entries.read().get(key).cloned() else {
            return Ok(());
        };
        let record = encode(OP_DELETE, key, &[]);
        log.file.write_all(&record)?;
        log.len += record.len() as u64;
        self.entries.write().remove(key);
        log.live -= record_len(key, &old);
        self.maybe_compact(log)
    }

    /// Flushes the log to stable storage (used at shutdown).
    pub fn sync(&self) -> io::Result<()> {
        match self.log.lock().as_ref() {
            Some(log) => log.file.sync_data(),
            None => Ok(()),
        }
    }

    fn maybe_compact(&self, log: &mut Log) -> io::Result<()> {
        let dead = log.len.saturating_sub(log.live + MAGIC.len() as u64);
        if dead < COMPACT_MIN_DEAD_BYTES || log.len < log.live * COMPACT_RATIO {
            return Ok(());
        }
        self.compact(log)
    }

    /// Rewrites the log with only the live pairs, then swaps it in atomically.
    fn compact(&self, log: &mut Log) -> io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let tmp = path.with_extension("compacting");
        let mut out = io::BufWriter::new(File::create(&tmp)?);
        out.write_all(MAGIC)?;
        let mut len = MAGIC.len() as u64;
        for (key, value) in self.entries.read().iter() {
            let record = encode(OP_SET, key, value);
            out.write_all(&record)?;
            len += record.len() as u64;
        }
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_data()?;
        std::fs::rename(&tmp, path)?;
        log.file = OpenOptions::new().read(true).append(true).open(path)?;
        log.len = len;
        log.live = len;
        Ok(())
    }
}

fn record_len(key: &str, value: &[u8]) -> u64 {
    (HEADER_LEN + key.len() + value.len() + CHECKSUM_LEN) as u64
}

fn encode(op: u8, key: &str, value: &[u8]) -> Vec<u8> {
    let mut record = Vec::with_capacity(record_len(key, value) as usize);
    record.push(op);
    record.extend_from_slice(&(key.len() as u32).to_le_bytes());
    record.extend_from_slice(&(value.len() as u32).to_le_bytes());
    record.extend_from_slice(key.as_bytes());
    record.extend_from_slice(value);
    let checksum = fnv1a(&record);
    record.extend_from_slice(&checksum.to_le_bytes());
    record
}

/// Replays the log; returns the pairs and the length of its intact prefix.
fn replay(file: &mut File) -> io::Result<(Entries, u64)> {
    file.seek(SeekFrom::Start(0))?;
    let mut reader = BufReader::new(&*file);
    let mut magic = [0u8; MAGIC.len()];
    if !read_full(&mut reader, &mut magic)? || magic != MAGIC {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a spinstack key-value file (Spin's SQLite stores cannot be read by spinstack)",
        ));
    }
    let mut entries = HashMap::new();
    let mut good_len = MAGIC.len() as u64;
    let mut header = [0u8; HEADER_LEN];
    loop {
        if !read_full(&mut reader, &mut header)? {
            break;
        }
        let op = header[0];
        let key_len = u32::from_le_bytes(header[1..5].try_into().unwrap()) as usize;
        let value_len = u32::from_le_bytes(header[5..9].try_into().unwrap()) as usize;
        if !matches!(op, OP_SET | OP_DELETE) || key_len > MAX_KEY_LEN || value_len > MAX_VALUE_LEN {
            break;
        }
        let mut body = vec![0u8; key_len + value_len + CHECKSUM_LEN];
        if !read_full(&mut reader, &mut body)? {
            break;
        }
        let (payload, checksum) = body.split_at(key_len + value_len);
        let mut checked = header.to_vec();
        checked.extend_from_slice(payload);
        if fnv1a(&checked).to_le_bytes() != checksum {
            break;
        }
        let Ok(key) = std::str::from_utf8(&payload[..key_len]) else {
            break;
        };
        match op {
            OP_SET => {
                entries.insert(key.to_owned(), Arc::from(&payload[key_len..]));
            }
            _ => {
                entries.remove(key);
            }
        }
        good_len += (HEADER_LEN + body.len()) as u64;
    }
    Ok((entries, good_len))
}

/// Fills `buf`; false on a clean or torn end of file.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => return Ok(false),
            n => filled += n,
        }
    }
    Ok(true)
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_path() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv").join("default.kvlog");
        (dir, path)
    }

    #[test]
    fn set_get_delete_exists_keys() {
        let (_dir, path) = store_path();
        let store = FileStore::open(&path).unwrap();
        assert_eq!(store.get("a"), None);
        store.set("a", b"1").unwrap();
        store.set("b", b"").unwrap();
        assert_eq!(store.get("a").as_deref(), Some(&b"1"[..]));
        assert_eq!(store.get("b").as_deref(), Some(&b""[..]));
        assert!(store.exists("b"));
        let mut keys = store.keys();
        keys.sort();
        assert_eq!(keys, ["a", "b"]);
        store.delete("a").unwrap();
        store.delete("never-there").unwrap();
        assert!(!store.exists("a"));
    }

    #[test]
    fn survives_reopen() {
        let (_dir, path) = store_path();
        {
            let store = FileStore::open(&path).unwrap();
            store.set("kept", b"value").unwrap();
            store.set("overwritten", b"old").unwrap();
            store.set("overwritten", b"new").unwrap();
            store.set("deleted", b"x").unwrap();
            store.delete("deleted").unwrap();
        }
        let store = FileStore::open(&path).unwrap();
        assert_eq!(store.get("kept").as_deref(), Some(&b"value"[..]));
        assert_eq!(store.get("overwritten").as_deref(), Some(&b"new"[..]));
        assert!(!store.exists("deleted"));
    }

    #[test]
    fn a_torn_tail_is_dropped_and_the_rest_kept() {
        let (_dir, path) = store_path();
        {
            let store = FileStore::open(&path).unwrap();
            store.set("whole", b"1").unwrap();
            store.set("torn", b"2222").unwrap();
        }
        let len = std::fs::metadata(&path).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len - 3)
            .unwrap();
        let store = FileStore::open(&path).unwrap();
        assert_eq!(store.get("whole").as_deref(), Some(&b"1"[..]));
        assert!(!store.exists("torn"));
        // New writes land after the intact prefix and survive another reopen.
        store.set("after", b"3").unwrap();
        drop(store);
        let store = FileStore::open(&path).unwrap();
        assert_eq!(store.get("after").as_deref(), Some(&b"3"[..]));
        assert_eq!(store.get("whole").as_deref(), Some(&b"1"[..]));
    }

    #[test]
    fn compaction_bounds_the_log_and_keeps_the_data() {
        let (_dir, path) = store_path();
        let store = FileStore::open(&path).unwrap();
        let value = vec![7u8; 64 * 1024];
        for round in 0..200 {
            store.set("hot", &value).unwrap();
            store.set(&format!("k{}", round % 3), b"v").unwrap();
        }
        let len = std::fs::metadata(&path).unwrap().len();
        assert!(len < 2 * COMPACT_MIN_DEAD_BYTES, "log grew to {len} bytes");
        drop(store);
        let store = FileStore::open(&path).unwrap();
        assert_eq!(store.get("hot").as_deref(), Some(&value[..]));
        assert_eq!(store.keys().len(), 4);
    }
}

#[cfg(test)]
mod more_tests {
    use super::*;

    #[test]
    fn a_foreign_file_is_refused_not_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spin.db");
        std::fs::write(&path, b"SQLite format 3\0 and more").unwrap();
        let error = FileStore::open(&path).err().expect("refused");
        assert!(error.to_string().contains("not a spinstack key-value file"));
        assert_eq!(std::fs::read(&path).unwrap(), b"SQLite format 3\0 and more");
    }

    #[test]
    fn in_memory_store_works_without_a_file() {
        let store = FileStore::in_memory();
        store.set("k", b"v").unwrap();
        assert_eq!(store.get("k").as_deref(), Some(&b"v"[..]));
        store.delete("k").unwrap();
        assert!(!store.exists("k"));
        store.sync().unwrap();
    }
}
