//! The thin FFI layer: every function Postgres calls, each a guard that turns a
//! `PluginError` into an `ERROR` and hands the work to `call` or `catalog`.

pub mod admin;
pub mod language;
pub mod stats;
pub mod transform;
