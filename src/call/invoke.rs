//! One call of a bound function: the typed fast paths, else dynamic values; results back to
//! SQL as a value or a set (see `srf`).

use pgrx::pg_sys;
use pgrx::prelude::*;
use wasmtime::component::Val;

use crate::convert::datum::{
    array_elements, datum_to_val, int8_array_slice, string_to_datum, text_arg, text_datum,
    val_to_datum,
};
use crate::error::{PluginError, PluginResult};
use crate::mapping::FastPath;
use crate::runtime::call::{ScalarArg, ScalarOut, call_export, call_scalar, call_typed};

use super::bind::{BoundFunction, BoundReturn, bound_function};
use super::srf::{Row, next_pending, return_rows, return_set, start_pending, value_per_call};
use super::{ExportLabel, ValueLabel, unwrap_result};

/// What a fast-path call produced.
enum Fast {
    /// The signature or the arguments need the dynamic path.
    Dynamic,
    /// A single, non-null value.
    Value(pg_sys::Datum),
    /// A single NULL (an option's none).
    Null,
    /// The rows of a set, already handed to the executor.
    Set,
    /// One row of a set in value-per-call mode (`isDone` and `isnull` already set).
    Row(pg_sys::Datum),
}

/// Typed call of a fast-path signature; `Fast::Dynamic` when the arguments need the dynamic
/// path (a NULL passed to a non-STRICT function, a NULL array element).
///
/// # Safety
/// `fcinfo` must be the valid call info; `args` must be of the SQL types the export's
/// signature maps to, as the binding checked.
#[inline(always)]
unsafe fn call_fast(
    fcinfo: pg_sys::FunctionCallInfo,
    bound: &BoundFunction,
    args: &[pg_sys::NullableDatum],
    label: &ExportLabel<'_>,
) -> PluginResult<Fast> {
    if args.iter().any(|a| a.isnull) {
        return Ok(Fast::Dynamic);
    }
    let input = match bound.fast {
        FastPath::Dynamic => return Ok(Fast::Dynamic),
        // SAFETY: as this function's contract: a text[] argument.
        FastPath::StrListToStrSet => return unsafe { str_set_call(fcinfo, bound, args, label) },
        // SAFETY: as this function's contract: a bigint[] argument.
        FastPath::S64ListToS64Set => return unsafe { s64_set_call(fcinfo, bound, args, label) },
        // SAFETY: as this function's contract: arguments of the fast path's SQL types.
        fast => unsafe { scalar_args(fast, args) },
    };
    let result = ValueLabel {
        param: None,
        export: label,
    };
    let plugin = &bound.plugin;
    let Some(out) = call_scalar(plugin.caller(), &plugin.compiled, bound.export, input, true)
    else {
        return Ok(Fast::Dynamic);
    };
    let datum = match out? {
        ScalarOut::I64(r) => pg_sys::Datum::from(r),
        ScalarOut::I32(r) => pg_sys::Datum::from(r),
        ScalarOut::F64(r) => r
            .into_datum()
            .expect("invariant: float8 always has a datum"),
        ScalarOut::Bool(r) => pg_sys::Datum::from(r),
        ScalarOut::Str(r) | ScalarOut::OptStr(Some(r)) => string_to_datum(&r, &result)?,
        ScalarOut::Text(t) | ScalarOut::OptText(Some(t)) => text_datum(t, &result)?,
        ScalarOut::OptStr(None) | ScalarOut::OptText(None) => return Ok(Fast::Null),
    };
    Ok(Fast::Value(datum))
}

/// The arguments of a scalar fast path, read in place.
///
/// # Safety
/// `args` must be non-null datums of the SQL types `fast`'s signature maps to.
unsafe fn scalar_args(fast: FastPath, args: &[pg_sys::NullableDatum]) -> ScalarArg<'_> {
    let arg = |i: usize| args[i].value;
    // SAFETY: a non-null float8 datum where the fast path reads a float (the caller's
    // contract); by-value integers are read as such below.
    let float = |i: usize| unsafe { f64::from_datum(arg(i), false) }.unwrap_or_default();
    match fast {
        FastPath::S64ToS64 => ScalarArg::I64(arg(0).value() as i64),
        FastPath::S32ToS32 => ScalarArg::I32(arg(0).value() as i32),
        FastPath::F64ToF64 => ScalarArg::F64(float(0)),
        FastPath::F64F64ToF64 => ScalarArg::F64F64(float(0), float(1)),
        FastPath::StrToStr | FastPath::StrToBool | FastPath::StrToS64 | FastPath::StrToOptStr => {
            // SAFETY: a non-null text datum (the caller's contract), borrowed for the call.
            ScalarArg::Str(unsafe { text_arg(arg(0)) })
        }
        // The set paths and the dynamic one never come here.
        FastPath::Dynamic | FastPath::StrListToStrSet | FastPath::S64ListToS64Set => {
            unreachable!("handled by call_fast")
        }
    }
}

