//! jsonb datums ↔ `serde_json` values without going through text: `wasm_transform` runs once
//! per row, and printing jsonb to text, parsing it, and the same again on the way back cost
//! more than the plugin call itself.
//!
//! In: Postgres' jsonb iterator walks the binary form. Out: `pushJsonbValue` builds the binary
//! form directly; numbers that fit `i64` become numerics without text.

use pgrx::pg_sys;
use serde_json::{Map, Number, Value as Json};

use crate::error::{PluginError, PluginResult, ValueFault};

/// A jsonb container being read: an array, an object (with the key of the value to come), or
/// the one-element array Postgres wraps a top-level scalar in.
enum Frame {
    Array(Vec<Json>),
    Object(Map<String, Json>, Option<String>),
}

/// The text of a numeric, through `numeric_out`.
///
/// # Safety
/// `num` must be a valid numeric.
unsafe fn numeric_text(num: pg_sys::Numeric) -> String {
    // SAFETY: numeric_out takes a numeric datum and returns a palloc'd C string.
    unsafe {
        match pgrx::direct_function_call::<&std::ffi::CStr>(
            pg_sys::numeric_out,
            &[Some(pg_sys::Datum::from(num))],
        ) {
            Some(cstr) => {
                let text = cstr.to_string_lossy().into_owned();
                pg_sys::pfree(cstr.as_ptr() as *mut std::ffi::c_void);
                text
            }
            None => String::new(),
        }
    }
}

/// A scalar jsonb value as JSON.
///
/// # Safety
/// `v` must be a scalar value the jsonb iterator returned.
unsafe fn scalar(v: &pg_sys::JsonbValue) -> PluginResult<Json> {
    // SAFETY: the union member read is the one `type_` names.
    unsafe {
        Ok(match v.type_ {
            pg_sys::jbvType::jbvNull => Json::Null,
            pg_sys::jbvType::jbvBool => Json::Bool(v.val.boolean),
            pg_sys::jbvType::jbvString => {
                let s = v.val.string;
                let bytes = std::slice::from_raw_parts(s.val as *const u8, s.len as usize);
                Json::String(String::from_utf8_lossy(bytes).into_owned())
            }
            pg_sys::jbvType::jbvNumeric => {
                let text = numeric_text(v.val.numeric);
                match text.parse::<Number>() {
                    Ok(n) => Json::Number(n),
                    Err(_) => {
                        let shown = match text.char_indices().nth(24) {
                            Some((cut, _)) => format!("{}… ({} digits)", &text[..cut], text.len()),
                            None => text,
                        };
                        return Err(PluginError::bad_value(
                            ValueFault::OutOfRange,
                            format!(
                                "the JSON number {shown} is out of range for any WIT number type"
                            ),
                        ));
                    }
                }
            }
            other => {
                return Err(PluginError::Internal(format!(
                    "unexpected jsonb value type {other}"
                )));
            }
        })
    }
}

/// Attach a finished value to the container being read, or return it if it is the top.
fn attach(stack: &mut [Frame], value: Json) -> Option<Json> {
    match stack.last_mut() {
        Some(Frame::Array(items)) => items.push(value),
        Some(Frame::Object(map, key)) => {
            map.insert(key.take().unwrap_or_default(), value);
        }
        None => return Some(value),
    }
    None
}

/// A jsonb datum as a JSON value.
///
/// # Safety
/// `datum` must be a non-null jsonb datum.
pub unsafe fn jsonb_to_json(datum: pg_sys::Datum) -> PluginResult<Json> {
    // SAFETY: a detoasted jsonb; the iterator walks its binary form and returns values that
    // point into it, which live while it does (the current memory context).
    unsafe {
        let jb = pg_sys::pg_detoast_datum(datum.cast_mut_ptr()) as *mut pg_sys::Jsonb;
        let mut it = pg_sys::JsonbIteratorInit(&mut (*jb).root);
        let mut v: pg_sys::JsonbValue = std::mem::zeroed();
        let mut stack: Vec<Frame> = Vec::new();
        let mut raw_scalar = false;
        loop {
            let token = pg_sys::JsonbIteratorNext(&mut it, &mut v, false);
            let finished = match token {
                pg_sys::JsonbIteratorToken::WJB_DONE => break,
                pg_sys::JsonbIteratorToken::WJB_BEGIN_ARRAY => {
                    if stack.is_empty() && v.val.array.rawScalar {
                        raw_scalar = true;
                    }
                    stack.push(Frame::Array(Vec::new()));
                    None
                }
                pg_sys::JsonbIteratorToken::WJB_BEGIN_OBJECT => {
                    stack.push(Frame::Object(Map::new(), None));
                    None
                }
                pg_sys::JsonbIteratorToken::WJB_END_ARRAY
                | pg_sys::JsonbIteratorToken::WJB_END_OBJECT => {
                    let value = match stack.pop() {
                        Some(Frame::Array(mut items)) if raw_scalar && stack.is_empty() => {
                            items.pop().unwrap_or(Json::Null)
                        }
                        Some(Frame::Array(items)) => Json::Array(items),
                        Some(Frame::Object(map, _)) => Json::Object(map),
                        None => Json::Null,
                    };
                    attach(&mut stack, value)
                }
                pg_sys::JsonbIteratorToken::WJB_KEY => {
                    if let (Json::String(k), Some(Frame::Object(_, key))) =
                        (scalar(&v)?, stack.last_mut())
                    {
                        *key = Some(k);
                    }
                    None
                }
                _ => {
                    let value = scalar(&v)?;
                    attach(&mut stack, value)
                }
            };
            if let Some(top) = finished {
                return Ok(top);
            }
        }
        Ok(Json::Null)
    }
}

