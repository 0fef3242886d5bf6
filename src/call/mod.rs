//! The call path of `LANGUAGE wasm` functions and `wasm_transform`: `bind` (SQL signature →
//! conversion plan, cached), `invoke` (fast paths, dynamic values, results), `srf` (sets) and
//! `transform` (JSON in, JSON out). What they share is here: finding an export, unwrapping a
//! `result`, and the labels messages name values by.

use wasmtime::component::Val;

use crate::catalog::ResolvedPlugin;
use crate::convert::json::val_to_json;
use crate::error::{PluginError, PluginResult};
use crate::mapping::WitType;

pub mod aggregate;
pub mod bind;
pub mod invoke;
pub mod srf;
pub mod transform;
pub mod trigger;

/// Index of the export named `name` (WIT or SQL spelling).
pub fn find_export(plugin: &ResolvedPlugin, name: &str) -> PluginResult<usize> {
    let functions = plugin.compiled.functions();
    functions
        .iter()
        .position(|e| e.name == name)
        .or_else(|| functions.iter().position(|e| e.sql_name == name))
        .ok_or_else(|| {
            let names: Vec<&str> = functions.iter().map(|e| e.name.as_str()).collect();
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
