//! WIT types as the extension sees them, and the one table that maps them to SQL types.
//!
//! [`WitType`] is a plain tree built once from wasmtime's type handles, so that mapping and
//! conversion are pure functions that plain `#[test]`s can exercise. [`sql_type_of`] is the
//! single place that decides which SQL type a WIT type becomes; `wasm.install`, the validator
//! and the call path all use it.

use std::fmt;

use wasmtime::component::types::{ComponentFunc, Type};

/// A WIT value type, detached from the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum WitType {
    Bool,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
    S64,
    U64,
    F32,
    F64,
    Char,
    String,
    List(Box<WitType>),
    Record(Vec<(String, WitType)>),
    Tuple(Vec<WitType>),
    Variant(Vec<(String, Option<WitType>)>),
    Enum(Vec<String>),
    Option(Box<WitType>),
    Result {
        ok: Option<Box<WitType>>,
        err: Option<Box<WitType>>,
    },
    Flags(Vec<String>),
    /// Kinds with no value form in SQL or JSON: resources, futures, streams, error-context,
    /// maps, fixed-length lists. The string names the kind for error messages.
    Unsupported(&'static str),
}

impl WitType {
    /// Detach a wasmtime type into a [`WitType`] tree.
    pub fn from_wasmtime(ty: &Type) -> WitType {
        match ty {
            Type::Bool => WitType::Bool,
            Type::S8 => WitType::S8,
            Type::U8 => WitType::U8,
            Type::S16 => WitType::S16,
            Type::U16 => WitType::U16,
            Type::S32 => WitType::S32,
            Type::U32 => WitType::U32,
            Type::S64 => WitType::S64,
            Type::U64 => WitType::U64,
            Type::Float32 => WitType::F32,
            Type::Float64 => WitType::F64,
            Type::Char => WitType::Char,
            Type::String => WitType::String,
            Type::List(l) => WitType::List(Box::new(WitType::from_wasmtime(&l.ty()))),
            Type::Record(r) => WitType::Record(
                r.fields()
                    .map(|f| (f.name.to_string(), WitType::from_wasmtime(&f.ty)))
                    .collect(),
            ),
            Type::Tuple(t) => {
                WitType::Tuple(t.types().map(|t| WitType::from_wasmtime(&t)).collect())
            }
            Type::Variant(v) => WitType::Variant(
                v.cases()
                    .map(|c| {
                        (
                            c.name.to_string(),
                            c.ty.as_ref().map(WitType::from_wasmtime),
                        )
                    })
                    .collect(),
            ),
            Type::Enum(e) => WitType::Enum(e.names().map(str::to_string).collect()),
            Type::Option(o) => WitType::Option(Box::new(WitType::from_wasmtime(&o.ty()))),
            Type::Result(r) => WitType::Result {
                ok: r.ok().map(|t| Box::new(WitType::from_wasmtime(&t))),
                err: r.err().map(|t| Box::new(WitType::from_wasmtime(&t))),
            },
            Type::Flags(f) => WitType::Flags(f.names().map(str::to_string).collect()),
            Type::Own(_) | Type::Borrow(_) => WitType::Unsupported("resource"),
            Type::Future(_) => WitType::Unsupported("future"),
            Type::Stream(_) => WitType::Unsupported("stream"),
            Type::ErrorContext => WitType::Unsupported("error-context"),
            Type::Map(_) => WitType::Unsupported("map"),
            Type::FixedLengthList(_) => WitType::Unsupported("fixed-length list"),
        }
    }
}

