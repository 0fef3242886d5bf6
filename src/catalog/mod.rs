//! The plugin catalog: table `wasm.plugins`, read through read-only SPI (no transaction ID, so
//! calls work on standbys and in parallel workers) and written by `install`, and the backend's
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

/// The sha256 of every installed plugin of this database.
fn installed_sha256s() -> PluginResult<std::collections::HashSet<String>> {
    let sql = if linked_catalog()? {
        "SELECT sha256 FROM wasm.plugins UNION ALL \
         SELECT linked_sha256 FROM wasm.plugins WHERE linked_sha256 IS NOT NULL"
    } else {
        "SELECT sha256 FROM wasm.plugins"
    };
    let rows = select_rows(sql, &[], |row| row.get::<String>(1))?;
    Ok(rows.into_iter().flatten().collect())
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
    let linked = linked_catalog()?;
    let sql = if linked {
        "SELECT COALESCE(linked_sha256, sha256), schema_name::pg_catalog.text, deterministic, \
                'query' OPERATOR(pg_catalog.=) ANY (capabilities), version, \
                (SELECT pg_catalog.string_agg(pg_catalog.format('plugin \"%s\" for %s', l.value, l.key), ', ' ORDER BY l.key) \
                 FROM pg_catalog.jsonb_each_text(links) l) \
         FROM wasm.plugins WHERE name OPERATOR(pg_catalog.=) $1"
    } else if typed_catalog()? {
        "SELECT sha256, schema_name::pg_catalog.text, deterministic, \
                'query' OPERATOR(pg_catalog.=) ANY (capabilities), version \
         FROM wasm.plugins WHERE name OPERATOR(pg_catalog.=) $1"
    } else {
        "SELECT sha256, schema_name::pg_catalog.text, \
                COALESCE((options OPERATOR(pg_catalog.->>) 'deterministic')::pg_catalog.bool, false), \
                COALESCE(options OPERATOR(pg_catalog.->) 'capabilities' OPERATOR(pg_catalog.?) 'query', false), \
                version \
         FROM wasm.plugins WHERE name OPERATOR(pg_catalog.=) $1"
    };
    let row = select_rows(sql, &[name.into()], |row| {
        Ok((
            row.get::<String>(1)?.unwrap_or_default(),
            row.get::<String>(2)?.unwrap_or_default(),
            row.get::<bool>(3)?.unwrap_or(false),
            row.get::<bool>(4)?.unwrap_or(false),
            row.get::<i32>(5)?.unwrap_or(0),
            if linked {
                row.get::<String>(6)?.unwrap_or_default()
            } else {
                String::new()
            },
        ))
    })?
    .into_iter()
    .next();
    let Some((sha256, schema, deterministic, granted_query, version, links)) = row else {
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
