//! `wasm.stats_rows` (behind the `wasm.stats` view and `wasm.backend_stats()`) and
//! `wasm.reset_stats()`, declared in sql/bootstrap.sql.

use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::catalog::acl::require_admin;
use crate::error::OrReport;
use crate::stats::{Row, backend_rows, shmem};

/// Postgres V1 info record for `wasm.stats_rows`.
#[unsafe(no_mangle)]
pub extern "C" fn pg_finfo_wasm_stats_rows() -> &'static pg_sys::Pg_finfo_record {
    const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
    &V1
}

/// `wasm.stats_rows(cluster boolean)`: statistics per plugin and export, of every backend
/// (`cluster`, when the library is preloaded), else of this one. An export's row has the call
/// columns; a plugin's own row (`export` NULL) has the instance, compile, cache and memory
/// columns. Materialized into a tuplestore, in the column order sql/bootstrap.sql declares.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn wasm_stats_rows(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    // SAFETY: the function is STRICT with one boolean argument.
    let cluster = unsafe { (*fcinfo).args.as_slice(1)[0].value.value() != 0 };
    crate::stats::flush();
    let (scope, rows) = match cluster.then(shmem::rows).flatten() {
        Some(rows) => ("cluster", rows),
        None if cluster => (
            "backend (pg_component is not in shared_preload_libraries)",
            backend_rows(),
        ),
        None => ("backend", backend_rows()),
    };
    let live = scope != "cluster";
    // SAFETY: a set-returning call in a context that accepts a materialized set (Postgres
    // checks it); InitMaterializedSRF builds the tuplestore and its descriptor.
    unsafe {
        pg_sys::InitMaterializedSRF(fcinfo, 0);
        let rsinfo = (*fcinfo).resultinfo as *mut pg_sys::ReturnSetInfo;
        for r in rows {
            let (mut values, mut nulls) = datums(r, scope, live);
            pg_sys::tuplestore_putvalues(
                (*rsinfo).setResult,
                (*rsinfo).setDesc,
                values.as_mut_ptr(),
                nulls.as_mut_ptr(),
            );
        }
    }
    pg_sys::Datum::from(0)
}

/// One row's 20 columns as datums and null flags.
fn datums(r: Row, scope: &str, live: bool) -> ([pg_sys::Datum; 20], [bool; 20]) {
    let c = r.counts;
    let p = r.plugin_counts;
    let is_export = r.export.is_some();
    // Sampled: the mean of the timed calls, and the total it makes over every call.
    let mean_ns = (c.sampled > 0).then(|| c.sampled_ns as f64 / c.sampled as f64);
    let int = |v: u64| (v as i64).into_datum();
    let ms = |ns: u64| (ns as f64 / 1e6).into_datum();
    let call = |d: Option<pg_sys::Datum>| if is_export { d } else { None };
    let plug = |d: Option<pg_sys::Datum>| if is_export { None } else { d };
    let memory = (live && !is_export)
        .then(|| crate::catalog::live_memory(&r.plugin))
        .flatten();
    let cols: [Option<pg_sys::Datum>; 20] = [
        Some(pg_sys::Datum::from(r.database)),
        scope.into_datum(),
        r.plugin.as_str().into_datum(),
        r.version.into_datum(),
        r.export.as_deref().and_then(|e| e.into_datum()),
        call(int(c.calls)),
        call(mean_ns.and_then(|m| (m * c.calls as f64 / 1e6).into_datum())),
        call(mean_ns.and_then(|m| (m / 1e3).into_datum())),
        call(int(c.sampled)),
        call(int(c.traps)),
        call(int(c.limits)),
        call(int(c.guest_errors)),
        call(int(c.bad_values)),
        plug(int(p.instances)),
        plug(int(p.compiles)),
        plug(ms(p.compile_ns)),
        plug(int(p.cache_loads)),
        plug(ms(p.cache_load_ns)),
        memory.and_then(|b| (b as i64).into_datum()),
        plug(int(p.peak_memory)),
    ];
    let mut values = [pg_sys::Datum::from(0); 20];
    let mut nulls = [true; 20];
    for (i, col) in cols.into_iter().enumerate() {
        if let Some(d) = col {
            values[i] = d;
            nulls[i] = false;
        }
    }
    (values, nulls)
}

/// Forget the statistics: this backend's and, when preloaded, every backend's.
#[pg_extern(sql = false)]
fn reset_stats() {
    require_admin("reset plugin statistics").or_report();
    crate::stats::reset(None);
}
