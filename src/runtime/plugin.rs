//! Compiling a component once per backend: validation of the bytes, the import check against
//! our linker, the list of exports with their signatures, and the cache keyed by sha256.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use sha2::{Digest, Sha256};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, ComponentExportIndex, InstancePre};

use super::aggregate::{Aggregate, ResourceFuncs};
use super::host::HostState;
use super::{cache, runtime};
use crate::error::{PluginError, PluginResult, render_chain};
use crate::mapping::{ExportSig, FastPath, sql_ident};
use crate::stats::Load;

/// What a byte string claims to be, from its 8-byte preamble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmKind {
    /// A component (layer 1).
    Component,
    /// A core module (layer 0).
    CoreModule,
    /// Not WebAssembly at all.
    NotWasm,
}

/// Classify bytes by their preamble: `\0asm`, then version and layer.
pub fn classify_wasm(bytes: &[u8]) -> WasmKind {
    if bytes.len() < 8 || &bytes[0..4] != b"\0asm" {
        return WasmKind::NotWasm;
    }
    match (&bytes[4..6], &bytes[6..8]) {
        (_, [1, 0]) => WasmKind::Component,
        ([1, 0], [0, 0]) => WasmKind::CoreModule,
        _ => WasmKind::NotWasm,
    }
}

/// Lower-case hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// One exported function.
pub struct Export {
    /// The name users give it: the WIT function name, qualified as `interface#name` only
    /// when two exported interfaces share a function name.
    pub name: String,
    /// Its snake_case SQL name.
    pub sql_name: String,
    /// Where to find it in an instance.
    pub index: ComponentExportIndex,
    /// Its WIT signature.
    pub sig: ExportSig,
    /// How typed SQL calls reach it.
    pub fast: FastPath,
}

/// A compiled, import-checked component, shared by every plugin name with the same bytes.
pub struct CompiledPlugin {
    /// sha256 of the bytes.
    pub sha256: String,
    /// Ready to instantiate: imports resolved once.
    pub pre: InstancePre<HostState>,
    /// Exported functions, in export order, then the functions of exported resources
    /// (`mean.add`, `mean.constructor`, ...), which are not SQL functions by themselves.
    pub exports: Vec<Export>,
    /// How many of `exports` are plain functions (the rest are resource functions).
    pub functions: usize,
    /// Exported resources that follow the aggregate convention.
    pub aggregates: Vec<super::aggregate::Aggregate>,
    /// Why an exported resource does not (install refuses the component).
    pub resource_errors: Vec<String>,
    /// Names of the component's imports (`wasi:cli/stdout@0.2.6`, ...).
    pub imports: Vec<String>,
}

impl CompiledPlugin {
    /// The plain exported functions (no resource functions).
    pub fn functions(&self) -> &[Export] {
        &self.exports[..self.functions]
    }

    /// Imports that make results vary between calls with the same arguments: the wall clock,
    /// random numbers, and any other clock but the monotonic one, which deterministic plugins
    /// get frozen (see `HostState::new`). A plugin installed as deterministic may have none.
    pub fn nondeterministic_imports(&self) -> Vec<&str> {
        self.imports
            .iter()
            .map(String::as_str)
            .filter(|i| {
                (i.starts_with("wasi:clocks/") && !i.starts_with("wasi:clocks/monotonic-clock@"))
                    || i.starts_with("wasi:random/")
            })
            .collect()
    }
}

