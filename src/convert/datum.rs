//! SQL datums ↔ component values for typed plugin functions, following the plan
//! [`crate::convert::plan::bind`] made from the function's SQL types. Range checks raise 22003, never
//! wrap or truncate.

use pgrx::pg_sys;
use pgrx::prelude::*;
use std::ffi::CStr;
use std::fmt::Display;

use wasmtime::component::Val;

use crate::convert::json::{json_to_val, val_to_json};
use crate::convert::plan::{Conv, FieldConv, RowDesc};
use crate::error::{PluginError, PluginResult, ValueFault};
use crate::mapping::WitType;
use crate::runtime::text::PgText;

/// "<parent>, element <n>" (1-based, as SQL arrays count), formatted only when needed.
struct ElementLabel<'a> {
    parent: &'a dyn Display,
    index: usize,
}

impl Display for ElementLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, element {}", self.parent, self.index)
    }
}

/// "<parent>, field <name>", formatted only when a message needs it.
struct FieldLabel<'a> {
    parent: &'a dyn Display,
    field: &'a str,
}

impl Display for FieldLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, field {}", self.parent, self.field)
    }
}

fn out_of_range(what: &dyn Display, value: &dyn Display, ty: &WitType) -> PluginError {
    PluginError::bad_value(
        ValueFault::OutOfRange,
        format!("{what}: {value} is out of range for WIT type {ty}"),
    )
}

/// Read a non-null datum of the type `T` maps to.
///
/// SAFETY (for callers): `datum` must be a non-null value of the SQL type that
/// `sql_type_of(ty)` names.
unsafe fn get<T: FromDatum>(datum: pg_sys::Datum, what: &dyn Display) -> PluginResult<T> {
    // SAFETY: the caller guarantees the datum's type; it is not null.
    unsafe { T::from_datum(datum, false) }
        .ok_or_else(|| PluginError::Internal(format!("{what}: could not read the SQL value")))
}

/// Convert a SQL argument to a component value as `conv` plans. `what` names the parameter
/// in messages.
///
/// # Safety
/// `datum` must be of the SQL type `conv` was bound to.
pub unsafe fn datum_to_val(
    datum: pg_sys::Datum,
    isnull: bool,
    conv: &Conv,
    what: &dyn Display,
) -> PluginResult<Val> {
    if let Conv::Option(inner) = conv {
        if isnull {
            return Ok(Val::Option(None));
        }
        // SAFETY: same datum, same type contract, for the inner type.
        let inner = unsafe { datum_to_val(datum, false, inner, what) }?;
        return Ok(Val::Option(Some(Box::new(inner))));
    }
    if isnull {
        return Err(PluginError::bad_value(
            ValueFault::Null,
            format!("{what} cannot be NULL: its WIT type is not an option"),
        ));
    }
    match conv {
        Conv::Option(_) => unreachable!("handled above"),
        // SAFETY: here and below, a non-null datum of the SQL type `conv` was bound to (the
        // caller's contract), which is what each reader takes; here a scalar.
        Conv::Scalar(ty) => unsafe { scalar_to_val(datum, ty, what) },
        // SAFETY: as above; the type is jsonb.
        Conv::Json(ty) => unsafe { jsonb_to_val(datum, ty, what) },
        // SAFETY: as above; an array of `elem`'s SQL type.
        Conv::List { elem, .. } => unsafe { list_to_val(datum, elem, what) },
        // SAFETY: as above; a text[].
        Conv::Flags(names) => unsafe { flags_to_val(datum, names, what) },
        Conv::Enum { cases, oids } => enum_to_val(datum, cases, oids, what),
        Conv::Composite {
            fields,
            tuple,
            desc,
            ..
        } => {
            // SAFETY: as above; a composite of the type `desc` describes.
            let values = unsafe { composite_to_vals(datum, desc, fields, what) }?;
            Ok(if *tuple {
                Val::Tuple(values.into_iter().map(|(_, v)| v).collect())
            } else {
                Val::Record(values)
            })
        }
    }
}

