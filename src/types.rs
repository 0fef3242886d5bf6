//! WIT types as the extension sees them, and the one table that maps them to SQL types.
//!
//! [`WitType`] is a plain tree built once from wasmtime's type handles, so that mapping and
//! conversion are pure functions that plain `#[test]`s can exercise. [`sql_type_of`] is the
//! single place that decides which SQL type a WIT type becomes; `wasm.install`, the validator
//! and the call path all use it.

use std::fmt;

use wasmtime::component::types::{ComponentFunc, Type};

/// A WIT value type, detached from the engine.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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

/// The same tree from a decoded WIT document, where named types still carry their names.
pub fn wit_type_from_parser(resolve: &wit_parser::Resolve, ty: &wit_parser::Type) -> WitType {
    use wit_parser::{Type as P, TypeDefKind as K};
    let of = |t: &wit_parser::Type| wit_type_from_parser(resolve, t);
    match ty {
        P::Bool => WitType::Bool,
        P::U8 => WitType::U8,
        P::U16 => WitType::U16,
        P::U32 => WitType::U32,
        P::U64 => WitType::U64,
        P::S8 => WitType::S8,
        P::S16 => WitType::S16,
        P::S32 => WitType::S32,
        P::S64 => WitType::S64,
        P::F32 => WitType::F32,
        P::F64 => WitType::F64,
        P::Char => WitType::Char,
        P::String => WitType::String,
        P::ErrorContext => WitType::Unsupported("error-context"),
        P::Id(id) => match &resolve.types[*id].kind {
            K::Record(r) => WitType::Record(
                r.fields
                    .iter()
                    .map(|f| (f.name.clone(), of(&f.ty)))
                    .collect(),
            ),
            K::Tuple(t) => WitType::Tuple(t.types.iter().map(of).collect()),
            K::Variant(v) => WitType::Variant(
                v.cases
                    .iter()
                    .map(|c| (c.name.clone(), c.ty.as_ref().map(of)))
                    .collect(),
            ),
            K::Enum(e) => WitType::Enum(e.cases.iter().map(|c| c.name.clone()).collect()),
            K::Flags(f) => WitType::Flags(f.flags.iter().map(|c| c.name.clone()).collect()),
            K::Option(t) => WitType::Option(Box::new(of(t))),
            K::Result(r) => WitType::Result {
                ok: r.ok.as_ref().map(|t| Box::new(of(t))),
                err: r.err.as_ref().map(|t| Box::new(of(t))),
            },
            K::List(t) => WitType::List(Box::new(of(t))),
            K::Type(t) => of(t),
            K::Resource | K::Handle(_) => WitType::Unsupported("resource"),
            K::Future(_) => WitType::Unsupported("future"),
            K::Stream(_) => WitType::Unsupported("stream"),
            K::Map(..) => WitType::Unsupported("map"),
            K::FixedLengthList(..) => WitType::Unsupported("fixed-length list"),
            K::Unknown => WitType::Unsupported("unknown type"),
        },
    }
}

/// The WIT names of the named records, enums, flags and variants a decoded component
/// declares, keyed by their structure (the first name wins for identical structures).
pub fn wit_type_names(resolve: &wit_parser::Resolve) -> std::collections::HashMap<WitType, String> {
    let mut names = std::collections::HashMap::new();
    for (id, def) in resolve.types.iter() {
        let Some(name) = &def.name else { continue };
        use wit_parser::TypeDefKind as K;
        if matches!(
            def.kind,
            K::Record(_) | K::Enum(_) | K::Flags(_) | K::Variant(_)
        ) {
            let ty = wit_type_from_parser(resolve, &wit_parser::Type::Id(id));
            names.entry(ty).or_insert_with(|| name.clone());
        }
    }
    names
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
    /// Variants, nested results and lists of lists: their JSON form (see [`crate::json`]).
    Jsonb,
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
            SqlType::Jsonb => "jsonb",
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
            SqlType::Jsonb => pg_sys::JSONBOID,
        }
    }
}

/// The SQL type a mapping's values have (its elements', for an array).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlBase {
    /// A built-in type.
    Scalar(SqlType),
    /// A type generated for the plugin: a composite (record, tuple) or an enum, named by its
    /// quoted, schema-qualified SQL spelling.
    Generated(String),
}

/// How a WIT type travels through a typed SQL function.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlMapping {
    /// The SQL type of the value (of its elements, for an array).
    pub sql: SqlBase,
    /// `option<T>`: SQL NULL stands for `none`.
    pub nullable: bool,
    /// `list<T>` (other than `list<u8>`) and flags: a one-dimensional `T[]`.
    pub array: bool,
}

