//! SQL datums ↔ component values for typed plugin functions, following the mapping of
//! [`crate::types::sql_type_of`]. Range checks raise 22003, never wrap or truncate.

use pgrx::prelude::*;
use pgrx::{AnyNumeric, PgSqlErrorCode, pg_sys};
use std::fmt::Display;

use wasmtime::component::Val;

use crate::error::{PluginError, PluginResult};
use crate::types::WitType;

fn out_of_range(what: &dyn Display, value: &dyn Display, ty: &WitType) -> PluginError {
    PluginError::bad_value(
        PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
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

/// Convert a SQL argument to a component value of WIT type `ty`. `what` names the parameter
/// in messages.
///
/// # Safety
/// `datum` must be of the SQL type that `sql_type_of(ty)` chose, as the validator checked.
pub unsafe fn datum_to_val(
    datum: pg_sys::Datum,
    isnull: bool,
    ty: &WitType,
    what: &dyn Display,
) -> PluginResult<Val> {
    if let WitType::Option(inner) = ty {
        if isnull {
            return Ok(Val::Option(None));
        }
        // SAFETY: same datum, same type contract, for the inner type.
        return Ok(Val::Option(Some(Box::new(unsafe {
            datum_to_val(datum, false, inner, what)
        }?))));
    }
    if isnull {
        return Err(PluginError::bad_value(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            format!("{what} cannot be NULL: its WIT type {ty} is not an option"),
        ));
    }
    // SAFETY: the match arms read the datum as the SQL type sql_type_of maps `ty` to.
    unsafe {
        Ok(match ty {
            WitType::Bool => Val::Bool(get::<bool>(datum, what)?),
            WitType::S8 => {
                let v = get::<i16>(datum, what)?;
                Val::S8(i8::try_from(v).map_err(|_| out_of_range(what, &v, ty))?)
            }
            WitType::U8 => {
                let v = get::<i16>(datum, what)?;
                Val::U8(u8::try_from(v).map_err(|_| out_of_range(what, &v, ty))?)
            }
            WitType::S16 => Val::S16(get::<i16>(datum, what)?),
            WitType::U16 => {
                let v = get::<i32>(datum, what)?;
                Val::U16(u16::try_from(v).map_err(|_| out_of_range(what, &v, ty))?)
            }
            WitType::S32 => Val::S32(get::<i32>(datum, what)?),
            WitType::U32 => {
                let v = get::<i64>(datum, what)?;
                Val::U32(u32::try_from(v).map_err(|_| out_of_range(what, &v, ty))?)
            }
            WitType::S64 => Val::S64(get::<i64>(datum, what)?),
            WitType::U64 => {
                let v = get::<AnyNumeric>(datum, what)?;
                let text = v.to_string();
                Val::U64(
                    text.parse::<u64>()
                        .map_err(|_| out_of_range(what, &text, ty))?,
                )
            }
            WitType::F32 => Val::Float32(get::<f32>(datum, what)?),
            WitType::F64 => Val::Float64(get::<f64>(datum, what)?),
            WitType::Char => {
                let s = get::<String>(datum, what)?;
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Val::Char(c),
                    _ => {
                        return Err(PluginError::bad_value(
                            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                            format!(
                                "{what} must be exactly one character (WIT char), got {} characters",
                                s.chars().count()
                            ),
                        ));
                    }
                }
            }
            WitType::String => Val::String(get::<String>(datum, what)?),
            WitType::List(inner) if **inner == WitType::U8 => Val::List(
                get::<Vec<u8>>(datum, what)?
                    .into_iter()
                    .map(Val::U8)
                    .collect(),
            ),
            WitType::List(inner) => {
                let mut items = Vec::new();
                for (elem, null) in array_elements(datum, what)? {
                    items.push(datum_to_val(elem, null, inner, what)?);
                }
                Val::List(items)
            }
            other => {
                return Err(PluginError::UnsupportedType(format!(
                    "{what}: WIT type {other} has no SQL mapping yet"
                )));
            }
        })
    }
}

/// The elements of a one-dimensional array datum, with their null flags.
///
/// # Safety
/// `datum` must be a non-null array datum.
pub(crate) unsafe fn array_elements(
    datum: pg_sys::Datum,
    what: &dyn Display,
) -> PluginResult<Vec<(pg_sys::Datum, bool)>> {
    // SAFETY: the caller guarantees an array datum; detoasting and deconstruction follow
    // Postgres' own array API, with element storage from the catalog.
    unsafe {
        let array = pg_sys::pg_detoast_datum(datum.cast_mut_ptr()) as *mut pg_sys::ArrayType;
        if (*array).ndim > 1 {
            return Err(PluginError::bad_value(
                PgSqlErrorCode::ERRCODE_ARRAY_ELEMENT_ERROR,
                format!(
                    "{what}: a WIT list takes a one-dimensional array, not {} dimensions",
                    (*array).ndim
                ),
            ));
        }
        let elemtype = (*array).elemtype;
        let (mut typlen, mut typbyval, mut typalign) = (0i16, false, 0 as std::ffi::c_char);
        pg_sys::get_typlenbyvalalign(elemtype, &mut typlen, &mut typbyval, &mut typalign);
        let mut elems: *mut pg_sys::Datum = std::ptr::null_mut();
        let mut nulls: *mut bool = std::ptr::null_mut();
        let mut count = 0;
        pg_sys::deconstruct_array(
            array,
            elemtype,
            typlen as i32,
            typbyval,
            typalign,
            &mut elems,
            &mut nulls,
            &mut count,
        );
        Ok((0..count as usize)
            .map(|i| (*elems.add(i), *nulls.add(i)))
            .collect())
    }
}

/// A one-dimensional SQL array of `elem_oid` from element datums (`None` = NULL element).
fn make_array(elem_oid: pg_sys::Oid, items: &[Option<pg_sys::Datum>]) -> pg_sys::Datum {
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
        let (mut typlen, mut typbyval, mut typalign) = (0i16, false, 0 as std::ffi::c_char);
        pg_sys::get_typlenbyvalalign(elem_oid, &mut typlen, &mut typbyval, &mut typalign);
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

/// A guest string as a `text` datum; a NUL character, which text cannot hold, is 22021.
pub fn string_to_datum(s: String, what: &dyn Display) -> PluginResult<pg_sys::Datum> {
    if s.contains('\0') {
        return Err(PluginError::bad_value(
            PgSqlErrorCode::ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
            format!(
                "{what}: the guest returned a string containing a NUL character, which text cannot hold"
            ),
        ));
    }
    s.into_datum()
        .ok_or_else(|| PluginError::Internal(format!("{what}: could not make a text value")))
}

/// Convert a component result value of WIT type `ty` to a SQL datum; `None` is SQL NULL.
pub fn val_to_datum(
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
        (WitType::Option(_), Val::Option(None)) => None,
        (WitType::Option(inner), Val::Option(Some(v))) => return val_to_datum(*v, inner, what),
        (_, Val::Bool(b)) => b.into_datum(),
        (_, Val::S8(i)) => (i as i16).into_datum(),
        (_, Val::U8(i)) => (i as i16).into_datum(),
        (_, Val::S16(i)) => i.into_datum(),
        (_, Val::U16(i)) => (i as i32).into_datum(),
        (_, Val::S32(i)) => i.into_datum(),
        (_, Val::U32(i)) => (i as i64).into_datum(),
        (_, Val::S64(i)) => i.into_datum(),
        (_, Val::U64(i)) => AnyNumeric::from(i).into_datum(),
        (_, Val::Float32(f)) => f.into_datum(),
        (_, Val::Float64(f)) => f.into_datum(),
        (_, Val::Char(c)) => c.to_string().into_datum(),
        (_, Val::String(s)) => Some(string_to_datum(s, what)?),
        (WitType::List(inner), Val::List(items)) if **inner != WitType::U8 => {
            let elem_oid = crate::types::sql_type_of(inner)
                .map_err(|t| {
                    PluginError::UnsupportedType(format!(
                        "{what}: WIT type {t} has no SQL mapping yet"
                    ))
                })?
                .sql
                .oid();
            let datums = items
                .into_iter()
                .map(|v| val_to_datum(v, inner, what))
                .collect::<PluginResult<Vec<_>>>()?;
            Some(make_array(elem_oid, &datums))
        }
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
