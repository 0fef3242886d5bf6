//! Observability: per plugin and export, how many calls, how long inside the guest, how often
//! it failed and why, how many instances, compiles and cache loads, and how much memory.
//!
//! The call path counts exactly, per backend, in the resolved plugin's [`PluginCounters`]: no
//! lock and no atomic per row. Time is sampled: one call in [`SAMPLE_EVERY`] reads the clock
//! twice (two clock reads cost about as much as a typed call). At the end of every statement
//! (`ExecutorEnd`) and transaction, the new counts go to this backend's totals and, when the
//! library is in `shared_preload_libraries`, to shared memory (`shmem`), where `wasm.stats`
//! reads every backend's.

pub mod shmem;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering::Relaxed};

use pgrx::pg_sys;

use crate::error::{PluginError, TrapKind};

/// One call in this many is timed.
pub const SAMPLE_EVERY: u64 = 64;

/// What happened to calls of one export.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub calls: u64,
    /// Calls that were timed, and their time inside the guest.
    pub sampled: u64,
    pub sampled_ns: u64,
    /// A trap of the guest's own (panic, unreachable, bad access, exit).
    pub traps: u64,
    /// A limit stopped it: time (cancel, timeout, wasm.max_call_time), memory, handles.
    pub limits: u64,
    /// The guest returned `err`.
    pub guest_errors: u64,
    /// A value could not cross (NULL where no option, out of range, malformed, ...).
    pub bad_values: u64,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.calls += o.calls;
        self.sampled += o.sampled;
        self.sampled_ns += o.sampled_ns;
        self.traps += o.traps;
        self.limits += o.limits;
        self.guest_errors += o.guest_errors;
        self.bad_values += o.bad_values;
    }
}

/// What happened to one plugin, beyond its exports' calls.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PluginCounts {
    pub instances: u64,
    pub compiles: u64,
    pub compile_ns: u64,
    pub cache_loads: u64,
    pub cache_load_ns: u64,
    /// The largest linear memory an instance of it had, in bytes.
    pub peak_memory: u64,
}

impl PluginCounts {
    pub fn add(&mut self, o: &PluginCounts) {
        self.instances += o.instances;
        self.compiles += o.compiles;
        self.compile_ns += o.compile_ns;
        self.cache_loads += o.cache_loads;
        self.cache_load_ns += o.cache_load_ns;
        self.peak_memory = self.peak_memory.max(o.peak_memory);
    }
}

/// How a plugin's compiled code was obtained when it was resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Load {
    /// This backend had it.
    Memory,
    /// Mapped from the on-disk cache, in this many nanoseconds.
    Cache(u64),
    /// Compiled, in this many nanoseconds.
    Compiled(u64),
}

/// The counters of one resolved plugin in this backend, not yet flushed.
#[derive(Debug)]
pub struct PluginCounters {
    pub plugin: String,
    pub version: i32,
    exports: Vec<String>,
    counts: RefCell<Vec<Counts>>,
    plugin_counts: Cell<PluginCounts>,
}

thread_local! {
    /// Every plugin's counters, until flushed and no longer used.
    static REGISTRY: RefCell<Vec<Rc<PluginCounters>>> = const { RefCell::new(Vec::new()) };
    /// This backend's totals since it started (or the last reset).
    static TOTALS: RefCell<Vec<Row>> = const { RefCell::new(Vec::new()) };
}

/// The counters of the current call's plugin, and its export: errors are counted against
/// them. Process globals rather than thread-locals, set on every call (see `cache::GENERATION`).
static CURRENT_COUNTERS: AtomicPtr<PluginCounters> = AtomicPtr::new(std::ptr::null_mut());
static CURRENT_EXPORT: AtomicUsize = AtomicUsize::new(0);

/// One row of the statistics: an export's counts, or (with no export) a plugin's.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub database: pg_sys::Oid,
    pub plugin: String,
    pub version: i32,
    pub export: Option<String>,
    pub counts: Counts,
    pub plugin_counts: PluginCounts,
}

fn database() -> pg_sys::Oid {
    // SAFETY: MyDatabaseId is set before any SQL runs.
    unsafe { pg_sys::MyDatabaseId }
}

