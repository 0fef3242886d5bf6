//! Set-returning calls: rows handed to the executor in materialize mode (a tuplestore), or one
//! per call (value-per-call), from a batch kept in its own memory context.

use pgrx::pg_sys;
use pgrx::prelude::*;
use wasmtime::component::Val;

use crate::convert::datum::{composite_values, val_to_datum};
use crate::convert::plan::Conv;
use crate::error::{PluginError, PluginResult};

use super::ValueLabel;
use super::bind::CallSite;

/// The results of one batch call, returned one per call. Lives in its own memory context
/// (with its datums), deleted when the last row is out or the expression context shuts down
/// (a LIMIT, a rescan, an error).
pub(super) struct PendingRows {
    pub(super) context: pg_sys::MemoryContext,
    pub(super) values: *mut pg_sys::Datum,
    pub(super) len: usize,
    pub(super) next: usize,
}

/// One row of a set.
pub(super) enum Row {
    /// One column (`None`: NULL), with no allocation per row.
    Single(Option<pg_sys::Datum>),
    /// A composite's attribute values and null flags.
    Attributes(Vec<pg_sys::Datum>, Vec<bool>),
}

/// The ReturnSetInfo of a set-returning call that allows value-per-call mode, if this is one.
///
/// # Safety
/// `fcinfo` must be the valid call info of the call in progress.
pub(super) unsafe fn value_per_call(
    fcinfo: pg_sys::FunctionCallInfo,
) -> Option<*mut pg_sys::ReturnSetInfo> {
    // SAFETY: the caller's contract.
    unsafe { allowing(fcinfo, pg_sys::SetFunctionReturnMode::SFRM_ValuePerCall) }
}

/// The ReturnSetInfo of a set-returning call that allows return mode `mode`, if this is one.
///
/// # Safety
/// `fcinfo` must be the valid call info of the call in progress.
unsafe fn allowing(
    fcinfo: pg_sys::FunctionCallInfo,
    mode: pg_sys::SetFunctionReturnMode::Type,
) -> Option<*mut pg_sys::ReturnSetInfo> {
    // SAFETY: the call info is valid (the caller's contract); resultinfo is null or a node,
    // whose tag is checked before it is read as a ReturnSetInfo.
    unsafe {
        let rsinfo = (*fcinfo).resultinfo as *mut pg_sys::ReturnSetInfo;
        (!rsinfo.is_null()
            && (*rsinfo).type_ == pg_sys::NodeTag::T_ReturnSetInfo
            && ((*rsinfo).allowedModes & mode as i32) != 0)
            .then_some(rsinfo)
    }
}

/// Drop a call site's pending rows; also the expression-context shutdown callback.
#[pg_guard]
unsafe extern "C-unwind" fn drop_pending(arg: pg_sys::Datum) {
    let site = arg.cast_mut_ptr::<CallSite>();
    // SAFETY: `arg` is the CallSite the callback was registered with (in fn_mcxt, which
    // outlives the expression context); its pending rows live in their own context.
    unsafe {
        let pending = (*site).pending;
        if !pending.is_null() {
            (*site).pending = std::ptr::null_mut();
            pg_sys::MemoryContextDelete((*pending).context);
        }
    }
}

