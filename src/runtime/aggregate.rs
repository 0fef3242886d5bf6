//! Exported resources, found among a component's exports: their functions (`[constructor]r`,
//! `[method]r.m`, `[static]r.m`) grouped per resource and checked against the aggregate
//! convention (`mapping::AggregateShape`).

use wasmtime::Engine;
use wasmtime::component::ComponentExportIndex;
use wasmtime::component::types::{ComponentFunc, ComponentInstance, ComponentItem};
use wasmtime::component::{ResourceType, Type};

use super::plugin::{Export, interface_short_name};
use crate::mapping::{
    AggregateShape, ExportSig, FastPath, MethodKind, MethodSig, Slot, WitType, sql_ident,
};

/// An exported resource that is an aggregate: its shape and where its functions are in the
/// compiled plugin's exports.
#[derive(Debug)]
pub struct Aggregate {
    /// The resource's WIT name (`interface#name` when two interfaces export the same name).
    pub name: String,
    /// The aggregate's SQL name.
    pub sql_name: String,
    pub shape: AggregateShape,
    pub constructor: usize,
    pub add: usize,
    pub finish: usize,
    pub merge: Option<usize>,
    pub serialize: Option<usize>,
    pub deserialize: Option<usize>,
    pub remove: Option<usize>,
    pub add_batch: Option<usize>,
}

/// One resource function as found.
struct Found {
    sig: MethodSig,
    export: ExportSig,
    index: ComponentExportIndex,
}

/// Resource functions found so far, per (interface, resource).
#[derive(Default)]
pub struct ResourceFuncs {
    groups: Vec<(String, String, Vec<Found>)>,
}

/// `[constructor]r`, `[method]r.m`, `[static]r.m` → kind, resource, method.
fn parse(fname: &str) -> Option<(MethodKind, &str, &str)> {
    if let Some(r) = fname.strip_prefix("[constructor]") {
        return Some((MethodKind::Constructor, r, ""));
    }
    let (kind, rest) = if let Some(rest) = fname.strip_prefix("[method]") {
        (MethodKind::Method, rest)
    } else {
        (MethodKind::Static, fname.strip_prefix("[static]")?)
    };
    let (r, m) = rest.split_once('.')?;
    Some((kind, r, m))
}

fn slot(ty: &Type, resource: Option<&ResourceType>) -> Slot {
    match ty {
        Type::Own(t) if Some(t) == resource => Slot::Own,
        Type::Borrow(t) if Some(t) == resource => Slot::Borrow,
        other => Slot::Value(WitType::from_wasmtime(other)),
    }
}

impl ResourceFuncs {
    /// Record function `fname` of exported interface `iface` (instance type `inst`).
    pub fn add(
        &mut self,
        inst: &ComponentInstance,
        engine: &Engine,
        iface: &str,
        fname: &str,
        func: &ComponentFunc,
        index: ComponentExportIndex,
    ) {
        let Some((kind, resource, method)) = parse(fname) else {
            return;
        };
        let rtype = inst.exports(engine).find_map(|(n, item)| match item.ty {
            ComponentItem::Resource(t) if n == resource => Some(t),
            _ => None,
        });
        let sig = MethodSig {
            kind,
            name: method.to_string(),
            params: func
                .params()
                .map(|(n, t)| (n.to_string(), slot(&t, rtype.as_ref())))
                .collect(),
            result: func.results().next().map(|t| slot(&t, rtype.as_ref())),
        };
        let found = Found {
            sig,
            export: ExportSig::from_wasmtime(func),
            index,
        };
        let iface = interface_short_name(iface);
        match self
            .groups
            .iter_mut()
            .find(|(i, r, _)| *i == iface && r == resource)
        {
            Some((.., list)) => list.push(found),
            None => self.groups.push((iface, resource.to_string(), vec![found])),
        }
    }

    /// The aggregates, their functions appended to `exports`; and why the other resources are
    /// not aggregates.
    pub fn into_aggregates(self, exports: &mut Vec<Export>) -> (Vec<Aggregate>, Vec<String>) {
        let (mut aggregates, mut errors) = (Vec::new(), Vec::new());
        let clashes = |r: &str| self.groups.iter().filter(|(_, n, _)| n == r).count() > 1;
        for (iface, resource, funcs) in &self.groups {
            let sigs: Vec<MethodSig> = funcs.iter().map(|f| f.sig.clone()).collect();
            let shape = match AggregateShape::check(resource, &sigs) {
                Ok(shape) => shape,
                Err(why) => {
                    errors.push(format!("exported {why}"));
                    continue;
                }
            };
            let name = if clashes(resource) {
                format!("{iface}#{resource}")
            } else {
                resource.clone()
            };
            let mut index_of = |kind: MethodKind, method: &str| {
                let f = funcs
                    .iter()
                    .find(|f| f.sig.kind == kind && f.sig.name == method)?;
                let label = if kind == MethodKind::Constructor {
                    "constructor"
                } else {
                    method
                };
                exports.push(Export {
                    name: format!("{name}.{label}"),
                    sql_name: sql_ident(&format!("{name}-{label}")),
                    index: f.index,
                    sig: f.export.clone(),
                    fast: FastPath::Dynamic,
                });
                Some(exports.len() - 1)
            };
            let (Some(constructor), Some(add), Some(finish)) = (
                index_of(MethodKind::Constructor, ""),
                index_of(MethodKind::Method, "add"),
                index_of(MethodKind::Method, "finish"),
            ) else {
                continue;
            };
            aggregates.push(Aggregate {
                sql_name: sql_ident(&name.replace('#', "-")),
                constructor,
                add,
                finish,
                merge: index_of(MethodKind::Method, "merge"),
                serialize: index_of(MethodKind::Method, "serialize"),
                deserialize: index_of(MethodKind::Static, "deserialize"),
                remove: index_of(MethodKind::Method, "remove"),
                add_batch: index_of(MethodKind::Method, "add-batch"),
                name,
                shape,
            });
        }
        (aggregates, errors)
    }
}
