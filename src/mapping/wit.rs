//! The WIT model: value types and export signatures, built once from wasmtime's (or
//! wit-parser's) type handles.

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