thread_local! {
    static COMPILED: RefCell<HashMap<String, Rc<CompiledPlugin>>> = RefCell::new(HashMap::new());
    static COMPILATIONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Forget this backend's compiled components, as a new backend would start (tests only).
#[cfg(any(test, feature = "pg_test"))]
pub fn forget_compiled() {
    COMPILED.with(|c| c.borrow_mut().clear());
    crate::cache::invalidate_local();
    super::call::discard_instances();
}

/// How many components this backend has compiled: tests show a warm call compiles nothing.
#[cfg_attr(not(any(test, feature = "pg_test")), allow(dead_code))]
pub fn compilations() -> u64 {
    COMPILATIONS.with(|c| c.get())
}

/// The compiled form of the component whose sha256 is `sha256`: from this backend's cache,
/// else from the on-disk cache, else compiled from the bytes `fetch` returns (checked against
/// `sha256` first). Bytes are only fetched when they must be compiled.
pub fn load_component(
    sha256: &str,
    fetch: impl FnOnce() -> PluginResult<Vec<u8>>,
) -> PluginResult<(Rc<CompiledPlugin>, Load)> {
    if let Some(hit) = COMPILED.with(|c| c.borrow().get(sha256).cloned()) {
        return Ok((hit, Load::Memory));
    }
    let rt = runtime()?;
    let started = std::time::Instant::now();
    let elapsed = || started.elapsed().as_nanos() as u64;
    let (component, load) = match cache::read_cached(&rt.engine, sha256) {
        Some(component) => (component, Load::Cache(elapsed())),
        None => {
            let bytes = fetch()?;
            let actual = sha256_hex(&bytes);
            if actual != sha256 {
                return Err(PluginError::Corrupted(format!(
                    "component bytes do not match their recorded sha256 (recorded {sha256}, found {actual})"
                )));
            }
            let component = compile_component(&bytes)?;
            let load = Load::Compiled(elapsed());
            cache::write_cached(&rt.engine, sha256, &component);
            (component, load)
        }
    };
    let compiled = Rc::new(prepare_component(component, sha256.to_string())?);
    COMPILED.with(|c| {
        c.borrow_mut()
            .insert(compiled.sha256.clone(), compiled.clone())
    });
    Ok((compiled, load))
}

/// Validate and compile a component.
pub fn compile_component(bytes: &[u8]) -> PluginResult<Component> {
    match classify_wasm(bytes) {
        WasmKind::Component => {}
        WasmKind::CoreModule => {
            return Err(PluginError::CoreModule);
        }
        WasmKind::NotWasm if bytes.is_empty() => {
            return Err(PluginError::InvalidComponent(
                "the component is empty".into(),
                None,
            ));
        }
        WasmKind::NotWasm => {
            return Err(PluginError::InvalidComponent(
                "the bytes are not a WebAssembly component (bad magic number or version)".into(),
                None,
            ));
        }
    }
    let rt = runtime()?;
    COMPILATIONS.with(|c| c.set(c.get() + 1));
    Component::new(&rt.engine, bytes).map_err(|e| {
        let (reason, detail) = render_chain(&e);
        PluginError::InvalidComponent(
            format!("invalid WebAssembly component: {reason}"),
            Some(detail),
        )
    })
}

/// Check a compiled component's imports against our linker and list its exports.
fn prepare_component(component: Component, sha256: String) -> PluginResult<CompiledPlugin> {
    let rt = runtime()?;
    let pre = rt.linker.instantiate_pre(&component).map_err(|e| {
        let (_, detail) = render_chain(&e);
        let first = detail.lines().next().unwrap_or_default();
        let message =
            format!("the component has an import that pg_component does not provide: {first}");
        PluginError::UnsatisfiedImport(message, Some(detail))
    })?;
    let (exports, functions, aggregates, resource_errors) = list_exports(&component)?;
    let imports = component
        .component_type()
        .imports(&rt.engine)
        .map(|(name, _)| name.to_string())
        .collect();
    Ok(CompiledPlugin {
        sha256,
        pre,
        exports,
        functions,
        aggregates,
        resource_errors,
        imports,
    })
}

/// What [`list_exports`] finds: the exports (functions, then resource functions), how many
/// are functions, the aggregate resources, and why other resources are not aggregates.
type ExportList = (Vec<Export>, usize, Vec<Aggregate>, Vec<String>);

/// Every exported function, at the top level or one interface deep, and the functions of
/// exported resources, grouped into aggregates.
fn list_exports(component: &Component) -> PluginResult<ExportList> {
    let rt = runtime()?;
    let ty = component.component_type();
    let mut found: Vec<(Option<String>, String, ComponentExportIndex, ExportSig)> = Vec::new();
    let mut resources = ResourceFuncs::default();
    for (name, item) in ty.exports(&rt.engine) {
        match item.ty {
            ComponentItem::ComponentFunc(f) => {
                let index = component
                    .get_export_index(None, name)
                    .ok_or_else(|| PluginError::Internal(format!("export {name} vanished")))?;
                found.push((None, name.to_string(), index, ExportSig::from_wasmtime(&f)));
            }
            ComponentItem::ComponentInstance(inst)
                if is_componentize_py_hook(name, &inst, &rt.engine) => {}
            ComponentItem::ComponentInstance(inst) => {
                let inst_index = component
                    .get_export_index(None, name)
                    .ok_or_else(|| PluginError::Internal(format!("export {name} vanished")))?;
                for (fname, fitem) in inst.exports(&rt.engine) {
                    if let ComponentItem::ComponentFunc(f) = fitem.ty {
                        let index = component
                            .get_export_index(Some(&inst_index), fname)
                            .ok_or_else(|| {
                                PluginError::Internal(format!("export {name}#{fname} vanished"))
                            })?;
                        if fname.starts_with('[') {
                            resources.add(&inst, &rt.engine, name, fname, &f, index);
                            continue;
                        }
                        found.push((
                            Some(interface_short_name(name)),
                            fname.to_string(),
                            index,
                            ExportSig::from_wasmtime(&f),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    let mut exports = Vec::with_capacity(found.len());
    for (iface, fname, index, sig) in &found {
        let clashes = found.iter().filter(|(_, n, ..)| n == fname).count() > 1;
        let (name, sql_name) = match iface {
            Some(iface) if clashes => (
                format!("{iface}#{fname}"),
                sql_ident(&format!("{iface}-{fname}")),
            ),
            _ => (fname.clone(), sql_ident(fname)),
        };
        exports.push(Export {
            name,
            sql_name,
            index: *index,
            fast: FastPath::of(sig),
            sig: sig.clone(),
        });
    }
    let functions = exports.len();
    let (aggregates, errors) = resources.into_aggregates(&mut exports);
    Ok((exports, functions, aggregates, errors))
}

/// componentize-py exports an interface `exports` with `init(app-name, symbols, stub-wasi)`:
/// its build-time pre-initialization hook, which is not part of the plugin and must not be
/// called afterwards. It is not offered as a function.
fn is_componentize_py_hook(
    name: &str,
    inst: &wasmtime::component::types::ComponentInstance,
    engine: &wasmtime::Engine,
) -> bool {
    name == "exports"
        && inst.exports(engine).any(|(fname, item)| {
            fname == "init"
                && matches!(&item.ty, ComponentItem::ComponentFunc(f)
                    if f.params().next().is_some_and(|(p, _)| p == "app-name"))
        })
}

/// `pkg:ns/iface@1.0.0` → `iface`.
pub fn interface_short_name(full: &str) -> String {
    let no_version = full.split('@').next().unwrap_or(full);
    no_version
        .rsplit('/')
        .next()
        .unwrap_or(no_version)
        .to_string()
}

/// What the component's WIT says beyond wasmtime's types: its world as text, and the names
/// of its named types (records, enums, ...), which generated SQL types take.
pub struct WitInfo {
    pub text: String,
    pub names: std::collections::HashMap<crate::mapping::WitType, String>,
}

/// Decode the component's WIT with `wit-component`.
pub fn decode_wit(bytes: &[u8]) -> WitInfo {
    let decoded = match wit_component::decode(bytes) {
        Ok(d) => d,
        Err(e) => {
            return WitInfo {
                text: format!("// could not decode the WIT of this component: {e}"),
                names: Default::default(),
            };
        }
    };
    let names = crate::mapping::wit_type_names(decoded.resolve());
    let mut printer = wit_component::WitPrinter::default();
    let text = match printer.print(decoded.resolve(), decoded.package(), &[]) {
        Ok(()) => printer.output.to_string(),
        Err(e) => format!("// could not print the WIT of this component: {e}"),
    };
    WitInfo { text, names }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_preambles() {
        assert_eq!(classify_wasm(b""), WasmKind::NotWasm);
        assert_eq!(classify_wasm(b"\0asm\x01\0\0\0"), WasmKind::CoreModule);
        assert_eq!(classify_wasm(b"\0asm\x0d\0\x01\0"), WasmKind::Component);
        assert_eq!(classify_wasm(b"hello world!"), WasmKind::NotWasm);
        assert_eq!(classify_wasm(b"\0asm\x01"), WasmKind::NotWasm);
    }

    #[test]
    fn sha256_is_lower_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn interface_names_are_shortened() {
        assert_eq!(interface_short_name("example:geo/parse@1.0.0"), "parse");
        assert_eq!(interface_short_name("parse"), "parse");
    }
}
