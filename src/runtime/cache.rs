//! The rebuildable on-disk cache of compiled components, so a new backend maps compiled code
//! (milliseconds) instead of compiling (up to seconds).
//!
//! Entries live in `$PGDATA/pgsql_tmp_pg_component/<database oid>/` (mode 0700, owned by the
//! server's OS user, like the data files). The `pgsql_tmp` prefix is Postgres' own mark for
//! files that are not part of the database: base backups (`pg_basebackup`, plain and tar) skip
//! them, so a backup carries no compiled code, stale or not, and a restored cluster or a new
//! standby compiles into its own cache on first use. The directory is per database because a
//! backend reads only its own database's catalog, and so can only tell which of its own
//! database's entries are still in use.
//!
//! An entry is named by the first 128 bits of the component's sha256 and a hash of the engine's
//! compatibility key (wasmtime version and configuration), and is two files: `<name>.cwasm`,
//! wasmtime's serialized code as is, which a backend maps into memory (so backends share its
//! pages, and linear-memory images are copy-on-write mappings of the file), and `<name>.sum`, a
//! header (magic, length, crc32 of the `.cwasm`, the full sha256) checked before every load. A
//! short, corrupt, foreign or unmatched entry is removed and the component recompiled from the
//! bytes in `wasm.plugins`; the table is always the source of truth. Every path, counting the
//! directory and temporary names, fits the 99 bytes of a tar header (a unit test checks).
//!
//! Entries are replaced only by rename and are read-only: files are never changed in place, as
//! running backends map them. Removing one is safe at any time: unlinking a name leaves the
//! file's pages to whoever maps it until they unmap it, so a backend that loaded an entry keeps
//! running it, and the next backend compiles it again. Unused entries are removed at the commit
//! of the replace or uninstall that displaced them, and by a sweep at the first plugin call of
//! each backend, which also covers standbys, where a replayed uninstall runs no code of ours.

use std::cell::RefCell;
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use pgrx::pg_sys;
use wasmtime::Engine;
use wasmtime::component::Component;

const MAGIC: &[u8; 8] = b"PGCWASM2";
const HEADER: usize = 8 + 8 + 4 + 64;
/// The cache's directory under the data directory.
const DIR: &str = "pgsql_tmp_pg_component";
/// The directory of an older layout, removed when found.
const LEGACY_DIR: &str = "pg_component_cache";
/// Hex digits of the sha256 in an entry's name; the `.sum` holds all 64.
const SHA_DIGITS: usize = 32;
/// The longest relative path the cache may create: a tar header's name field.
#[cfg(test)]
const MAX_PATH: usize = 99;
/// How old an unused entry or temporary file must be before a sweep removes it: younger ones
/// may belong to an install not yet committed, or to a write in progress.
pub const SWEEP_GRACE: Duration = Duration::from_secs(600);

/// `$PGDATA`, or `None` if there is none.
pub fn data_dir() -> Option<PathBuf> {
    // SAFETY: DataDir is set for every backend before SQL runs; read as a C string.
    unsafe {
        let p = pg_sys::DataDir;
        if p.is_null() {
            return None;
        }
        Some(PathBuf::from(
            std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned(),
        ))
    }
}

/// This database's directory relative to `$PGDATA` (paths Postgres reports are relative).
fn database_dir(database: pg_sys::Oid) -> PathBuf {
    Path::new(DIR).join(database.to_u32().to_string())
}

fn create_private_dir(dir: &Path) -> Option<()> {
    use std::os::unix::fs::DirBuilderExt;
    if !dir.is_dir() {
        std::fs::DirBuilder::new()
            .mode(0o700)
            .recursive(true)
            .create(dir)
            .ok()?;
    }
    Some(())
}

/// This database's cache directory, created on first use.
fn cache_dir() -> Option<PathBuf> {
    // SAFETY: MyDatabaseId is set before SQL runs in a backend.
    let database = unsafe { pg_sys::MyDatabaseId };
    let dir = data_dir()?.join(database_dir(database));
    create_private_dir(&dir)?;
    Some(dir)
}

/// Hex of a hash of the engine's compatibility key.
fn engine_key(engine: &Engine) -> String {
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!("{:016x}", h.finish())
}

/// The file name of the entry for `sha256` under engine key `key`.
fn entry_name(sha256: &str, key: &str) -> String {
    let short = sha256.get(..SHA_DIGITS).unwrap_or(sha256);
    format!("{short}-{key}.cwasm")
}

/// Where the compiled code for `sha256` lives; its checksum file is [`sum_path`].
pub fn entry_path(engine: &Engine, sha256: &str) -> Option<PathBuf> {
    Some(cache_dir()?.join(entry_name(sha256, &engine_key(engine))))
}

/// The checksum file of an entry.
pub fn sum_path(entry: &Path) -> PathBuf {
    entry.with_extension("sum")
}

