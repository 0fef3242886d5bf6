//! Every in-memory cache of a backend, and their invalidation in one place.
//!
//! | cache | holds | keyed by | made stale by |
//! |---|---|---|---|
//! | `catalog::PLUGINS` | resolved plugins (row of `wasm.plugins` + compiled code) | plugin name | relcache inval of `wasm.plugins` (any install, replace, uninstall) |
//! | `call::bind::BOUND` | bound `LANGUAGE wasm` functions (conversion plans) | function OID | [`generation`] |
//! | `flinfo->fn_extra` (`call::bind::CallSite`) | the call site's binding, without a lookup | call site | [`generation`] |
//! | `call::trigger::TRIGGERS` | trigger functions bound to a table (row conversions) | function OID, table OID | [`generation`] (the table through [`depend_on_relation`]) |
//! | `call::aggregate::SUPPORT` | aggregate support functions bound to their resource method, or "not one" | function OID | [`generation`] |
//! | `call::transform::LAST_TARGET` | the last `wasm_transform` target | plugin, export | [`generation`] |
//! | `ResolvedPlugin::checked` | the role that passed the USAGE check | role | [`generation`] |
//! | `runtime::plugin::COMPILED` | compiled components | sha256 | never (content-addressed) |
//! | `runtime::call::INSTANCES` | live instances | compiled component, role, determinism, plugin, call depth | end of transaction; install, replace, uninstall; a trap |
//! | `ResolvedPlugin::hint` | the instance the plugin's last call used | role, transaction | `SLOTS_GENERATION` (any instance leaving `INSTANCES`) |
//! | `runtime::cache` (disk) | serialized compiled code | database, sha256, engine | see `runtime::cache` |
//!
//! [`generation`] is bumped by every invalidation that can make a binding stale: `wasm.plugins`
//! (relcache), `pg_proc`, schema privileges and role membership (syscache), enum labels, and
//! the composite types bindings convert through ([`depend_on_relation`]). Holders compare the
//! generation they were made in, so a stale entry is never used, and nothing is freed inside a
//! callback but the resolved plugins.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use pgrx::pg_sys;
use pgrx::prelude::*;

/// Bumped whenever the catalog changes; holders of resolved functions compare it. A process
/// global, not a thread-local: a backend is single-threaded, every call reads it, and a
/// thread-local in a shared library costs a `__tls_get_addr` call per read.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Bump [`GENERATION`].
fn bump() {
    GENERATION.fetch_add(1, Relaxed);
}

thread_local! {
    /// Relations whose row types bindings convert through.
    static BOUND_RELATIONS: RefCell<HashSet<pg_sys::Oid>> = RefCell::new(HashSet::new());
}

/// The catalog generation: changes whenever a cached resolution may be stale.
pub fn generation() -> u64 {
    GENERATION.load(Relaxed)
}

/// Forget every cached plugin resolution of this backend.
pub fn invalidate_local() {
    crate::catalog::forget_resolved();
    bump();
}

#[pg_guard]
unsafe extern "C-unwind" fn relcache_callback(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    let ours = crate::catalog::plugins_relid_if_known();
    if relid == pg_sys::Oid::INVALID || ours == pg_sys::Oid::INVALID || relid == ours {
        invalidate_local();
    } else if BOUND_RELATIONS.with(|b| b.borrow().contains(&relid)) {
        // A composite type (or table row type) a binding converts through changed.
        bump();
    }
}

/// Remember that a binding depends on the attributes of relation `relid` (a composite type's
/// or a table's): a change to it makes bindings be made again.
pub fn depend_on_relation(relid: pg_sys::Oid) {
    if relid != pg_sys::Oid::INVALID {
        BOUND_RELATIONS.with(|b| b.borrow_mut().insert(relid));
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn proc_callback(_arg: pg_sys::Datum, _cacheid: i32, _hash: u32) {
    bump();
}

/// Register the invalidation callbacks; called once per backend from `_PG_init`.
pub fn register_callbacks() {
    // SAFETY: both callbacks only touch this backend's thread-locals; they are registered once,
    // as Postgres requires, from _PG_init.
    unsafe {
        pg_sys::CacheRegisterRelcacheCallback(Some(relcache_callback), pg_sys::Datum::from(0));
        // Function definitions, schema privileges (GRANT/REVOKE USAGE) and role membership
        // (GRANT/REVOKE wasm_admin) that bound functions and resolved plugins were checked
        // against.
        for cache in [
            pg_sys::SysCacheIdentifier::PROCOID,
            pg_sys::SysCacheIdentifier::NAMESPACEOID,
            pg_sys::SysCacheIdentifier::AUTHMEMMEMROLE,
            // Enum labels that bindings map cases to (ALTER TYPE ... ADD/RENAME VALUE).
            pg_sys::SysCacheIdentifier::ENUMOID,
        ] {
            pg_sys::CacheRegisterSyscacheCallback(
                cache as i32,
                Some(proc_callback),
                pg_sys::Datum::from(0),
            );
        }
    }
}
