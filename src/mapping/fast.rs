//! Signatures with a typed call path.

use super::wit::{ExportSig, WitType};

/// Signatures called through wasmtime's typed API, skipping dynamic values: the common
/// scalar shapes of per-row functions. Everything else takes the dynamic path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FastPath {
    /// Dynamic `Val`s.
    Dynamic,
    /// `func(s64) -> s64`
    S64ToS64,
    /// `func(s32) -> s32`
    S32ToS32,
    /// `func(f64) -> f64`
    F64ToF64,
    /// `func(f64, f64) -> f64`
    F64F64ToF64,
    /// `func(string) -> string`
    StrToStr,
    /// `func(string) -> bool`
    StrToBool,
    /// `func(string) -> s64`
    StrToS64,
    /// `func(string) -> option<string>`: a lookup that may find nothing (NULL).
    StrToOptStr,
    /// `func(list<string>) -> list<string>`: a batch, `text[]` in, `SETOF text` out.
    StrListToStrSet,
    /// `func(list<s64>) -> list<s64>`: a batch, `bigint[]` in, `SETOF bigint` out.
    S64ListToS64Set,
}

impl FastPath {
    /// The fast path for a signature, or `Dynamic`.
    pub fn of(sig: &ExportSig) -> FastPath {
        use WitType as W;
        let params: Vec<&WitType> = sig.params.iter().map(|(_, t)| t).collect();
        match (params.as_slice(), sig.result.as_ref()) {
            ([W::S64], Some(W::S64)) => FastPath::S64ToS64,
            ([W::S32], Some(W::S32)) => FastPath::S32ToS32,
            ([W::F64], Some(W::F64)) => FastPath::F64ToF64,
            ([W::F64, W::F64], Some(W::F64)) => FastPath::F64F64ToF64,
            ([W::String], Some(W::String)) => FastPath::StrToStr,
            ([W::String], Some(W::Bool)) => FastPath::StrToBool,
            ([W::String], Some(W::S64)) => FastPath::StrToS64,
            ([W::String], Some(W::Option(r))) if **r == W::String => FastPath::StrToOptStr,
            ([W::List(a)], Some(W::List(b))) if **a == W::String && **b == W::String => {
                FastPath::StrListToStrSet
            }
            ([W::List(a)], Some(W::List(b))) if **a == W::S64 && **b == W::S64 => {
                FastPath::S64ListToS64Set
            }
            _ => FastPath::Dynamic,
        }
    }
}