/// The next row of a batch in progress at this call site, in value-per-call mode: `None` when
/// no batch is in progress. Sets `isDone` (and `isnull` at the end).
///
/// # Safety
/// `fcinfo` must be the valid call info of the call in progress; `rsinfo` its ReturnSetInfo.
pub(super) unsafe fn next_pending(
    fcinfo: pg_sys::FunctionCallInfo,
    rsinfo: *mut pg_sys::ReturnSetInfo,
) -> Option<pg_sys::Datum> {
    // SAFETY: the call info is valid (the caller's contract); fn_extra is null or our CallSite.
    let site = unsafe { (*(*fcinfo).flinfo).fn_extra } as *mut CallSite;
    // SAFETY: a non-null `site` is our CallSite, in fn_mcxt.
    if site.is_null() || unsafe { (*site).pending }.is_null() {
        return None;
    }
    // SAFETY: as above; its pending rows are valid until dropped, which nulls the pointer.
    let pending = unsafe { (*site).pending };
    // SAFETY: `values` holds `len` datums, read only below `len`.
    let row = unsafe {
        ((*pending).next < (*pending).len).then(|| {
            let datum = *(*pending).values.add((*pending).next);
            (*pending).next += 1;
            datum
        })
    };
    if let Some(datum) = row {
        // SAFETY: the call's ReturnSetInfo and call info (the caller's contract).
        unsafe {
            (*rsinfo).isDone = pg_sys::ExprDoneCond::ExprMultipleResult;
            (*fcinfo).isnull = false;
        }
        return Some(datum);
    }
    // SAFETY: `start_pending` registered drop_pending with this expression context and `site`;
    // dropping the rows now, it must not run again at shutdown.
    unsafe {
        pg_sys::UnregisterExprContextCallback(
            (*rsinfo).econtext,
            Some(drop_pending),
            pg_sys::Datum::from(site),
        );
        drop_pending(pg_sys::Datum::from(site));
    }
    // SAFETY: the call's ReturnSetInfo and call info (the caller's contract).
    unsafe {
        (*rsinfo).isDone = pg_sys::ExprDoneCond::ExprEndResult;
        (*fcinfo).isnull = true;
    }
    Some(pg_sys::Datum::from(0))
}

/// Start handing out `len` rows one per call: `make(i)` makes row i, in a memory context that
/// lives until the last row is out. Returns the first row (or the end, for no rows).
///
/// # Safety
/// `fcinfo` must be the valid call info of the call in progress, with a CallSite in fn_extra;
/// `rsinfo` its ReturnSetInfo.
pub(super) unsafe fn start_pending(
    fcinfo: pg_sys::FunctionCallInfo,
    rsinfo: *mut pg_sys::ReturnSetInfo,
    len: usize,
    make: impl FnMut(usize) -> PluginResult<pg_sys::Datum>,
) -> PluginResult<pg_sys::Datum> {
    // SAFETY: the call info is valid, with our CallSite in fn_extra (the caller's contract).
    let (site, fn_mcxt) = unsafe {
        let flinfo = (*fcinfo).flinfo;
        ((*flinfo).fn_extra as *mut CallSite, (*flinfo).fn_mcxt)
    };
    // SAFETY: a new context, a child of fn_mcxt, which outlives the call site's rows.
    let context = unsafe {
        pg_sys::AllocSetContextCreateExtended(
            fn_mcxt,
            c"pg_component batch rows".as_ptr(),
            pg_sys::ALLOCSET_DEFAULT_MINSIZE as usize,
            pg_sys::ALLOCSET_DEFAULT_INITSIZE as usize,
            pg_sys::ALLOCSET_DEFAULT_MAXSIZE as usize,
        )
    };
    // SAFETY: `context` is the valid memory context just made.
    let values = match unsafe { make_rows(context, len, make) } {
        Ok(values) => values,
        Err(e) => {
            // SAFETY: nothing refers to the context or what was made in it.
            unsafe { pg_sys::MemoryContextDelete(context) };
            return Err(e);
        }
    };
    // SAFETY: `values` holds the `len` rows made in `context`; `site` and `rsinfo` are the
    // call's (the caller's contract).
    unsafe { keep_pending(site, rsinfo, context, values, len) };
    // SAFETY: the caller's contract.
    Ok(unsafe { next_pending(fcinfo, rsinfo) }.unwrap_or(pg_sys::Datum::from(0)))
}