impl PluginCounters {
    /// Counters for plugin `plugin` (catalog `version`) with these exports (functions, then
    /// resource functions, as the compiled plugin lists them).
    pub fn new(plugin: &str, version: i32, exports: Vec<String>, load: Load) -> Rc<Self> {
        let counters = Rc::new(PluginCounters {
            plugin: plugin.to_string(),
            version,
            counts: RefCell::new(vec![Counts::default(); exports.len()]),
            exports,
            plugin_counts: Cell::new(PluginCounts::default()),
        });
        counters.loaded(load);
        REGISTRY.with(|r| r.borrow_mut().push(counters.clone()));
        counters
    }

    /// Errors from now on are counted against `export`.
    pub fn enter(&self, export: usize) {
        CURRENT_COUNTERS.store((self as *const PluginCounters).cast_mut(), Relaxed);
        CURRENT_EXPORT.store(export, Relaxed);
    }

    /// Count a call of `export`; true when this one is to be timed.
    #[inline]
    pub fn call(&self, export: usize) -> bool {
        self.enter(export);
        let mut counts = self.counts.borrow_mut();
        let Some(c) = counts.get_mut(export) else {
            return false;
        };
        c.calls += 1;
        c.calls % SAMPLE_EVERY == 1
    }

    /// The time of a timed call.
    pub fn timed(&self, export: usize, ns: u64) {
        if let Some(c) = self.counts.borrow_mut().get_mut(export) {
            c.sampled += 1;
            c.sampled_ns += ns;
        }
    }

    fn update(&self, f: impl FnOnce(&mut PluginCounts)) {
        let mut p = self.plugin_counts.get();
        f(&mut p);
        self.plugin_counts.set(p);
    }

    /// An instance was created.
    pub fn instance_created(&self) {
        self.update(|p| p.instances += 1);
    }

    /// An instance's linear memory is `bytes` after a call.
    pub fn memory(&self, bytes: usize) {
        self.update(|p| p.peak_memory = p.peak_memory.max(bytes as u64));
    }

    /// The plugin's compiled code was obtained.
    pub fn loaded(&self, load: Load) {
        self.update(|p| match load {
            Load::Memory => {}
            Load::Cache(ns) => {
                p.cache_loads += 1;
                p.cache_load_ns += ns;
            }
            Load::Compiled(ns) => {
                p.compiles += 1;
                p.compile_ns += ns;
            }
        });
    }

    fn error(&self, export: usize, err: &PluginError) {
        let mut counts = self.counts.borrow_mut();
        let Some(c) = counts.get_mut(export) else {
            return;
        };
        match err {
            PluginError::GuestTrap { stop, .. } => match stop {
                TrapKind::Trap | TrapKind::BadResult => c.traps += 1,
                TrapKind::Limit | TrapKind::Interrupted => c.limits += 1,
            },
            PluginError::GuestError { .. } => c.guest_errors += 1,
            PluginError::BadValue { .. } => c.bad_values += 1,
            _ => {}
        }
    }

    /// Take the counts not yet flushed, as rows.
    fn take(&self) -> Vec<Row> {
        let db = database();
        let mut rows = Vec::new();
        let mut counts = self.counts.borrow_mut();
        for (name, c) in self.exports.iter().zip(counts.iter_mut()) {
            if *c != Counts::default() {
                rows.push(Row {
                    database: db,
                    plugin: self.plugin.clone(),
                    version: self.version,
                    export: Some(name.clone()),
                    counts: std::mem::take(c),
                    plugin_counts: PluginCounts::default(),
                });
            }
        }
        let p = self.plugin_counts.take();
        if p != PluginCounts::default() {
            rows.push(Row {
                database: db,
                plugin: self.plugin.clone(),
                version: self.version,
                export: None,
                counts: Counts::default(),
                plugin_counts: p,
            });
        }
        rows
    }
}

/// LOG a compile or a load from the on-disk cache, naming the plugin, its size and the time.
pub fn log_load(plugin: &str, compiled: &crate::runtime::plugin::CompiledPlugin, load: Load) {
    let what = match load {
        Load::Memory => return,
        Load::Cache(ns) => format!(
            "loaded its compiled code from the cache in {:.1} ms",
            ns as f64 / 1e6
        ),
        Load::Compiled(ns) => format!("compiled in {:.1} ms", ns as f64 / 1e6),
    };
    pgrx::log!(
        "pg_component: plugin \"{plugin}\" (component {}, {} exports) {what}",
        &compiled.sha256[..12],
        compiled.exports.len()
    );
}

