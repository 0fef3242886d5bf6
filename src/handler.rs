//! `LANGUAGE wasm`: the call handler that runs a plugin function and the validator that checks
//! a `CREATE FUNCTION … LANGUAGE wasm AS 'plugin/export'` against the export's WIT signature.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use pgrx::pg_catalog::pg_proc::{PgProc, ProParallel, ProVolatile};
use pgrx::prelude::*;
use pgrx::{PgSqlErrorCode, pg_sys};
use wasmtime::component::Val;

use crate::acl::require_plugin_usage_cached;
use crate::catalog::{ResolvedPlugin, generation, resolve_plugin};
use crate::conv::{Conv, Dir, bind, bind_typmod, format_type};
use crate::datum::{composite_values, datum_to_val, string_to_datum, val_to_datum};
use crate::error::{OrReport, PluginError, PluginResult};
use crate::json::val_to_json;
use crate::runtime::call::call_export;
use crate::runtime::plugin::Export;
use crate::types::{FastPath, SqlReturn, SqlSignature, WitType};

/// A `LANGUAGE wasm` function resolved to its export, valid while the catalog generation
/// is unchanged.
struct BoundFunction {
    plugin: Rc<ResolvedPlugin>,
    export: usize,
    /// How each argument converts.
    params: Vec<Conv>,
    /// How the result converts.
    ret: BoundReturn,
    /// The typed path, when the SQL types allow it.
    fast: FastPath,
    generation: u64,
}

thread_local! {
    static BOUND: RefCell<HashMap<pg_sys::Oid, Rc<BoundFunction>>> = RefCell::new(HashMap::new());
}

/// Split a function body `plugin/export`.
pub fn parse_body(body: &str) -> PluginResult<(&str, &str)> {
    let body = body.trim();
    match body.split_once('/') {
        Some((p, e)) if !p.is_empty() && !e.is_empty() => Ok((p, e)),
        _ => Err(PluginError::SignatureMismatch(
            format!("the body of a LANGUAGE wasm function must be 'plugin/export', not '{body}'"),
            None,
        )),
    }
}

/// How a bound function's result reaches SQL.
enum BoundReturn {
    /// `RETURNS void`.
    Void,
    /// One value.
    Value(Conv),
    /// `RETURNS SETOF`: one row per list element, of SQL type `elem_oid`.
    Set { elem: Conv, elem_oid: pg_sys::Oid },
}

/// What binding a function to its export yields.
struct Binding {
    params: Vec<Conv>,
    ret: BoundReturn,
    fast: FastPath,
}

/// Only a deterministic plugin's functions may be IMMUTABLE, STABLE or PARALLEL SAFE: the
/// planner would otherwise fold, cache or parallelize calls whose results vary.
fn check_volatility(proc: &PgProc, plugin: &ResolvedPlugin) -> PluginResult<()> {
    if plugin.deterministic {
        return Ok(());
    }
    let volatile = matches!(proc.provolatile(), ProVolatile::Volatile);
    let parallel_safe = matches!(proc.proparallel(), ProParallel::Safe);
    if volatile && !parallel_safe {
        return Ok(());
    }
    Err(PluginError::SignatureMismatch(
        format!(
            "plugin \"{}\" is not deterministic: its functions must be VOLATILE and not PARALLEL SAFE",
            plugin.name
        ),
        Some(
            "install it with deterministic => true if its exports depend only on their arguments"
                .into(),
        ),
    ))
}

/// Resolve a function's body to its plugin and export, and check signature, volatility and
/// the caller's privilege to use the plugin.
fn resolve_body(proc: &PgProc) -> PluginResult<(Rc<ResolvedPlugin>, usize, Binding)> {
    let body = proc.prosrc();
    let (plugin_name, export_name) = parse_body(&body)?;
    let plugin = resolve_plugin(plugin_name)?;
    require_plugin_usage_cached(&plugin)?;
    let export = find_export(&plugin, export_name)?;
    let binding = check_signature(proc, plugin_name, &plugin.compiled.exports[export])?;
    check_volatility(proc, &plugin)?;
    Ok((plugin, export, binding))
}