/// Make `len` rows with `make` while `context` is current, into an array allocated in it; the
/// context current before is current again on return.
///
/// # Safety
/// `context` must be a valid memory context.
unsafe fn make_rows(
    context: pg_sys::MemoryContext,
    len: usize,
    mut make: impl FnMut(usize) -> PluginResult<pg_sys::Datum>,
) -> PluginResult<*mut pg_sys::Datum> {
    // SAFETY: `context` is valid (our contract); switched back below.
    let old = unsafe { pg_sys::MemoryContextSwitchTo(context) };
    // SAFETY: room for `len` datums (at least one) in the current context, `context`.
    let values = unsafe { pg_sys::palloc(std::mem::size_of::<pg_sys::Datum>() * len.max(1)) }
        as *mut pg_sys::Datum;
    let mut made = Ok(());
    for i in 0..len {
        match make(i) {
            // SAFETY: `values` has room for `len` datums, and i < len.
            Ok(d) => unsafe { *values.add(i) = d },
            Err(e) => {
                made = Err(e);
                break;
            }
        }
    }
    // SAFETY: restores the context current on entry.
    unsafe { pg_sys::MemoryContextSwitchTo(old) };
    made.map(|()| values)
}

/// Keep `len` rows made in `context` as the call site's pending rows, dropped (with the
/// context) when the last row is out or the expression context shuts down.
///
/// # Safety
/// `site` must be our CallSite; `rsinfo` the call's ReturnSetInfo; `values` the `len` rows
/// allocated in `context`.
unsafe fn keep_pending(
    site: *mut CallSite,
    rsinfo: *mut pg_sys::ReturnSetInfo,
    context: pg_sys::MemoryContext,
    values: *mut pg_sys::Datum,
    len: usize,
) {
    // SAFETY: room for one PendingRows in `context`, MAXALIGNed; written before any read.
    let pending = unsafe { pg_sys::MemoryContextAlloc(context, std::mem::size_of::<PendingRows>()) }
        as *mut PendingRows;
    // SAFETY: `pending` is the fresh allocation above; `site` is our CallSite (our contract).
    unsafe {
        pending.write(PendingRows {
            context,
            values,
            len,
            next: 0,
        });
        (*site).pending = pending;
    }
    // SAFETY: the call's expression context; `site` lives in fn_mcxt, which outlives it.
    unsafe {
        pg_sys::RegisterExprContextCallback(
            (*rsinfo).econtext,
            Some(drop_pending),
            pg_sys::Datum::from(site),
        )
    };
}

/// Hand rows to the executor as the result of a set-returning call (materialize mode). Rows
/// have the attributes of composite type `elem_oid` when `composite` is its typmod (-1 for a
/// named type), else one column of it.
///
/// # Safety
/// `fcinfo` must be the valid call info of the call in progress; `rows` must yield datums of
/// `elem_oid` (of its attributes' types, when composite).
pub(super) unsafe fn return_rows(
    fcinfo: pg_sys::FunctionCallInfo,
    elem_oid: pg_sys::Oid,
    composite: Option<i32>,
    rows: impl IntoIterator<Item = PluginResult<Row>>,
    what: &ValueLabel<'_>,
) -> PluginResult<()> {
    // SAFETY: the caller's contract.
    let Some(rsinfo) =
        (unsafe { allowing(fcinfo, pg_sys::SetFunctionReturnMode::SFRM_Materialize) })
    else {
        return Err(PluginError::SetNotAllowed(format!(
            "{what} is a set, but it is called where a set is not allowed"
        )));
    };
    // SAFETY: `rsinfo` is the call's ReturnSetInfo, checked above.
    let (desc, store) = unsafe { begin_store(rsinfo, elem_oid, composite) };
    // SAFETY: `desc` is the valid descriptor just made.
    let natts = unsafe { (*desc).natts } as usize;
    for row in rows {
        let (mut one, mut attributes);
        let (values, nulls): (&mut [pg_sys::Datum], &mut [bool]) = match row? {
            Row::Single(datum) => {
                one = ([datum.unwrap_or(pg_sys::Datum::from(0))], [datum.is_none()]);
                (&mut one.0, &mut one.1)
            }
            Row::Attributes(mut values, mut nulls) => {
                values.resize(natts, pg_sys::Datum::from(0));
                nulls.resize(natts, true);
                attributes = (values, nulls);
                (&mut attributes.0, &mut attributes.1)
            }
        };
        // SAFETY: `values` and `nulls` hold one entry per attribute of `desc`, of its types
        // (the caller's contract); the store copies them.
        unsafe {
            pg_sys::tuplestore_putvalues(store, desc, values.as_mut_ptr(), nulls.as_mut_ptr())
        };
    }
    // SAFETY: hands the store and its descriptor, in the per-query context, to the executor
    // through the call's ReturnSetInfo and call info.
    unsafe {
        (*rsinfo).returnMode = pg_sys::SetFunctionReturnMode::SFRM_Materialize;
        (*rsinfo).setResult = store;
        (*rsinfo).setDesc = desc;
        (*fcinfo).isnull = true;
    }
    Ok(())
}

