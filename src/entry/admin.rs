//! The SQL functions that manage plugins: `wasm.install` and `wasm.uninstall`.

use pgrx::prelude::*;

use crate::catalog::install::{InstallOptions, install_plugin, uninstall_plugin};
use crate::error::OrReport;

/// Install a component as plugin `name`: check it, store it in `wasm.plugins`, compile it,
/// and create one `LANGUAGE wasm` function per export in schema `schema` (default: `name`).
/// With `replace => true` an installed plugin is upgraded in place.
#[pg_extern(volatile, parallel_unsafe)]
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
    let opts = InstallOptions {
        replace,
        schema,
        deterministic,
        sha256,
    };
    TableIterator::new(install_plugin(name, component, opts).or_report())
}

/// Uninstall plugin `name`: drop its generated functions, its schema if install created it
/// and nothing else lives there, and its catalog row.
#[pg_extern(volatile, parallel_unsafe)]
fn uninstall(name: &str) {
    uninstall_plugin(name).or_report()
}
