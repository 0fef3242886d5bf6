//! `wasm_transform(...)` as Postgres calls it.

use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::call::transform::transform;
use crate::convert::datum::text_arg;
use crate::error::{OrReport, PluginResult};

// `wasm_transform` lives in `pg_catalog`, which every lookup searches first: callers need no
// `search_path`, and no schema earlier in it can shadow the function. They are plain V1 C
// functions (declared in lib.rs) rather than `#[pg_extern]`s, so that jsonb is read and built
// in its binary form (see `crate::jsonb`) instead of through text both ways on every row.

/// Postgres V1 info record for `wasm_transform(plugin, input)`.
#[unsafe(no_mangle)]
pub extern "C" fn pg_finfo_wasm_transform_input() -> &'static pg_sys::Pg_finfo_record {
    const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
    &V1
}

/// Postgres V1 info record for `wasm_transform(plugin, export, args)`.
#[unsafe(no_mangle)]
pub extern "C" fn pg_finfo_wasm_transform_export() -> &'static pg_sys::Pg_finfo_record {
    const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
    &V1
}

/// Run `transform` for a STRICT call whose last argument is jsonb and whose others are text;
/// a JSON result as jsonb, no result as NULL.
///
/// # Safety
/// `fcinfo` must be the call info of a function declared as lib.rs declares these.
unsafe fn transform_call(
    fcinfo: pg_sys::FunctionCallInfo,
    with_export: bool,
) -> PluginResult<pg_sys::Datum> {
    // SAFETY: the functions are STRICT with (text, jsonb) or (text, text, jsonb) arguments.
    unsafe {
        let args = (*fcinfo).args.as_slice(if with_export { 3 } else { 2 });
        // Read in place when stored inline (the constant names of a per-row call).
        let plugin = text_arg(args[0].value);
        let export = with_export.then(|| text_arg(args[1].value));
        match transform(plugin, export, args[args.len() - 1].value, !with_export)? {
            Some(json) => {
                (*fcinfo).isnull = false;
                crate::convert::jsonb::json_to_jsonb(&json)
            }
            None => {
                (*fcinfo).isnull = true;
                Ok(pg_sys::Datum::from(0))
            }
        }
    }
}

/// `wasm_transform(plugin text, input jsonb) RETURNS jsonb`: call the plugin's `transform`
/// export (or its only export) with `input` as its single parameter.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn wasm_transform_input(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    // SAFETY: called by the function manager as declared in lib.rs.
    unsafe { transform_call(fcinfo, false) }.or_report()
}

/// `wasm_transform(plugin text, export text, args jsonb) RETURNS jsonb`: call any export;
/// `args` is a JSON array of its parameters in order, or an object keyed by parameter name.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn wasm_transform_export(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    // SAFETY: called by the function manager as declared in lib.rs.
    unsafe { transform_call(fcinfo, true) }.or_report()
}
