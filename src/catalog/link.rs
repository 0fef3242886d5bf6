//! Plugins built from plugins. An import of an interface that is neither WASI nor our host
//! package is satisfied by an installed plugin that exports that interface (same package and
//! name, a semver-compatible version). Install composes the importer with its providers into
//! one component (`wac-graph`), which is then compiled and cached like any other: a call across
//! a link is a component-to-component call inside one component, and each importer holds its
//! own instance of each provider (shared-nothing).
//!
//! The catalog keeps the importer's own bytes (`bytes`, `sha256`), what it links to (`links`:
//! import → provider) and the composition (`linked_bytes`, `linked_sha256`), which is what runs.
//! A replace of a provider composes its importers again in the same transaction.

use std::collections::{BTreeMap, HashMap, HashSet};

use wac_graph::types::{ItemKind, Package};
use wac_graph::{CompositionGraph, EncodeOptions};

use crate::error::{PluginError, PluginResult};

/// The host's own imports: WASI and our host package. Everything else with an interface name
/// is another plugin's.
pub fn is_host_import(name: &str) -> bool {
    name.starts_with("wasi:") || name.starts_with("pg-component:")
}

/// `ns:pkg/iface@1.2.3` → (`ns:pkg/iface`, `Some(1.2.3)`); no version → `None`.
fn split_version(name: &str) -> (&str, Option<semver::Version>) {
    match name.split_once('@') {
        Some((base, v)) => (base, semver::Version::parse(v).ok()),
        None => (name, None),
    }
}

/// Whether an export named `export` serves an import named `import`: the same package and
/// interface, and a version the import's accepts as a caret requirement (`0.1.0` accepts
/// `0.1.7`, not `0.2.0`; `1.2.0` accepts `1.9.0`, not `1.1.0` or `2.0.0`).
pub fn compatible(import: &str, export: &str) -> bool {
    let (ib, iv) = split_version(import);
    let (eb, ev) = split_version(export);
    if ib != eb {
        return false;
    }
    match (iv, ev) {
        (None, None) => import == export,
        (Some(iv), Some(ev)) => semver::VersionReq::parse(&format!("^{iv}"))
            .map(|req| req.matches(&ev))
            .unwrap_or(false),
        _ => false,
    }
}

/// What a component imports from and exports to other plugins: interface names of instances.
pub struct Interfaces {
    /// Imports that are neither WASI nor our host package.
    pub plugin_imports: Vec<String>,
    /// Every import by name (host ones included): for the capability checks of this part alone.
    pub imports: Vec<String>,
    /// Exported interfaces (`ns:pkg/iface@version`).
    pub exports: Vec<String>,
}

/// Read a component's imports and exports (types only: nothing is compiled).
pub fn interfaces(bytes: &[u8]) -> PluginResult<Interfaces> {
    let mut types = wac_graph::types::Types::default();
    let package =
        Package::from_bytes("plugin:part", None, bytes.to_vec(), &mut types).map_err(|e| {
            PluginError::InvalidComponent(format!("invalid WebAssembly component: {e:#}"), None)
        })?;
    let world = &types[package.ty()];
    let is_interface = |name: &str| name.contains(':') && name.contains('/');
    let imports: Vec<String> = world.imports.keys().cloned().collect();
    let plugin_imports = world
        .imports
        .iter()
        .filter(|(n, k)| {
            matches!(k, ItemKind::Instance(_)) && is_interface(n) && !is_host_import(n)
        })
        .map(|(n, _)| n.clone())
        .collect();
    let exports = world
        .exports
        .iter()
        .filter(|(n, k)| matches!(k, ItemKind::Instance(_)) && is_interface(n))
        .map(|(n, _)| n.clone())
        .collect();
    Ok(Interfaces {
        plugin_imports,
        imports,
        exports,
    })
}

/// An installed plugin that may provide interfaces: what install needs to link to it.
pub struct Candidate {
    pub name: String,
    /// The plugins it links to.
    pub providers: Vec<String>,
}

/// The provider chosen for one import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub import: String,
    pub provider: String,
    /// The provider's export that serves it (its version may be newer than the import's).
    pub export: String,
}

/// Parse the `links` install option: `{"acme:geo/distance": "geo", ...}`, keys with or without
/// their version.
pub fn parse_links_option(
    json: Option<&serde_json::Value>,
) -> PluginResult<BTreeMap<String, String>> {
    let Some(json) = json else {
        return Ok(BTreeMap::new());
    };
    let serde_json::Value::Object(map) = json else {
        return Err(PluginError::InvalidArgument(
            "links must be a JSON object of import → plugin name, e.g. '{\"acme:geo/distance\": \"geo\"}'".into(),
        ));
    };
    let mut out = BTreeMap::new();
    for (k, v) in map {
        let serde_json::Value::String(p) = v else {
            return Err(PluginError::InvalidArgument(format!(
                "links: the provider of \"{k}\" must be a plugin name (a JSON string), not {v}"
            )));
        };
        out.insert(k.clone(), p.clone());
    }
    Ok(out)
}