/// WIT spelling of a type, for messages and the stored WIT text.
impl fmt::Display for WitType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list(f: &mut fmt::Formatter<'_>, items: &[String]) -> fmt::Result {
            write!(f, "{}", items.join(", "))
        }
        match self {
            WitType::Bool => f.write_str("bool"),
            WitType::S8 => f.write_str("s8"),
            WitType::U8 => f.write_str("u8"),
            WitType::S16 => f.write_str("s16"),
            WitType::U16 => f.write_str("u16"),
            WitType::S32 => f.write_str("s32"),
            WitType::U32 => f.write_str("u32"),
            WitType::S64 => f.write_str("s64"),
            WitType::U64 => f.write_str("u64"),
            WitType::F32 => f.write_str("f32"),
            WitType::F64 => f.write_str("f64"),
            WitType::Char => f.write_str("char"),
            WitType::String => f.write_str("string"),
            WitType::List(t) => write!(f, "list<{t}>"),
            WitType::Record(fields) => {
                f.write_str("record { ")?;
                list(
                    f,
                    &fields
                        .iter()
                        .map(|(n, t)| format!("{n}: {t}"))
                        .collect::<Vec<_>>(),
                )?;
                f.write_str(" }")
            }
            WitType::Tuple(ts) => {
                f.write_str("tuple<")?;
                list(f, &ts.iter().map(|t| t.to_string()).collect::<Vec<_>>())?;
                f.write_str(">")
            }
            WitType::Variant(cases) => {
                f.write_str("variant { ")?;
                let cases: Vec<String> = cases
                    .iter()
                    .map(|(n, t)| match t {
                        Some(t) => format!("{n}({t})"),
                        None => n.clone(),
                    })
                    .collect();
                list(f, &cases)?;
                f.write_str(" }")
            }
            WitType::Enum(names) => write!(f, "enum {{ {} }}", names.join(", ")),
            WitType::Option(t) => write!(f, "option<{t}>"),
            WitType::Result { ok, err } => match (ok, err) {
                (None, None) => f.write_str("result"),
                (Some(ok), None) => write!(f, "result<{ok}>"),
                (None, Some(err)) => write!(f, "result<_, {err}>"),
                (Some(ok), Some(err)) => write!(f, "result<{ok}, {err}>"),
            },
            WitType::Flags(names) => write!(f, "flags {{ {} }}", names.join(", ")),
            WitType::Unsupported(kind) => f.write_str(kind),
        }
    }
}

/// The SQL types that typed plugin functions use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    Bool,
    Int2,
    Int4,
    Int8,
    Numeric,
    Float4,
    Float8,
    Text,
    Bytea,
}

impl SqlType {
    /// The name Postgres prints for the type (`format_type` style).
    pub fn sql_name(self) -> &'static str {
        match self {
            SqlType::Bool => "boolean",
            SqlType::Int2 => "smallint",
            SqlType::Int4 => "integer",
            SqlType::Int8 => "bigint",
            SqlType::Numeric => "numeric",
            SqlType::Float4 => "real",
            SqlType::Float8 => "double precision",
            SqlType::Text => "text",
            SqlType::Bytea => "bytea",
        }
    }

    /// The OID of its array type (`text[]` for `text`).
    pub fn array_oid(self) -> pgrx::pg_sys::Oid {
        use pgrx::pg_sys;
        match self {
            SqlType::Bool => pg_sys::BOOLARRAYOID,
            SqlType::Int2 => pg_sys::INT2ARRAYOID,
            SqlType::Int4 => pg_sys::INT4ARRAYOID,
            SqlType::Int8 => pg_sys::INT8ARRAYOID,
            SqlType::Numeric => pg_sys::NUMERICARRAYOID,
            SqlType::Float4 => pg_sys::FLOAT4ARRAYOID,
            SqlType::Float8 => pg_sys::FLOAT8ARRAYOID,
            SqlType::Text => pg_sys::TEXTARRAYOID,
            SqlType::Bytea => pg_sys::BYTEAARRAYOID,
        }
    }

    /// The type's OID in `pg_type`.
    pub fn oid(self) -> pgrx::pg_sys::Oid {
        use pgrx::pg_sys;
        match self {
            SqlType::Bool => pg_sys::BOOLOID,
            SqlType::Int2 => pg_sys::INT2OID,
            SqlType::Int4 => pg_sys::INT4OID,
            SqlType::Int8 => pg_sys::INT8OID,
            SqlType::Numeric => pg_sys::NUMERICOID,
            SqlType::Float4 => pg_sys::FLOAT4OID,
            SqlType::Float8 => pg_sys::FLOAT8OID,
            SqlType::Text => pg_sys::TEXTOID,
            SqlType::Bytea => pg_sys::BYTEAOID,
        }
    }
}

/// How a WIT type travels through a typed SQL function.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlMapping {
    /// The SQL type of the value (of its elements, for an array).
    pub sql: SqlType,
    /// `option<T>`: SQL NULL stands for `none`.
    pub nullable: bool,
    /// `list<T>` (other than `list<u8>`): a one-dimensional `T[]`.
    pub array: bool,
}

impl SqlMapping {
    /// A plain, non-null scalar.
    pub fn scalar(sql: SqlType) -> SqlMapping {
        SqlMapping {
            sql,
            nullable: false,
            array: false,
        }
    }

    /// The OID of the SQL type.
    pub fn oid(&self) -> pgrx::pg_sys::Oid {
        if self.array {
            self.sql.array_oid()
        } else {
            self.sql.oid()
        }
    }

