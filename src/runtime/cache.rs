//! The rebuildable on-disk cache of compiled components, so a new backend maps compiled code
//! (milliseconds) instead of compiling (up to seconds).
//!
//! Entries live in `$PGDATA/pg_component_cache/` (mode 0700, owned by the server's OS user, like
//! the data files), named by the component's sha256 and a hash of the engine's compatibility
//! key (wasmtime version and configuration). Each entry is two files: `<name>.cwasm`, wasmtime's
//! serialized code as is, which a backend maps into memory (so backends share its pages and
//! linear-memory images are copy-on-write mappings of the file), and `<name>.sum`, a header
//! (magic, length, crc32 of the `.cwasm`) checked before every load. A short, corrupt, foreign
//! or unmatched entry is removed and the component recompiled from the bytes in `wasm.plugins`;
//! the table is always the source of truth. Entries are replaced only by rename and are
//! read-only: the directory may be deleted at any time, but its files must never be changed in
//! place, as running backends map them.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use pgrx::pg_sys;
use wasmtime::Engine;
use wasmtime::component::Component;

const MAGIC: &[u8; 8] = b"PGCWASM1";
const HEADER: usize = 8 + 8 + 4;

/// The cache directory, created on first use; `None` if there is no data directory.
fn cache_dir() -> Option<PathBuf> {
    // SAFETY: DataDir is set for every backend before SQL runs; read as a C string.
    let data_dir = unsafe {
        let p = pg_sys::DataDir;
        if p.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    };
    let dir = PathBuf::from(data_dir).join("pg_component_cache");
    if !dir.is_dir() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().mode(0o700).create(&dir).ok()?;
    }
    Some(dir)
}

/// Hex of a hash of the engine's compatibility key.
fn engine_key(engine: &Engine) -> String {
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!("{:016x}", h.finish())
}

/// Where the compiled code for `sha256` lives; its checksum file is [`sum_path`].
pub fn entry_path(engine: &Engine, sha256: &str) -> Option<PathBuf> {
    Some(cache_dir()?.join(format!("{sha256}-{}.cwasm", engine_key(engine))))
}

/// The checksum file of an entry.
pub fn sum_path(entry: &Path) -> PathBuf {
    entry.with_extension("sum")
}

/// The checksum header for a payload.
pub fn frame_sum(payload: &[u8]) -> [u8; HEADER] {
    let mut out = [0u8; HEADER];
    out[..8].copy_from_slice(MAGIC);
    out[8..16].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    out[16..].copy_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out
}

/// Whether `payload` is what the checksum header `sum` describes.
pub fn verify_sum(sum: &[u8], payload: &[u8]) -> bool {
    sum.len() == HEADER && sum[..8] == *MAGIC && sum[..] == frame_sum(payload)[..]
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
        .is_ok_and(|sum| with_mapped(&file, |payload| verify_sum(&sum, payload)));
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
    // SAFETY: getpid has no preconditions.
    let tmp = path.with_extension(format!("tmp{}", unsafe { libc::getpid() }));
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
        .and_then(|()| write_atomically(&sum_path(&path), &frame_sum(&payload)));
    if let Err(e) = written {
        remove_entry(&path);
        pgrx::log!(
            "pg_component: could not write compiled-code cache entry {}: {e}",
            path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_only_their_payload() {
        let sum = frame_sum(b"compiled code");
        assert!(verify_sum(&sum, b"compiled code"));
        assert!(!verify_sum(&sum, b"compiled codE"));
        assert!(!verify_sum(&sum, b"compiled cod"));
        assert!(!verify_sum(&sum[..HEADER - 1], b"compiled code"));
        let mut foreign = sum;
        foreign[0] = b'X';
        assert!(!verify_sum(&foreign, b"compiled code"));
    }
}