/// Choose a provider for each of `importer`'s plugin imports among `candidates` (every other
/// installed plugin, with its exported interfaces), honoring `chosen` (the `links` option).
/// Refuses an import nothing provides (`0A000`), one several plugins provide with no choice
/// made (`42725`), a choice that does not provide it, a `links` key that is not an import, and
/// a cycle (a provider that links, directly or not, back to the importer).
pub fn choose(
    importer: &str,
    plugin_imports: &[String],
    chosen: &BTreeMap<String, String>,
    candidates: &[(Candidate, Vec<String>)],
) -> PluginResult<Vec<Link>> {
    for key in chosen.keys() {
        if !plugin_imports
            .iter()
            .any(|i| i == key || split_version(i).0 == key)
        {
            return Err(PluginError::InvalidArgument(format!(
                "links names \"{key}\", which plugin \"{importer}\" does not import{}",
                if plugin_imports.is_empty() {
                    String::new()
                } else {
                    format!(" (it imports {})", plugin_imports.join(", "))
                }
            )));
        }
    }
    let mut links = Vec::new();
    for import in plugin_imports {
        let serving = |exports: &[String]| exports.iter().find(|e| compatible(import, e)).cloned();
        let pick = chosen
            .get(import)
            .or_else(|| chosen.get(split_version(import).0));
        let link = if let Some(provider) = pick {
            if provider == importer {
                return Err(PluginError::Link(
                    LinkFault::Cycle,
                    format!("plugin \"{importer}\" cannot provide its own import {import}"),
                    None,
                ));
            }
            let Some((_, exports)) = candidates.iter().find(|(c, _)| c.name == *provider) else {
                return Err(PluginError::UndefinedPlugin(
                    format!(
                        "links names plugin \"{provider}\" for {import}, but it is not installed"
                    ),
                    Some("install the provider first".into()),
                ));
            };
            let Some(export) = serving(exports) else {
                return Err(PluginError::Link(
                    LinkFault::NoProvider,
                    format!(
                        "plugin \"{provider}\" does not export {import} or a compatible version of it"
                    ),
                    Some(if exports.is_empty() {
                        format!("plugin \"{provider}\" exports no interface")
                    } else {
                        format!("plugin \"{provider}\" exports {}", exports.join(", "))
                    }),
                ));
            };
            Link {
                import: import.clone(),
                provider: provider.clone(),
                export,
            }
        } else {
            let found: Vec<Link> = candidates
                .iter()
                .filter(|(c, _)| c.name != importer)
                .filter_map(|(c, exports)| {
                    serving(exports).map(|export| Link {
                        import: import.clone(),
                        provider: c.name.clone(),
                        export,
                    })
                })
                .collect();
            let mut found = found.into_iter();
            match (found.next(), found.next()) {
                (Some(one), None) => one,
                (None, _) => {
                    return Err(PluginError::Link(
                        LinkFault::NoProvider,
                        format!(
                            "the component imports {import}, which no installed plugin exports"
                        ),
                        Some(format!(
                            "install a plugin that exports {import} (or a semver-compatible version) first; wasm.install then links it, or name it with links => '{{\"{}\": \"plugin_name\"}}'",
                            split_version(import).0
                        )),
                    ));
                }
                (Some(first), Some(second)) => {
                    let names: Vec<String> = [first, second]
                        .into_iter()
                        .chain(found)
                        .map(|l| l.provider)
                        .collect();
                    return Err(PluginError::Link(
                        LinkFault::Ambiguous,
                        format!(
                            "the component imports {import}, which several installed plugins export: {}",
                            names.join(", ")
                        ),
                        Some(format!(
                            "choose one with links => '{{\"{}\": \"{}\"}}'",
                            split_version(import).0,
                            names[0]
                        )),
                    ));
                }
            }
        };
        links.push(link);
    }
    // A cycle: a chosen provider that links back to the importer, directly or not.
    let providers_of: HashMap<&str, &[String]> = candidates
        .iter()
        .map(|(c, _)| (c.name.as_str(), &c.providers[..]))
        .collect();
    for link in &links {
        if let Some(path) = path_to(&link.provider, importer, &providers_of) {
            return Err(PluginError::Link(
                LinkFault::Cycle,
                format!(
                    "linking plugin \"{importer}\" to \"{}\" for {} makes a cycle: {importer} → {}",
                    link.provider,
                    link.import,
                    path.join(" → ")
                ),
                None,
            ));
        }
    }
    Ok(links)
}