    /// The SQL spelling of the type: `text`, `bigint[]`.
    pub fn sql_name(&self) -> String {
        if self.array {
            format!("{}[]", self.sql.sql_name())
        } else {
            self.sql.sql_name().to_string()
        }
    }
}

/// The single mapping table from WIT to SQL. `Err` names the WIT type that has no mapping.
pub fn sql_type_of(ty: &WitType) -> Result<SqlMapping, String> {
    let plain = |sql| Ok(SqlMapping::scalar(sql));
    match ty {
        WitType::Bool => plain(SqlType::Bool),
        WitType::S8 | WitType::U8 | WitType::S16 => plain(SqlType::Int2),
        WitType::U16 | WitType::S32 => plain(SqlType::Int4),
        WitType::U32 | WitType::S64 => plain(SqlType::Int8),
        WitType::U64 => plain(SqlType::Numeric),
        WitType::F32 => plain(SqlType::Float4),
        WitType::F64 => plain(SqlType::Float8),
        WitType::Char | WitType::String => plain(SqlType::Text),
        WitType::List(inner) if **inner == WitType::U8 => plain(SqlType::Bytea),
        // A list of scalars (or of options of scalars: NULL elements) is a one-dimensional
        // array; lists of lists have no faithful SQL form (arrays are rectangular).
        WitType::List(inner) => match sql_type_of(inner) {
            Ok(m) if !m.array => Ok(SqlMapping {
                sql: m.sql,
                nullable: false,
                array: true,
            }),
            _ => Err(ty.to_string()),
        },
        WitType::Option(inner) => match inner.as_ref() {
            // option<option<T>> cannot tell its two nones apart in a single NULL.
            WitType::Option(_) => Err(ty.to_string()),
            other => sql_type_of(other).map(|m| SqlMapping {
                nullable: true,
                ..m
            }),
        },
        other => Err(other.to_string()),
    }
}

/// What a typed SQL function returns for an export's result.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlReturn {
    /// No result, or `result<_, E>`: `RETURNS void`.
    Void,
    /// A value.
    Value(SqlMapping),
    /// `list<T>`: `RETURNS SETOF T`, one row per element.
    Set(SqlMapping),
}

/// A `list<T>` result becomes a set of T rows; any other result a single value.
fn value_or_set(ty: &WitType) -> Result<SqlReturn, String> {
    match ty {
        WitType::List(inner) if **inner != WitType::U8 => match sql_type_of(inner) {
            Ok(m) if !m.array => Ok(SqlReturn::Set(m)),
            _ => Err(ty.to_string()),
        },
        other => sql_type_of(other).map(SqlReturn::Value),
    }
}

/// The SQL return of an export's WIT result: `result<T, E>` returns T and raises on err.
pub fn sql_return_of(result: Option<&WitType>) -> Result<SqlReturn, String> {
    match result {
        None => Ok(SqlReturn::Void),
        Some(WitType::Result { ok, err }) => {
            if let Some(err) = err {
                check_renderable(err)?;
            }
            match ok {
                None => Ok(SqlReturn::Void),
                Some(ok) => value_or_set(ok),
            }
        }
        Some(other) => value_or_set(other),
    }
}

/// An error payload only has to render as JSON; refuse the kinds that have no value form.
fn check_renderable(ty: &WitType) -> Result<(), String> {
    match ty {
        WitType::Unsupported(_) => Err(ty.to_string()),
        WitType::List(t) | WitType::Option(t) => check_renderable(t),
        WitType::Record(fields) => fields.iter().try_for_each(|(_, t)| check_renderable(t)),
        WitType::Tuple(ts) => ts.iter().try_for_each(check_renderable),
        WitType::Variant(cases) => cases
            .iter()
            .filter_map(|(_, t)| t.as_ref())
            .try_for_each(check_renderable),
        WitType::Result { ok, err } => ok
            .iter()
            .chain(err.iter())
            .try_for_each(|t| check_renderable(t)),
        _ => Ok(()),
    }
}

/// An exported function's signature, detached from the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSig {
    /// Parameter names (WIT spelling) and types.
    pub params: Vec<(String, WitType)>,
    /// The single result, if any.
    pub result: Option<WitType>,
}

impl ExportSig {
    /// Detach a wasmtime function type.
    pub fn from_wasmtime(func: &ComponentFunc) -> ExportSig {
        ExportSig {
            params: func
                .params()
                .map(|(n, t)| (n.to_string(), WitType::from_wasmtime(&t)))
                .collect(),
            result: func.results().next().map(|t| WitType::from_wasmtime(&t)),
        }
    }