impl SqlMapping {
    /// A plain, non-null scalar.
    pub fn scalar(sql: SqlType) -> SqlMapping {
        SqlMapping {
            sql: SqlBase::Scalar(sql),
            nullable: false,
            array: false,
        }
    }

    /// The SQL spelling of the type: `text`, `bigint[]`, `"geo"."point"`.
    pub fn sql_name(&self) -> String {
        let base = match &self.sql {
            SqlBase::Scalar(t) => t.sql_name().to_string(),
            SqlBase::Generated(name) => name.clone(),
        };
        if self.array {
            format!("{base}[]")
        } else {
            base
        }
    }
}

/// What `CREATE TYPE` makes for a generated type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlTypeBody {
    /// `AS (attr type, ...)`: a record's fields, or a tuple's `f0`, `f1`, ...
    Composite(Vec<(String, String)>),
    /// `AS ENUM ('label', ...)`: an enum's cases, in WIT spelling.
    Enum(Vec<String>),
}

/// A type that installing a plugin creates in its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlTypeDef {
    /// Unqualified SQL name.
    pub name: String,
    /// The WIT type it stands for.
    pub wit: WitType,
    pub body: SqlTypeBody,
}

impl SqlTypeDef {
    /// `CREATE TYPE schema.name AS ...`.
    pub fn ddl(&self, schema: &str) -> String {
        let qualified = format!("{}.{}", quote_ident(schema), quote_ident(&self.name));
        match &self.body {
            SqlTypeBody::Composite(attrs) => {
                let attrs: Vec<String> = attrs
                    .iter()
                    .map(|(n, t)| format!("{} {t}", quote_ident(n)))
                    .collect();
                format!("CREATE TYPE {qualified} AS ({})", attrs.join(", "))
            }
            SqlTypeBody::Enum(labels) => {
                let labels: Vec<String> = labels.iter().map(|l| quote_literal(l)).collect();
                format!("CREATE TYPE {qualified} AS ENUM ({})", labels.join(", "))
            }
        }
    }
}

/// Longest identifier Postgres keeps (NAMEDATALEN - 1).
const MAX_IDENT: usize = 63;

/// The mapping from WIT types to SQL types for one plugin, and the types it must create.
///
/// Records and enums take their WIT names (snake_case); tuples, which have none, are named
/// after where they first appear (`<export>_<param>`, `<export>_result`, `<type>_<field>`).
/// The same WIT type maps to the same SQL type everywhere in the plugin.
pub struct TypePlan<'a> {
    /// The schema generated types go into (`None`: unqualified, for messages and tests).
    schema: Option<String>,
    /// WIT names of named types, as the component's WIT declares them.
    names: &'a std::collections::HashMap<WitType, String>,
    /// Generated types, dependencies first.
    pub defs: Vec<SqlTypeDef>,
}

impl<'a> TypePlan<'a> {
    pub fn new(
        schema: Option<&str>,
        names: &'a std::collections::HashMap<WitType, String>,
    ) -> Self {
        TypePlan {
            schema: schema.map(str::to_string),
            names,
            defs: Vec::new(),
        }
    }

    fn qualified(&self, name: &str) -> String {
        match &self.schema {
            Some(s) => format!("{}.{}", quote_ident(s), quote_ident(name)),
            None => quote_ident(name),
        }
    }

