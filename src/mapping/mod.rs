//! WIT types as the extension sees them, and the one table that maps them to SQL types.
//!
//! [`WitType`] is a plain tree built once from wasmtime's type handles, so that mapping and
//! conversion are pure functions that plain `#[test]`s can exercise. [`sql_type_of`] is the
//! single place that decides which SQL type a WIT type becomes; `wasm.install`, the validator
//! and the call path all use it.

mod aggregate;
mod fast;
mod names;
mod sql;
mod trigger;
mod wit;

pub use aggregate::*;
pub use fast::FastPath;
pub use names::{is_sql_ident_of, quote_ident, quote_literal, sql_ident, sql_ident_cow};
pub use sql::*;
pub use trigger::*;
pub use wit::*;

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
    fn lists_are_arrays_and_lists_of_records_are_sets() {
        let list = WitType::List(Box::new(WitType::String));
        let m = sql_type_of(&list).unwrap();
        assert!(m.array && !m.nullable);
        assert_eq!(m.sql_name(), "text[]");
        let opt_elems = WitType::List(Box::new(WitType::Option(Box::new(WitType::S64))));
        assert_eq!(sql_type_of(&opt_elems).unwrap().sql_name(), "bigint[]");
        // A list result is a value (an array), not a set: array_length, ANY, CASE work on it.
        assert_eq!(
            sql_return_of(Some(&list)).unwrap(),
            SqlReturn::Value(m.clone())
        );
        let res = WitType::Result {
            ok: Some(Box::new(list.clone())),
            err: Some(Box::new(WitType::String)),
        };
        assert_eq!(sql_return_of(Some(&res)).unwrap(), SqlReturn::Value(m));
        // Lists of records and tuples are table functions.
        let rows = WitType::List(Box::new(record(&[("a", WitType::S32)])));
        assert!(matches!(sql_return_of(Some(&rows)).unwrap(), SqlReturn::Set(m) if !m.array));
        let pairs = WitType::List(Box::new(WitType::Tuple(vec![
            WitType::S32,
            WitType::String,
        ])));
        assert!(matches!(
            sql_return_of(Some(&pairs)).unwrap(),
            SqlReturn::Set(_)
        ));
        // Enums and options of scalars are arrays too; a list of lists is jsonb.
        let colors = WitType::List(Box::new(WitType::Enum(vec!["red".into()])));
        assert!(matches!(sql_return_of(Some(&colors)).unwrap(), SqlReturn::Value(m) if m.array));
        let nested = WitType::List(Box::new(WitType::List(Box::new(WitType::String))));
        assert_eq!(
            sql_return_of(Some(&nested)).unwrap(),
            SqlReturn::Value(SqlMapping::scalar(SqlType::Jsonb))
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
            "(\"words\" bigint[]) RETURNS bigint[]"
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
        // What each type and the function use is known from the mapping, not from DDL text.
        let uses: Vec<(&str, Vec<&str>)> = plan
            .defs
            .iter()
            .map(|d| (d.name.as_str(), d.uses.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            uses,
            [
                ("point", vec![]),
                ("line_item_pair", vec![]),
                ("color", vec![]),
                (
                    "line_item",
                    vec![
                        "\"shop\".\"point\"",
                        "\"shop\".\"line_item_pair\"",
                        "\"shop\".\"color\""
                    ]
                ),
            ]
        );
        assert_eq!(sql.generated_types(), ["\"shop\".\"line_item\""]);
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
            FastPath::of(&sig(vec![opt.clone()], Some(opt.clone()))),
            FastPath::Dynamic
        );
        assert_eq!(
            FastPath::of(&sig(vec![WitType::String], Some(opt))),
            FastPath::StrToOptStr
        );
        let opt_int = WitType::Option(Box::new(WitType::S64));
        assert_eq!(
            FastPath::of(&sig(vec![WitType::String], Some(opt_int))),
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
