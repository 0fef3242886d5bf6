//! The SQL functions that manage plugins: `wasm.install` and `wasm.uninstall`.

use pgrx::prelude::*;

use crate::catalog::install::{InstallOptions, Tuning, install_plugin, uninstall_plugin};
use crate::error::OrReport;

/// Install a component as plugin `name`: check it, store it in `wasm.plugins`, compile it,
/// and create one `LANGUAGE wasm` function per export in schema `schema` (default: `name`).
/// With `replace => true` an installed plugin is upgraded in place. `capabilities` grants what
/// the component may import beyond computing and logging: `query` (reading the database).
/// `links` chooses which installed plugin provides which of its imports of other plugins'
/// interfaces (`{"acme:geo/distance": "geo"}`); the others are linked to the one plugin that
/// exports them.
#[pg_extern(name = "install", volatile, parallel_unsafe)]
#[allow(clippy::too_many_arguments)]
fn install_with_links(
    name: &str,
    component: &[u8],
    replace: default!(bool, false),
    schema: default!(Option<&str>, "NULL"),
    deterministic: default!(bool, false),
    sha256: default!(Option<&str>, "NULL"),
    capabilities: default!(Option<Vec<Option<String>>>, "NULL"),
    cost: default!(Option<f64>, "NULL"),
    rows: default!(Option<f64>, "NULL"),
    links: default!(Option<pgrx::JsonB>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(function, String),
        name!(export, String),
        name!(sha256, String),
    ),
> {
    let capabilities: Vec<String> = capabilities
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect();
    let links = links.map(|pgrx::JsonB(j)| j);
    run_install(
        name,
        component,
        InstallOptions {
            name,
            replace,
            schema,
            deterministic,
            sha256,
            capabilities: &capabilities,
            tuning: Tuning { cost, rows },
            links: links.as_ref(),
        },
    )
}

/// `wasm.install` as the 0.4.0 SQL declares it (C symbol `install_with_tuning_wrapper`), so
/// that a server running this library with that SQL still installs until `ALTER EXTENSION
/// pg_component UPDATE` replaces the declaration. No SQL is generated for it.
#[pg_extern(volatile, parallel_unsafe, sql = false)]
#[allow(clippy::too_many_arguments)]
fn install_with_tuning(
    name: &str,
    component: &[u8],
    replace: default!(bool, false),
    schema: default!(Option<&str>, "NULL"),
    deterministic: default!(bool, false),
    sha256: default!(Option<&str>, "NULL"),
    capabilities: default!(Option<Vec<Option<String>>>, "NULL"),
    cost: default!(Option<f64>, "NULL"),
    rows: default!(Option<f64>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(function, String),
        name!(export, String),
        name!(sha256, String),
    ),
> {
    install_with_links(
        name,
        component,
        replace,
        schema,
        deterministic,
        sha256,
        capabilities,
        cost,
        rows,
        None,
    )
}

/// `wasm.install` as the 0.2.0 and 0.3.0 SQL declare it (C symbol
/// `install_with_capabilities_wrapper`), so that a server running this library with that SQL
/// still installs until `ALTER EXTENSION pg_component UPDATE` replaces the declaration. No SQL
/// is generated for it.
#[pg_extern(volatile, parallel_unsafe, sql = false)]
#[allow(clippy::too_many_arguments)]
fn install_with_capabilities(
    name: &str,
    component: &[u8],
    replace: default!(bool, false),
    schema: default!(Option<&str>, "NULL"),
    deterministic: default!(bool, false),
    sha256: default!(Option<&str>, "NULL"),
    capabilities: default!(Option<Vec<Option<String>>>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(function, String),
        name!(export, String),
        name!(sha256, String),
    ),
> {
    let capabilities: Vec<String> = capabilities
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect();
    run_install(
        name,
        component,
        InstallOptions {
            name,
            replace,
            schema,
            deterministic,
            sha256,
            capabilities: &capabilities,
            tuning: Tuning::default(),
            links: None,
        },
    )
}

/// The rows `wasm.install` returns: (function, export, sha256) per generated function.
type InstallRows = TableIterator<
    'static,
    (
        name!(function, String),
        name!(export, String),
        name!(sha256, String),
    ),
>;

fn run_install(name: &str, component: &[u8], opts: InstallOptions<'_>) -> InstallRows {
    TableIterator::new(install_plugin(name, component, opts).or_report())
}

/// `wasm.install` as the 0.1.0 SQL declares it (C symbol `install_wrapper`), so that a server
/// running this library with the 0.1.0 SQL still installs until `ALTER EXTENSION pg_component
/// UPDATE` replaces the declaration. No SQL is generated for it.
#[pg_extern(volatile, parallel_unsafe, sql = false)]
fn install(
    name: &str,
    component: &[u8],
    replace: default!(bool, false),
    schema: default!(Option<&str>, "NULL"),
    deterministic: default!(bool, false),
    sha256: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(function, String),
        name!(export, String),
        name!(sha256, String),
    ),
> {
    run_install(
        name,
        component,
        InstallOptions {
            name,
            replace,
            schema,
            deterministic,
            sha256,
            capabilities: &[],
            tuning: Tuning::default(),
            links: None,
        },
    )
}

/// Uninstall plugin `name`: drop its generated functions, its schema if install created it
/// and nothing else lives there, and its catalog row.
#[pg_extern(volatile, parallel_unsafe)]
fn uninstall(name: &str) {
    uninstall_plugin(name).or_report()
}