/// The temporary name an entry's file is written under by this process.
fn temp_path(path: &Path) -> PathBuf {
    // SAFETY: getpid has no preconditions.
    path.with_extension(format!("tmp{}", unsafe { libc::getpid() }))
}

/// The checksum header for a payload that is the compiled code of `sha256`.
pub fn frame_sum(payload: &[u8], sha256: &str) -> [u8; HEADER] {
    let mut out = [0u8; HEADER];
    out[..8].copy_from_slice(MAGIC);
    out[8..16].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    out[16..20].copy_from_slice(&crc32fast::hash(payload).to_le_bytes());
    let sha = sha256.as_bytes();
    let n = sha.len().min(64);
    out[20..20 + n].copy_from_slice(&sha[..n]);
    out
}

/// Whether `payload` is the compiled code of `sha256` that the checksum header `sum` describes.
pub fn verify_sum(sum: &[u8], payload: &[u8], sha256: &str) -> bool {
    sum.len() == HEADER && sum[..8] == *MAGIC && sum[..] == frame_sum(payload, sha256)[..]
}

/// Run `check` on the file's bytes through a read-only shared mapping (no copy: the pages are
/// the page cache's, which the load that follows maps again).
fn with_mapped(file: &std::fs::File, check: impl FnOnce(&[u8]) -> bool) -> bool {
    use std::os::fd::AsRawFd;
    let Ok(meta) = file.metadata() else {
        return false;
    };
    let len = meta.len() as usize;
    if len == 0 {
        return check(&[]);
    }
    // SAFETY: a read-only private mapping of a regular file of `len` bytes, unmapped before
    // returning; the slice does not outlive it. Entries are only ever replaced by rename, never
    // written in place, so the mapped bytes do not change under us.
    unsafe {
        let ptr = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_PRIVATE,
            file.as_raw_fd(),
            0,
        );
        if ptr == libc::MAP_FAILED {
            return false;
        }
        let ok = check(std::slice::from_raw_parts(ptr as *const u8, len));
        libc::munmap(ptr, len);
        ok
    }
}

fn remove_entry(path: &Path) {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(sum_path(path));
}

/// The compiled component for `sha256`, if a sound entry exists. A bad entry is removed.
pub fn read_cached(engine: &Engine, sha256: &str) -> Option<Component> {
    let path = entry_path(engine, sha256)?;
    let file = std::fs::File::open(&path).ok()?;
    let sound = std::fs::read(sum_path(&path))
        .is_ok_and(|sum| with_mapped(&file, |payload| verify_sum(&sum, payload, sha256)));
    let loaded = sound
        .then(|| {
            // SAFETY: the file was written by `write_cached` of this engine configuration into a
            // directory only the server's OS user can write, and its checksum matches; wasmtime
            // also checks its own header, version and configuration before loading.
            unsafe { Component::deserialize_file(engine, &path) }.ok()
        })
        .flatten();
    if loaded.is_none() {
        pgrx::log!(
            "pg_component: discarding unusable compiled-code cache entry {}",
            path.display()
        );
        remove_entry(&path);
    }
    loaded
}

/// Write `bytes` to `path` through a private temporary name and a rename: readers see a whole
/// file or none, and a file once in place is never written again (backends map it: changing it
/// in place under them would fault). Files are read-only, so that nothing else overwrites them
/// by accident either.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = temp_path(path);
    let _ = std::fs::remove_file(&tmp);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o400)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Store the compiled component; failures only cost a recompilation later.
pub fn write_cached(engine: &Engine, sha256: &str, component: &Component) {
    let Some(path) = entry_path(engine, sha256) else {
        return;
    };
    let Ok(payload) = component.serialize() else {
        return;
    };
    // Code first, checksum second: until both are in place, the entry does not verify.
    let written = write_atomically(&path, &payload)
        .and_then(|()| write_atomically(&sum_path(&path), &frame_sum(&payload, sha256)));
    if let Err(e) = written {
        remove_entry(&path);
        pgrx::log!(
            "pg_component: could not write compiled-code cache entry {}: {e}",
            path.display()
        );
    }
}