/// Count a compile or cache load made outside a resolved plugin (by `wasm.install`).
pub fn loaded_by_install(plugin: &str, load: Load) {
    let mut p = PluginCounts::default();
    match load {
        Load::Memory => return,
        Load::Cache(ns) => {
            p.cache_loads = 1;
            p.cache_load_ns = ns;
        }
        Load::Compiled(ns) => {
            p.compiles = 1;
            p.compile_ns = ns;
        }
    }
    let row = Row {
        database: database(),
        plugin: plugin.to_string(),
        version: 0,
        export: None,
        counts: Counts::default(),
        plugin_counts: p,
    };
    shmem::add(std::slice::from_ref(&row));
    TOTALS.with(|t| merge_row(&mut t.borrow_mut(), row));
}

/// Count `err` against the export of the current call, if any.
pub fn note_error(err: &PluginError) {
    let (ptr, export) = (CURRENT_COUNTERS.load(Relaxed), CURRENT_EXPORT.load(Relaxed));
    if ptr.is_null() {
        return;
    }
    // SAFETY: CURRENT_COUNTERS points at counters the registry holds (it is cleared before the
    // registry lets any go).
    unsafe { (*ptr).error(export, err) };
}

/// Add `row` into `rows`, by database, plugin and export (the version is the latest).
pub fn merge_row(rows: &mut Vec<Row>, row: Row) {
    match rows
        .iter_mut()
        .find(|r| r.database == row.database && r.plugin == row.plugin && r.export == row.export)
    {
        Some(r) => {
            r.version = r.version.max(row.version);
            r.counts.add(&row.counts);
            r.plugin_counts.add(&row.plugin_counts);
        }
        None => rows.push(row),
    }
}

/// Move every new count into this backend's totals and shared memory; let go of the counters
/// of plugins no longer resolved.
pub fn flush() {
    let mut fresh = Vec::new();
    REGISTRY.with(|r| {
        let mut registry = r.borrow_mut();
        for counters in registry.iter() {
            fresh.extend(counters.take());
        }
        let before = registry.len();
        registry.retain(|c| Rc::strong_count(c) > 1);
        if registry.len() != before {
            CURRENT_COUNTERS.store(std::ptr::null_mut(), Relaxed);
        }
    });
    if fresh.is_empty() {
        return;
    }
    shmem::add(&fresh);
    TOTALS.with(|t| {
        let mut totals = t.borrow_mut();
        for row in fresh {
            merge_row(&mut totals, row);
        }
    });
}

/// This backend's totals (flushed first).
pub fn backend_rows() -> Vec<Row> {
    flush();
    TOTALS.with(|t| t.borrow().clone())
}

/// Forget this backend's totals (and, with `cluster`, shared memory's), for all plugins or
/// one plugin of this database (uninstall).
pub fn reset(plugin: Option<&str>) {
    flush();
    let db = database();
    let keep = |r: &Row| plugin.is_some_and(|p| r.database != db || r.plugin != p);
    TOTALS.with(|t| t.borrow_mut().retain(keep));
    shmem::reset(plugin.map(|p| (db, p)));
}

/// Flush at the end of each executor run (a statement, or a query inside one), but not of a
/// guest's own queries: the call that runs them is still counting, and the statement around
/// it flushes when it ends. (A flush per guest query cost a plugin's per-row lookup about
/// 1,900 instructions of its 47,000.)
#[pgrx::pg_guard]
unsafe extern "C-unwind" fn executor_end(query_desc: *mut pg_sys::QueryDesc) {
    // SAFETY: the previous hook (or the standard function) with Postgres' own argument.
    unsafe {
        match PREV_EXECUTOR_END {
            Some(prev) => prev(query_desc),
            None => pg_sys::standard_ExecutorEnd(query_desc),
        }
    }
    if !crate::runtime::call::in_guest_call() {
        flush();
    }
}

static mut PREV_EXECUTOR_END: pg_sys::ExecutorEnd_hook_type = None;

/// Install the executor hook (and, when preloaded, request shared memory); from `_PG_init`.
pub fn register() {
    // SAFETY: hooks are installed once per backend from _PG_init, chaining the previous one.
    unsafe {
        PREV_EXECUTOR_END = pg_sys::ExecutorEnd_hook;
        pg_sys::ExecutorEnd_hook = Some(executor_end);
    }
    shmem::register();
}
