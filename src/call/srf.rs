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
    // SAFETY: resultinfo is null or a node; its tag is checked before it is used as one.
    unsafe {
        let rsinfo = (*fcinfo).resultinfo as *mut pg_sys::ReturnSetInfo;
        (!rsinfo.is_null()
            && (*rsinfo).type_ == pg_sys::NodeTag::T_ReturnSetInfo
            && ((*rsinfo).allowedModes & pg_sys::SetFunctionReturnMode::SFRM_ValuePerCall as i32)
                != 0)
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
    // SAFETY: fn_extra is null or our CallSite; pending rows are valid until dropped.
    unsafe {
        let site = (*(*fcinfo).flinfo).fn_extra as *mut CallSite;
        if site.is_null() || (*site).pending.is_null() {
            return None;
        }
        let pending = (*site).pending;
        if (*pending).next < (*pending).len {
            let datum = *(*pending).values.add((*pending).next);
            (*pending).next += 1;
            (*rsinfo).isDone = pg_sys::ExprDoneCond::ExprMultipleResult;
            (*fcinfo).isnull = false;
            return Some(datum);
        }
        pg_sys::UnregisterExprContextCallback(
            (*rsinfo).econtext,
            Some(drop_pending),
            pg_sys::Datum::from(site),
        );
        drop_pending(pg_sys::Datum::from(site));
        (*rsinfo).isDone = pg_sys::ExprDoneCond::ExprEndResult;
        (*fcinfo).isnull = true;
        Some(pg_sys::Datum::from(0))
    }
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
    mut make: impl FnMut(usize) -> PluginResult<pg_sys::Datum>,
) -> PluginResult<pg_sys::Datum> {
    // SAFETY: the context is a child of fn_mcxt; rows are made while it is current and kept
    // in an array allocated in it; on error it is deleted before returning.
    unsafe {
        let site = (*(*fcinfo).flinfo).fn_extra as *mut CallSite;
        let context = pg_sys::AllocSetContextCreateExtended(
            (*(*fcinfo).flinfo).fn_mcxt,
            c"pg_component batch rows".as_ptr(),
            pg_sys::ALLOCSET_DEFAULT_MINSIZE as usize,
            pg_sys::ALLOCSET_DEFAULT_INITSIZE as usize,
            pg_sys::ALLOCSET_DEFAULT_MAXSIZE as usize,
        );
        let old = pg_sys::MemoryContextSwitchTo(context);
        let values =
            pg_sys::palloc(std::mem::size_of::<pg_sys::Datum>() * len.max(1)) as *mut pg_sys::Datum;
        let mut made = Ok(());
        for i in 0..len {
            match make(i) {
                Ok(d) => *values.add(i) = d,
                Err(e) => {
                    made = Err(e);
                    break;
                }
            }
        }
        pg_sys::MemoryContextSwitchTo(old);
        if let Err(e) = made {
            pg_sys::MemoryContextDelete(context);
            return Err(e);
        }
        let pending = pg_sys::MemoryContextAlloc(context, std::mem::size_of::<PendingRows>())
            as *mut PendingRows;
        pending.write(PendingRows {
            context,
            values,
            len,
            next: 0,
        });
        (*site).pending = pending;
        pg_sys::RegisterExprContextCallback(
            (*rsinfo).econtext,
            Some(drop_pending),
            pg_sys::Datum::from(site),
        );
        Ok(next_pending(fcinfo, rsinfo).unwrap_or(pg_sys::Datum::from(0)))
    }
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
    // SAFETY: resultinfo is checked to be a ReturnSetInfo that accepts materialize mode before
    // use; the tuple store and descriptor live in the per-query context, as the executor needs.
    unsafe {
        let rsinfo = (*fcinfo).resultinfo as *mut pg_sys::ReturnSetInfo;
        if rsinfo.is_null()
            || (*rsinfo).type_ != pg_sys::NodeTag::T_ReturnSetInfo
            || ((*rsinfo).allowedModes & pg_sys::SetFunctionReturnMode::SFRM_Materialize as i32)
                == 0
        {
            return Err(PluginError::SetNotAllowed(format!(
                "{what} is a set, but it is called where a set is not allowed"
            )));
        }
        let old = pg_sys::MemoryContextSwitchTo((*(*rsinfo).econtext).ecxt_per_query_memory);
        let desc = if let Some(typmod) = composite {
            pg_sys::lookup_rowtype_tupdesc_copy(elem_oid, typmod)
        } else {
            let desc = pg_sys::CreateTemplateTupleDesc(1);
            pg_sys::TupleDescInitEntry(desc, 1, c"value".as_ptr(), elem_oid, -1, 0);
            desc
        };
        let store = pg_sys::tuplestore_begin_heap(true, false, pg_sys::work_mem);
        pg_sys::MemoryContextSwitchTo(old);
        let natts = (*desc).natts as usize;
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
            pg_sys::tuplestore_putvalues(store, desc, values.as_mut_ptr(), nulls.as_mut_ptr());
        }
        (*rsinfo).returnMode = pg_sys::SetFunctionReturnMode::SFRM_Materialize;
        (*rsinfo).setResult = store;
        (*rsinfo).setDesc = desc;
        (*fcinfo).isnull = true;
    }
    Ok(())
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