/// Check a function's SQL signature against its export, naming both types on a mismatch,
/// and plan the conversions of its arguments and result.
fn check_signature(proc: &PgProc, plugin: &str, export: &Export) -> PluginResult<Binding> {
    let what = format!("plugin \"{plugin}\" export \"{}\"", export.name);
    let sql = SqlSignature::of(&export.sig).map_err(|ty| {
        PluginError::UnsupportedType(format!(
            "{what} uses WIT type {ty}, which has no SQL mapping"
        ))
    })?;
    let mismatch = |msg: String| {
        PluginError::SignatureMismatch(
            format!("function does not match {what}"),
            Some(format!("{msg}; the export is {}", export.sig.wit())),
        )
    };
    let argtypes = proc.proargtypes();
    if argtypes.len() != export.sig.params.len() {
        return Err(mismatch(format!(
            "the function takes {} arguments, the export {}",
            argtypes.len(),
            export.sig.params.len()
        )));
    }
    let mut params = Vec::with_capacity(argtypes.len());
    for (i, (oid, (name, ty))) in argtypes.iter().zip(&export.sig.params).enumerate() {
        match bind(*oid, ty, Dir::In)? {
            Ok(conv) => params.push(conv),
            Err(why) => {
                return Err(mismatch(format!(
                    "argument {} ({}) does not fit parameter {name}: {why}",
                    i + 1,
                    format_type(*oid),
                )));
            }
        }
    }
    let ok_type = match export.sig.result.as_ref() {
        Some(WitType::Result { ok, .. }) => ok.as_deref(),
        other => other,
    };
    let (rettype, retset) = (proc.prorettype(), proc.proretset());
    let returns = || {
        if retset {
            format!("SETOF {}", format_type(rettype))
        } else {
            format_type(rettype)
        }
    };
    let wit = ok_type
        .map(|t| t.to_string())
        .unwrap_or_else(|| "nothing".into());
    // RETURNS TABLE (…) and OUT parameters: the row type their columns make.
    let rettypmod = if rettype == pg_sys::RECORDOID {
        crate::conv::out_parameters_type(proc).unwrap_or(-1)
    } else {
        -1
    };
    let ret = match (ok_type, retset) {
        (None, false) if rettype == pg_sys::VOIDOID => BoundReturn::Void,
        (Some(WitType::List(elem)), true) if **elem != WitType::U8 => {
            match bind_typmod(rettype, rettypmod, elem, Dir::Out)? {
                Ok(conv) => BoundReturn::Set {
                    elem: conv,
                    elem_oid: rettype,
                },
                Err(why) => {
                    return Err(mismatch(format!(
                        "the function returns {} but the export returns {wit}: {why}",
                        returns()
                    )));
                }
            }
        }
        (Some(ty), false) => match bind_typmod(rettype, rettypmod, ty, Dir::Out)? {
            Ok(conv) => BoundReturn::Value(conv),
            Err(why) => {
                return Err(mismatch(format!(
                    "the function returns {} but the export returns {wit}: {why}",
                    returns()
                )));
            }
        },
        _ => {
            let expected = match &sql.ret {
                SqlReturn::Void => "void".to_string(),
                SqlReturn::Value(m) => m.sql_name(),
                SqlReturn::Set(m) => format!("SETOF {}", m.sql_name()),
            };
            return Err(mismatch(format!(
                "the function returns {} but the export returns {wit}, i.e. {expected}",
                returns()
            )));
        }
    };
    // The typed paths assume the generated shape: sets for list results.
    let fast = match (export.fast, &ret) {
        (FastPath::StrListToStrSet | FastPath::S64ListToS64Set, BoundReturn::Set { .. }) => {
            export.fast
        }
        (FastPath::StrListToStrSet | FastPath::S64ListToS64Set, _) => FastPath::Dynamic,
        (fast, _) => fast,
    };
    Ok(Binding { params, ret, fast })
}

/// What `flinfo->fn_extra` holds for a call site: the binding, valid while the catalog
/// generation is the one it was made in. `BOUND` owns the binding for that long.
struct CallSite {
    generation: u64,
    bound: *const BoundFunction,
    /// Rows of a batch call still to hand out one per call (value-per-call mode), or null.
    pending: *mut PendingRows,
}

/// The results of one batch call, returned one per call. Lives in its own memory context
/// (with its datums), deleted when the last row is out or the expression context shuts down
/// (a LIMIT, a rescan, an error).
struct PendingRows {
    context: pg_sys::MemoryContext,
    values: *mut pg_sys::Datum,
    len: usize,
    next: usize,
}

