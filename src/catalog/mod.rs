//! The plugin catalog: table `wasm.plugins`, read on the call path by a heap scan
//! (`scan_plugins`: nothing to parse or plan on a backend's first call) and elsewhere through
//! read-only SPI (neither takes a transaction ID, so calls work on standbys and in parallel
//! workers), written by `install`, and the backend's
//! cache of resolved plugins (invalidated through `crate::cache` at the commit of any install,
//! replace or uninstall). `acl` holds the privilege checks.
//!
//! Every query is schema-qualified and uses `OPERATOR(pg_catalog.=)`, so nothing depends on
//! the caller's `search_path`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use pgrx::pg_sys;
use pgrx::prelude::*;

pub mod acl;
pub mod install;
pub mod link;

use crate::error::{PluginError, PluginResult};
use crate::runtime::plugin::{CompiledPlugin, load_component};

/// An installed plugin, resolved to its compiled component.
pub struct ResolvedPlugin {
    /// Its name in the catalog.
    pub name: String,
    /// The schema its functions were generated into.
    pub schema: String,
    /// Installed with `deterministic => true`: its functions may be IMMUTABLE and PARALLEL SAFE.
    pub deterministic: bool,
    /// Granted the `query` capability: its functions may be STABLE (never PARALLEL SAFE).
    pub reads_database: bool,
    /// The compiled component.
    pub compiled: Rc<CompiledPlugin>,
    /// The last role that passed the privilege check, and the catalog generation it passed
    /// in (privilege and role membership changes bump the generation).
    pub checked: Cell<(pg_sys::Oid, u64)>,
    /// What its calls cost and how they fail, not yet flushed (`crate::stats`).
    pub counters: Rc<crate::stats::PluginCounters>,
    /// The plugins it is composed with (`plugin "geo" for acme:geo/distance@0.1.0`), or empty.
    pub links: String,
    /// Where its calls found their instance last.
    pub hint: crate::runtime::call::InstanceHint,
}

impl ResolvedPlugin {
    /// Who calls, for the runtime: the name and whether it is deterministic.
    pub fn caller(&self) -> crate::runtime::call::Caller<'_> {
        crate::runtime::call::Caller {
            plugin: &self.name,
            deterministic: self.deterministic,
            counters: crate::guc::track_stats().then_some(&*self.counters),
            links: &self.links,
            hint: Some(&self.hint),
        }
    }
}

/// The linear memory of this backend's live instances of plugin `name`'s component, if it is
/// resolved.
pub fn live_memory(name: &str) -> Option<u64> {
    let plugin = PLUGINS.with(|p| p.borrow().get(name).cloned())?;
    Some(crate::runtime::call::live_memory(&plugin.compiled))
}

/// The host interface the `query` capability grants.
pub const QUERY_INTERFACE: &str = "pg-component:plugin/query@";

thread_local! {
    static PLUGINS: RefCell<HashMap<String, Rc<ResolvedPlugin>>> = RefCell::new(HashMap::new());
    static PLUGINS_RELID: Cell<pg_sys::Oid> = const { Cell::new(pg_sys::Oid::INVALID) };
}

/// Forget every resolved plugin of this backend (the caches' invalidation calls it).
pub fn forget_resolved() {
    PLUGINS.with(|p| p.borrow_mut().clear());
}

/// The OID of `wasm.plugins` if this backend has looked it up, else `InvalidOid`.
pub fn plugins_relid_if_known() -> pg_sys::Oid {
    PLUGINS_RELID.with(|r| r.get())
}

/// Tell every backend, at commit, that the catalog changed. `displaced` is the sha256 of the
/// component a replace or uninstall took out of use: if no plugin uses it any more, its
/// compiled code leaves the on-disk cache when the transaction commits.
pub fn broadcast_change(displaced: Option<&str>) -> PluginResult<()> {
    let relid = plugins_relid()?;
    // SAFETY: queues a relcache invalidation for an existing relation; sent at commit.
    unsafe { pg_sys::CacheInvalidateRelcacheByRelid(relid) };
    if let Some(sha) = displaced
        && !installed_sha256s()?.contains(sha)
    {
        crate::runtime::cache::drop_at_commit(sha);
    }
    Ok(())
}

/// The OID of `wasm.plugins`, by syscache lookups: no SPI, no snapshot, no transaction ID.
fn plugins_relid() -> PluginResult<pg_sys::Oid> {
    let known = PLUGINS_RELID.with(|r| r.get());
    if known != pg_sys::Oid::INVALID {
        return Ok(known);
    }
    // SAFETY: syscache lookups by name with NUL-terminated literals; `missing_ok` makes a
    // missing schema return InvalidOid instead of raising.
    let oid = unsafe {
        let namespace = pg_sys::get_namespace_oid(c"wasm".as_ptr(), true);
        if namespace == pg_sys::Oid::INVALID {
            pg_sys::Oid::INVALID
        } else {
            pg_sys::get_relname_relid(c"plugins".as_ptr(), namespace)
        }
    };
    if oid == pg_sys::Oid::INVALID {
        return Err(PluginError::Internal(
            "cannot find wasm.plugins: is the extension pg_component installed?".into(),
        ));
    }
    PLUGINS_RELID.with(|r| r.set(oid));
    Ok(oid)
}