thread_local! {
    /// Components this transaction displaced (replaced or uninstalled, used by no other
    /// plugin): their entries go at commit.
    static DOOMED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Remove the entries of `sha256` when (and if) the current transaction commits.
pub fn drop_at_commit(sha256: &str) {
    DOOMED.with(|d| d.borrow_mut().push(sha256.to_string()));
}

/// The part of a cache file's name before its extension: `<sha prefix>-<engine key>`.
fn stem(file_name: &str) -> &str {
    file_name
        .split_once('.')
        .map_or(file_name, |(stem, _)| stem)
}

/// At the end of a transaction: if it committed, remove the entries (of any engine
/// configuration) of the components it displaced. Runs in a transaction callback, so it only
/// removes files and never raises an error.
pub fn end_of_transaction(committed: bool) {
    let doomed = DOOMED.with(|d| std::mem::take(&mut *d.borrow_mut()));
    if !committed || doomed.is_empty() {
        return;
    }
    // SAFETY: MyDatabaseId is set before SQL runs in a backend.
    let database = unsafe { pg_sys::MyDatabaseId };
    let Some(dir) = data_dir().map(|d| d.join(database_dir(database))) else {
        return;
    };
    let prefixes: Vec<String> = doomed
        .iter()
        .map(|sha| format!("{}-", sha.get(..SHA_DIGITS).unwrap_or(sha)))
        .collect();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if prefixes.iter().any(|p| name.starts_with(p.as_str())) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn older_than(path: &Path, grace: Duration) -> bool {
    let modified = std::fs::symlink_metadata(path).and_then(|m| m.modified());
    modified.is_ok_and(|m| SystemTime::now().duration_since(m).unwrap_or_default() >= grace)
}

fn database_exists(oid: pg_sys::Oid) -> bool {
    // SAFETY: a syscache probe by OID, valid in any backend connected to a database.
    unsafe {
        pg_sys::SearchSysCacheExists(
            pg_sys::SysCacheIdentifier::DATABASEOID as i32,
            pg_sys::Datum::from(oid),
            pg_sys::Datum::from(0),
            pg_sys::Datum::from(0),
            pg_sys::Datum::from(0),
        )
    }
}

/// Remove what no backend needs any more, if older than `grace`: this database's entries of
/// components not in `live` (full sha256s) or of another engine configuration, and stray
/// temporary files. Also removes the directories of databases that no longer exist and the
/// older layout's directory. Returns how many files and directories it removed.
pub fn sweep(engine: &Engine, live: &HashSet<String>, grace: Duration) -> usize {
    data_dir().map_or(0, |root| sweep_data_dir(&root, engine, live, grace))
}

/// [`sweep`] of the cache under data directory `root`.
pub fn sweep_data_dir(
    root: &Path,
    engine: &Engine,
    live: &HashSet<String>,
    grace: Duration,
) -> usize {
    let mut removed = 0;
    let legacy = root.join(LEGACY_DIR);
    if legacy.is_dir() && std::fs::remove_dir_all(&legacy).is_ok() {
        removed += 1;
    }
    // SAFETY: MyDatabaseId is set before SQL runs in a backend.
    let database = unsafe { pg_sys::MyDatabaseId };
    for entry in std::fs::read_dir(root.join(DIR))
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(oid) = name.parse::<u32>() else {
            continue;
        };
        let oid = pg_sys::Oid::from(oid);
        if oid != database && !database_exists(oid) && std::fs::remove_dir_all(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    let key = engine_key(engine);
    let keep: HashSet<String> = live
        .iter()
        .map(|sha| stem(&entry_name(sha, &key)).to_string())
        .collect();
    for entry in std::fs::read_dir(root.join(database_dir(database)))
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let in_use = keep.contains(stem(&name)) && !name.contains(".tmp");
        if !in_use && older_than(&entry.path(), grace) && std::fs::remove_file(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "c5b8d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c03";

    #[test]
    fn checksums_match_only_their_payload() {
        let sum = frame_sum(b"compiled code", SHA);
        assert!(verify_sum(&sum, b"compiled code", SHA));
        assert!(!verify_sum(&sum, b"compiled codE", SHA));
        assert!(!verify_sum(&sum, b"compiled cod", SHA));
        assert!(!verify_sum(&sum[..HEADER - 1], b"compiled code", SHA));
        let mut foreign = sum;
        foreign[0] = b'X';
        assert!(!verify_sum(&foreign, b"compiled code", SHA));
        // Same name (first 128 bits), another component: refused.
        let other = format!("{}{}", &SHA[..SHA_DIGITS], "0".repeat(64 - SHA_DIGITS));
        assert_eq!(
            entry_name(SHA, "0123456789abcdef"),
            entry_name(&other, "0123456789abcdef")
        );
        assert!(!verify_sum(&sum, b"compiled code", &other));
    }

    #[test]
    fn every_cache_path_fits_a_tar_header() {
        let key = format!("{:016x}", u64::MAX);
        let dir = database_dir(pg_sys::Oid::from(u32::MAX));
        let entry = dir.join(entry_name(SHA, &key));
        // The longest pid Linux hands out (pid_max is at most 2^22).
        let tmp = entry.with_extension(format!("tmp{}", 4_194_304));
        for path in [
            entry.clone(),
            sum_path(&entry),
            tmp,
            sum_path(&entry).with_extension("tmp4194304"),
        ] {
            let len = path.as_os_str().len();
            assert!(len <= MAX_PATH, "{} is {len} bytes", path.display());
        }
    }

    #[test]
    fn stems_pair_an_entry_with_its_sum_and_temporaries() {
        let name = entry_name(SHA, "0123456789abcdef");
        assert_eq!(
            stem(&name),
            stem("c5b8d0e1f2a3b4c5d6e7f8091a2b3c4d-0123456789abcdef.sum")
        );
        assert_eq!(stem(&name), stem(&format!("{}.tmp123", stem(&name))));
    }
}