/// The binding of the function `flinfo` calls: from `fn_extra` (no lookup at all), else from
/// `BOUND`, else resolved now; the caller's privilege is re-checked when the role changes.
///
/// # Safety
/// `flinfo` must be the valid `FmgrInfo` of the call in progress.
unsafe fn bound_function(flinfo: *mut pg_sys::FmgrInfo) -> PluginResult<Rc<BoundFunction>> {
    let current = generation();
    // SAFETY: fn_extra is null or a CallSite this function allocated in fn_mcxt.
    let bound = unsafe {
        let site = (*flinfo).fn_extra as *mut CallSite;
        if !site.is_null() && (*site).generation == current {
            // SAFETY: BOUND holds this binding for as long as the generation is current.
            Rc::increment_strong_count((*site).bound);
            Rc::from_raw((*site).bound)
        } else {
            let bound = bind_function((*flinfo).fn_oid)?;
            let site = if site.is_null() {
                pg_sys::MemoryContextAllocZero((*flinfo).fn_mcxt, std::mem::size_of::<CallSite>())
                    as *mut CallSite
            } else {
                site
            };
            // A batch in progress (if any) stays with the call site.
            (*site).generation = current;
            (*site).bound = Rc::as_ptr(&bound);
            (*flinfo).fn_extra = site.cast();
            bound
        }
    };
    require_plugin_usage_cached(&bound.plugin)?;
    Ok(bound)
}

fn bind_function(fn_oid: pg_sys::Oid) -> PluginResult<Rc<BoundFunction>> {
    let current = generation();
    if let Some(hit) = BOUND.with(|b| b.borrow().get(&fn_oid).cloned())
        && hit.generation == current
    {
        return Ok(hit);
    }
    let proc = PgProc::new(fn_oid).ok_or_else(|| {
        PluginError::Internal(format!("function {} does not exist", fn_oid.to_u32()))
    })?;
    let (plugin, export, binding) = resolve_body(&proc)?;
    let bound = Rc::new(BoundFunction {
        plugin,
        export,
        params: binding.params,
        ret: binding.ret,
        fast: binding.fast,
        generation: current,
    });
    BOUND.with(|b| b.borrow_mut().insert(fn_oid, bound.clone()));
    Ok(bound)
}

/// Index of the export named `name` (WIT or SQL spelling).
pub fn find_export(plugin: &ResolvedPlugin, name: &str) -> PluginResult<usize> {
    plugin
        .compiled
        .exports
        .iter()
        .position(|e| e.name == name)
        .or_else(|| {
            plugin
                .compiled
                .exports
                .iter()
                .position(|e| e.sql_name == name)
        })
        .ok_or_else(|| {
            let names: Vec<&str> = plugin
                .compiled
                .exports
                .iter()
                .map(|e| e.name.as_str())
                .collect();
            PluginError::UndefinedExport(
                format!("plugin \"{}\" has no export \"{name}\"", plugin.name),
                Some(format!("its exports are: {}", names.join(", "))),
            )
        })
}

/// Unwrap a `result<T, E>`: `ok` gives T, `err` becomes an ERROR carrying E.
pub fn unwrap_result<'t>(
    value: Option<Val>,
    ty: Option<&'t WitType>,
    what: &dyn std::fmt::Display,
) -> PluginResult<(Option<Val>, Option<&'t WitType>)> {
    match (ty, value) {
        (Some(WitType::Result { ok, err }), Some(Val::Result(r))) => match r {
            Ok(v) => Ok((v.map(|b| *b), ok.as_deref())),
            Err(e) => {
                let rendered = match (err.as_deref(), e.as_deref()) {
                    (Some(t), Some(v)) => val_to_json(t, v),
                    _ => serde_json::Value::Null,
                };
                let text = render_error_value(&rendered);
                Err(PluginError::GuestError {
                    message: format!("{what} returned an error: {text}"),
                    detail: match rendered {
                        serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
                            Some(rendered.to_string())
                        }
                        _ => None,
                    },
                })
            }
        },
        (ty, value) => Ok((value, ty)),
    }
}