/// A jsonb argument as the component value of WIT type `ty`.
///
/// # Safety
/// `datum` must be a non-null jsonb datum.
unsafe fn jsonb_to_val(
    datum: pg_sys::Datum,
    ty: &WitType,
    what: &dyn Display,
) -> PluginResult<Val> {
    // SAFETY: a non-null jsonb (the caller's contract).
    let json = unsafe { get::<pgrx::JsonB>(datum, what) }?;
    json_to_val(ty, &json.0, "$").map_err(|e| e.into_plugin_error(&what.to_string()))
}

/// An array argument as a `list`, element by element.
///
/// # Safety
/// `datum` must be a non-null array whose elements are of the SQL type `elem` was bound to.
unsafe fn list_to_val(datum: pg_sys::Datum, elem: &Conv, what: &dyn Display) -> PluginResult<Val> {
    // SAFETY: a non-null array (the caller's contract).
    let elems = unsafe { array_elements(datum, what) }?;
    let mut items = Vec::with_capacity(elems.len());
    for (i, (d, null)) in elems.into_iter().enumerate() {
        let label = ElementLabel {
            parent: what,
            index: i + 1,
        };
        // SAFETY: an element of the array, of the SQL type `elem` was bound to.
        items.push(unsafe { datum_to_val(d, null, elem, &label) }?);
    }
    Ok(Val::List(items))
}

/// A `text[]` argument as flags: each element names one (repeats are ignored).
///
/// # Safety
/// `datum` must be a non-null `text[]`.
unsafe fn flags_to_val(
    datum: pg_sys::Datum,
    names: &[String],
    what: &dyn Display,
) -> PluginResult<Val> {
    let mut set = Vec::new();
    // SAFETY: a non-null array (the caller's contract).
    for (d, null) in unsafe { array_elements(datum, what) }? {
        let name = if null {
            None
        } else {
            // SAFETY: a non-null element of a text[].
            unsafe { <&str>::from_datum(d, false) }
        };
        match name.and_then(|n| names.iter().find(|f| f.as_str() == n)) {
            Some(flag) if !set.contains(flag) => set.push(flag.clone()),
            Some(_) => {}
            None => {
                return Err(PluginError::bad_value(
                    ValueFault::Malformed,
                    format!(
                        "{what}: {} is not a flag; the flags are {}",
                        name.map(|n| format!("\"{n}\"")).unwrap_or("NULL".into()),
                        names.join(", ")
                    ),
                ));
            }
        }
    }
    // Declaration order, as the guest expects.
    set.sort_by_key(|f| names.iter().position(|n| n == f));
    Ok(Val::Flags(set))
}

/// An enum argument (its pg_enum OID) as the WIT case bound to that label.
fn enum_to_val(
    datum: pg_sys::Datum,
    cases: &[String],
    oids: &[pg_sys::Oid],
    what: &dyn Display,
) -> PluginResult<Val> {
    let oid = pg_sys::Oid::from(datum.value() as u32);
    match oids.iter().position(|o| *o == oid) {
        Some(i) => Ok(Val::Enum(cases[i].clone())),
        // A label added to the SQL enum after the function was bound.
        None => Err(PluginError::bad_value(
            ValueFault::Invalid,
            format!(
                "{what}: this enum label is not a case of the WIT enum ({})",
                cases.join(", ")
            ),
        )),
    }
}

/// The fields of a composite argument, by name; a field with no attribute is `none`.
///
/// # Safety
/// `datum` must be a non-null composite value of the type `desc` describes and `fields` were
/// bound to.
unsafe fn composite_to_vals(
    datum: pg_sys::Datum,
    desc: &RowDesc,
    fields: &[FieldConv],
    what: &dyn Display,
) -> PluginResult<Vec<(String, Val)>> {
    // SAFETY: a non-null composite of the type `desc` describes (the caller's contract).
    let (values, nulls) = unsafe { deform(datum, desc) }?;
    // SAFETY: the attributes of that composite, which `fields` were bound to.
    unsafe { fields_to_vals(&values, &nulls, fields, what) }
}

