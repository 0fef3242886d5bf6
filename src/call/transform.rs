//! `wasm_transform`: any export called with JSON arguments, returning JSON.

use serde_json::Value as Json;
use wasmtime::component::Val;

use crate::call::{find_export, unwrap_result};
use crate::catalog::acl::require_plugin_usage_cached;
use crate::catalog::resolve_plugin;
use crate::convert::json::{json_to_val, val_to_json};
use crate::convert::jsonb::{SingleScalar, jsonb_to_json, single_scalar};
use crate::error::{PluginError, PluginResult, ValueFault};
use crate::mapping::FastPath;
use crate::mapping::{is_sql_ident_of, sql_ident, sql_ident_cow};
use crate::runtime::call::{ScalarArg, ScalarOut, call_export, call_scalar};
use pgrx::pg_sys;

/// What a `wasm_transform` call names, resolved: kept for the next row, which nearly always
/// names the same plugin and export.
struct TransformTarget {
    generation: u64,
    plugin: String,
    export: Option<String>,
    resolved: std::rc::Rc<crate::catalog::ResolvedPlugin>,
    index: usize,
}

thread_local! {
    static LAST_TARGET: std::cell::RefCell<Option<TransformTarget>> =
        const { std::cell::RefCell::new(None) };
}

/// The plugin and export index a `wasm_transform` call names: the last call's when it named
/// the same ones in the same catalog generation, else looked up.
fn transform_target(
    plugin: &str,
    export: Option<&str>,
) -> PluginResult<(std::rc::Rc<crate::catalog::ResolvedPlugin>, usize)> {
    let generation = crate::cache::generation();
    let hit = LAST_TARGET.with_borrow(|last| {
        last.as_ref()
            .filter(|t| {
                t.generation == generation && t.plugin == plugin && t.export.as_deref() == export
            })
            .map(|t| (t.resolved.clone(), t.index))
    });
    if let Some(hit) = hit {
        return Ok(hit);
    }
    let resolved = resolve_plugin(plugin)?;
    let exports = resolved.compiled.functions();
    let index = match export {
        Some(name) => find_export(&resolved, name)?,
        None => match exports.iter().position(|e| e.name == "transform") {
            Some(i) => i,
            None if exports.len() == 1 => 0,
            None => {
                return Err(PluginError::UndefinedExport(
                    format!(
                        "plugin \"{plugin}\" has no export named \"transform\" and more than one export"
                    ),
                    Some("name the export: wasm_transform(plugin, export, args)".into()),
                ));
            }
        },
    };
    LAST_TARGET.with_borrow_mut(|last| {
        *last = Some(TransformTarget {
            generation,
            plugin: plugin.to_string(),
            export: export.map(str::to_string),
            resolved: resolved.clone(),
            index,
        })
    });
    Ok((resolved, index))
}