/// An error value as a message: a string as is, a record as `field: value, ...`, a variant
/// as `case: payload`, anything else as JSON.
fn render_error_value(value: &serde_json::Value) -> String {
    use serde_json::Value as J;
    let plain = |v: &J| match v {
        J::String(s) => s.clone(),
        other => other.to_string(),
    };
    match value {
        J::Null => "(no error value)".to_string(),
        J::String(s) => s.clone(),
        J::Object(map) if map.len() == 1 => {
            let (k, v) = map.iter().next().expect("invariant: one entry");
            match v {
                J::Null => k.clone(),
                v => format!("{k}: {}", render_error_value(v)),
            }
        }
        J::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", plain(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// "plugin \"p\" export \"e\"", formatted only when a message needs it.
pub(crate) struct ExportLabel<'a> {
    pub plugin: &'a str,
    pub export: &'a str,
}

impl std::fmt::Display for ExportLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "plugin \"{}\" export \"{}\"", self.plugin, self.export)
    }
}

/// "argument p of plugin ..." or "result of plugin ...", formatted only on error.
struct ValueLabel<'a> {
    param: Option<&'a str>,
    export: &'a ExportLabel<'a>,
}

impl std::fmt::Display for ValueLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.param {
            Some(p) => write!(f, "argument {p} of {}", self.export),
            None => write!(f, "result of {}", self.export),
        }
    }
}

