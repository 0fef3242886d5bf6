//! JSON ↔ component values for `wasm_transform`: pure converters guided by the WIT type.
//!
//! The JSON form (README, "Type mapping"): records ↔ objects keyed by snake_case field names (the WIT
//! spelling is accepted on input; keys that name no field are ignored, so `to_jsonb(row)` of a
//! wider table fits), lists and tuples ↔ arrays, option ↔ null, enums ↔ strings, flags ↔
//! arrays of names, variants ↔ `{"case": payload}` (`{"case": null}` for a case without
//! payload; the bare string `"case"` is accepted on input), nested results ↔ `{"ok": v}` /
//! `{"err": v}`, integers beyond ±2^53 ↔ strings, `list<u8>` ↔ a `"\\x…"` hex string like
//! Postgres' own `to_jsonb(bytea)` (an array of numbers is accepted on input), NaN and
//! infinities ↔ the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.

use serde_json::{Map, Number, Value as Json};
use wasmtime::component::Val;

use crate::error::{PluginError, ValueFault};
use crate::mapping::{WitType, is_sql_ident_of, sql_ident, sql_ident_cow};

/// Largest integer a JSON number carries exactly in every client (2^53).
const JSON_SAFE_INT: u64 = 1 << 53;

/// A conversion failure, with the JSON path of the offending value.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvError {
    /// `$`, `$.items[2].price`, ...
    pub path: String,
    /// What was expected and what was found.
    pub message: String,
    /// 22003 for out of range, 22023 for a wrong shape, 22P02 for bad text.
    pub code: ValueFault,
}

impl ConvError {
    fn new(path: &JsonPath<'_>, code: ValueFault, message: String) -> Self {
        ConvError {
            path: path.to_string(),
            message,
            code,
        }
    }

    fn shape(path: &JsonPath<'_>, ty: &WitType, found: &Json) -> Self {
        ConvError::new(
            path,
            ValueFault::Invalid,
            format!(
                "expected {}, found {}",
                describe_expected(ty),
                describe_json(found)
            ),
        )
    }

    /// Turn into the extension's error, prefixing the argument it belongs to.
    pub fn into_plugin_error(self, what: &str) -> PluginError {
        let at = if self.path == "$" {
            String::new()
        } else {
            format!(" at {}", self.path)
        };
        PluginError::bad_value(self.code, format!("{what}{at}: {}", self.message))
    }
}

fn describe_expected(ty: &WitType) -> String {
    match ty {
        WitType::Record(_) => "a JSON object (record)".into(),
        WitType::List(t) if **t == WitType::U8 => {
            "a \"\\\\x…\" hex string or an array of bytes (list<u8>)".into()
        }
        WitType::List(t) => format!("a JSON array (list<{t}>)"),
        WitType::Tuple(ts) => format!("a JSON array of {} elements ({ty})", ts.len()),
        WitType::Enum(names) => format!("one of the strings {}", names.join(", ")),
        WitType::Variant(_) => "a {\"case\": value} object (variant)".into(),
        WitType::Flags(_) => "a JSON array of flag names".into(),
        other => other.to_string(),
    }
}

fn describe_json(v: &Json) -> String {
    match v {
        Json::Null => "null".into(),
        Json::Bool(_) => "a boolean".into(),
        Json::Number(n) => format!("the number {n}"),
        Json::String(s) if s.chars().count() <= 32 => format!("the string \"{s}\""),
        Json::String(_) => "a string".into(),
        Json::Array(_) => "an array".into(),
        Json::Object(_) => "an object".into(),
    }
}

fn out_of_range(path: &JsonPath<'_>, ty: &WitType, shown: &dyn std::fmt::Display) -> ConvError {
    ConvError::new(
        path,
        ValueFault::OutOfRange,
        format!("{shown} is out of range for {ty}"),
    )
}