/// The fields of a row deformed into `values` and `nulls`, by name; a field with no
/// attribute is `none`.
///
/// # Safety
/// `values` and `nulls` must be the attributes of a row of the type `fields` were bound to.
unsafe fn fields_to_vals(
    values: &[pg_sys::Datum],
    nulls: &[bool],
    fields: &[FieldConv],
    what: &dyn Display,
) -> PluginResult<Vec<(String, Val)>> {
    let mut out = Vec::with_capacity(fields.len());
    for f in fields {
        let label = FieldLabel {
            parent: what,
            field: &f.name,
        };
        let v = match &f.source {
            Some((i, conv)) if *i < values.len() => {
                // SAFETY: attribute `i` of the composite, of the SQL type `conv` was bound to.
                unsafe { datum_to_val(values[*i], nulls[*i], conv, &label) }?
            }
            _ => Val::Option(None),
        };
        out.push((f.name.clone(), v));
    }
    Ok(out)
}

/// A table row (a trigger's tuple) as the record `conv` binds its row type to.
///
/// # Safety
/// `tuple` must be a valid tuple of the relation whose descriptor is `desc`, and `conv` a
/// `Conv::Composite` bound to that relation's row type.
pub unsafe fn row_to_val(
    tuple: pg_sys::HeapTuple,
    desc: pg_sys::TupleDesc,
    conv: &Conv,
    what: &dyn Display,
) -> PluginResult<Val> {
    let Conv::Composite { fields, .. } = conv else {
        return Err(PluginError::Internal(format!("{what}: not bound to a row")));
    };
    // SAFETY: a valid descriptor (the caller's contract).
    let natts = unsafe { (*desc).natts } as usize;
    let mut values = vec![pg_sys::Datum::from(0); natts];
    let mut nulls = vec![true; natts];
    // SAFETY: a valid tuple of the relation `desc` describes; deform writes natts entries.
    unsafe { pg_sys::heap_deform_tuple(tuple, desc, values.as_mut_ptr(), nulls.as_mut_ptr()) };
    // SAFETY: the attributes of a row of the type `fields` were bound to.
    Ok(Val::Record(unsafe {
        fields_to_vals(&values, &nulls, fields, what)
    }?))
}

/// `base` with the attributes the fields of record `val` name replaced by their values: the
/// row a trigger writes. Attributes no field names keep `base`'s values.
///
/// # Safety
/// `base` must be a valid tuple of the relation whose descriptor is `desc`, and `conv` a
/// `Conv::Composite` bound (as a result) to that relation's row type.
pub unsafe fn val_into_row(
    val: Val,
    conv: &Conv,
    base: pg_sys::HeapTuple,
    desc: pg_sys::TupleDesc,
    what: &dyn Display,
) -> PluginResult<pg_sys::HeapTuple> {
    let Conv::Composite { fields, .. } = conv else {
        return Err(PluginError::Internal(format!("{what}: not bound to a row")));
    };
    // SAFETY: a valid descriptor (the caller's contract).
    let natts = unsafe { (*desc).natts } as usize;
    let (mut values, mut nulls) = composite_values(val, natts, fields, what)?;
    let mut replace = vec![false; natts];
    for (i, _) in fields.iter().filter_map(|f| f.source.as_ref()) {
        if *i < natts {
            replace[*i] = true;
        }
    }
    // SAFETY: natts entries each, of the attributes' types where `replace` is set (made as
    // the binding planned); the new tuple is palloc'd in the current memory context.
    Ok(unsafe {
        pg_sys::heap_modify_tuple(
            base,
            desc,
            values.as_mut_ptr(),
            nulls.as_mut_ptr(),
            replace.as_mut_ptr(),
        )
    })
}