/// The label of the export's first parameter.
fn first_param<'a>(bound: &'a BoundFunction, label: &'a ExportLabel<'a>) -> ValueLabel<'a> {
    ValueLabel {
        param: bound.plugin.compiled.exports[bound.export]
            .sig
            .params
            .first()
            .map(|(n, _)| n.as_str()),
        export: label,
    }
}

/// `list<string> -> list<string>` as `text[] -> SETOF text`.
///
/// # Safety
/// `fcinfo` must be the valid call info and `args[0]` a non-null `text[]`.
unsafe fn str_set_call(
    fcinfo: pg_sys::FunctionCallInfo,
    bound: &BoundFunction,
    args: &[pg_sys::NullableDatum],
    label: &ExportLabel<'_>,
) -> PluginResult<Fast> {
    // SAFETY: the valid call info (the caller's contract).
    let vpc = unsafe { value_per_call(fcinfo) };
    // SAFETY: as above; `rsinfo` is its ReturnSetInfo.
    if let Some(next) = vpc.and_then(|rsinfo| unsafe { next_pending(fcinfo, rsinfo) }) {
        return Ok(Fast::Row(next));
    }
    // SAFETY: a non-null text[] (the caller's contract).
    let elems = unsafe { array_elements(args[0].value, &first_param(bound, label)) }?;
    if elems.iter().any(|(_, null)| *null) {
        return Ok(Fast::Dynamic);
    }
    let strs: Vec<&str> = elems
        .iter()
        // SAFETY: non-null elements of a text[], borrowed for the call.
        .map(|(d, _)| unsafe { <&str>::from_datum(*d, false) }.unwrap_or_default())
        .collect();
    let plugin = &bound.plugin;
    let (rows,): (Vec<String>,) =
        call_typed(plugin.caller(), &plugin.compiled, bound.export, (strs,))?;
    let result = ValueLabel {
        param: None,
        export: label,
    };
    if let Some(rsinfo) = vpc {
        let make = |i: usize| string_to_datum(&rows[i], &result);
        // SAFETY: the valid call info and its ReturnSetInfo in value-per-call mode.
        let datum = unsafe { start_pending(fcinfo, rsinfo, rows.len(), make) }?;
        return Ok(Fast::Row(datum));
    }
    let rows = rows
        .into_iter()
        .map(|s| string_to_datum(&s, &result).map(|d| Row::Single(Some(d))));
    // SAFETY: the valid call info of a set-returning call.
    unsafe { return_rows(fcinfo, pg_sys::TEXTOID, None, rows, &result) }?;
    Ok(Fast::Set)
}

/// `list<s64> -> list<s64>` as `bigint[] -> SETOF bigint`, the array's own elements passed to
/// the guest (no copy on our side).
///
/// # Safety
/// `fcinfo` must be the valid call info and `args[0]` a non-null `bigint[]`.
unsafe fn s64_set_call(
    fcinfo: pg_sys::FunctionCallInfo,
    bound: &BoundFunction,
    args: &[pg_sys::NullableDatum],
    label: &ExportLabel<'_>,
) -> PluginResult<Fast> {
    // SAFETY: the valid call info (the caller's contract).
    let vpc = unsafe { value_per_call(fcinfo) };
    // SAFETY: as above; `rsinfo` is its ReturnSetInfo.
    if let Some(next) = vpc.and_then(|rsinfo| unsafe { next_pending(fcinfo, rsinfo) }) {
        return Ok(Fast::Row(next));
    }
    // SAFETY: a non-null bigint[] (the caller's contract).
    let Some(values) = (unsafe { int8_array_slice(args[0].value, &first_param(bound, label)) })?
    else {
        return Ok(Fast::Dynamic);
    };
    let plugin = &bound.plugin;
    let (rows,): (Vec<i64>,) =
        call_typed(plugin.caller(), &plugin.compiled, bound.export, (values,))?;
    let result = ValueLabel {
        param: None,
        export: label,
    };
    if let Some(rsinfo) = vpc {
        let make = |i: usize| Ok(pg_sys::Datum::from(rows[i]));
        // SAFETY: the valid call info and its ReturnSetInfo in value-per-call mode.
        let datum = unsafe { start_pending(fcinfo, rsinfo, rows.len(), make) }?;
        return Ok(Fast::Row(datum));
    }
    let rows = rows
        .into_iter()
        .map(|v| Ok(Row::Single(Some(pg_sys::Datum::from(v)))));
    // SAFETY: the valid call info of a set-returning call.
    unsafe { return_rows(fcinfo, pg_sys::INT8OID, None, rows, &result) }?;
    Ok(Fast::Set)
}