/// A jsonb string pointing at `s`, which must outlive its use.
fn string_value(s: &str) -> PluginResult<pg_sys::JsonbValue> {
    if s.contains('\0') {
        return Err(PluginError::bad_value(
            ValueFault::Untranslatable,
            "the result holds a string with a NUL character (\\u0000), which jsonb cannot hold",
        ));
    }
    let len = i32::try_from(s.len()).map_err(|_| {
        PluginError::bad_value(
            ValueFault::TooLarge,
            "the result holds a string too long for jsonb",
        )
    })?;
    // SAFETY: a zeroed JsonbValue is valid; the string member is set with its type.
    let mut out: pg_sys::JsonbValue = unsafe { std::mem::zeroed() };
    out.type_ = pg_sys::jbvType::jbvString;
    out.val.string = pg_sys::JsonbValue__bindgen_ty_1__bindgen_ty_1 {
        len,
        val: s.as_ptr() as *mut std::ffi::c_char,
    };
    Ok(out)
}

/// A scalar JSON value as a jsonb value; strings point into `v`, which must outlive its use.
///
/// # Safety
/// Calls Postgres to make numerics (in the current memory context).
unsafe fn scalar_value(v: &Json) -> PluginResult<pg_sys::JsonbValue> {
    // SAFETY: a zeroed JsonbValue is a valid null; each arm sets the member `type_` names.
    unsafe {
        let mut out: pg_sys::JsonbValue = std::mem::zeroed();
        match v {
            Json::Null => out.type_ = pg_sys::jbvType::jbvNull,
            Json::Bool(b) => {
                out.type_ = pg_sys::jbvType::jbvBool;
                out.val.boolean = *b;
            }
            Json::String(s) => return string_value(s),
            Json::Number(n) => {
                out.type_ = pg_sys::jbvType::jbvNumeric;
                out.val.numeric = match n.as_i64() {
                    Some(i) => pg_sys::int64_to_numeric(i),
                    None => {
                        let text = std::ffi::CString::new(n.to_string())
                            .expect("invariant: a number's text has no NUL");
                        pgrx::fcinfo::direct_function_call_as_datum(
                            pg_sys::numeric_in,
                            &[
                                Some(pg_sys::Datum::from(text.as_ptr())),
                                Some(pg_sys::Datum::from(pg_sys::InvalidOid)),
                                Some(pg_sys::Datum::from(-1i32)),
                            ],
                        )
                        .map(|d| d.cast_mut_ptr())
                        .unwrap_or(std::ptr::null_mut())
                    }
                };
            }
            Json::Array(_) | Json::Object(_) => {
                return Err(PluginError::Internal("a container is not a scalar".into()));
            }
        }
        Ok(out)
    }
}

/// Push a JSON value into a jsonb under construction: containers as begin/end pairs, scalars
/// as `token` (an array element or an object value). Returns the last result of
/// `pushJsonbValue`, the finished container when `v` is the outermost one.
///
/// # Safety
/// `state` must be a jsonb parse state in construction.
unsafe fn push(
    state: &mut *mut pg_sys::JsonbParseState,
    v: &Json,
    token: pg_sys::JsonbIteratorToken::Type,
) -> PluginResult<*mut pg_sys::JsonbValue> {
    use pg_sys::JsonbIteratorToken as T;
    // SAFETY: tokens are pushed in a well-formed order; values outlive the construction.
    unsafe {
        Ok(match v {
            Json::Array(items) => {
                pg_sys::pushJsonbValue(state, T::WJB_BEGIN_ARRAY, std::ptr::null_mut());
                for item in items {
                    push(state, item, T::WJB_ELEM)?;
                }
                pg_sys::pushJsonbValue(state, T::WJB_END_ARRAY, std::ptr::null_mut())
            }
            Json::Object(map) => {
                pg_sys::pushJsonbValue(state, T::WJB_BEGIN_OBJECT, std::ptr::null_mut());
                for (k, item) in map {
                    let mut key = string_value(k)?;
                    pg_sys::pushJsonbValue(state, T::WJB_KEY, &mut key);
                    push(state, item, T::WJB_VALUE)?;
                }
                pg_sys::pushJsonbValue(state, T::WJB_END_OBJECT, std::ptr::null_mut())
            }
            scalar => {
                let mut value = scalar_value(scalar)?;
                pg_sys::pushJsonbValue(state, token, &mut value)
            }
        })
    }
}

/// A JSON value as a jsonb datum (in the current memory context).
pub fn json_to_jsonb(v: &Json) -> PluginResult<pg_sys::Datum> {
    // SAFETY: builds a new jsonb from values that live until JsonbValueToJsonb has copied them.
    unsafe {
        let jb = match v {
            Json::Array(_) | Json::Object(_) => {
                let mut state: *mut pg_sys::JsonbParseState = std::ptr::null_mut();
                let top = push(&mut state, v, pg_sys::JsonbIteratorToken::WJB_ELEM)?;
                pg_sys::JsonbValueToJsonb(top)
            }
            scalar => {
                let mut value = scalar_value(scalar)?;
                pg_sys::JsonbValueToJsonb(&mut value)
            }
        };
        Ok(pg_sys::Datum::from(jb))
    }
}
