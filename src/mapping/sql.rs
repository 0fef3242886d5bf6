//! The one table that maps WIT types to SQL types, and the SQL types (composites, enums)
//! and signatures that install generates from it.

use super::names::{quote_ident, quote_literal, sql_ident};
use super::wit::{ExportSig, WitType};

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
    /// The other generated types its attributes use (quoted, qualified as in `ddl`): what must
    /// be dropped with it, known from the mapping rather than read back from DDL text.
    pub uses: Vec<String>,
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
        let mut uses = Vec::new();
        let mut attr = |plan: &mut Self, t: &WitType, attr: String, hint: String| {
            let m = plan.map(t, &hint)?;
            if let SqlBase::Generated(used) = &m.sql
                && !uses.contains(used)
            {
                uses.push(used.clone());
            }
            Ok::<_, String>((attr, m.sql_name()))
        };
        let body = match ty {
            WitType::Record(fields) => SqlTypeBody::Composite(
                fields
                    .iter()
                    .map(|(f, t)| attr(self, t, sql_ident(f), format!("{name}_{}", sql_ident(f))))
                    .collect::<Result<_, String>>()?,
            ),
            WitType::Tuple(items) => SqlTypeBody::Composite(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, t)| attr(self, t, format!("f{i}"), format!("{name}_f{i}")))
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
            uses,
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

    /// A `list<record>` or `list<tuple>` result becomes a set of rows (a table function);
    /// any other result is a single value: other lists are arrays (`T[]`), usable as values,
    /// and lists of arrays are jsonb.
    fn value_or_set(&mut self, ty: &WitType, hint: &str) -> Result<SqlReturn, String> {
        match ty {
            WitType::List(inner) if matches!(**inner, WitType::Record(_) | WitType::Tuple(_)) => {
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

    /// The generated types the signature mentions (quoted, qualified): a function must be
    /// dropped before any of them is.
    pub fn generated_types(&self) -> Vec<&str> {
        let ret = match &self.ret {
            SqlReturn::Void => None,
            SqlReturn::Value(m) | SqlReturn::Set(m) => Some(m),
        };
        let mut out: Vec<&str> = Vec::new();
        for m in self.params.iter().map(|(_, m)| m).chain(ret) {
            if let SqlBase::Generated(name) = &m.sql
                && !out.contains(&name.as_str())
            {
                out.push(name);
            }
        }
        out
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