/// The attribute values of a composite datum of the type `desc` describes.
///
/// # Safety
/// `datum` must be a non-null composite value of the type `desc` was made for.
unsafe fn deform(
    datum: pg_sys::Datum,
    desc: &RowDesc,
) -> PluginResult<(Vec<pg_sys::Datum>, Vec<bool>)> {
    // SAFETY: a non-null composite datum (the caller's contract).
    let header =
        unsafe { pg_sys::pg_detoast_datum(datum.cast_mut_ptr()) } as pg_sys::HeapTupleHeader;
    // SAFETY: all zeroes is a valid HeapTupleData (integers and a null pointer).
    let mut tuple: pg_sys::HeapTupleData = unsafe { std::mem::zeroed() };
    // SAFETY: a detoasted datum has a complete varlena header.
    tuple.t_len = unsafe { pgrx::varlena::varsize(header.cast()) } as u32;
    tuple.t_data = header;
    let desc = desc.as_ptr();
    // SAFETY: the descriptor lives as long as the binding (RowDesc).
    let natts = unsafe { (*desc).natts } as usize;
    let mut values = vec![pg_sys::Datum::from(0); natts];
    let mut nulls = vec![true; natts];
    // SAFETY: the tuple is the datum's, of the type `desc` describes; deform writes natts
    // entries to each array.
    unsafe { pg_sys::heap_deform_tuple(&mut tuple, desc, values.as_mut_ptr(), nulls.as_mut_ptr()) };
    Ok((values, nulls))
}

/// A scalar datum as the component value of WIT type `ty`.
///
/// # Safety
/// `datum` must be a non-null value of the SQL type the mapping table gives `ty`.
unsafe fn scalar_to_val(
    datum: pg_sys::Datum,
    ty: &WitType,
    what: &dyn Display,
) -> PluginResult<Val> {
    // Read the datum as `$t`, the Rust form of the SQL type the mapping table gives `ty`.
    macro_rules! read {
        ($t:ty) => {
            // SAFETY: a non-null value of the SQL type the mapping table gives `ty` (the
            // caller's contract); each arm below names that type's Rust form.
            unsafe { get::<$t>(datum, what) }?
        };
    }
    Ok(match ty {
        WitType::Bool => Val::Bool(read!(bool)),
        WitType::S8 => {
            let v = read!(i16);
            Val::S8(i8::try_from(v).map_err(|_| out_of_range(what, &v, ty))?)
        }
        WitType::U8 => {
            let v = read!(i16);
            Val::U8(u8::try_from(v).map_err(|_| out_of_range(what, &v, ty))?)
        }
        WitType::S16 => Val::S16(read!(i16)),
        WitType::U16 => {
            let v = read!(i32);
            Val::U16(u16::try_from(v).map_err(|_| out_of_range(what, &v, ty))?)
        }
        WitType::S32 => Val::S32(read!(i32)),
        WitType::U32 => {
            let v = read!(i64);
            Val::U32(u32::try_from(v).map_err(|_| out_of_range(what, &v, ty))?)
        }
        WitType::S64 => Val::S64(read!(i64)),
        // SAFETY: a non-null numeric (the mapping table gives u64 numeric).
        WitType::U64 => Val::U64(unsafe { numeric_to_u64(datum, ty, what) }?),
        WitType::F32 => Val::Float32(read!(f32)),
        WitType::F64 => Val::Float64(read!(f64)),
        WitType::Char => Val::Char(one_char(&read!(String), what)?),
        WitType::String => Val::String(read!(String)),
        WitType::List(inner) if **inner == WitType::U8 => {
            Val::List(read!(Vec<u8>).into_iter().map(Val::U8).collect())
        }
        other => {
            return Err(PluginError::UnsupportedType(format!(
                "{what}: WIT type {other} has no SQL mapping yet"
            )));
        }
    })
}

/// The one character of a WIT `char` argument.
fn one_char(s: &str, what: &dyn Display) -> PluginResult<char> {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(PluginError::bad_value(
            ValueFault::Invalid,
            format!(
                "{what} must be exactly one character (WIT char), got {} characters",
                s.chars().count()
            ),
        )),
    }
}