/// Whether `wasm.plugins` has the column `name`: a syscache lookup, no SPI, no XID.
fn has_column(name: &std::ffi::CStr) -> PluginResult<bool> {
    let relid = plugins_relid()?;
    // SAFETY: a syscache lookup of an attribute by relation OID and a NUL-terminated name;
    // a missing attribute returns InvalidAttrNumber.
    let attnum = unsafe { pg_sys::get_attnum(relid, name.as_ptr()) };
    Ok(attnum != pg_sys::InvalidAttrNumber as pg_sys::AttrNumber)
}

/// Whether `wasm.plugins` keeps its bookkeeping in typed columns (`deterministic`,
/// `capabilities`, `created_schema`, `generated_types`; extension version 0.3.0 on). A library
/// newer than the extension's SQL (the package upgraded but `ALTER EXTENSION pg_component
/// UPDATE` not yet run, or a standby of a primary that has not run it) reads and writes the
/// older layout, where they lived in the `options` jsonb.
pub fn typed_catalog() -> PluginResult<bool> {
    has_column(c"capabilities")
}

/// Whether `wasm.plugins` records links between plugins (`links`, `linked_bytes`,
/// `linked_sha256`; extension version 0.5.0 on). Without them no plugin can be linked.
pub fn linked_catalog() -> PluginResult<bool> {
    has_column(c"linked_sha256")
}

/// Run a query through SPI in read-only mode and map its rows. Unlike pgrx's `Spi::get_one*`
/// and `Spi::run*`, this does not mark the transaction as writing, so it takes no transaction
/// ID: it works on a hot standby, in a parallel worker and in a read-only transaction.
pub(crate) fn select_rows<T>(
    sql: &str,
    args: &[pgrx::datum::DatumWithOid],
    mut each: impl FnMut(&pgrx::spi::SpiHeapTupleData) -> pgrx::spi::Result<T>,
) -> PluginResult<Vec<T>> {
    Spi::connect(|client| {
        let mut out = Vec::new();
        for row in client.select(sql, None, args)? {
            out.push(each(&row)?);
        }
        Ok::<_, pgrx::spi::Error>(out)
    })
    .map_err(|e| PluginError::Internal(format!("cannot read wasm.plugins: {e}")))
}

/// One row of `wasm.plugins` met by [`scan_plugins`]: its columns read by name, so every
/// layout of the table (0.1.0 on) reads the same way.
struct CatalogRow {
    tuple: pg_sys::HeapTuple,
    desc: pg_sys::TupleDesc,
    relid: pg_sys::Oid,
}

impl CatalogRow {
    /// Column `column` of the row; `None` for NULL or for a column this layout lacks.
    fn datum(&self, column: &std::ffi::CStr) -> Option<pg_sys::Datum> {
        // SAFETY: a syscache lookup of an attribute by name (InvalidAttrNumber when missing);
        // then attribute `attnum` of a valid tuple of `desc` (a missing value of a column added
        // later comes from the descriptor's defaults).
        unsafe {
            let attnum = pg_sys::get_attnum(self.relid, column.as_ptr());
            if attnum == pg_sys::InvalidAttrNumber as pg_sys::AttrNumber {
                return None;
            }
            let mut isnull = false;
            let datum = pg_sys::heap_getattr(self.tuple, attnum.into(), self.desc, &mut isnull);
            (!isnull).then_some(datum)
        }
    }

    /// A `text` column.
    fn text(&self, column: &std::ffi::CStr) -> Option<String> {
        // SAFETY: a non-null datum of a text column.
        self.datum(column)
            .and_then(|d| unsafe { String::from_datum(d, false) })
    }

    /// A `name` column.
    fn name(&self, column: &std::ffi::CStr) -> Option<String> {
        self.datum(column).map(|d| {
            // SAFETY: a non-null datum of a `name` column points at its NameData, a
            // NUL-terminated string within NAMEDATALEN bytes.
            unsafe {
                std::ffi::CStr::from_ptr((*d.cast_mut_ptr::<pg_sys::NameData>()).data.as_ptr())
            }
            .to_string_lossy()
            .into_owned()
        })
    }

    /// A `boolean` column.
    fn bool(&self, column: &std::ffi::CStr) -> Option<bool> {
        self.datum(column).map(|d| d.value() != 0)
    }

