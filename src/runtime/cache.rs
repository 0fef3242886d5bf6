//! The rebuildable on-disk cache of compiled components, so a new backend deserializes
//! (milliseconds) instead of compiling (up to seconds).
//!
//! Entries live in `$PGDATA/pg_component_cache/` (mode 0700, owned by the server's OS user, like
//! the data files), named by the component's sha256 and a hash of the engine's compatibility
//! key (wasmtime version and configuration). Each file is a header (magic, payload length,
//! crc32 of the payload) followed by wasmtime's serialized code. A short, corrupt or foreign
//! entry is removed and the component recompiled from the bytes in `wasm.plugins`; the table is
//! always the source of truth.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::PathBuf;

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

/// Where the entry for `sha256` lives.
pub fn entry_path(engine: &Engine, sha256: &str) -> Option<PathBuf> {
    Some(cache_dir()?.join(format!("{sha256}-{}.cwasm", engine_key(engine))))
}

/// Split a cache file into its payload, checking magic, length and checksum.
pub fn verify_entry(file: &[u8]) -> Option<&[u8]> {
    if file.len() < HEADER || &file[..8] != MAGIC {
        return None;
    }
    let len = u64::from_le_bytes(file[8..16].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(file[16..20].try_into().ok()?);
    let payload = &file[HEADER..];
    (payload.len() == len && crc32fast::hash(payload) == crc).then_some(payload)
}

/// Frame a payload with the header `verify_entry` checks.
pub fn frame_entry(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// The compiled component for `sha256`, if a sound entry exists. A bad entry is removed.
pub fn read_cached(engine: &Engine, sha256: &str) -> Option<Component> {
    let path = entry_path(engine, sha256)?;
    let file = std::fs::read(&path).ok()?;
    let loaded = verify_entry(&file).and_then(|payload| {
        // SAFETY: the payload was written by `write_cached` of this engine configuration into a
        // directory only the server's OS user can write, and its checksum matches; wasmtime
        // also checks its own header, version and configuration before loading.
        unsafe { Component::deserialize(engine, payload) }.ok()
    });
    if loaded.is_none() {
        pgrx::log!(
            "pg_component: discarding unusable compiled-code cache entry {}",
            path.display()
        );
        let _ = std::fs::remove_file(&path);
    }
    loaded
}

/// Store the compiled component; failures only cost a recompilation later.
pub fn write_cached(engine: &Engine, sha256: &str, component: &Component) {
    let Some(path) = entry_path(engine, sha256) else {
        return;
    };
    let Ok(payload) = component.serialize() else {
        return;
    };
    // Write to a private temporary name, then rename: readers see a whole entry or none.
    // SAFETY: getpid has no preconditions.
    let tmp = path.with_extension(format!("tmp{}", unsafe { libc::getpid() }));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(&frame_entry(&payload))
                .and_then(|()| f.sync_all())
        })
        .and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
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
    fn entries_round_trip_and_damage_is_detected() {
        let framed = frame_entry(b"compiled code");
        assert_eq!(verify_entry(&framed), Some(&b"compiled code"[..]));
        let mut flipped = framed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(verify_entry(&flipped), None);
        assert_eq!(verify_entry(&framed[..framed.len() - 1]), None);
        assert_eq!(verify_entry(b"PGCWASM1"), None);
        let mut foreign = framed;
        foreign[0] = b'X';
        assert_eq!(verify_entry(&foreign), None);
    }
}