/// A numeric as u64: exactly what its text form parses to, so a fraction (even `1.0`), a
/// negative number, NaN or an infinity is out of range. The text is `numeric_out`'s, parsed in
/// place with no Rust `String`; pgrx's `TryFrom<AnyNumeric> for u64` would round fractions and
/// wrap negative numbers.
///
/// # Safety
/// `datum` must be a non-null numeric.
unsafe fn numeric_to_u64(
    datum: pg_sys::Datum,
    ty: &WitType,
    what: &dyn Display,
) -> PluginResult<u64> {
    // SAFETY: numeric_out takes a non-null numeric (the caller's contract) and returns a
    // palloc'd C string in the current memory context, which outlives this function.
    let text = unsafe { pgrx::direct_function_call::<&CStr>(pg_sys::numeric_out, &[Some(datum)]) }
        .ok_or_else(|| PluginError::Internal(format!("{what}: could not read the SQL value")))?;
    let text = text.to_string_lossy();
    text.parse::<u64>()
        .map_err(|_| out_of_range(what, &text, ty))
}

/// A u64 as a numeric datum, as `AnyNumeric::from(u64)` makes it but with no Rust `String` or
/// copy: `int8_numeric` up to `i64::MAX`, else `numeric_in` on the digits in a stack buffer.
fn u64_to_numeric(v: u64) -> Option<pg_sys::Datum> {
    if let Ok(small) = i64::try_from(v) {
        // SAFETY: int8_numeric takes an int8 and returns a new numeric.
        return unsafe {
            pgrx::direct_function_call_as_datum(pg_sys::int8_numeric, &[small.into_datum()])
        };
    }
    let mut digits = [0u8; 21];
    let mut buf = &mut digits[..20];
    std::io::Write::write_fmt(&mut buf, format_args!("{v}")).ok()?;
    let text = CStr::from_bytes_until_nul(&digits).ok()?;
    // SAFETY: numeric_in takes a NUL-terminated string (the buffer outlives the call), the
    // type's element OID (none) and a typmod (-1: unconstrained), and returns a new numeric.
    unsafe {
        pgrx::direct_function_call_as_datum(
            pg_sys::numeric_in,
            &[
                Some(pg_sys::Datum::from(text.as_ptr())),
                pg_sys::Oid::INVALID.into_datum(),
                (-1i32).into_datum(),
            ],
        )
    }
}

/// The elements of a one-dimensional `bigint[]` in place, without copying them; `None` when
/// the array has NULL elements.
///
/// # Safety
/// `datum` must be a non-null `bigint[]` datum; the slice lives as long as the detoasted array
/// (the current memory context).
pub(crate) unsafe fn int8_array_slice<'a>(
    datum: pg_sys::Datum,
    what: &dyn Display,
) -> PluginResult<Option<&'a [i64]>> {
    // SAFETY: a detoasted int8 array: 8-byte aligned elements, every bit pattern a valid i64,
    // no NULL bitmap once `any_nulls` says so.
    unsafe {
        let array = pg_sys::pg_detoast_datum(datum.cast_mut_ptr()) as *mut pg_sys::ArrayType;
        let mut raw = pgrx::array::RawArray::from_ptr(std::ptr::NonNull::new_unchecked(array));
        if raw.dims().len() > 1 {
            return Err(too_many_dimensions(what, raw.dims().len()));
        }
        if raw.oid() != pg_sys::INT8OID || raw.any_nulls() {
            return Ok(None);
        }
        Ok(Some(raw.data::<i64>().as_ref()))
    }
}

fn too_many_dimensions(what: &dyn Display, ndim: usize) -> PluginError {
    PluginError::bad_value(
        ValueFault::ArrayElement,
        format!("{what}: a WIT list takes a one-dimensional array, not {ndim} dimensions"),
    )
}

