//! The statistics of every backend, in shared memory, when the library is in
//! `shared_preload_libraries` (shared memory can only be requested at postmaster start: PG 15's
//! `shmem_request_hook`). A fixed table of [`ENTRIES`] rows under one LWLock, written at the
//! end of statements (`super::flush`), read by `wasm.stats`.

use pgrx::pg_sys;

use super::{Counts, PluginCounts, Row};

/// How many (database, plugin, export) rows shared memory holds; further ones are counted in
/// their backend only.
pub const ENTRIES: usize = 4096;
const NAME: usize = 64;
const TRANCHE: &std::ffi::CStr = c"pg_component";

#[repr(C)]
#[derive(Clone, Copy)]
struct Entry {
    used: bool,
    database: pg_sys::Oid,
    version: i32,
    plugin: [u8; NAME],
    /// Empty for a plugin's own row.
    export: [u8; NAME],
    has_export: bool,
    counts: Counts,
    plugin_counts: PluginCounts,
}

#[repr(C)]
struct Table {
    entries: [Entry; ENTRIES],
}

static mut TABLE: *mut Table = std::ptr::null_mut();
static mut PREV_REQUEST: pg_sys::shmem_request_hook_type = None;
static mut PREV_STARTUP: pg_sys::shmem_startup_hook_type = None;

/// Whether statistics are kept in shared memory (the library was preloaded).
pub fn available() -> bool {
    // SAFETY: set once, at shared memory startup, before any query runs.
    unsafe { !TABLE.is_null() }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn request() {
    // SAFETY: called by the postmaster while shared memory may be requested.
    unsafe {
        if let Some(prev) = PREV_REQUEST {
            prev();
        }
        pg_sys::RequestAddinShmemSpace(std::mem::size_of::<Table>());
        pg_sys::RequestNamedLWLockTranche(TRANCHE.as_ptr(), 1);
    }
}

/// `AddinShmemInitLock`: entry 21 of the main LWLock array in PG 15 (storage/lwlocknames.h).
///
/// # Safety
/// Shared memory must be set up (it is when the startup hook runs).
unsafe fn addin_shmem_init_lock() -> *mut pg_sys::LWLock {
    // SAFETY: MainLWLockArray has every named lock (the caller's contract).
    unsafe { &raw mut (*pg_sys::MainLWLockArray.add(21)).lock }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn startup() {
    // SAFETY: called by the postmaster (and EXEC_BACKEND children) after shared memory is
    // created; the struct is zeroed by the one that creates it, under AddinShmemInitLock.
    unsafe {
        if let Some(prev) = PREV_STARTUP {
            prev();
        }
        pg_sys::LWLockAcquire(addin_shmem_init_lock(), pg_sys::LWLockMode::LW_EXCLUSIVE);
        let mut found = false;
        let table = pg_sys::ShmemInitStruct(
            c"pg_component statistics".as_ptr(),
            std::mem::size_of::<Table>(),
            &mut found,
        ) as *mut Table;
        if !found {
            std::ptr::write_bytes(table, 0, 1);
        }
        TABLE = table;
        pg_sys::LWLockRelease(addin_shmem_init_lock());
    }
}

/// Request shared memory when the library is being preloaded; called from `_PG_init`.
pub fn register() {
    // SAFETY: reads a postmaster flag; hooks chained once, at preload.
    unsafe {
        if !pg_sys::process_shared_preload_libraries_in_progress {
            return;
        }
        PREV_REQUEST = pg_sys::shmem_request_hook;
        pg_sys::shmem_request_hook = Some(request);
        PREV_STARTUP = pg_sys::shmem_startup_hook;
        pg_sys::shmem_startup_hook = Some(startup);
    }
}

fn lock() -> *mut pg_sys::LWLock {
    // SAFETY: the tranche was requested at preload (available() is true).
    unsafe { &raw mut (*pg_sys::GetNamedLWLockTranche(TRANCHE.as_ptr())).lock }
}

fn name(s: &str) -> [u8; NAME] {
    let mut out = [0u8; NAME];
    let n = s.len().min(NAME - 1);
    out[..n].copy_from_slice(&s.as_bytes()[..n]);
    out
}

fn text(b: &[u8; NAME]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(NAME);
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Run `f` on the table under the lock in `mode`.
fn with_table<T>(mode: pg_sys::LWLockMode::Type, f: impl FnOnce(&mut Table) -> T) -> Option<T> {
    if !available() {
        return None;
    }
    // SAFETY: the table lives in shared memory for the postmaster's life; the LWLock
    // serializes access (an ERROR releases it at abort).
    unsafe {
        pg_sys::LWLockAcquire(lock(), mode);
        let out = f(&mut *TABLE);
        pg_sys::LWLockRelease(lock());
        Some(out)
    }
}

/// Add rows (new counts of this backend) to the shared table.
pub fn add(rows: &[Row]) {
    with_table(pg_sys::LWLockMode::LW_EXCLUSIVE, |t| {
        for row in rows {
            let (plugin, export) = (name(&row.plugin), name(row.export.as_deref().unwrap_or("")));
            let has_export = row.export.is_some();
            let found = t.entries.iter().position(|e| {
                e.used
                    && e.database == row.database
                    && e.plugin == plugin
                    && e.export == export
                    && e.has_export == has_export
            });
            let slot = found.or_else(|| t.entries.iter().position(|e| !e.used));
            let Some(i) = slot else { continue };
            let e = &mut t.entries[i];
            if found.is_none() {
                *e = Entry {
                    used: true,
                    database: row.database,
                    version: row.version,
                    plugin,
                    export,
                    has_export,
                    counts: Counts::default(),
                    plugin_counts: PluginCounts::default(),
                };
            }
            e.version = e.version.max(row.version);
            e.counts.add(&row.counts);
            e.plugin_counts.add(&row.plugin_counts);
        }
    });
}

/// Every row in the shared table; `None` when the library was not preloaded.
pub fn rows() -> Option<Vec<Row>> {
    with_table(pg_sys::LWLockMode::LW_SHARED, |t| {
        t.entries
            .iter()
            .filter(|e| e.used)
            .map(|e| Row {
                database: e.database,
                plugin: text(&e.plugin),
                version: e.version,
                export: e.has_export.then(|| text(&e.export)),
                counts: e.counts,
                plugin_counts: e.plugin_counts,
            })
            .collect()
    })
}

/// Clear every row, or those of one plugin of one database.
pub fn reset(plugin: Option<(pg_sys::Oid, &str)>) {
    with_table(pg_sys::LWLockMode::LW_EXCLUSIVE, |t| {
        for e in t.entries.iter_mut() {
            let matches = match plugin {
                None => true,
                Some((db, p)) => e.database == db && e.plugin == name(p),
            };
            if matches {
                e.used = false;
            }
        }
    });
}