/// An integer from a JSON number or a decimal string, as i128 so every WIT integer fits.
fn json_integer(path: &JsonPath<'_>, ty: &WitType, v: &Json) -> Result<i128, ConvError> {
    match v {
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(i as i128)
            } else if let Some(u) = n.as_u64() {
                Ok(u as i128)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.fract() != 0.0 || f.is_nan() {
                    Err(ConvError::new(
                        path,
                        ValueFault::Invalid,
                        format!("expected an integer ({ty}), found the number {n}"),
                    ))
                } else if f.abs() < 1e38 {
                    Ok(f as i128)
                } else {
                    // A whole number beyond every WIT integer: out of range, like any other.
                    Err(out_of_range(path, ty, n))
                }
            }
        }
        Json::String(s) => s.trim().parse::<i128>().map_err(|_| {
            ConvError::new(
                path,
                ValueFault::Malformed,
                format!("\"{s}\" is not an integer ({ty})"),
            )
        }),
        other => Err(ConvError::shape(path, ty, other)),
    }
}

fn json_float(path: &JsonPath<'_>, ty: &WitType, v: &Json) -> Result<f64, ConvError> {
    match v {
        Json::Number(n) => Ok(n.as_f64().unwrap_or(f64::NAN)),
        Json::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            _ => s.trim().parse::<f64>().map_err(|_| {
                ConvError::new(
                    path,
                    ValueFault::Malformed,
                    format!("\"{s}\" is not a number ({ty})"),
                )
            }),
        },
        other => Err(ConvError::shape(path, ty, other)),
    }
}

/// Parse the `"\\x0a0b"` form Postgres gives bytea in JSON.
pub fn parse_hex_bytes(s: &str) -> Option<Vec<u8>> {
    let hex_digits = s.strip_prefix("\\x")?;
    hex::decode(hex_digits).ok()
}

/// Where a value sits in the JSON input: `$`, `$.items[2].price`, ... Built on the stack as
/// the conversion descends and formatted only when an error reports it.
#[derive(Clone, Copy)]
enum JsonPath<'a> {
    /// The caller's name for the whole value (`$`).
    Root(&'a str),
    /// Element `index` of an array.
    Index(&'a JsonPath<'a>, usize),
    /// A field (or variant case, or `ok` / `err`) by its WIT name, shown as its SQL spelling.
    Field(&'a JsonPath<'a>, &'a str),
}

impl std::fmt::Display for JsonPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JsonPath::Root(root) => f.write_str(root),
            JsonPath::Index(parent, i) => write!(f, "{parent}[{i}]"),
            JsonPath::Field(parent, name) => write!(f, "{parent}.{}", sql_ident_cow(name)),
        }
    }
}

macro_rules! int_val {
    ($path:expr, $ty:expr, $v:expr, $rust:ty, $variant:ident) => {{
        let i = json_integer($path, $ty, $v)?;
        <$rust>::try_from(i)
            .map(Val::$variant)
            .map_err(|_| out_of_range($path, $ty, &i))
    }};
}

/// Convert a JSON value to a component value of type `ty`; `path` names the value in errors.
pub fn json_to_val(ty: &WitType, v: &Json, path: &str) -> Result<Val, ConvError> {
    to_val(ty, v, &JsonPath::Root(path))
}

/// [`json_to_val`] at `path`: scalars here, each compound kind in its own function.
fn to_val(ty: &WitType, v: &Json, path: &JsonPath<'_>) -> Result<Val, ConvError> {
    match ty {
        WitType::Bool => v
            .as_bool()
            .map(Val::Bool)
            .ok_or_else(|| ConvError::shape(path, ty, v)),
        WitType::S8 => int_val!(path, ty, v, i8, S8),
        WitType::U8 => int_val!(path, ty, v, u8, U8),
        WitType::S16 => int_val!(path, ty, v, i16, S16),
        WitType::U16 => int_val!(path, ty, v, u16, U16),
        WitType::S32 => int_val!(path, ty, v, i32, S32),
        WitType::U32 => int_val!(path, ty, v, u32, U32),
        WitType::S64 => int_val!(path, ty, v, i64, S64),
        WitType::U64 => int_val!(path, ty, v, u64, U64),
        WitType::F32 => json_f32(path, ty, v),
        WitType::F64 => json_float(path, ty, v).map(Val::Float64),
        WitType::Char => json_char(path, ty, v),
        WitType::String => v
            .as_str()
            .map(|s| Val::String(s.to_string()))
            .ok_or_else(|| ConvError::shape(path, ty, v)),
        WitType::List(inner) => json_list(path, ty, inner, v),
        WitType::Record(fields) => json_record(path, ty, fields, v),
        WitType::Tuple(types) => json_tuple(path, ty, types, v),
        WitType::Enum(names) => match v.as_str().and_then(|s| find_name(names, s)) {
            Some(name) => Ok(Val::Enum(name.clone())),
            None => Err(ConvError::shape(path, ty, v)),
        },
        WitType::Flags(names) => json_flags(path, ty, names, v),
        WitType::Variant(cases) => json_variant(path, ty, cases, v),
        WitType::Option(inner) => match v {
            Json::Null => Ok(Val::Option(None)),
            other => Ok(Val::Option(Some(Box::new(to_val(inner, other, path)?)))),
        },
        WitType::Result { ok, err } => json_result(path, ty, (ok, err), v),
        WitType::Unsupported(kind) => Err(ConvError::new(
            path,
            ValueFault::Unsupported,
            format!("values of kind {kind} cannot be passed as JSON"),
        )),
    }
}