/// The elements of a one-dimensional array datum, with their null flags.
///
/// # Safety
/// `datum` must be a non-null array datum.
pub(crate) unsafe fn array_elements(
    datum: pg_sys::Datum,
    what: &dyn Display,
) -> PluginResult<Vec<(pg_sys::Datum, bool)>> {
    // SAFETY: the caller guarantees a non-null array datum.
    let array = unsafe { pg_sys::pg_detoast_datum(datum.cast_mut_ptr()) } as *mut pg_sys::ArrayType;
    // SAFETY: a detoasted array, whose header is in memory.
    let (ndim, elemtype) = unsafe { ((*array).ndim, (*array).elemtype) };
    if ndim > 1 {
        return Err(too_many_dimensions(what, ndim as usize));
    }
    let (mut typlen, mut typbyval, mut typalign) = (0i16, false, 0 as std::ffi::c_char);
    // SAFETY: catalog lookup of the array's element type.
    unsafe { pg_sys::get_typlenbyvalalign(elemtype, &mut typlen, &mut typbyval, &mut typalign) };
    let mut elems: *mut pg_sys::Datum = std::ptr::null_mut();
    let mut nulls: *mut bool = std::ptr::null_mut();
    let mut count = 0;
    // SAFETY: Postgres' own array API, with the element storage from the catalog; it sets
    // `elems` and `nulls` to `count` entries each.
    unsafe {
        pg_sys::deconstruct_array(
            array,
            elemtype,
            typlen as i32,
            typbyval,
            typalign,
            &mut elems,
            &mut nulls,
            &mut count,
        )
    };
    // SAFETY: `elems` and `nulls` have `count` entries (deconstruct_array).
    Ok((0..count as usize)
        .map(|i| unsafe { (*elems.add(i), *nulls.add(i)) })
        .collect())
}

/// A one-dimensional SQL array of `elem_oid` (with its length, by-value flag and alignment)
/// from element datums (`None` = NULL element).
fn make_array(
    elem_oid: pg_sys::Oid,
    (typlen, typbyval, typalign): (i16, bool, std::ffi::c_char),
    items: &[Option<pg_sys::Datum>],
) -> pg_sys::Datum {
    let mut datums: Vec<pg_sys::Datum> = items
        .iter()
        .map(|d| d.unwrap_or(pg_sys::Datum::from(0)))
        .collect();
    let mut nulls: Vec<bool> = items.iter().map(Option::is_none).collect();
    let mut dims = [items.len() as i32];
    let mut lbs = [1i32];
    // SAFETY: the element datums are of `elem_oid`, made by `val_to_datum`; construct_md_array
    // copies them into a new array in the current memory context.
    unsafe {
        let array = pg_sys::construct_md_array(
            datums.as_mut_ptr(),
            nulls.as_mut_ptr(),
            1,
            dims.as_mut_ptr(),
            lbs.as_mut_ptr(),
            elem_oid,
            typlen as i32,
            typbyval,
            typalign,
        );
        pg_sys::Datum::from(array)
    }
}

/// A guest string with a NUL character, which `text` cannot hold: 22021.
fn nul_in_text(what: &dyn Display) -> PluginError {
    PluginError::bad_value(
        ValueFault::NotUnicode,
        format!(
            "{what}: the guest returned a string containing a NUL character, which text cannot hold"
        ),
    )
}

/// A guest string as a `text` datum; a NUL character, which text cannot hold, is 22021.
pub fn string_to_datum(s: &str, what: &dyn Display) -> PluginResult<pg_sys::Datum> {
    if s.contains('\0') {
        return Err(nul_in_text(what));
    }
    s.into_datum()
        .ok_or_else(|| PluginError::Internal(format!("{what}: could not make a text value")))
}

