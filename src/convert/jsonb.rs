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
pub(crate) unsafe fn numeric_text(num: pg_sys::Numeric) -> String {
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

/// A numeric with no fractional digits and no special value that fits `i64` or `u64`, read
/// from its stored form (base-10000 digits) as the JSON number its text would parse to;
/// `None` for any other (which goes through its text). Most JSON numbers are such integers,
/// and `numeric_out` plus a parse cost more than a small plugin call.
///
/// The layout is Postgres' on-disk numeric format (numeric.c): a varlena header; then either a
/// short header (`u16`: 0x8000 set, sign 0x2000, display scale 0x1F80, weight in 0x007F as a
/// 7-bit two's complement) or a long one (`u16` sign and display scale, sign in 0xC000 and
/// scale in 0x3FFF, then an `i16` weight); then `u16` digits, most significant first, the
/// first one worth 10000^weight. 0xC000 in the first `u16` marks NaN and the infinities.
///
/// # Safety
/// `num` must point to a valid, untoasted numeric.
pub(crate) unsafe fn integral_numeric(num: pg_sys::Numeric) -> Option<Number> {
    if cfg!(target_endian = "big") {
        // The varlena header reads differently there; the text path serves.
        return None;
    }
    let base = num as *const u8;
    // SAFETY: the caller's contract: a varlena header (1 or 4 bytes; not compressed or
    // external, which the first byte tells) and `size` bytes in all.
    let bytes = unsafe {
        let first = *base;
        let (size, header) = if first & 0x01 == 0x01 && first != 0x01 {
            // A 1-byte header (0x01 alone marks an external datum).
            ((first >> 1) as usize, 1)
        } else if first & 0x03 == 0 {
            ((base.cast::<u32>().read_unaligned() >> 2) as usize, 4)
        } else {
            return None;
        };
        std::slice::from_raw_parts(base.add(header), size.checked_sub(header)?)
    };
    let word = |i: usize| -> Option<u16> {
        Some(u16::from_ne_bytes([
            *bytes.get(2 * i)?,
            *bytes.get(2 * i + 1)?,
        ]))
    };
    let head = word(0)?;
    let (negative, scale, weight, digits_from) = match head & 0xC000 {
        0xC000 => return None,
        0x8000 => {
            let weight = (head & 0x007F) as i32;
            let weight = if head & 0x0040 != 0 {
                weight - 0x80
            } else {
                weight
            };
            (head & 0x2000 != 0, (head & 0x1F80) >> 7, weight, 1)
        }
        sign => (sign == 0x4000, head & 0x3FFF, word(1)? as i16 as i32, 2),
    };
    if scale != 0 || bytes.len() % 2 != 0 {
        return None;
    }
    let digits = bytes.len() / 2 - digits_from;
    if digits as i32 > weight + 1 || weight > 4 {
        // A fractional digit, or more than 20 integral digits: not an i64 or u64.
        return None;
    }
    // With a negative weight there are no digits (checked above): the value is zero.
    let mut magnitude: u128 = 0;
    for i in 0..(weight + 1).max(0) as usize {
        let digit = if i < digits {
            word(digits_from + i)?
        } else {
            0
        };
        magnitude = magnitude * 10_000 + u128::from(digit);
    }
    if negative {
        i64::try_from(-i128::try_from(magnitude).ok()?)
            .ok()
            .map(Number::from)
    } else {
        u64::try_from(magnitude).ok().map(Number::from)
    }
}

/// A scalar jsonb value as JSON.
///
/// # Safety
/// `v` must be a scalar value the jsonb iterator returned.
unsafe fn scalar(v: &pg_sys::JsonbValue) -> PluginResult<Json> {
    Ok(match v.type_ {
        pg_sys::jbvType::jbvNull => Json::Null,
        // SAFETY: `type_` is jbvBool, so `boolean` is the union member set.
        pg_sys::jbvType::jbvBool => Json::Bool(unsafe { v.val.boolean }),
        pg_sys::jbvType::jbvString => {
            // SAFETY: `type_` is jbvString, so `string` is the union member set; its `val`
            // points at `len` bytes inside the jsonb being iterated (the caller's contract).
            let bytes = unsafe {
                let s = v.val.string;
                std::slice::from_raw_parts(s.val as *const u8, s.len as usize)
            };
            Json::String(String::from_utf8_lossy(bytes).into_owned())
        }
        pg_sys::jbvType::jbvNumeric => {
            // SAFETY: `type_` is jbvNumeric, so `numeric` is the union member set, a valid
            // numeric inside the jsonb being iterated.
            let num = unsafe { v.val.numeric };
            // SAFETY: as above.
            match unsafe { integral_numeric(num) } {
                Some(n) => Json::Number(n),
                // SAFETY: as above.
                None => number(unsafe { numeric_text(num) })?,
            }
        }
        other => {
            return Err(PluginError::Internal(format!(
                "unexpected jsonb value type {other}"
            )));
        }
    })
}

/// The text of a jsonb numeric as a JSON number; one too large for any WIT number type is
/// refused.
pub(crate) fn number(text: String) -> PluginResult<Json> {
    match text.parse::<Number>() {
        Ok(n) => Ok(Json::Number(n)),
        Err(_) => {
            let shown = match text.char_indices().nth(24) {
                Some((cut, _)) => format!("{}… ({} digits)", &text[..cut], text.len()),
                None => text,
            };
            Err(PluginError::bad_value(
                ValueFault::OutOfRange,
                format!("the JSON number {shown} is out of range for any WIT number type"),
            ))
        }
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

/// The containers open while a jsonb is read, innermost last.
#[derive(Default)]
struct Reader {
    stack: Vec<Frame>,
    /// The top is the one-element array Postgres wraps a top-level scalar in.
    raw_scalar: bool,
}

impl Reader {
    /// Take one token of the jsonb iterator (not `WJB_DONE`) with its value; returns the
    /// outermost value once it is finished.
    ///
    /// # Safety
    /// `v` must be the value the jsonb iterator returned with `token`, its jsonb still alive.
    unsafe fn step(
        &mut self,
        token: pg_sys::JsonbIteratorToken::Type,
        v: &pg_sys::JsonbValue,
    ) -> PluginResult<Option<Json>> {
        use pg_sys::JsonbIteratorToken as T;
        let stack = &mut self.stack;
        Ok(match token {
            T::WJB_BEGIN_ARRAY => {
                // SAFETY: with WJB_BEGIN_ARRAY the iterator returns a jbvArray, so `array` is
                // the union member set.
                if stack.is_empty() && unsafe { v.val.array.rawScalar } {
                    self.raw_scalar = true;
                }
                stack.push(Frame::Array(Vec::new()));
                None
            }
            T::WJB_BEGIN_OBJECT => {
                stack.push(Frame::Object(Map::new(), None));
                None
            }
            T::WJB_END_ARRAY | T::WJB_END_OBJECT => {
                let value = match stack.pop() {
                    Some(Frame::Array(mut items)) if self.raw_scalar && stack.is_empty() => {
                        items.pop().unwrap_or(Json::Null)
                    }
                    Some(Frame::Array(items)) => Json::Array(items),
                    Some(Frame::Object(map, _)) => Json::Object(map),
                    None => Json::Null,
                };
                attach(stack, value)
            }
            T::WJB_KEY => {
                // SAFETY: a key is a scalar (a string) the iterator returned (our contract).
                let name = unsafe { scalar(v) }?;
                if let (Json::String(k), Some(Frame::Object(_, key))) = (name, stack.last_mut()) {
                    *key = Some(k);
                }
                None
            }
            _ => {
                // SAFETY: an element or an object's value that is not a container is a scalar
                // the iterator returned (our contract).
                let value = unsafe { scalar(v) }?;
                attach(stack, value)
            }
        })
    }
}

/// A jsonb datum as a JSON value.
///
/// # Safety
/// `datum` must be a non-null jsonb datum.
pub unsafe fn jsonb_to_json(datum: pg_sys::Datum) -> PluginResult<Json> {
    // SAFETY: `datum` is a non-null jsonb (the caller's contract): read in place when it has a
    // plain 4-byte header (the first byte's two low bits clear, on little-endian), else
    // detoasted (a copy in the current memory context, alive until this function returns).
    let jb = unsafe {
        let ptr = datum.cast_mut_ptr::<u8>();
        if cfg!(target_endian = "little") && *ptr & 0x03 == 0 {
            ptr as *mut pg_sys::Jsonb
        } else {
            pg_sys::pg_detoast_datum(ptr.cast()) as *mut pg_sys::Jsonb
        }
    };
    // SAFETY: the root container of that jsonb.
    if let Some(flat) = unsafe { flat_json(&mut (*jb).root) } {
        return flat;
    }
    // SAFETY: as above; the iterator walks the root container.
    let mut it = unsafe { pg_sys::JsonbIteratorInit(&mut (*jb).root) };
    // SAFETY: an all-zero JsonbValue is valid (a jbvNull; its union holds no pointer to follow).
    let mut v: pg_sys::JsonbValue = unsafe { std::mem::zeroed() };
    let mut reader = Reader::default();
    loop {
        // SAFETY: `it` is the live iterator over the detoasted jsonb; it writes the next value
        // (pointing into that jsonb) into `v`, and frees itself when it returns WJB_DONE.
        let token = unsafe { pg_sys::JsonbIteratorNext(&mut it, &mut v, false) };
        if token == pg_sys::JsonbIteratorToken::WJB_DONE {
            break;
        }
        // SAFETY: `v` is what the iterator just returned with `token`; the jsonb is alive.
        if let Some(top) = unsafe { reader.step(token, &v) }? {
            return Ok(top);
        }
    }
    Ok(Json::Null)
}

/// The one argument of a `wasm_transform` call, when it is an integer that fits `i64` or a
/// string, read straight from the jsonb for a typed call: the input itself when `top` (a
/// top-level scalar), else the only element of a one-element array.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SingleScalar<'a> {
    Int(i64),
    Str(&'a str),
}

/// The jsonb's single scalar argument (see [`SingleScalar`]); `None` when it is anything else
/// (the general path reads it then, with its conversions and errors).
///
/// # Safety
/// `datum` must be a non-null jsonb datum, alive while the result is used.
pub unsafe fn single_scalar<'a>(datum: pg_sys::Datum, top: bool) -> Option<SingleScalar<'a>> {
    if cfg!(target_endian = "big") {
        return None;
    }
    let ptr = datum.cast_mut_ptr::<u8>();
    // SAFETY: a jsonb (the caller's contract): read in place when not compressed or external,
    // with the 1-byte header a short value stored in a row has, or a 4-byte one; every read
    // below is unaligned-safe.
    let (size, at) = unsafe {
        match *ptr {
            b if b & 0x03 == 0 => ((ptr.cast::<u32>().read_unaligned() >> 2) as usize, 4),
            b if b & 0x01 == 0x01 && b != 0x01 => ((b >> 1) as usize, 1),
            _ => return None,
        }
    };
    if size < at + 8 {
        return None;
    }
    // SAFETY: after the varlena header, the root container's header and, for a one-element
    // array (a raw scalar is one too), the element's entry, then its data.
    let (header, entry, data) = unsafe {
        (
            ptr.add(at).cast::<u32>().read_unaligned(),
            ptr.add(at + 4).cast::<u32>().read_unaligned(),
            ptr.add(at + 8),
        )
    };
    let is_scalar = header & pg_sys::JB_FSCALAR != 0;
    if is_scalar != top || header & pg_sys::JB_FARRAY == 0 || header & pg_sys::JB_CMASK != 1 {
        return None;
    }
    // The first element's entry holds its end offset, which is its length (no padding comes
    // before the first element, which starts 4-byte aligned in the 4-byte-header form).
    let len = (entry & pg_sys::JENTRY_OFFLENMASK) as usize;
    if at + 8 + len > size {
        return None;
    }
    match entry & pg_sys::JENTRY_TYPEMASK {
        pg_sys::JENTRY_ISNUMERIC => {
            // SAFETY: a numeric of `len` bytes inside the live jsonb.
            let n = unsafe { integral_numeric(data as pg_sys::Numeric) }?;
            n.as_i64().map(SingleScalar::Int)
        }
        pg_sys::JENTRY_ISSTRING => {
            // SAFETY: `len` bytes of string inside the live jsonb.
            let bytes: &'a [u8] = unsafe { std::slice::from_raw_parts(data, len) };
            std::str::from_utf8(bytes).ok().map(SingleScalar::Str)
        }
        _ => None,
    }
}

/// A top-level scalar, or an array of scalars (`wasm_transform`'s usual arguments), read
/// without the iterator; `None` for any other container.
///
/// # Safety
/// `root` must be the root container of a detoasted jsonb.
unsafe fn flat_json(root: *mut pg_sys::JsonbContainer) -> Option<PluginResult<Json>> {
    use pg_sys::{JB_CMASK as COUNT, JB_FARRAY as ARRAY, JB_FSCALAR as SCALAR};
    // SAFETY: the caller's contract: a valid container header.
    let header = unsafe { (*root).header };
    // SAFETY: an all-zero JsonbValue is valid (a jbvNull).
    let mut v: pg_sys::JsonbValue = unsafe { std::mem::zeroed() };
    if header & SCALAR != 0 {
        // SAFETY: a scalar root: its one value, pointing into the jsonb, into `v`.
        if !unsafe { pg_sys::JsonbExtractScalar(root, &mut v) } {
            return None;
        }
        // SAFETY: a scalar value of the live jsonb.
        return Some(unsafe { scalar(&v) });
    }
    if header & ARRAY == 0 {
        return None;
    }
    let count = header & COUNT;
    let mut items = Vec::with_capacity(count as usize);
    for i in 0..count {
        // SAFETY: element i of the array's `count`: a palloc'd value pointing into the jsonb.
        let item = unsafe { pg_sys::getIthJsonbValueFromContainer(root, i) };
        // SAFETY: as above, non-null for i < count.
        let item = unsafe { &*item };
        if item.type_ == pg_sys::jbvType::jbvBinary {
            // A nested container: the iterator reads the whole value.
            return None;
        }
        // SAFETY: a scalar value of the live jsonb.
        match unsafe { scalar(item) } {
            Ok(value) => items.push(value),
            Err(e) => return Some(Err(e)),
        }
    }
    Some(Ok(Json::Array(items)))
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
    // SAFETY: an all-zero JsonbValue is a valid jbvNull; each arm sets the member `type_` names.
    let mut out: pg_sys::JsonbValue = unsafe { std::mem::zeroed() };
    match v {
        Json::Null => out.type_ = pg_sys::jbvType::jbvNull,
        Json::Bool(b) => {
            out.type_ = pg_sys::jbvType::jbvBool;
            out.val.boolean = *b;
        }
        Json::String(s) => return string_value(s),
        Json::Number(n) => {
            out.type_ = pg_sys::jbvType::jbvNumeric;
            // SAFETY: makes a numeric in the current memory context (our contract).
            out.val.numeric = unsafe { numeric_value(n) };
        }
        Json::Array(_) | Json::Object(_) => {
            return Err(PluginError::Internal("a container is not a scalar".into()));
        }
    }
    Ok(out)
}

/// A JSON number as a numeric: without text when it fits `i64`, else through `numeric_in`
/// (null if that returns none).
///
/// # Safety
/// Calls Postgres to make the numeric (in the current memory context).
unsafe fn numeric_value(n: &Number) -> pg_sys::Numeric {
    match n.as_i64() {
        // SAFETY: int64_to_numeric takes any i64 and returns a palloc'd numeric.
        Some(i) => unsafe { pg_sys::int64_to_numeric(i) },
        None => {
            let text = std::ffi::CString::new(n.to_string())
                .expect("invariant: a number's text has no NUL");
            // SAFETY: numeric_in takes a NUL-terminated string (alive for the call), a type
            // OID and a typmod, and returns a palloc'd numeric or raises on bad input.
            unsafe {
                pgrx::fcinfo::direct_function_call_as_datum(
                    pg_sys::numeric_in,
                    &[
                        Some(pg_sys::Datum::from(text.as_ptr())),
                        Some(pg_sys::Datum::from(pg_sys::InvalidOid)),
                        Some(pg_sys::Datum::from(-1i32)),
                    ],
                )
            }
            .map(|d| d.cast_mut_ptr())
            .unwrap_or(std::ptr::null_mut())
        }
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
    let null = std::ptr::null_mut();
    Ok(match v {
        Json::Array(items) => {
            // SAFETY: `state` is in construction (our contract); an array may begin here.
            unsafe { pg_sys::pushJsonbValue(state, T::WJB_BEGIN_ARRAY, null) };
            for item in items {
                // SAFETY: `state` has this array open, which takes elements.
                unsafe { push(state, item, T::WJB_ELEM) }?;
            }
            // SAFETY: closes the array begun above, every element pushed.
            unsafe { pg_sys::pushJsonbValue(state, T::WJB_END_ARRAY, null) }
        }
        Json::Object(map) => {
            // SAFETY: `state` is in construction (our contract); an object may begin here.
            unsafe { pg_sys::pushJsonbValue(state, T::WJB_BEGIN_OBJECT, null) };
            for (k, item) in map {
                let mut key = string_value(k)?;
                // SAFETY: `state` has this object open and expects a key; `key` points into
                // `map`, which outlives the construction.
                unsafe { pg_sys::pushJsonbValue(state, T::WJB_KEY, &mut key) };
                // SAFETY: `state` has a key pushed, which takes its value.
                unsafe { push(state, item, T::WJB_VALUE) }?;
            }
            // SAFETY: closes the object begun above, every key with its value.
            unsafe { pg_sys::pushJsonbValue(state, T::WJB_END_OBJECT, null) }
        }
        scalar => {
            // SAFETY: makes numerics in the current memory context.
            let mut value = unsafe { scalar_value(scalar) }?;
            // SAFETY: `state` expects `token` here (our caller's order); a string `value`
            // points into `v`, which outlives the construction.
            unsafe { pg_sys::pushJsonbValue(state, token, &mut value) }
        }
    })
}

/// A JSON value as a jsonb datum (in the current memory context).
pub fn json_to_jsonb(v: &Json) -> PluginResult<pg_sys::Datum> {
    let jb = match v {
        Json::Array(_) | Json::Object(_) => {
            let mut state: *mut pg_sys::JsonbParseState = std::ptr::null_mut();
            // SAFETY: `state` is a new, empty parse state; `push` begins and ends the
            // outermost container in it.
            let top = unsafe { push(&mut state, v, pg_sys::JsonbIteratorToken::WJB_ELEM) }?;
            // SAFETY: `top` is the finished container, whose strings point into `v`, alive
            // here; JsonbValueToJsonb copies it into a new jsonb.
            unsafe { pg_sys::JsonbValueToJsonb(top) }
        }
        scalar => match raw_scalar(scalar)? {
            Some(jb) => jb,
            // SAFETY: as `raw_scalar_through_postgres` says.
            None => unsafe { raw_scalar_through_postgres(scalar) }?,
        },
    };
    Ok(pg_sys::Datum::from(jb))
}

/// A scalar JSON value as a jsonb, built by Postgres (`JsonbValueToJsonb`).
///
/// # Safety
/// Calls Postgres to make numerics and the jsonb (in the current memory context).
pub(crate) unsafe fn raw_scalar_through_postgres(v: &Json) -> PluginResult<*mut pg_sys::Jsonb> {
    // SAFETY: makes numerics in the current memory context (our contract).
    let mut value = unsafe { scalar_value(v) }?;
    // SAFETY: `value` is a scalar whose string, if any, points into `v`, alive here;
    // JsonbValueToJsonb copies it into a new jsonb.
    Ok(unsafe { pg_sys::JsonbValueToJsonb(&mut value) })
}

/// The stored form of an integer as `int64_to_numeric` makes it: a 4-byte varlena header, a
/// short numeric header (sign, display scale 0, weight) and base-10000 digits without leading
/// or trailing zeros (see [`integral_numeric`] for the layout); returns the buffer and how
/// many of its bytes are used.
fn numeric_bytes(i: i64) -> ([u8; 16], usize) {
    let mut magnitude = i.unsigned_abs();
    // Least significant first; an i64 has at most 5 base-10000 digits.
    let mut digits = [0u16; 5];
    let mut n = 0;
    while magnitude > 0 {
        digits[n] = (magnitude % 10_000) as u16;
        magnitude /= 10_000;
        n += 1;
    }
    // The weight of the most significant digit; trailing zero digits are not stored.
    let weight = n.saturating_sub(1) as u16;
    let low = digits[..n].iter().take_while(|&&d| d == 0).count();
    let stored = &digits[low..n];
    let size = 4 + 2 + 2 * stored.len();
    let header: u16 = 0x8000 | if i < 0 { 0x2000 } else { 0 } | (weight & 0x003F);
    let mut out = [0u8; 16];
    out[..4].copy_from_slice(&((size as u32) << 2).to_ne_bytes());
    out[4..6].copy_from_slice(&header.to_ne_bytes());
    for (k, d) in stored.iter().rev().enumerate() {
        out[6 + 2 * k..8 + 2 * k].copy_from_slice(&d.to_ne_bytes());
    }
    (out, size)
}

/// A scalar JSON value (null, a boolean, a string, an integer that fits `i64`) as a jsonb
/// built here, byte for byte what `JsonbValueToJsonb` builds: a varlena header, an array
/// container of one element flagged as a raw scalar, its entry (type, and its length as the
/// end offset), then the value. `None` for other numbers (Postgres builds those). A
/// `wasm_transform` whose export returns a scalar ends here once per row, and Postgres'
/// general builder (a parse state, three pushes, a growing buffer) costs more than the call.
pub(crate) fn raw_scalar(v: &Json) -> PluginResult<Option<*mut pg_sys::Jsonb>> {
    use pg_sys::{
        JENTRY_HAS_OFF as HAS_OFF, JENTRY_ISBOOL_FALSE as FALSE, JENTRY_ISBOOL_TRUE as TRUE,
        JENTRY_ISNULL as NULL, JENTRY_ISNUMERIC as NUMERIC, JENTRY_ISSTRING as STRING,
    };
    if cfg!(target_endian = "big") {
        return Ok(None);
    }
    let numeric;
    let (kind, data): (u32, &[u8]) = match v {
        Json::Null => (NULL, &[]),
        Json::Bool(false) => (FALSE, &[]),
        Json::Bool(true) => (TRUE, &[]),
        Json::String(s) => {
            // The same checks (and errors) as a string Postgres would be given.
            string_value(s)?;
            if s.len() > pg_sys::JENTRY_OFFLENMASK as usize {
                return Ok(None);
            }
            (STRING, s.as_bytes())
        }
        Json::Number(n) => match n.as_i64() {
            Some(i) => {
                numeric = numeric_bytes(i);
                (NUMERIC, &numeric.0[..numeric.1])
            }
            None => return Ok(None),
        },
        Json::Array(_) | Json::Object(_) => return Ok(None),
    };
    let size = 12 + data.len();
    if size > 0x3FFF_FFFF {
        return Ok(None);
    }
    let header = 1 | pg_sys::JB_FARRAY | pg_sys::JB_FSCALAR;
    let entry = kind | HAS_OFF | data.len() as u32;
    // SAFETY: a palloc of `size` bytes in the current memory context, written in full below:
    // the varlena header, the container header, the entry, the data.
    unsafe {
        let jb = pg_sys::palloc(size) as *mut u8;
        jb.cast::<u32>().write_unaligned((size as u32) << 2);
        jb.add(4).cast::<u32>().write_unaligned(header);
        jb.add(8).cast::<u32>().write_unaligned(entry);
        std::ptr::copy_nonoverlapping(data.as_ptr(), jb.add(12), data.len());
        Ok(Some(jb.cast()))
    }
}