/// Run the function `fcinfo` describes. Returns the result datum; sets `isnull` for NULL.
///
/// # Safety
/// `fcinfo` must be the valid call info of a `LANGUAGE wasm` function call.
pub unsafe fn call_function(fcinfo: pg_sys::FunctionCallInfo) -> PluginResult<pg_sys::Datum> {
    // SAFETY: Postgres passes a valid fcinfo with flinfo set to the called function.
    let nargs = unsafe { (*fcinfo).nargs as usize };
    // SAFETY: as above.
    let bound = unsafe { bound_function((*fcinfo).flinfo) }?;
    // Errors from here on (a bad argument included) count against this export.
    bound.plugin.counters.enter(bound.export);
    let export = &bound.plugin.compiled.exports[bound.export];
    let label = ExportLabel {
        plugin: &bound.plugin.name,
        export: &export.name,
    };
    // SAFETY: args has nargs entries (a flexible array member sized by the caller).
    let raw_args = unsafe { (*fcinfo).args.as_slice(nargs) };
    // SAFETY: the binding checked the argument types.
    match unsafe { call_fast(fcinfo, &bound, raw_args, &label) }? {
        Fast::Value(datum) => {
            // SAFETY: fcinfo is valid for the duration of the call.
            unsafe { (*fcinfo).isnull = false };
            return Ok(datum);
        }
        Fast::Null => {
            // SAFETY: fcinfo is valid for the duration of the call.
            unsafe { (*fcinfo).isnull = true };
            return Ok(pg_sys::Datum::from(0));
        }
        Fast::Set => return Ok(pg_sys::Datum::from(0)),
        Fast::Row(datum) => return Ok(datum),
        Fast::Dynamic => {}
    }
    let mut args = Vec::with_capacity(nargs);
    for ((arg, (pname, _)), conv) in raw_args.iter().zip(&export.sig.params).zip(&bound.params) {
        let what = ValueLabel {
            param: Some(pname),
            export: &label,
        };
        // SAFETY: the signature was checked against the export when the function was bound.
        args.push(unsafe { datum_to_val(arg.value, arg.isnull, conv, &what) }?);
    }
    let result = call_export(
        bound.plugin.caller(),
        &bound.plugin.compiled,
        bound.export,
        &args,
    )?;
    let (value, _) = unwrap_result(result, export.sig.result.as_ref(), &label)?;
    let what = ValueLabel {
        param: None,
        export: &label,
    };
    let datum = match (&bound.ret, value) {
        (BoundReturn::Set { elem, elem_oid }, Some(Val::List(items))) => {
            // SAFETY: fcinfo is the valid call info of a set-returning call.
            unsafe { return_set(fcinfo, items, elem, *elem_oid, &what) }?;
            return Ok(pg_sys::Datum::from(0));
        }
        (BoundReturn::Value(conv), Some(v)) => val_to_datum(v, conv, &what)?,
        // A void function returns a non-null void datum, as PG_RETURN_VOID does.
        (BoundReturn::Void, _) => Some(pg_sys::Datum::from(0)),
        (_, other) => {
            return Err(PluginError::Internal(format!(
                "{what}: the guest returned {other:?}, which does not fit the function's result"
            )));
        }
    };
    // SAFETY: fcinfo is valid for the duration of the call.
    unsafe {
        match datum {
            Some(d) => {
                (*fcinfo).isnull = false;
                Ok(d)
            }
            None => {
                (*fcinfo).isnull = true;
                Ok(pg_sys::Datum::from(0))
            }
        }
    }
}