    /// The WIT spelling: `func(a: string) -> u32`.
    pub fn wit(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|(n, t)| format!("{n}: {t}"))
            .collect();
        match &self.result {
            Some(r) => format!("func({}) -> {r}", params.join(", ")),
            None => format!("func({})", params.join(", ")),
        }
    }
}

/// The SQL form of an export: parameter mappings and return, or the first WIT type that has
/// no mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlSignature {
    /// One mapping per parameter, with its SQL name.
    pub params: Vec<(String, SqlMapping)>,
    /// The return.
    pub ret: SqlReturn,
}

impl SqlSignature {
    /// Map every parameter and the result; `Err` names the unmappable WIT type.
    pub fn of(sig: &ExportSig) -> Result<SqlSignature, String> {
        let params = sig
            .params
            .iter()
            .map(|(n, t)| sql_type_of(t).map(|m| (sql_ident(n), m)))
            .collect::<Result<Vec<_>, _>>()?;
        let ret = sql_return_of(sig.result.as_ref())?;
        Ok(SqlSignature { params, ret })
    }

    /// STRICT when no parameter is an option: NULL in, NULL out, without calling the guest.
    pub fn strict(&self) -> bool {
        self.params.iter().all(|(_, m)| !m.nullable)
    }

    /// `(name type, ...) RETURNS type`, as `CREATE FUNCTION` takes it.
    pub fn sql_text(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|(n, m)| format!("{} {}", quote_ident(n), m.sql_name()))
            .collect();
        let ret = match &self.ret {
            SqlReturn::Void => "void".to_string(),
            SqlReturn::Value(m) => m.sql_name(),
            SqlReturn::Set(m) => format!("SETOF {}", m.sql_name()),
        };
        format!("({}) RETURNS {ret}", params.join(", "))
    }
}

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

/// WIT kebab-case to SQL snake_case: `split-words` → `split_words`.
pub fn sql_ident(wit_name: &str) -> String {
    wit_name.trim_start_matches('%').replace('-', "_")
}