/// The descriptor of the rows (`elem_oid`'s attributes when `composite` is its typmod, else
/// one column `value` of it) and an empty tuple store, both in the per-query memory context,
/// as the executor needs.
///
/// # Safety
/// `rsinfo` must be the ReturnSetInfo of the call in progress; `elem_oid` with `composite`'s
/// typmod must name a composite type when `composite` is given.
unsafe fn begin_store(
    rsinfo: *mut pg_sys::ReturnSetInfo,
    elem_oid: pg_sys::Oid,
    composite: Option<i32>,
) -> (pg_sys::TupleDesc, *mut pg_sys::Tuplestorestate) {
    // SAFETY: the call's expression context (our contract); switched back below.
    let old = unsafe { pg_sys::MemoryContextSwitchTo((*(*rsinfo).econtext).ecxt_per_query_memory) };
    let desc = if let Some(typmod) = composite {
        // SAFETY: a composite type (our contract); copied into the current context.
        unsafe { pg_sys::lookup_rowtype_tupdesc_copy(elem_oid, typmod) }
    } else {
        // SAFETY: a new one-attribute descriptor, its attribute 1 initialised.
        unsafe {
            let desc = pg_sys::CreateTemplateTupleDesc(1);
            pg_sys::TupleDescInitEntry(desc, 1, c"value".as_ptr(), elem_oid, -1, 0);
            desc
        }
    };
    // SAFETY: a new tuple store in the current context; work_mem is the backend's setting.
    let store = unsafe { pg_sys::tuplestore_begin_heap(true, false, pg_sys::work_mem) };
    // SAFETY: restores the context current on entry.
    unsafe { pg_sys::MemoryContextSwitchTo(old) };
    (desc, store)
}

/// Hand a list result's items to the executor as rows: a record's fields become the row's
/// columns (`SELECT * FROM f()`), anything else a single column.
///
/// # Safety
/// As for [`return_rows`]; `elem` was bound to `elem_oid`.
pub(super) unsafe fn return_set(
    fcinfo: pg_sys::FunctionCallInfo,
    items: Vec<Val>,
    elem: &Conv,
    elem_oid: pg_sys::Oid,
    what: &ValueLabel<'_>,
) -> PluginResult<()> {
    let record = match elem {
        Conv::Composite {
            natts,
            fields,
            typmod,
            ..
        } => Some((*natts, fields, *typmod)),
        Conv::Option(inner) => match inner.as_ref() {
            Conv::Composite {
                natts,
                fields,
                typmod,
                ..
            } => Some((*natts, fields, *typmod)),
            _ => None,
        },
        _ => None,
    };
    let attributes = |(values, nulls)| Row::Attributes(values, nulls);
    let rows = items.into_iter().map(|item| match (record, item) {
        (Some((natts, _, _)), Val::Option(None)) => Ok(Row::Attributes(
            vec![pg_sys::Datum::from(0); natts],
            vec![true; natts],
        )),
        (Some((natts, fields, _)), Val::Option(Some(v))) => {
            composite_values(*v, natts, fields, what).map(attributes)
        }
        (Some((natts, fields, _)), v) => composite_values(v, natts, fields, what).map(attributes),
        (None, v) => val_to_datum(v, elem, what).map(Row::Single),
    });
    // SAFETY: the caller's contract; the rows are made of elem_oid's values.
    unsafe {
        return_rows(
            fcinfo,
            elem_oid,
            record.map(|(_, _, typmod)| typmod),
            rows,
            what,
        )
    }
}