fn json_f32(path: &JsonPath<'_>, ty: &WitType, v: &Json) -> Result<Val, ConvError> {
    let f = json_float(path, ty, v)?;
    if f.is_finite() && (f as f32).is_infinite() {
        return Err(out_of_range(path, ty, &f));
    }
    Ok(Val::Float32(f as f32))
}

fn json_char(path: &JsonPath<'_>, ty: &WitType, v: &Json) -> Result<Val, ConvError> {
    let Some(s) = v.as_str() else {
        return Err(ConvError::shape(path, ty, v));
    };
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(Val::Char(c)),
        _ => Err(ConvError::new(
            path,
            ValueFault::Invalid,
            format!(
                "expected exactly one character (char), found {}",
                describe_json(v)
            ),
        )),
    }
}

/// `list<T>`: an array, or for `list<u8>` also a `"\\x…"` hex string.
fn json_list(
    path: &JsonPath<'_>,
    ty: &WitType,
    inner: &WitType,
    v: &Json,
) -> Result<Val, ConvError> {
    if *inner == WitType::U8
        && let Json::String(s) = v
    {
        return parse_hex_bytes(s)
            .map(|b| Val::List(b.into_iter().map(Val::U8).collect()))
            .ok_or_else(|| {
                ConvError::new(
                    path,
                    ValueFault::Malformed,
                    "expected a \"\\\\x…\" hex string for list<u8>".into(),
                )
            });
    }
    let items = v.as_array().ok_or_else(|| ConvError::shape(path, ty, v))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| to_val(inner, item, &JsonPath::Index(path, i)))
        .collect::<Result<Vec<_>, _>>()
        .map(Val::List)
}

/// A record from an object keyed by the fields' SQL (or WIT) names; a missing `option`
/// field is `none`.
fn json_record(
    path: &JsonPath<'_>,
    ty: &WitType,
    fields: &[(String, WitType)],
    v: &Json,
) -> Result<Val, ConvError> {
    let obj = v.as_object().ok_or_else(|| ConvError::shape(path, ty, v))?;
    fields
        .iter()
        .map(|(name, fty)| {
            let field_path = JsonPath::Field(path, name);
            let value = obj.get(&*sql_ident_cow(name)).or_else(|| obj.get(name));
            let val = match (value, fty) {
                (None, WitType::Option(_)) => Val::Option(None),
                (None, _) => {
                    return Err(ConvError::new(
                        &field_path,
                        ValueFault::Invalid,
                        format!("missing field of type {fty}"),
                    ));
                }
                (Some(value), _) => to_val(fty, value, &field_path)?,
            };
            Ok((name.clone(), val))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Val::Record)
}

fn json_tuple(
    path: &JsonPath<'_>,
    ty: &WitType,
    types: &[WitType],
    v: &Json,
) -> Result<Val, ConvError> {
    let items = v
        .as_array()
        .filter(|a| a.len() == types.len())
        .ok_or_else(|| ConvError::shape(path, ty, v))?;
    types
        .iter()
        .zip(items)
        .enumerate()
        .map(|(i, (t, item))| to_val(t, item, &JsonPath::Index(path, i)))
        .collect::<Result<Vec<_>, _>>()
        .map(Val::Tuple)
}

/// Flags from an array of their names.
fn json_flags(
    path: &JsonPath<'_>,
    ty: &WitType,
    names: &[String],
    v: &Json,
) -> Result<Val, ConvError> {
    let items = v.as_array().ok_or_else(|| ConvError::shape(path, ty, v))?;
    let mut set = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str().and_then(|s| find_name(names, s)) {
            Some(name) => set.push(name.clone()),
            None => {
                return Err(ConvError::new(
                    &JsonPath::Index(path, i),
                    ValueFault::Invalid,
                    format!(
                        "expected one of the flags {}, found {}",
                        names.join(", "),
                        describe_json(item)
                    ),
                ));
            }
        }
    }
    Ok(Val::Flags(set))
}