    /// The SQL name of a generated type for `ty`, creating its definition on first use.
    fn generated(&mut self, ty: &WitType, hint: &str) -> Result<String, String> {
        if let Some(def) = self.defs.iter().find(|d| d.wit == *ty) {
            return Ok(self.qualified(&def.name.clone()));
        }
        let base = match self.names.get(ty) {
            Some(wit_name) => sql_ident(wit_name),
            None => sql_ident(hint),
        };
        let mut base: String = base.chars().take(MAX_IDENT - 3).collect();
        if base.is_empty() {
            base = "t".into();
        }
        let mut name = base.clone();
        let mut n = 2;
        while self.defs.iter().any(|d| d.name == name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        let body = match ty {
            WitType::Record(fields) => SqlTypeBody::Composite(
                fields
                    .iter()
                    .map(|(f, t)| {
                        let m = self.map(t, &format!("{name}_{}", sql_ident(f)))?;
                        Ok((sql_ident(f), m.sql_name()))
                    })
                    .collect::<Result<_, String>>()?,
            ),
            WitType::Tuple(items) => SqlTypeBody::Composite(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        let m = self.map(t, &format!("{name}_f{i}"))?;
                        Ok((format!("f{i}"), m.sql_name()))
                    })
                    .collect::<Result<_, String>>()?,
            ),
            WitType::Enum(cases) => SqlTypeBody::Enum(cases.clone()),
            other => return Err(other.to_string()),
        };
        // A type used by its own fields cannot exist in WIT, so the name is still free.
        self.defs.push(SqlTypeDef {
            name: name.clone(),
            wit: ty.clone(),
            body,
        });
        Ok(self.qualified(&name))
    }

    /// The SQL form of a WIT type; `hint` names it if it is a tuple. `Err` names the WIT type
    /// that has no SQL form.
    pub fn map(&mut self, ty: &WitType, hint: &str) -> Result<SqlMapping, String> {
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
            // Arrays are rectangular: a list of lists keeps its shape as JSON.
            WitType::List(inner) => {
                let m = self.map(inner, hint)?;
                if m.array {
                    check_renderable(inner)?;
                    plain(SqlType::Jsonb)
                } else {
                    Ok(SqlMapping {
                        nullable: false,
                        array: true,
                        ..m
                    })
                }
            }
            WitType::Option(inner) => match inner.as_ref() {
                // option<option<T>> cannot tell its two nones apart in a single NULL.
                WitType::Option(_) => Err(ty.to_string()),
                other => self.map(other, hint).map(|m| SqlMapping {
                    nullable: true,
                    ..m
                }),
            },
            WitType::Record(_) | WitType::Tuple(_) | WitType::Enum(_) => {
                let name = self.generated(ty, hint)?;
                Ok(SqlMapping {
                    sql: SqlBase::Generated(name),
                    nullable: false,
                    array: false,
                })
            }
            WitType::Flags(_) => Ok(SqlMapping {
                sql: SqlBase::Scalar(SqlType::Text),
                nullable: false,
                array: true,
            }),
            WitType::Variant(_) | WitType::Result { .. } => {
                check_renderable(ty)?;
                plain(SqlType::Jsonb)
            }
            WitType::Unsupported(_) => Err(ty.to_string()),
        }
    }

    /// A `list<T>` result becomes a set of T rows; any other result a single value.
    fn value_or_set(&mut self, ty: &WitType, hint: &str) -> Result<SqlReturn, String> {
        match ty {
            WitType::List(inner) if **inner != WitType::U8 => {
                self.map(inner, hint).map(SqlReturn::Set)
            }
            other => self.map(other, hint).map(SqlReturn::Value),
        }
    }

    /// The SQL return of an export's WIT result: `result<T, E>` returns T and raises on err.
    pub fn ret(&mut self, result: Option<&WitType>, hint: &str) -> Result<SqlReturn, String> {
        match result {
            None => Ok(SqlReturn::Void),
            Some(WitType::Result { ok, err }) => {
                if let Some(err) = err {
                    check_renderable(err)?;
                }
                match ok {
                    None => Ok(SqlReturn::Void),
                    Some(ok) => self.value_or_set(ok, hint),
                }
            }
            Some(other) => self.value_or_set(other, hint),
        }
    }

    /// Map every parameter and the result of export `export` (SQL name); `Err` names the
    /// unmappable WIT type.
    pub fn signature(&mut self, export: &str, sig: &ExportSig) -> Result<SqlSignature, String> {
        let params = sig
            .params
            .iter()
            .map(|(n, t)| {
                let name = sql_ident(n);
                self.map(t, &format!("{export}_{name}")).map(|m| (name, m))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let ret = self.ret(sig.result.as_ref(), &format!("{export}_result"))?;
        Ok(SqlSignature { params, ret })
    }
}

/// The SQL form of a WIT type with no plugin context (generated types unqualified).
pub fn sql_type_of(ty: &WitType) -> Result<SqlMapping, String> {
    let names = std::collections::HashMap::new();
    TypePlan::new(None, &names).map(ty, "value")
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

/// The SQL return of an export's WIT result, with no plugin context.
#[cfg(test)]
pub fn sql_return_of(result: Option<&WitType>) -> Result<SqlReturn, String> {
    let names = std::collections::HashMap::new();
    TypePlan::new(None, &names).ret(result, "result")
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
    /// Map every parameter and the result with no plugin context; `Err` names the
    /// unmappable WIT type.
    pub fn of(sig: &ExportSig) -> Result<SqlSignature, String> {
        let names = std::collections::HashMap::new();
        TypePlan::new(None, &names).signature("export", sig)
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
        assert_eq!(
            sql_type_of(&WitType::Unsupported("resource")).unwrap_err(),
            "resource"
        );
        let in_record = WitType::Record(vec![("h".into(), WitType::Unsupported("stream"))]);
        assert_eq!(sql_type_of(&in_record).unwrap_err(), "stream");
        let in_variant = WitType::Variant(vec![("h".into(), Some(WitType::Unsupported("future")))]);
        assert_eq!(sql_type_of(&in_variant).unwrap_err(), "future");
    }

    fn record(fields: &[(&str, WitType)]) -> WitType {
        WitType::Record(
            fields
                .iter()
                .map(|(n, t)| (n.to_string(), t.clone()))
                .collect(),
        )
    }

    #[test]
    fn records_tuples_and_enums_become_generated_types() {
        let point = record(&[("x", WitType::F64), ("y", WitType::F64)]);
        let color = WitType::Enum(vec!["red".into(), "dark-blue".into()]);
        let item = record(&[
            ("unit-price", WitType::U32),
            ("at", point.clone()),
            ("tags", WitType::List(Box::new(WitType::String))),
            ("pair", WitType::Tuple(vec![WitType::S32, WitType::String])),
            ("color", WitType::Option(Box::new(color.clone()))),
            ("perms", WitType::Flags(vec!["read".into(), "write".into()])),
            (
                "shape",
                WitType::Variant(vec![
                    ("none".into(), None),
                    ("circle".into(), Some(WitType::F32)),
                ]),
            ),
        ]);
        let mut names = std::collections::HashMap::new();
        names.insert(point.clone(), "point".to_string());
        names.insert(item.clone(), "line-item".to_string());
        names.insert(color.clone(), "color".to_string());
        let sig = ExportSig {
            params: vec![("items".into(), WitType::List(Box::new(item.clone())))],
            result: Some(WitType::List(Box::new(item))),
        };
        let mut plan = TypePlan::new(Some("shop"), &names);
        let sql = plan.signature("normalize", &sig).unwrap();
        assert_eq!(
            sql.sql_text(),
            "(\"items\" \"shop\".\"line_item\"[]) RETURNS SETOF \"shop\".\"line_item\""
        );
        let ddl: Vec<String> = plan.defs.iter().map(|d| d.ddl("shop")).collect();
        assert_eq!(
            ddl,
            [
                "CREATE TYPE \"shop\".\"point\" AS (\"x\" double precision, \"y\" double precision)",
                "CREATE TYPE \"shop\".\"line_item_pair\" AS (\"f0\" integer, \"f1\" text)",
                "CREATE TYPE \"shop\".\"color\" AS ENUM ('red', 'dark-blue')",
                "CREATE TYPE \"shop\".\"line_item\" AS (\"unit_price\" bigint, \"at\" \"shop\".\"point\", \"tags\" text[], \"pair\" \"shop\".\"line_item_pair\", \"color\" \"shop\".\"color\", \"perms\" text[], \"shape\" jsonb)",
            ]
        );
    }

    #[test]
    fn same_names_for_different_shapes_get_suffixes() {
        let a = record(&[("x", WitType::S32)]);
        let b = record(&[("y", WitType::S32)]);
        let mut names = std::collections::HashMap::new();
        names.insert(a.clone(), "row".to_string());
        names.insert(b.clone(), "row".to_string());
        let mut plan = TypePlan::new(None, &names);
        assert_eq!(plan.map(&a, "h").unwrap().sql_name(), "\"row\"");
        assert_eq!(plan.map(&b, "h").unwrap().sql_name(), "\"row_2\"");
        assert_eq!(plan.map(&a, "h").unwrap().sql_name(), "\"row\"");
        assert_eq!(plan.defs.len(), 2);
    }

    #[test]
    fn lists_of_lists_and_variants_are_jsonb() {
        let nested = WitType::List(Box::new(WitType::List(Box::new(WitType::String))));
        assert_eq!(sql_type_of(&nested).unwrap().sql_name(), "jsonb");
        let bytes_list = WitType::List(Box::new(WitType::List(Box::new(WitType::U8))));
        assert_eq!(sql_type_of(&bytes_list).unwrap().sql_name(), "bytea[]");
        let res = WitType::Result {
            ok: Some(Box::new(WitType::S32)),
            err: None,
        };
        assert_eq!(sql_type_of(&res).unwrap().sql_name(), "jsonb");
        let flags = WitType::Flags(vec!["a".into()]);
        assert_eq!(sql_type_of(&flags).unwrap().sql_name(), "text[]");
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
