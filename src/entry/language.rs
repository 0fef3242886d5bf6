//! `LANGUAGE wasm`: the call handler and the validator, as Postgres calls them.

use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::error::OrReport;

/// Postgres V1 info record for the handler.
#[unsafe(no_mangle)]
pub extern "C" fn pg_finfo_wasm_call_handler() -> &'static pg_sys::Pg_finfo_record {
    const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
    &V1
}

/// The call handler of `LANGUAGE wasm`.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn wasm_call_handler(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    use crate::call::aggregate::{call_support, called_by_aggregate};
    use crate::call::invoke::call_function;
    use crate::call::trigger::{call_trigger, called_as_trigger};
    // SAFETY: called by Postgres' function manager with a valid fcinfo; a trigger call's
    // context is its TriggerData, an aggregate's its AggState or WindowAggState.
    unsafe {
        if called_as_trigger(fcinfo) {
            call_trigger(fcinfo)
        } else if called_by_aggregate(fcinfo) {
            match call_support(fcinfo) {
                Ok(Some(datum)) => Ok(datum),
                Ok(None) => call_function(fcinfo),
                Err(e) => Err(e),
            }
        } else {
            call_function(fcinfo)
        }
    }
    .or_report()
}

/// Postgres V1 info record for the validator.
#[unsafe(no_mangle)]
pub extern "C" fn pg_finfo_wasm_validator() -> &'static pg_sys::Pg_finfo_record {
    const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
    &V1
}

/// The validator of `LANGUAGE wasm`: the body must name an installed plugin's export whose
/// WIT signature maps to the function's SQL signature. Skipped when `check_function_bodies`
/// is off, as pg_restore sets it.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn wasm_validator(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    // SAFETY: the validator is declared STRICT with one oid argument.
    let fn_oid = unsafe { pg_sys::Oid::from_datum((*fcinfo).args.as_slice(1)[0].value, false) }
        .unwrap_or(pg_sys::Oid::INVALID);
    // SAFETY: CheckFunctionValidatorAccess checks the caller may validate this function.
    let proceed =
        unsafe { pg_sys::CheckFunctionValidatorAccess((*(*fcinfo).flinfo).fn_oid, fn_oid) };
    if proceed {
        crate::call::bind::validate(fn_oid).or_report();
    }
    pg_sys::Datum::from(0)
}
