//! pg_component: WebAssembly components as typed, sandboxed SQL functions.
//!
//! `CREATE EXTENSION pg_component` creates schema `wasm` with the plugin catalog, the role
//! `wasm_admin`, and `LANGUAGE wasm`, whose functions run exports of installed components.

use pgrx::prelude::*;

mod cache;
mod call;
mod catalog;
mod convert;
mod entry;
mod error;
mod guc;
mod mapping;
mod query;
mod runtime;
mod stats;

mod tests;

::pgrx::pg_module_magic!();

/// Runs once per backend that loads the library. Registers GUCs and cache invalidation
/// callbacks; it creates no engine and starts no thread (that happens on first use).
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    guc::register();
    cache::register_callbacks();
    runtime::call::register_xact_callback();
    stats::register();
}

// The extension's own SQL lives in sql/, next to its upgrade scripts
// (sql/pg_component--<old>--<new>.sql, which cargo-pgrx installs with the extension).
extension_sql_file!("../sql/bootstrap.sql", name = "bootstrap", bootstrap);
extension_sql_file!("../sql/privileges.sql", name = "privileges", finalize);

#[cfg(test)]
pub mod pg_test {
    /// Per-test setup of the test cluster.
    pub fn setup(_options: Vec<&str>) {}

    /// postgresql.conf settings of the test cluster.
    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