/// Call `plugin`'s `export` (or its `transform`, or its only export) with the jsonb `input`:
/// its single parameter when `positional_single`, else an array of the parameters in order or
/// an object keyed by their names.
///
/// # Safety
/// `input` must be a non-null jsonb datum.
pub unsafe fn transform(
    plugin: &str,
    export: Option<&str>,
    input: pg_sys::Datum,
    positional_single: bool,
) -> PluginResult<Option<Json>> {
    let (resolved, index) = transform_target(plugin, export)?;
    require_plugin_usage_cached(&resolved)?;
    resolved.counters.enter(index);
    let exports = &resolved.compiled.exports;
    let ex = &exports[index];
    // Formatted only if a message needs it: this runs once per row.
    let what = crate::call::ExportLabel {
        plugin,
        export: &ex.name,
    };
    let params = &ex.sig.params;
    // One integer or string argument of a typed export, read straight from the jsonb (the
    // per-row case); anything else goes through JSON values and their checks.
    let direct = match ex.fast {
        FastPath::S64ToS64
        | FastPath::S32ToS32
        | FastPath::StrToStr
        | FastPath::StrToBool
        | FastPath::StrToS64
        | FastPath::StrToOptStr => {
            // SAFETY: a non-null jsonb (our contract), alive for this call.
            match (ex.fast, unsafe { single_scalar(input, positional_single) }) {
                (FastPath::S64ToS64, Some(SingleScalar::Int(i))) => Some(ScalarArg::I64(i)),
                (FastPath::S32ToS32, Some(SingleScalar::Int(i))) => {
                    i32::try_from(i).ok().map(ScalarArg::I32)
                }
                (FastPath::S64ToS64 | FastPath::S32ToS32, _) => None,
                (_, Some(SingleScalar::Str(s))) => Some(ScalarArg::Str(s)),
                _ => None,
            }
        }
        _ => None,
    };
    let args: Vec<Val> = if direct.is_some() {
        Vec::new()
    } else if positional_single {
        // SAFETY: as above.
        let input = unsafe { jsonb_to_json(input) }?;
        if params.len() != 1 {
            return Err(PluginError::bad_value(
                ValueFault::Invalid,
                format!(
                    "{what} takes {} parameters, not one: use wasm_transform(plugin, export, args)",
                    params.len()
                ),
            ));
        }
        vec![
            json_to_val(&params[0].1, &input, "$")
                .map_err(|e| e.into_plugin_error(&format!("input of {what}")))?,
        ]
    } else {
        // SAFETY: as above.
        json_args(&what, params, &unsafe { jsonb_to_json(input) }?)?
    };
    let result = match direct
        .or_else(|| scalar_arg(&args))
        .and_then(|a| call_scalar(resolved.caller(), &resolved.compiled, index, a, false))
    {
        Some(typed) => Some(match typed? {
            ScalarOut::I64(r) => Val::S64(r),
            ScalarOut::I32(r) => Val::S32(r),
            ScalarOut::F64(r) => Val::Float64(r),
            ScalarOut::Bool(r) => Val::Bool(r),
            ScalarOut::Str(r) => Val::String(r),
            ScalarOut::OptStr(r) => Val::Option(r.map(|s| Box::new(Val::String(s)))),
            ScalarOut::Text(_) | ScalarOut::OptText(_) => {
                return Err(PluginError::Internal(format!(
                    "{what}: a text datum came back where a string was asked for"
                )));
            }
        }),
        None => call_export(resolved.caller(), &resolved.compiled, index, &args)?,
    };
    let (value, ty) = unwrap_result(result, ex.sig.result.as_ref(), &what)?;
    Ok(match (value, ty) {
        (Some(v), Some(t)) => Some(val_to_json(t, &v)),
        _ => None,
    })
}

/// The typed-call form of arguments a scalar fast path takes (`call_scalar` checks that they
/// fit the export's).
fn scalar_arg(args: &[Val]) -> Option<ScalarArg<'_>> {
    Some(match args {
        [Val::S64(x)] => ScalarArg::I64(*x),
        [Val::S32(x)] => ScalarArg::I32(*x),
        [Val::Float64(x)] => ScalarArg::F64(*x),
        [Val::Float64(a), Val::Float64(b)] => ScalarArg::F64F64(*a, *b),
        [Val::String(s)] => ScalarArg::Str(s),
        _ => return None,
    })
}

/// Arguments from a JSON array (in order) or object (by parameter name).
fn json_args(
    what: &dyn std::fmt::Display,
    params: &[(String, crate::mapping::WitType)],
    args: &Json,
) -> PluginResult<Vec<Val>> {
    let convert = |i: usize, v: &Json| {
        let (pname, pty) = &params[i];
        json_to_val(pty, v, "$")
            .map_err(|e| e.into_plugin_error(&format!("argument {} of {what}", sql_ident(pname))))
    };
    match args {
        Json::Array(items) => {
            if items.len() != params.len() {
                return Err(PluginError::bad_value(
                    ValueFault::Invalid,
                    format!(
                        "{what} takes {} arguments, {} given",
                        params.len(),
                        items.len()
                    ),
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, v)| convert(i, v))
                .collect()
        }
        Json::Object(map) => {
            if let Some(unknown) = map
                .keys()
                .find(|k| !params.iter().any(|(n, _)| n == *k || is_sql_ident_of(n, k)))
            {
                return Err(PluginError::bad_value(
                    ValueFault::Invalid,
                    format!("{what} has no parameter \"{unknown}\""),
                ));
            }
            params
                .iter()
                .enumerate()
                .map(
                    |(i, (n, t))| match map.get(&*sql_ident_cow(n)).or_else(|| map.get(n)) {
                        Some(v) => convert(i, v),
                        None if matches!(t, crate::mapping::WitType::Option(_)) => {
                            Ok(Val::Option(None))
                        }
                        None => Err(PluginError::bad_value(
                            ValueFault::Invalid,
                            format!("argument {} of {what} is missing", sql_ident(n)),
                        )),
                    },
                )
                .collect()
        }
        _ => Err(PluginError::bad_value(
            ValueFault::Invalid,
            format!("arguments of {what} must be a JSON array or object"),
        )),
    }
}