    /// An `integer` column.
    fn int4(&self, column: &std::ffi::CStr) -> Option<i32> {
        self.datum(column).map(|d| d.value() as i32)
    }

    /// A `jsonb` column.
    fn jsonb(&self, column: &std::ffi::CStr) -> Option<serde_json::Value> {
        // SAFETY: a non-null datum of a jsonb column.
        self.datum(column)
            .and_then(|d| unsafe { pgrx::JsonB::from_datum(d, false) })
            .map(|pgrx::JsonB(j)| j)
    }

    /// A `text[]` column's non-null elements.
    fn text_array(&self, column: &std::ffi::CStr) -> Option<Vec<String>> {
        // SAFETY: a non-null datum of a text[] column.
        self.datum(column)
            .and_then(|d| unsafe { Vec::<Option<String>>::from_datum(d, false) })
            .map(|items| items.into_iter().flatten().collect())
    }
}

/// Read every row of `wasm.plugins` until `each` returns false: a heap scan, with no SPI
/// (nothing to parse or plan on a backend's first call), no transaction ID and no privilege
/// check on the table (the callers check the plugin's own), so it works on a hot standby and
/// in a parallel worker. It sees what Postgres' own catalog lookups see (a catalog snapshot:
/// everything committed, and this transaction's changes up to its last command), as the
/// lookups of the generated functions in `pg_proc` do: a function and its plugin's row are
/// seen together, whatever the isolation level.
fn scan_plugins(mut each: impl FnMut(&CatalogRow) -> bool) -> PluginResult<()> {
    let relid = plugins_relid()?;
    // SAFETY: opens an existing relation with the lock a query takes; scans it under a catalog
    // snapshot (a null snapshot: systable_beginscan registers one and releases it at the end);
    // every row the scan returns is valid until the next one; the scan and relation are closed
    // on the way out (an ERROR in between aborts the transaction, which releases them).
    unsafe {
        let rel = pg_sys::table_open(relid, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
        let scan = pg_sys::systable_beginscan(
            rel,
            pg_sys::InvalidOid,
            false,
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
        );
        loop {
            let tuple = pg_sys::systable_getnext(scan);
            if tuple.is_null() {
                break;
            }
            let row = CatalogRow {
                tuple,
                desc: (*rel).rd_att,
                relid,
            };
            if !each(&row) {
                break;
            }
        }
        pg_sys::systable_endscan(scan);
        pg_sys::table_close(rel, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
    }
    Ok(())
}

/// What a call needs of a plugin's catalog row.
struct PluginRow {
    /// The component that runs: the linked one if the plugin is linked.
    sha256: String,
    schema: String,
    deterministic: bool,
    granted_query: bool,
    version: i32,
    /// `plugin "geo" for acme:geo/distance@0.1.0, …`, by import; empty when not linked.
    links: String,
}

/// Plugin `name`'s row, read by [`scan_plugins`]. The layouts before 0.3.0 kept
/// `deterministic` and `capabilities` in the `options` jsonb.
fn plugin_row(name: &str) -> PluginResult<Option<PluginRow>> {
    let mut found = None;
    scan_plugins(|row| {
        if row.text(c"name").as_deref() != Some(name) {
            return true;
        }
        // The layouts before 0.3.0 keep both in `options`, as install wrote them there: a
        // JSON boolean and an array of strings.
        let options = row.jsonb(c"options");
        let option = |key: &str| options.as_ref().and_then(|o| o.get(key).cloned());
        let deterministic = row.bool(c"deterministic").unwrap_or_else(|| {
            option("deterministic")
                .and_then(|v| v.as_bool())
                .unwrap_or(false)
        });
        let capabilities = row.text_array(c"capabilities").unwrap_or_else(|| {
            option("capabilities")
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default()
        });
        let granted_query = capabilities.iter().any(|c| c == "query");
        let links = match row.jsonb(c"links") {
            Some(serde_json::Value::Object(links)) => {
                let mut links: Vec<_> = links.into_iter().collect();
                links.sort_by(|a, b| a.0.cmp(&b.0));
                links
                    .iter()
                    .map(|(import, provider)| {
                        let provider = provider
                            .as_str()
                            .map_or_else(|| provider.to_string(), str::to_string);
                        format!("plugin \"{provider}\" for {import}")
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            }
            _ => String::new(),
        };
        found = Some(PluginRow {
            sha256: row
                .text(c"linked_sha256")
                .or_else(|| row.text(c"sha256"))
                .unwrap_or_default(),
            schema: row.name(c"schema_name").unwrap_or_default(),
            deterministic,
            granted_query,
            version: row.int4(c"version").unwrap_or(0),
            links,
        });
        false
    })?;
    Ok(found)
}

/// The sha256 of every component an installed plugin of this database runs (its own, and its
/// composition's when linked).
fn installed_sha256s() -> PluginResult<std::collections::HashSet<String>> {
    let mut live = std::collections::HashSet::new();
    scan_plugins(|row| {
        live.extend(row.text(c"sha256"));
        live.extend(row.text(c"linked_sha256"));
        true
    })?;
    Ok(live)
}

thread_local! {
    static SWEPT: Cell<bool> = const { Cell::new(false) };
}

/// Once per backend, at its first plugin resolution: remove this database's cache entries that
/// no installed plugin uses (see `runtime::cache`). This is what cleans a standby's cache,
/// where replayed uninstalls run no code of ours. Parallel workers leave it to their leader.
fn sweep_cache_once() -> PluginResult<()> {
    if SWEPT.with(|s| s.replace(true)) {
        return Ok(());
    }
    // SAFETY: reads a backend-local global (IsParallelWorker() in C).
    if unsafe { pg_sys::ParallelWorkerNumber } >= 0 {
        return Ok(());
    }
    let live = installed_sha256s()?;
    let rt = crate::runtime::runtime()?;
    crate::runtime::cache::sweep(&rt.engine, &live, crate::runtime::cache::SWEEP_GRACE);
    Ok(())
}

/// Runs `f` with the bootstrap superuser as the current user, so the plugin's bytes can be
/// read whatever the caller's column privileges (callers may not SELECT `bytes`).
pub(crate) fn as_superuser<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(pg_sys::Oid, i32);
    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: restores the user and security context saved below.
            unsafe { pg_sys::SetUserIdAndSecContext(self.0, self.1) };
        }
    }
    let mut user = pg_sys::Oid::INVALID;
    let mut context = 0;
    // SAFETY: reads and then sets backend-local state; the guard restores it even when an
    // ERROR unwinds through here (and Postgres' abort processing restores it too).
    unsafe {
        pg_sys::GetUserIdAndSecContext(&mut user, &mut context);
        pg_sys::SetUserIdAndSecContext(
            pg_sys::Oid::from(pg_sys::BOOTSTRAP_SUPERUSERID),
            context | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32,
        );
    }
    let _restore = Restore(user, context);
    f()
}

/// The bytes that run for an installed plugin (its composition with its providers if it is
/// linked), read as the bootstrap superuser: callers need not be able to SELECT them.
pub(crate) fn fetch_bytes(name: &str) -> PluginResult<Vec<u8>> {
    let sql = if linked_catalog()? {
        "SELECT COALESCE(linked_bytes, bytes) FROM wasm.plugins WHERE name OPERATOR(pg_catalog.=) $1"
    } else {
        "SELECT bytes FROM wasm.plugins WHERE name OPERATOR(pg_catalog.=) $1"
    };
    as_superuser(|| select_rows(sql, &[name.into()], |row| row.get::<Vec<u8>>(1)))?
        .into_iter()
        .flatten()
        .next()
        .ok_or_else(|| {
            PluginError::UndefinedPlugin(format!("plugin \"{name}\" is not installed"), None)
        })
}

/// Resolve an installed plugin by name: from this backend's cache, or by reading the catalog
/// and loading its compiled code (from the on-disk cache, or compiling its bytes).
pub fn resolve_plugin(name: &str) -> PluginResult<Rc<ResolvedPlugin>> {
    if let Some(hit) = PLUGINS.with(|p| p.borrow().get(name).cloned()) {
        return Ok(hit);
    }
    plugins_relid()?;
    sweep_cache_once()?;
    let Some(PluginRow {
        sha256,
        schema,
        deterministic,
        granted_query,
        version,
        links,
    }) = plugin_row(name)?
    else {
        return Err(PluginError::UndefinedPlugin(
            format!("plugin \"{name}\" is not installed"),
            Some("wasm.plugins lists the installed plugins".into()),
        ));
    };
    let (compiled, load) = load_component(&sha256, || fetch_bytes(name))?;
    crate::stats::log_load(name, &compiled, load);
    // A linked plugin whose provider reads the database imports the query interface too.
    let reads_database = granted_query
        || compiled
            .imports
            .iter()
            .any(|i| i.starts_with(QUERY_INTERFACE));
    let exports = compiled.exports.iter().map(|e| e.name.clone()).collect();
    let counters = crate::stats::PluginCounters::new(name, version, exports, load);
    let resolved = Rc::new(ResolvedPlugin {
        name: name.to_string(),
        schema,
        deterministic,
        reads_database,
        compiled,
        checked: Cell::new((pg_sys::Oid::INVALID, u64::MAX)),
        counters,
        links,
        hint: Default::default(),
    });
    PLUGINS.with(|p| p.borrow_mut().insert(name.to_string(), resolved.clone()));
    Ok(resolved)
}