/// Always-quoted SQL identifier: safe for any name, never depends on keywords.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A single-quoted SQL literal.
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_map_per_design_table() {
        let cases = [
            (WitType::Bool, SqlType::Bool),
            (WitType::S8, SqlType::Int2),
            (WitType::U8, SqlType::Int2),
            (WitType::S16, SqlType::Int2),
            (WitType::U16, SqlType::Int4),
            (WitType::S32, SqlType::Int4),
            (WitType::U32, SqlType::Int8),
            (WitType::S64, SqlType::Int8),
            (WitType::U64, SqlType::Numeric),
            (WitType::F32, SqlType::Float4),
            (WitType::F64, SqlType::Float8),
            (WitType::Char, SqlType::Text),
            (WitType::String, SqlType::Text),
            (WitType::List(Box::new(WitType::U8)), SqlType::Bytea),
        ];
        for (wit, sql) in cases {
            assert_eq!(sql_type_of(&wit).unwrap(), SqlMapping::scalar(sql), "{wit}");
        }
    }

    #[test]
    fn option_is_nullable_and_nested_option_is_refused() {
        let opt = WitType::Option(Box::new(WitType::String));
        assert_eq!(
            sql_type_of(&opt).unwrap(),
            SqlMapping {
                nullable: true,
                ..SqlMapping::scalar(SqlType::Text)
            }
        );
        let nested = WitType::Option(Box::new(opt));
        assert_eq!(sql_type_of(&nested).unwrap_err(), "option<option<string>>");
    }

    #[test]
    fn result_returns_ok_type_and_void_without_one() {
        let r = WitType::Result {
            ok: Some(Box::new(WitType::U32)),
            err: Some(Box::new(WitType::String)),
        };
        assert_eq!(
            sql_return_of(Some(&r)).unwrap(),
            SqlReturn::Value(SqlMapping::scalar(SqlType::Int8))
        );
        let r = WitType::Result {
            ok: None,
            err: Some(Box::new(WitType::String)),
        };
        assert_eq!(sql_return_of(Some(&r)).unwrap(), SqlReturn::Void);
        assert_eq!(sql_return_of(None).unwrap(), SqlReturn::Void);
    }

    #[test]
    fn lists_are_arrays_as_parameters_and_sets_as_results() {
        let list = WitType::List(Box::new(WitType::String));
        let m = sql_type_of(&list).unwrap();
        assert!(m.array && !m.nullable);
        assert_eq!(m.sql_name(), "text[]");
        let opt_elems = WitType::List(Box::new(WitType::Option(Box::new(WitType::S64))));
        assert_eq!(sql_type_of(&opt_elems).unwrap().sql_name(), "bigint[]");
        assert_eq!(
            sql_return_of(Some(&list)).unwrap(),
            SqlReturn::Set(SqlMapping::scalar(SqlType::Text))
        );
        let res = WitType::Result {
            ok: Some(Box::new(list.clone())),
            err: Some(Box::new(WitType::String)),
        };
        assert_eq!(
            sql_return_of(Some(&res)).unwrap(),
            SqlReturn::Set(SqlMapping::scalar(SqlType::Text))
        );
        // option<list<T>> is a nullable array, not a set.
        let opt_list = WitType::Option(Box::new(list));
        assert!(
            matches!(sql_return_of(Some(&opt_list)).unwrap(), SqlReturn::Value(m) if m.array && m.nullable)
        );
        // bytes stay bytea.
        let bytes = WitType::List(Box::new(WitType::U8));
        assert_eq!(
            sql_return_of(Some(&bytes)).unwrap(),
            SqlReturn::Value(SqlMapping::scalar(SqlType::Bytea))
        );
        let sig = ExportSig {
            params: vec![("words".into(), opt_elems)],
            result: Some(WitType::List(Box::new(WitType::U32))),
        };
        assert_eq!(
            SqlSignature::of(&sig).unwrap().sql_text(),
            "(\"words\" bigint[]) RETURNS SETOF bigint"
        );
    }

    #[test]
    fn unsupported_types_are_named() {
        let rec = WitType::Record(vec![("a".into(), WitType::S32)]);
        assert_eq!(sql_type_of(&rec).unwrap_err(), "record { a: s32 }");
        let nested = WitType::List(Box::new(WitType::List(Box::new(WitType::String))));
        assert_eq!(sql_type_of(&nested).unwrap_err(), "list<list<string>>");
        assert_eq!(
            sql_type_of(&WitType::Unsupported("resource")).unwrap_err(),
            "resource"
        );
    }

    #[test]
    fn signature_text_and_strictness() {
        let sig = ExportSig {
            params: vec![
                ("the-input".into(), WitType::String),
                ("max-len".into(), WitType::Option(Box::new(WitType::U32))),
            ],
            result: Some(WitType::String),
        };
        let sql = SqlSignature::of(&sig).unwrap();
        assert_eq!(
            sql.sql_text(),
            "(\"the_input\" text, \"max_len\" bigint) RETURNS text"
        );
        assert!(!sql.strict());
        assert_eq!(
            sig.wit(),
            "func(the-input: string, max-len: option<u32>) -> string"
        );
    }

    #[test]
    fn fast_paths_cover_only_exact_scalar_shapes() {
        let sig = |params: Vec<WitType>, result: Option<WitType>| ExportSig {
            params: params.into_iter().map(|t| ("p".to_string(), t)).collect(),
            result,
        };
        assert_eq!(
            FastPath::of(&sig(vec![WitType::S64], Some(WitType::S64))),
            FastPath::S64ToS64
        );
        assert_eq!(
            FastPath::of(&sig(vec![WitType::String], Some(WitType::String))),
            FastPath::StrToStr
        );
        assert_eq!(
            FastPath::of(&sig(vec![WitType::F64, WitType::F64], Some(WitType::F64))),
            FastPath::F64F64ToF64
        );
        let strs = WitType::List(Box::new(WitType::String));
        assert_eq!(
            FastPath::of(&sig(vec![strs.clone()], Some(strs))),
            FastPath::StrListToStrSet
        );
        let opt_strs = WitType::List(Box::new(WitType::Option(Box::new(WitType::String))));
        assert_eq!(
            FastPath::of(&sig(vec![opt_strs.clone()], Some(opt_strs))),
            FastPath::Dynamic
        );
        assert_eq!(
            FastPath::of(&sig(vec![WitType::U64], Some(WitType::U64))),
            FastPath::Dynamic
        );
        assert_eq!(
            FastPath::of(&sig(vec![WitType::String], None)),
            FastPath::Dynamic
        );
        let opt = WitType::Option(Box::new(WitType::String));
        assert_eq!(
            FastPath::of(&sig(vec![opt.clone()], Some(opt))),
            FastPath::Dynamic
        );
    }

    #[test]
    fn identifiers_and_literals_are_quoted() {
        assert_eq!(sql_ident("split-words"), "split_words");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