/// What a fast-path call produced.
enum Fast {
    /// The signature or the arguments need the dynamic path.
    Dynamic,
    /// A single, non-null value.
    Value(pg_sys::Datum),
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
unsafe fn call_fast(
    fcinfo: pg_sys::FunctionCallInfo,
    bound: &BoundFunction,
    args: &[pg_sys::NullableDatum],
    label: &ExportLabel<'_>,
) -> PluginResult<Fast> {
    use crate::runtime::call::{ScalarArg, ScalarOut, call_scalar, call_typed};
    if args.iter().any(|a| a.isnull) {
        return Ok(Fast::Dynamic);
    }
    let plugin = &bound.plugin;
    let (compiled, export) = (&plugin.compiled, bound.export);
    let result = ValueLabel {
        param: None,
        export: label,
    };
    let first_arg = ValueLabel {
        param: compiled.exports[export]
            .sig
            .params
            .first()
            .map(|(n, _)| n.as_str()),
        export: label,
    };
    // SAFETY: the binding checked the argument types against the export's signature.
    let input = unsafe {
        let arg = |i: usize| args[i].value;
        match bound.fast {
            FastPath::Dynamic => return Ok(Fast::Dynamic),
            FastPath::StrListToStrSet => {
                let vpc = value_per_call(fcinfo);
                if let Some(next) = vpc.and_then(|rsinfo| next_pending(fcinfo, rsinfo)) {
                    return Ok(Fast::Row(next));
                }
                let elems = crate::datum::array_elements(arg(0), &first_arg)?;
                if elems.iter().any(|(_, null)| *null) {
                    return Ok(Fast::Dynamic);
                }
                let strs: Vec<&str> = elems
                    .iter()
                    .map(|(d, _)| <&str>::from_datum(*d, false).unwrap_or_default())
                    .collect();
                let (rows,): (Vec<String>,) = call_typed(plugin.caller(), compiled, export, (strs,))?;
                if let Some(rsinfo) = vpc {
                    let datum = start_pending(fcinfo, rsinfo, rows.len(), |i| {
                        string_to_datum(&rows[i], &result)
                    })?;
                    return Ok(Fast::Row(datum));
                }
                let rows = rows
                    .into_iter()
                    .map(|s| string_to_datum(&s, &result).map(|d| Row::Single(Some(d))));
                return_rows(fcinfo, pg_sys::TEXTOID, None, rows, &result)?;
                return Ok(Fast::Set);
            }
            FastPath::S64ListToS64Set => {
                let vpc = value_per_call(fcinfo);
                if let Some(next) = vpc.and_then(|rsinfo| next_pending(fcinfo, rsinfo)) {
                    return Ok(Fast::Row(next));
                }
                // The array's own elements go to the guest: no copy on our side.
                let Some(values) = crate::datum::int8_array_slice(arg(0), &first_arg)? else {
                    return Ok(Fast::Dynamic);
                };
                let (rows,): (Vec<i64>,) = call_typed(plugin.caller(), compiled, export, (values,))?;
                if let Some(rsinfo) = vpc {
                    let datum = start_pending(fcinfo, rsinfo, rows.len(), |i| {
                        Ok(pg_sys::Datum::from(rows[i]))
                    })?;
                    return Ok(Fast::Row(datum));
                }
                let rows = rows
                    .into_iter()
                    .map(|v| Ok(Row::Single(Some(pg_sys::Datum::from(v)))));
                return_rows(fcinfo, pg_sys::INT8OID, None, rows, &result)?;
                return Ok(Fast::Set);
            }
            FastPath::S64ToS64 => ScalarArg::I64(arg(0).value() as i64),
            FastPath::S32ToS32 => ScalarArg::I32(arg(0).value() as i32),
            FastPath::F64ToF64 => {
                ScalarArg::F64(f64::from_datum(arg(0), false).unwrap_or_default())
            }
            FastPath::F64F64ToF64 => ScalarArg::F64F64(
                f64::from_datum(arg(0), false).unwrap_or_default(),
                f64::from_datum(arg(1), false).unwrap_or_default(),
            ),
            FastPath::StrToStr | FastPath::StrToBool | FastPath::StrToS64 => {
                ScalarArg::Str(<&str>::from_datum(arg(0), false).unwrap_or_default())
            }
        }
    };
    let Some(out) = call_scalar(plugin.caller(), compiled, export, input) else {
        return Ok(Fast::Dynamic);
    };
    let datum = match out? {
        ScalarOut::I64(r) => pg_sys::Datum::from(r),
        ScalarOut::I32(r) => pg_sys::Datum::from(r),
        ScalarOut::F64(r) => r
            .into_datum()
            .expect("invariant: float8 always has a datum"),
        ScalarOut::Bool(r) => pg_sys::Datum::from(r),
        ScalarOut::Str(r) => string_to_datum(&r, &result)?,
    };
    Ok(Fast::Value(datum))
}

/// One row of a set.
enum Row {
    /// One column (`None`: NULL), with no allocation per row.
    Single(Option<pg_sys::Datum>),
    /// A composite's attribute values and null flags.
    Attributes(Vec<pg_sys::Datum>, Vec<bool>),
}

/// The ReturnSetInfo of a set-returning call that allows value-per-call mode, if this is one.
///
/// # Safety
/// `fcinfo` must be the valid call info of the call in progress.
unsafe fn value_per_call(fcinfo: pg_sys::FunctionCallInfo) -> Option<*mut pg_sys::ReturnSetInfo> {
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
unsafe fn next_pending(
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
unsafe fn start_pending(
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
unsafe fn return_rows(
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
            return Err(PluginError::bad_value(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!("{what} is a set, but it is called where a set is not allowed"),
            ));
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
unsafe fn return_set(
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

/// Run the function `fcinfo` describes. Returns the result datum; sets `isnull` for NULL.
unsafe fn call_function(fcinfo: pg_sys::FunctionCallInfo) -> PluginResult<pg_sys::Datum> {
    // SAFETY: Postgres passes a valid fcinfo with flinfo set to the called function.
    let nargs = unsafe { (*fcinfo).nargs as usize };
    // SAFETY: as above.
    let bound = unsafe { bound_function((*fcinfo).flinfo) }?;
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
    // SAFETY: called by Postgres' function manager with a valid fcinfo.
    unsafe { call_function(fcinfo) }.or_report()
}

/// Postgres V1 info record for the validator.
#[unsafe(no_mangle)]
pub extern "C" fn pg_finfo_wasm_validator() -> &'static pg_sys::Pg_finfo_record {
    const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
    &V1
}

fn validate(fn_oid: pg_sys::Oid) -> PluginResult<()> {
    // SAFETY: check_function_bodies is a plain GUC variable.
    if !unsafe { pg_sys::check_function_bodies } {
        return Ok(());
    }
    let proc = PgProc::new(fn_oid).ok_or_else(|| {
        PluginError::Internal(format!("function {} does not exist", fn_oid.to_u32()))
    })?;
    resolve_body(&proc).map(|_| ())
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
        validate(fn_oid).or_report();
    }
    pg_sys::Datum::from(0)
}
