//! Values between SQL and WIT: the conversion plan a binding makes once per function
//! (`plan`: SQL type → WIT type), and the converters that run per row along it: `datum`
//! (Postgres datums ↔ wasmtime values), `json` (JSON ↔ wasmtime values, for `wasm_transform`)
//! and `jsonb` (jsonb in its binary form ↔ JSON).

pub mod datum;
pub mod json;
pub mod jsonb;
pub mod plan;