/// A variant from `{"case": payload}`, or the bare string `"case"` for a case without one.
fn json_variant(
    path: &JsonPath<'_>,
    ty: &WitType,
    cases: &[(String, Option<WitType>)],
    v: &Json,
) -> Result<Val, ConvError> {
    let (key, payload) = match v {
        Json::String(s) => (s.as_str(), &Json::Null),
        Json::Object(o) if o.len() == 1 => {
            let (k, p) = o.iter().next().expect("invariant: one entry");
            (k.as_str(), p)
        }
        other => return Err(ConvError::shape(path, ty, other)),
    };
    let (name, case_ty) = cases
        .iter()
        .find(|(n, _)| n == key || is_sql_ident_of(n, key))
        .ok_or_else(|| {
            let names: Vec<&str> = cases.iter().map(|(n, _)| n.as_str()).collect();
            ConvError::new(
                path,
                ValueFault::Invalid,
                format!(
                    "\"{key}\" is not a case of {ty}; the cases are {}",
                    names.join(", ")
                ),
            )
        })?;
    let payload = match case_ty {
        None if payload.is_null() => None,
        None => {
            return Err(ConvError::new(
                path,
                ValueFault::Invalid,
                format!(
                    "case {name} has no payload, found {}",
                    describe_json(payload)
                ),
            ));
        }
        Some(t) => Some(Box::new(to_val(t, payload, &JsonPath::Field(path, name))?)),
    };
    Ok(Val::Variant(name.clone(), payload))
}

/// A nested result from `{"ok": v}` or `{"err": v}`.
fn json_result(
    path: &JsonPath<'_>,
    ty: &WitType,
    (ok, err): (&Option<Box<WitType>>, &Option<Box<WitType>>),
    v: &Json,
) -> Result<Val, ConvError> {
    let obj = v
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| ConvError::shape(path, ty, v))?;
    let payload =
        |t: &Option<Box<WitType>>, p: &Json, sub: &str| -> Result<Option<Box<Val>>, ConvError> {
            match t {
                None => Ok(None),
                Some(t) => Ok(Some(Box::new(to_val(t, p, &JsonPath::Field(path, sub))?))),
            }
        };
    if let Some(p) = obj.get("ok") {
        Ok(Val::Result(Ok(payload(ok, p, "ok")?)))
    } else if let Some(p) = obj.get("err") {
        Ok(Val::Result(Err(payload(err, p, "err")?)))
    } else {
        Err(ConvError::shape(path, ty, v))
    }
}

fn find_name<'a>(names: &'a [String], s: &str) -> Option<&'a String> {
    names.iter().find(|n| *n == s || is_sql_ident_of(n, s))
}

fn int_json(i: i128) -> Json {
    if i.unsigned_abs() <= JSON_SAFE_INT as u128 {
        // Within ±2^53 an i64 always holds it.
        Json::Number(Number::from(i as i64))
    } else {
        Json::String(i.to_string())
    }
}

fn float_json(f: f64) -> Json {
    match Number::from_f64(f) {
        Some(n) => Json::Number(n),
        None if f.is_nan() => Json::String("NaN".into()),
        None if f > 0.0 => Json::String("Infinity".into()),
        None => Json::String("-Infinity".into()),
    }
}