/// A non-null `text` argument as `&str`, borrowed for the call: read in place, with no FFI
/// call, when it is stored inline and uncompressed in a UTF-8 database (the per-row case);
/// through pgrx's detoasting and checks otherwise.
///
/// # Safety
/// `datum` must be a non-null `text` (or `varchar`) datum valid for `'a`.
pub unsafe fn text_arg<'a>(datum: pg_sys::Datum) -> &'a str {
    use pgrx::varlena::{varatt_is_1b, varatt_is_1b_e, varatt_is_4b_u};
    let v = datum.cast_mut_ptr::<pg_sys::varlena>().cast_const();
    // SAFETY: a valid varlena (the caller's contract); its header says how it is stored.
    unsafe {
        if utf8_database() && (varatt_is_4b_u(v) || (varatt_is_1b(v) && !varatt_is_1b_e(v))) {
            // An inline, uncompressed value of a UTF-8 database is valid UTF-8.
            return std::str::from_utf8_unchecked(pgrx::varlena::varlena_to_byte_slice(v));
        }
        <&str>::from_datum(datum, false).unwrap_or_default()
    }
}

/// Whether the database's encoding is UTF-8, the guests' encoding (then text needs no
/// conversion either way). Asked once per backend: it cannot change while a backend runs.
pub fn utf8_database() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
    static UTF8: AtomicU8 = AtomicU8::new(0);
    match UTF8.load(Relaxed) {
        1 => true,
        2 => false,
        _ => {
            // SAFETY: reads the backend's database encoding, set before any SQL runs.
            let utf8 = unsafe { pg_sys::GetDatabaseEncoding() } == pg_sys::pg_enc::PG_UTF8 as i32;
            UTF8.store(if utf8 { 1 } else { 2 }, Relaxed);
            utf8
        }
    }
}

/// A guest string lifted into a `text` ([`PgText`]) as a datum: a NUL character is 22021, as
/// in [`string_to_datum`].
pub fn text_datum(text: PgText, what: &dyn Display) -> PluginResult<pg_sys::Datum> {
    match text {
        PgText::Text(ptr) => Ok(pg_sys::Datum::from(ptr)),
        PgText::Nul => Err(nul_in_text(what)),
        PgText::TooLarge(len) => Err(PluginError::bad_value(
            ValueFault::TooLarge,
            format!(
                "{what}: the guest returned a string of {len} bytes, too large for a text value"
            ),
        )),
    }
}

/// Convert a component result value to a SQL datum as `conv` plans; `None` is SQL NULL.
pub fn val_to_datum(
    val: Val,
    conv: &Conv,
    what: &dyn Display,
) -> PluginResult<Option<pg_sys::Datum>> {
    let mismatch = |v: &Val| {
        PluginError::Internal(format!(
            "{what}: the guest returned {v:?}, which does not fit {conv:?}"
        ))
    };
    Ok(match (conv, val) {
        (Conv::Option(_), Val::Option(None)) => None,
        (Conv::Option(inner), Val::Option(Some(v))) => return val_to_datum(*v, inner, what),
        (Conv::Json(ty), v) => pgrx::JsonB(val_to_json(ty, &v)).into_datum(),
        (
            Conv::List {
                elem,
                elem_oid,
                typlen,
                byval,
                align,
            },
            Val::List(items),
        ) => {
            let datums = items
                .into_iter()
                .map(|v| val_to_datum(v, elem, what))
                .collect::<PluginResult<Vec<_>>>()?;
            Some(make_array(*elem_oid, (*typlen, *byval, *align), &datums))
        }
        (Conv::Flags(_), Val::Flags(set)) => {
            let datums = set.into_iter().map(|f| f.into_datum()).collect::<Vec<_>>();
            Some(make_array(
                pg_sys::TEXTOID,
                (-1, false, b'i' as std::ffi::c_char),
                &datums,
            ))
        }
        (Conv::Enum { cases, oids }, Val::Enum(case)) => {
            match cases.iter().position(|c| *c == case) {
                Some(i) => Some(pg_sys::Datum::from(oids[i])),
                None => return Err(mismatch(&Val::Enum(case))),
            }
        }
        (
            Conv::Composite {
                natts,
                fields,
                desc,
                ..
            },
            v @ (Val::Record(_) | Val::Tuple(_)),
        ) => {
            let (values, nulls) = composite_values(v, *natts, fields, what)?;
            Some(form(desc, values, nulls))
        }
        (Conv::Scalar(ty), v) => scalar_to_datum(v, ty, what)?,
        (_, other) => return Err(mismatch(&other)),
    })
}

