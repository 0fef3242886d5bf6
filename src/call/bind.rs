//! Binding: a `LANGUAGE wasm` function's SQL signature checked against its export's WIT
//! signature once, into a conversion plan kept per function (`BOUND`) and per call site
//! (`flinfo->fn_extra`); also what the validator runs.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use pgrx::pg_catalog::pg_proc::{PgProc, ProParallel, ProVolatile};
use pgrx::pg_sys;

use crate::cache::generation;
use crate::catalog::acl::require_plugin_usage_cached;
use crate::catalog::{ResolvedPlugin, resolve_plugin};
use crate::convert::plan::{Conv, Dir, bind, bind_typmod, format_type};
use crate::error::{PluginError, PluginResult};
use crate::mapping::{FastPath, SqlReturn, SqlSignature, WitType};
use crate::runtime::plugin::Export;

use super::find_export;
use super::srf::PendingRows;

/// A `LANGUAGE wasm` function resolved to its export, valid while the catalog generation
/// is unchanged.
pub(super) struct BoundFunction {
    pub(super) plugin: Rc<ResolvedPlugin>,
    pub(super) export: usize,
    /// How each argument converts.
    pub(super) params: Vec<Conv>,
    /// How the result converts.
    pub(super) ret: BoundReturn,
    /// The typed path, when the SQL types allow it.
    pub(super) fast: FastPath,
    pub(super) generation: u64,
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
pub(super) enum BoundReturn {
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
/// planner would otherwise fold, cache or parallelize calls whose results vary. A plugin that
/// reads the database may be STABLE (it sees the caller's snapshot), never PARALLEL SAFE.
fn check_volatility(proc: &PgProc, plugin: &ResolvedPlugin) -> PluginResult<()> {
    if plugin.deterministic {
        return Ok(());
    }
    let allowed = match proc.provolatile() {
        ProVolatile::Volatile => true,
        ProVolatile::Stable => plugin.reads_database,
        _ => false,
    };
    let parallel_safe = matches!(proc.proparallel(), ProParallel::Safe);
    if allowed && !parallel_safe {
        return Ok(());
    }
    let (rule, hint) = if plugin.reads_database {
        (
            "VOLATILE or STABLE, and not PARALLEL SAFE",
            "a plugin that reads the database is never IMMUTABLE or PARALLEL SAFE",
        )
    } else {
        (
            "VOLATILE and not PARALLEL SAFE",
            "install it with deterministic => true if its exports depend only on their arguments",
        )
    };
    Err(PluginError::SignatureMismatch(
        format!(
            "plugin \"{}\" is not deterministic: its functions must be {rule}",
            plugin.name
        ),
        Some(hint.into()),
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
    let params = bind_params(proc, export)?.map_err(mismatch)?;
    let ret = bind_return(proc, export, &sql)?.map_err(mismatch)?;
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

/// The conversions of a function's arguments; `Ok(Err(why))` when they do not fit the
/// export's parameters.
fn bind_params(proc: &PgProc, export: &Export) -> PluginResult<Result<Vec<Conv>, String>> {
    let argtypes = proc.proargtypes();
    if argtypes.len() != export.sig.params.len() {
        return Ok(Err(format!(
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
                return Ok(Err(format!(
                    "argument {} ({}) does not fit parameter {name}: {why}",
                    i + 1,
                    format_type(*oid),
                )));
            }
        }
    }
    Ok(Ok(params))
}

/// The conversion of a function's result (a `result`'s `ok` type: its `err` is an error);
/// `Ok(Err(why))` when it does not fit the export's.
fn bind_return(
    proc: &PgProc,
    export: &Export,
    sql: &SqlSignature,
) -> PluginResult<Result<BoundReturn, String>> {
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
    let does_not_fit = |why: String| {
        format!(
            "the function returns {} but the export returns {wit}: {why}",
            returns()
        )
    };
    // RETURNS TABLE (…) and OUT parameters: the row type their columns make.
    let rettypmod = if rettype == pg_sys::RECORDOID {
        crate::convert::plan::out_parameters_type(proc).unwrap_or(-1)
    } else {
        -1
    };
    Ok(match (ok_type, retset) {
        (None, false) if rettype == pg_sys::VOIDOID => Ok(BoundReturn::Void),
        (Some(WitType::List(elem)), true) if **elem != WitType::U8 => {
            bind_typmod(rettype, rettypmod, elem, Dir::Out)?
                .map(|conv| BoundReturn::Set {
                    elem: conv,
                    elem_oid: rettype,
                })
                .map_err(does_not_fit)
        }
        (Some(ty), false) => bind_typmod(rettype, rettypmod, ty, Dir::Out)?
            .map(BoundReturn::Value)
            .map_err(does_not_fit),
        _ => {
            let expected = match &sql.ret {
                SqlReturn::Void => "void".to_string(),
                SqlReturn::Value(m) => m.sql_name(),
                SqlReturn::Set(m) => format!("SETOF {}", m.sql_name()),
            };
            Err(format!(
                "the function returns {} but the export returns {wit}, i.e. {expected}",
                returns()
            ))
        }
    })
}

/// What `flinfo->fn_extra` holds for a call site: the binding, valid while the catalog
/// generation is the one it was made in. `BOUND` owns the binding for that long.
pub(super) struct CallSite {
    pub(super) generation: u64,
    pub(super) bound: *const BoundFunction,
    /// Rows of a batch call still to hand out one per call (value-per-call mode), or null.
    pub(super) pending: *mut PendingRows,
}

/// The binding of the function `flinfo` calls: from `fn_extra` (no lookup at all), else from
/// `BOUND`, else resolved now; the caller's privilege is re-checked when the role changes.
///
/// # Safety
/// `flinfo` must be the valid `FmgrInfo` of the call in progress.
#[inline(always)]
pub(super) unsafe fn bound_function(
    flinfo: *mut pg_sys::FmgrInfo,
) -> PluginResult<Rc<BoundFunction>> {
    let current = generation();
    // SAFETY: fn_extra is null or a CallSite this function allocated in fn_mcxt.
    let site = unsafe { (*flinfo).fn_extra } as *mut CallSite;
    // SAFETY: as above; a non-null site is ours.
    if !site.is_null() && unsafe { (*site).generation } == current {
        // SAFETY: BOUND holds this binding for as long as the generation is current.
        let bound = unsafe {
            Rc::increment_strong_count((*site).bound);
            Rc::from_raw((*site).bound)
        };
        require_plugin_usage_cached(&bound.plugin)?;
        return Ok(bound);
    }
    // SAFETY: the caller's contract.
    unsafe { bind_call_site(flinfo, site, current) }
}

/// The first call at a call site (or the first after a catalog change): bind the function
/// and keep the binding in `fn_extra`. Out of line: every other row takes the path above.
///
/// # Safety
/// As for [`bound_function`]; `site` is its `fn_extra`.
#[cold]
#[inline(never)]
unsafe fn bind_call_site(
    flinfo: *mut pg_sys::FmgrInfo,
    site: *mut CallSite,
    current: u64,
) -> PluginResult<Rc<BoundFunction>> {
    // SAFETY: the valid FmgrInfo of the call in progress (the caller's contract).
    let bound = bind_function(unsafe { (*flinfo).fn_oid })?;
    let site = if site.is_null() {
        // SAFETY: fn_mcxt lives as long as the FmgrInfo; zeroed memory is a valid CallSite
        // (no pending rows).
        unsafe {
            pg_sys::MemoryContextAllocZero((*flinfo).fn_mcxt, std::mem::size_of::<CallSite>())
                as *mut CallSite
        }
    } else {
        site
    };
    // SAFETY: `site` is ours (above); fn_extra keeps it for the call site. A batch in
    // progress (if any) stays with it.
    unsafe {
        (*site).generation = current;
        (*site).bound = Rc::as_ptr(&bound);
        (*flinfo).fn_extra = site.cast();
    }
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
    if proc.prorettype() == pg_sys::TRIGGEROID {
        return Err(PluginError::NotSupported(
            "trigger functions can only be called as triggers".into(),
            None,
        ));
    }
    if super::aggregate::is_support(&proc) {
        return Err(super::aggregate::outside_aggregate());
    }
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

/// Check a function at CREATE FUNCTION time: what the validator runs.
pub fn validate(fn_oid: pg_sys::Oid) -> PluginResult<()> {
    // SAFETY: check_function_bodies is a plain GUC variable.
    if !unsafe { pg_sys::check_function_bodies } {
        return Ok(());
    }
    let proc = PgProc::new(fn_oid).ok_or_else(|| {
        PluginError::Internal(format!("function {} does not exist", fn_oid.to_u32()))
    })?;
    if proc.prorettype() == pg_sys::TRIGGEROID {
        return super::trigger::validate(&proc);
    }
    if super::aggregate::is_support(&proc) {
        return super::aggregate::validate(&proc);
    }
    resolve_body(&proc).map(|_| ())
}