/// The chain of links from `from` to `to`, if there is one (`from` first, `to` last).
fn path_to(from: &str, to: &str, providers_of: &HashMap<&str, &[String]>) -> Option<Vec<String>> {
    let mut seen = HashSet::new();
    fn walk(
        at: &str,
        to: &str,
        providers_of: &HashMap<&str, &[String]>,
        seen: &mut HashSet<String>,
    ) -> Option<Vec<String>> {
        if at == to {
            return Some(vec![at.to_string()]);
        }
        if !seen.insert(at.to_string()) {
            return None;
        }
        for next in providers_of.get(at).copied().unwrap_or(&[]) {
            if let Some(mut rest) = walk(next, to, providers_of, seen) {
                rest.insert(0, at.to_string());
                return Some(rest);
            }
        }
        None
    }
    walk(from, to, providers_of, &mut seen)
}

/// Why linking failed: it decides the SQLSTATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkFault {
    /// No installed plugin provides the import (`0A000`).
    NoProvider,
    /// Several do and `links` does not choose (`42725`).
    Ambiguous,
    /// The provider's export does not have the import's types (`42804`).
    Mismatch,
    /// The links would form a cycle (`42P19`).
    Cycle,
}

/// Compose `importer` with its providers: one private instance of each provider, its exports
/// passed for the imports it serves, and the importer's exports exported. Host imports of
/// every part stay imports of the composition. Refuses, naming the function, a provider whose
/// export does not have the types the importer expects.
pub fn compose(
    importer_name: &str,
    importer: &[u8],
    links: &[Link],
    provider_bytes: &HashMap<String, Vec<u8>>,
) -> PluginResult<Vec<u8>> {
    let graph_err = |e: anyhow::Error| {
        PluginError::Internal(format!("cannot compose plugin \"{importer_name}\": {e:#}"))
    };
    let mut graph = CompositionGraph::new();
    let package = Package::from_bytes(
        &format!("plugin:{}", importer_name.replace('_', "-")),
        None,
        importer.to_vec(),
        graph.types_mut(),
    )
    .map_err(graph_err)?;
    let export_names: Vec<String> = graph.types()[package.ty()]
        .exports
        .keys()
        .cloned()
        .collect();
    let importer_id = graph
        .register_package(package)
        .map_err(|e| graph_err(e.into()))?;
    let importer_inst = graph.instantiate(importer_id);
    let mut instances: HashMap<&str, wac_graph::NodeId> = HashMap::new();
    for link in links {
        let inst = match instances.get(link.provider.as_str()) {
            Some(inst) => *inst,
            None => {
                let bytes = provider_bytes.get(&link.provider).ok_or_else(|| {
                    PluginError::Internal(format!(
                        "the bytes of plugin \"{}\" are missing",
                        link.provider
                    ))
                })?;
                let package = Package::from_bytes(
                    &format!("plugin:{}", link.provider.replace('_', "-")),
                    None,
                    bytes.clone(),
                    graph.types_mut(),
                )
                .map_err(graph_err)?;
                let id = graph
                    .register_package(package)
                    .map_err(|e| graph_err(e.into()))?;
                let inst = graph.instantiate(id);
                instances.insert(&link.provider, inst);
                inst
            }
        };
        let export = graph
            .alias_instance_export(inst, &link.export)
            .map_err(|e| graph_err(e.into()))?;
        graph
            .set_instantiation_argument(importer_inst, &link.import, export)
            .map_err(|e| {
                let chain: Vec<String> = std::iter::successors(
                    std::error::Error::source(&e),
                    |e| e.source(),
                )
                .map(|e| e.to_string())
                .collect();
                PluginError::Link(
                    LinkFault::Mismatch,
                    format!(
                        "plugin \"{}\" exports {} with other types than plugin \"{importer_name}\" imports: {}",
                        link.provider,
                        link.export,
                        if chain.is_empty() { e.to_string() } else { chain.join(": ") }
                    ),
                    Some(format!(
                        "the import is {}; rebuild one of them against the other's WIT",
                        link.import
                    )),
                )
            })?;
    }
    for name in export_names {
        let export = graph
            .alias_instance_export(importer_inst, &name)
            .map_err(|e| graph_err(e.into()))?;
        graph
            .export(export, &name)
            .map_err(|e| graph_err(e.into()))?;
    }
    graph.encode(EncodeOptions::default()).map_err(|e| {
        PluginError::UnsatisfiedImport(
            format!("cannot compose plugin \"{importer_name}\" with its providers: {e}"),
            Some(format!("{:#}", anyhow::Error::from(e))),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_caret_compatible() {
        assert!(compatible(
            "acme:geo/distance@0.1.0",
            "acme:geo/distance@0.1.7"
        ));
        assert!(!compatible(
            "acme:geo/distance@0.1.0",
            "acme:geo/distance@0.2.0"
        ));
        assert!(!compatible(
            "acme:geo/distance@0.1.5",
            "acme:geo/distance@0.1.2"
        ));
        assert!(compatible(
            "acme:geo/distance@1.2.0",
            "acme:geo/distance@1.9.0"
        ));
        assert!(!compatible(
            "acme:geo/distance@1.2.0",
            "acme:geo/distance@2.0.0"
        ));
        assert!(!compatible(
            "acme:geo/distance@0.0.1",
            "acme:geo/distance@0.0.2"
        ));
        assert!(compatible("acme:geo/distance", "acme:geo/distance"));
        assert!(!compatible("acme:geo/distance", "acme:geo/distance@0.1.0"));
        assert!(!compatible(
            "acme:geo/distance@0.1.0",
            "acme:geo/area@0.1.0"
        ));
        assert!(!compatible(
            "acme:geo/distance@0.1.0",
            "other:geo/distance@0.1.0"
        ));
    }

    #[test]
    fn host_imports_are_not_plugin_imports() {
        assert!(is_host_import("wasi:io/streams@0.2.6"));
        assert!(is_host_import("pg-component:plugin/query@0.2.0"));
        assert!(!is_host_import("acme:geo/distance@0.1.0"));
    }

    fn cand(name: &str, providers: &[&str], exports: &[&str]) -> (Candidate, Vec<String>) {
        (
            Candidate {
                name: name.into(),
                providers: providers.iter().map(|p| p.to_string()).collect(),
            },
            exports.iter().map(|e| e.to_string()).collect(),
        )
    }

    fn fault(r: PluginResult<Vec<Link>>) -> LinkFault {
        match r {
            Err(PluginError::Link(f, ..)) => f,
            other => panic!("expected a link error, got {other:?}"),
        }
    }

    #[test]
    fn choosing_providers() {
        let imports = vec!["acme:geo/distance@0.1.0".to_string()];
        let none = BTreeMap::new();
        let geo = cand("geo", &[], &["acme:geo/distance@0.1.2"]);
        let geo2 = cand("geo2", &[], &["acme:geo/distance@0.1.9"]);
        let old = cand("old", &[], &["acme:geo/distance@0.2.0"]);
        // One provider: linked, to its own export's version.
        let links = choose("stores", &imports, &none, &[geo, old]).unwrap();
        assert_eq!(links[0].provider, "geo");
        assert_eq!(links[0].export, "acme:geo/distance@0.1.2");
        // None: refused.
        let old = cand("old", &[], &["acme:geo/distance@0.2.0"]);
        assert_eq!(
            fault(choose("stores", &imports, &none, &[old])),
            LinkFault::NoProvider
        );
        // Two: ambiguous, unless links chooses (with or without the version).
        let (geo, geo2b) = (cand("geo", &[], &["acme:geo/distance@0.1.2"]), geo2);
        let both = [geo, geo2b];
        assert_eq!(
            fault(choose("stores", &imports, &none, &both)),
            LinkFault::Ambiguous
        );
        let pick: BTreeMap<String, String> =
            [("acme:geo/distance".to_string(), "geo2".to_string())].into();
        assert_eq!(
            choose("stores", &imports, &pick, &both).unwrap()[0].provider,
            "geo2"
        );
        // A choice that does not provide it, or a key that is not an import.
        let bad: BTreeMap<String, String> =
            [("acme:geo/distance".to_string(), "nope".to_string())].into();
        assert!(matches!(
            choose("stores", &imports, &bad, &both),
            Err(PluginError::UndefinedPlugin(..))
        ));
        let other: BTreeMap<String, String> =
            [("acme:geo/area".to_string(), "geo".to_string())].into();
        assert!(matches!(
            choose("stores", &imports, &other, &both),
            Err(PluginError::InvalidArgument(..))
        ));
        // A provider that links back to the importer, through another: a cycle.
        let a = cand("a", &["b"], &["acme:geo/distance@0.1.2"]);
        let b = cand("b", &["stores"], &[]);
        assert_eq!(
            fault(choose("stores", &imports, &none, &[a, b])),
            LinkFault::Cycle
        );
        let me: BTreeMap<String, String> =
            [("acme:geo/distance".to_string(), "stores".to_string())].into();
        assert_eq!(
            fault(choose("stores", &imports, &me, &[])),
            LinkFault::Cycle
        );
    }
}