/// A composite datum of the type `desc` describes from its attribute values.
fn form(desc: &RowDesc, mut values: Vec<pg_sys::Datum>, mut nulls: Vec<bool>) -> pg_sys::Datum {
    let desc = desc.as_ptr();
    // SAFETY: the descriptor lives as long as the binding (RowDesc).
    let natts = unsafe { (*desc).natts } as usize;
    if natts != values.len() {
        values.resize(natts, pg_sys::Datum::from(0));
        nulls.resize(natts, true);
    }
    // SAFETY: values and nulls have natts entries each, of the attributes' types
    // (`val_to_datum` made them as the binding planned); the tuple is palloc'd.
    let tuple = unsafe { pg_sys::heap_form_tuple(desc, values.as_mut_ptr(), nulls.as_mut_ptr()) };
    // SAFETY: a tuple heap_form_tuple just made.
    unsafe { pg_sys::HeapTupleHeaderGetDatum((*tuple).t_data) }
}

/// The attribute values of a record or tuple for a composite with `natts` attributes;
/// attributes no field fills are NULL.
pub fn composite_values(
    val: Val,
    natts: usize,
    fields: &[FieldConv],
    what: &dyn Display,
) -> PluginResult<(Vec<pg_sys::Datum>, Vec<bool>)> {
    let items: Vec<Val> = match val {
        Val::Record(fs) => fs.into_iter().map(|(_, v)| v).collect(),
        Val::Tuple(vs) => vs,
        other => {
            return Err(PluginError::Internal(format!(
                "{what}: the guest returned {other:?} for a record"
            )));
        }
    };
    let mut values = vec![pg_sys::Datum::from(0); natts];
    let mut nulls = vec![true; natts];
    for (v, f) in items.into_iter().zip(fields) {
        let label = FieldLabel {
            parent: what,
            field: &f.name,
        };
        // Results bind every field to an attribute (see `conv::bind`).
        if let Some((i, conv)) = f.source.as_ref().filter(|(i, _)| *i < natts) {
            let datum = val_to_datum(v, conv, &label)?;
            values[*i] = datum.unwrap_or(pg_sys::Datum::from(0));
            nulls[*i] = datum.is_none();
        }
    }
    Ok((values, nulls))
}

/// A scalar component value as a datum of the SQL type the mapping table gives `ty`.
fn scalar_to_datum(
    val: Val,
    ty: &WitType,
    what: &dyn Display,
) -> PluginResult<Option<pg_sys::Datum>> {
    let mismatch = |v: &Val| {
        PluginError::Internal(format!(
            "{what}: the guest returned {v:?} for WIT type {ty}"
        ))
    };
    Ok(match (ty, val) {
        (_, Val::Bool(b)) => b.into_datum(),
        (_, Val::S8(i)) => (i as i16).into_datum(),
        (_, Val::U8(i)) => (i as i16).into_datum(),
        (_, Val::S16(i)) => i.into_datum(),
        (_, Val::U16(i)) => (i as i32).into_datum(),
        (_, Val::S32(i)) => i.into_datum(),
        (_, Val::U32(i)) => (i as i64).into_datum(),
        (_, Val::S64(i)) => i.into_datum(),
        (_, Val::U64(i)) => u64_to_numeric(i),
        (_, Val::Float32(f)) => f.into_datum(),
        (_, Val::Float64(f)) => f.into_datum(),
        (_, Val::Char(c)) => c.to_string().into_datum(),
        (_, Val::String(s)) => Some(string_to_datum(&s, what)?),
        (WitType::List(inner), Val::List(items)) if **inner == WitType::U8 => {
            let bytes: Vec<u8> = items
                .iter()
                .map(|v| match v {
                    Val::U8(b) => Ok(*b),
                    other => Err(mismatch(other)),
                })
                .collect::<PluginResult<_>>()?;
            bytes.into_datum()
        }
        (_, other) => return Err(mismatch(&other)),
    })
}