/// Convert a component value of type `ty` to JSON.
pub fn val_to_json(ty: &WitType, v: &Val) -> Json {
    match (ty, v) {
        (_, Val::Bool(b)) => Json::Bool(*b),
        (_, Val::S8(i)) => int_json(*i as i128),
        (_, Val::U8(i)) => int_json(*i as i128),
        (_, Val::S16(i)) => int_json(*i as i128),
        (_, Val::U16(i)) => int_json(*i as i128),
        (_, Val::S32(i)) => int_json(*i as i128),
        (_, Val::U32(i)) => int_json(*i as i128),
        (_, Val::S64(i)) => int_json(*i as i128),
        (_, Val::U64(i)) => int_json(*i as i128),
        (_, Val::Float32(f)) => float_json(*f as f64),
        (_, Val::Float64(f)) => float_json(*f),
        (_, Val::Char(c)) => Json::String(c.to_string()),
        (_, Val::String(s)) => Json::String(s.clone()),
        (WitType::List(inner), Val::List(items)) if **inner == WitType::U8 => {
            let bytes: Vec<u8> = items
                .iter()
                .filter_map(|i| if let Val::U8(b) = i { Some(*b) } else { None })
                .collect();
            Json::String(format!("\\x{}", hex::encode(bytes)))
        }
        (WitType::List(inner), Val::List(items)) => {
            Json::Array(items.iter().map(|i| val_to_json(inner, i)).collect())
        }
        (WitType::Record(ftys), Val::Record(fields)) => Json::Object(
            ftys.iter()
                .zip(fields)
                .map(|((_, t), (n, v))| (sql_ident(n), val_to_json(t, v)))
                .collect::<Map<_, _>>(),
        ),
        (WitType::Tuple(tys), Val::Tuple(items)) => Json::Array(
            tys.iter()
                .zip(items)
                .map(|(t, v)| val_to_json(t, v))
                .collect(),
        ),
        (WitType::Variant(cases), Val::Variant(name, payload)) => {
            let case_ty = cases
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, t)| t.as_ref());
            let payload = match (case_ty, payload.as_deref()) {
                (Some(t), Some(p)) => val_to_json(t, p),
                _ => Json::Null,
            };
            let mut m = Map::new();
            m.insert(sql_ident(name), payload);
            Json::Object(m)
        }
        (_, Val::Enum(name)) => Json::String(sql_ident(name)),
        (WitType::Option(inner), Val::Option(o)) => o
            .as_deref()
            .map(|v| val_to_json(inner, v))
            .unwrap_or(Json::Null),
        (WitType::Result { ok, err }, Val::Result(r)) => {
            let (key, t, payload) = match r {
                Ok(p) => ("ok", ok, p),
                Err(p) => ("err", err, p),
            };
            let payload = match (t, payload.as_deref()) {
                (Some(t), Some(p)) => val_to_json(t, p),
                _ => Json::Null,
            };
            let mut m = Map::new();
            m.insert(key.into(), payload);
            Json::Object(m)
        }
        (_, Val::Flags(names)) => {
            Json::Array(names.iter().map(|n| Json::String(sql_ident(n))).collect())
        }
        // A value whose shape disagrees with its type, or a kind with no JSON form: install
        // refuses such exports, so this is not reached from SQL.
        _ => Json::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn roundtrip(ty: WitType, input: Json) -> Json {
        val_to_json(&ty, &json_to_val(&ty, &input, "$").unwrap())
    }

    #[test]
    fn scalars_round_trip() {
        assert_eq!(roundtrip(WitType::Bool, json!(true)), json!(true));
        assert_eq!(roundtrip(WitType::S32, json!(-7)), json!(-7));
        assert_eq!(roundtrip(WitType::String, json!("héllo")), json!("héllo"));
        assert_eq!(roundtrip(WitType::Char, json!("é")), json!("é"));
        assert_eq!(roundtrip(WitType::F64, json!(1.5)), json!(1.5));
        assert_eq!(roundtrip(WitType::F64, json!("NaN")), json!("NaN"));
    }

    #[test]
    fn big_integers_travel_as_strings() {
        assert_eq!(
            roundtrip(WitType::U64, json!("18446744073709551615")),
            json!("18446744073709551615")
        );
        assert_eq!(
            roundtrip(WitType::S64, json!(9007199254740992_i64)),
            json!(9007199254740992_i64)
        );
        assert_eq!(
            roundtrip(WitType::S64, json!(9007199254740993_i64)),
            json!("9007199254740993")
        );
    }

    #[test]
    fn out_of_range_is_22003_with_path() {
        let err = json_to_val(&WitType::U8, &json!(256), "$").unwrap_err();
        assert_eq!(err.code, ValueFault::OutOfRange);
        assert_eq!(err.message, "256 is out of range for u8");
        let err = json_to_val(&WitType::U32, &json!(-1), "$").unwrap_err();
        assert_eq!(err.code, ValueFault::OutOfRange);
    }

    #[test]
    fn wrong_shape_names_path_and_type() {
        let ty = WitType::Record(vec![
            ("unit-price".into(), WitType::U32),
            ("note".into(), WitType::Option(Box::new(WitType::String))),
        ]);
        let err = json_to_val(&ty, &json!({"unit_price": "x"}), "$").unwrap_err();
        assert_eq!(err.path, "$.unit_price");
        assert_eq!(err.code, ValueFault::Malformed);
        let err = json_to_val(&ty, &json!({}), "$").unwrap_err();
        assert_eq!(err.path, "$.unit_price");
        assert_eq!(err.message, "missing field of type u32");
        let err = json_to_val(&WitType::String, &json!(3), "$").unwrap_err();
        assert_eq!(err.message, "expected string, found the number 3");
    }

    #[test]
    fn records_accept_both_spellings_and_ignore_extra_keys() {
        let ty = WitType::Record(vec![("unit-price".into(), WitType::U32)]);
        assert_eq!(
            roundtrip(ty.clone(), json!({"unit-price": 3, "other": 1})),
            json!({"unit_price": 3})
        );
        assert_eq!(
            roundtrip(ty, json!({"unit_price": 4})),
            json!({"unit_price": 4})
        );
    }

    #[test]
    fn bytes_use_postgres_hex_form() {
        let ty = WitType::List(Box::new(WitType::U8));
        assert_eq!(roundtrip(ty.clone(), json!("\\x00ff")), json!("\\x00ff"));
        assert_eq!(roundtrip(ty.clone(), json!([1, 2])), json!("\\x0102"));
        assert_eq!(roundtrip(ty.clone(), json!([])), json!("\\x"));
        assert!(json_to_val(&ty, &json!("zz"), "$").is_err());
    }

    #[test]
    fn variants_enums_flags_options_results() {
        let var = WitType::Variant(vec![
            ("none".into(), None),
            ("some-num".into(), Some(WitType::S32)),
        ]);
        assert_eq!(roundtrip(var.clone(), json!("none")), json!({"none": null}));
        assert_eq!(
            roundtrip(var.clone(), json!({"some-num": 3})),
            json!({"some_num": 3})
        );
        assert!(json_to_val(&var, &json!({"none": 1}), "$").is_err());
        let en = WitType::Enum(vec!["red".into(), "dark-blue".into()]);
        assert_eq!(
            roundtrip(en.clone(), json!("dark_blue")),
            json!("dark_blue")
        );
        assert!(json_to_val(&en, &json!("green"), "$").is_err());
        let fl = WitType::Flags(vec!["read".into(), "write".into()]);
        assert_eq!(roundtrip(fl, json!(["write"])), json!(["write"]));
        let opt = WitType::Option(Box::new(WitType::S32));
        assert_eq!(roundtrip(opt.clone(), json!(null)), json!(null));
        assert_eq!(roundtrip(opt, json!(5)), json!(5));
        let res = WitType::Result {
            ok: Some(Box::new(WitType::S32)),
            err: None,
        };
        assert_eq!(roundtrip(res.clone(), json!({"ok": 1})), json!({"ok": 1}));
        assert_eq!(roundtrip(res, json!({"err": null})), json!({"err": null}));
    }

    #[test]
    fn tuples_need_their_length() {
        let ty = WitType::Tuple(vec![WitType::S32, WitType::String]);
        assert_eq!(roundtrip(ty.clone(), json!([1, "a"])), json!([1, "a"]));
        assert!(json_to_val(&ty, &json!([1]), "$").is_err());
    }
}
