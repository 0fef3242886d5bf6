//! Binding a function's SQL types to its export's WIT types: the checks the validator runs,
//! and the conversion plan ([`Conv`]) the call path follows.
//!
//! Composite types match records and tuples by attribute name (`f0`, `f1`, ... for tuples),
//! so a table's row type fits a record whose fields its columns name, in any order. As a
//! parameter, a composite may have columns no field names (they are not passed) and may lack
//! columns for `option` fields (they are `none`); as a result, every field needs a column and
//! columns no field names are NULL. Enums match when their labels are exactly the WIT cases.

use std::rc::Rc;

use pgrx::prelude::*;
use pgrx::{PgMemoryContexts, pg_sys};

use crate::error::{PluginError, PluginResult};
use crate::mapping::{SqlType, WitType, sql_ident, sql_type_of};

/// Which way values travel through a bound type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// SQL → guest (a parameter).
    In,
    /// Guest → SQL (a result).
    Out,
}

/// One field of a record or tuple and the attribute it travels in.
#[derive(Debug, Clone)]
pub struct FieldConv {
    /// WIT field name (`f0`... for tuples).
    pub name: String,
    /// The attribute it travels in (index in the composite's tuple descriptor) and how it
    /// converts; `None` for an option field the composite has no column for (always `none`,
    /// parameters only).
    pub source: Option<(usize, Conv)>,
}

/// How one value converts between its SQL datum and its component value.
#[derive(Debug, Clone)]
pub enum Conv {
    /// A built-in scalar (including `list<u8>` as bytea); the WIT type picks the conversion.
    Scalar(WitType),
    /// jsonb holding the JSON form of the WIT type.
    Json(WitType),
    /// `option<T>`: NULL is `none`.
    Option(Box<Conv>),
    /// `list<T>` as a one-dimensional array.
    List {
        elem: Box<Conv>,
        elem_oid: pg_sys::Oid,
        typlen: i16,
        byval: bool,
        align: std::ffi::c_char,
    },
    /// flags as `text[]` of the names that are set.
    Flags(Vec<String>),
    /// An enum: `oids[i]` is the pg_enum row of WIT case `cases[i]`.
    Enum {
        cases: Vec<String>,
        oids: Vec<pg_sys::Oid>,
    },
    /// A record (or tuple, when `tuple`) as a composite type (`RECORD` with the typmod of a
    /// blessed descriptor, for a function's OUT parameters).
    Composite {
        typmod: i32,
        natts: usize,
        fields: Vec<FieldConv>,
        tuple: bool,
        /// The type's descriptor as it was bound, for forming and deforming rows.
        desc: Rc<RowDesc>,
    },
}

/// A composite type's tuple descriptor, copied when the function is bound into
/// `TopMemoryContext` so that each row's conversion needs no type-cache lookup. It lives as
/// long as the binding: a change to the type invalidates the binding (the type's relation is
/// registered with `cache::depend_on_relation`) and the next binding copies it anew.
#[derive(Debug)]
pub struct RowDesc(pg_sys::TupleDesc);

impl RowDesc {
    /// The descriptor of composite type `typoid` (`typmod`: a blessed `RECORD`'s).
    fn of(typoid: pg_sys::Oid, typmod: i32) -> Self {
        // SAFETY: the caller checked `typoid` is a composite type; the copy (a plain,
        // non-reference-counted descriptor) is made in TopMemoryContext, which outlives it.
        let desc = unsafe {
            PgMemoryContexts::TopMemoryContext
                .switch_to(|_| pg_sys::lookup_rowtype_tupdesc_copy(typoid, typmod))
        };
        RowDesc(desc)
    }

    /// The descriptor, valid while `self` is.
    pub fn as_ptr(&self) -> pg_sys::TupleDesc {
        self.0
    }
}

impl Drop for RowDesc {
    fn drop(&mut self) {
        // No Postgres call while unwinding: the copy is left to TopMemoryContext then.
        if !std::thread::panicking() {
            // SAFETY: a copy this RowDesc made and owns; nothing else points at it.
            unsafe { pg_sys::FreeTupleDesc(self.0) };
        }
    }
}

pub(crate) fn format_type(oid: pg_sys::Oid) -> String {
    // SAFETY: format_type_be accepts any OID and returns a palloc'd C string.
    unsafe {
        let p = pg_sys::format_type_be(oid);
        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// Attributes of a composite type: (name, type, index), dropped ones left out.
fn attributes(typoid: pg_sys::Oid, typmod: i32) -> (usize, Vec<(String, pg_sys::Oid, usize)>) {
    // SAFETY: the caller checked `typoid` is a composite type; the copy is palloc'd.
    let desc = unsafe { pg_sys::lookup_rowtype_tupdesc_copy(typoid, typmod) };
    // SAFETY: a valid descriptor; its attribute array has natts entries.
    let attrs = unsafe { (*desc).attrs.as_slice((*desc).natts as usize) };
    let out = attrs
        .iter()
        .enumerate()
        .filter(|(_, a)| !a.attisdropped)
        .map(|(i, a)| {
            // SAFETY: attname is a NUL-terminated NameData.
            let name = unsafe { std::ffi::CStr::from_ptr(a.attname.data.as_ptr()) };
            (name.to_string_lossy().into_owned(), a.atttypid, i)
        })
        .collect();
    let natts = attrs.len();
    // SAFETY: the copy made above, no longer used.
    unsafe { pg_sys::FreeTupleDesc(desc) };
    (natts, out)
}

/// The labels of an enum type with their pg_enum OIDs.
fn enum_labels(typoid: pg_sys::Oid) -> PluginResult<Vec<(String, pg_sys::Oid)>> {
    Spi::connect(|client| {
        let rows = client.select(
            "SELECT enumlabel::pg_catalog.text, oid FROM pg_catalog.pg_enum \
             WHERE enumtypid OPERATOR(pg_catalog.=) $1 ORDER BY enumsortorder",
            None,
            &[typoid.into()],
        )?;
        let mut out = Vec::new();
        for row in rows {
            out.push((
                row.get::<String>(1)?.unwrap_or_default(),
                row.get::<pg_sys::Oid>(2)?.unwrap_or(pg_sys::Oid::INVALID),
            ));
        }
        Ok(out)
    })
    .map_err(|e: pgrx::spi::Error| PluginError::Internal(format!("catalog access failed: {e}")))
}

/// Bind SQL type `oid` to WIT type `ty`; `Err(reason)` says why they do not fit.
pub fn bind(oid: pg_sys::Oid, ty: &WitType, dir: Dir) -> PluginResult<Result<Conv, String>> {
    bind_typmod(oid, -1, ty, dir)
}

/// The row type of a function's OUT parameters (`RETURNS TABLE (…)`, `OUT` arguments), as the
/// typmod of a blessed `RECORD` descriptor; `None` when it has fewer than two.
pub fn out_parameters_type(proc: &pgrx::pg_catalog::pg_proc::PgProc) -> Option<i32> {
    use pgrx::pg_catalog::pg_proc::ProArgMode;
    let modes = proc.proargmodes();
    let types = proc.proallargtypes();
    let names = proc.proargnames();
    let outs: Vec<(String, pg_sys::Oid)> = modes
        .iter()
        .enumerate()
        .filter(|(_, m)| matches!(m, ProArgMode::Out | ProArgMode::InOut | ProArgMode::Table))
        .map(|(i, _)| {
            let name = names
                .get(i)
                .cloned()
                .flatten()
                .unwrap_or_else(|| format!("column{}", i + 1));
            (name, types.get(i).copied().unwrap_or(pg_sys::Oid::INVALID))
        })
        .collect();
    if outs.len() < 2 {
        return None;
    }
    // SAFETY: a new descriptor with one entry per OUT parameter; blessing copies it into the
    // backend's record type cache, which gives it a typmod for the rest of the session.
    unsafe {
        let desc = pg_sys::CreateTemplateTupleDesc(outs.len() as i32);
        for (i, (name, oid)) in outs.iter().enumerate() {
            let cname = std::ffi::CString::new(name.as_str()).ok()?;
            pg_sys::TupleDescInitEntry(desc, (i + 1) as i16, cname.as_ptr(), *oid, -1, 0);
        }
        let blessed = pg_sys::BlessTupleDesc(desc);
        Some((*blessed).tdtypmod)
    }
}

/// [`bind`] for a type with a typmod: a `RECORD` descriptor blessed by
/// [`out_parameters_type`].
pub fn bind_typmod(
    oid: pg_sys::Oid,
    typmod: i32,
    ty: &WitType,
    dir: Dir,
) -> PluginResult<Result<Conv, String>> {
    let anonymous = oid == pg_sys::RECORDOID && typmod < 0;
    match ty {
        WitType::Option(inner) => {
            Ok(bind_typmod(oid, typmod, inner, dir)?.map(|c| Conv::Option(Box::new(c))))
        }
        WitType::Record(fields) => {
            if anonymous || !is_rowtype(oid) {
                return does_not_fit(oid, ty, "a composite type");
            }
            let named: Vec<(String, &WitType)> =
                fields.iter().map(|(n, t)| (n.clone(), t)).collect();
            bind_composite(oid, typmod, &named, false, dir)
        }
        WitType::Tuple(items) => {
            if anonymous || !is_rowtype(oid) {
                return does_not_fit(oid, ty, "a composite type with attributes f0, f1, ...");
            }
            let named: Vec<(String, &WitType)> = items
                .iter()
                .enumerate()
                .map(|(i, t)| (format!("f{i}"), t))
                .collect();
            bind_composite(oid, typmod, &named, true, dir)
        }
        WitType::Enum(cases) => bind_enum(oid, ty, cases),
        WitType::Flags(names) => {
            if oid != pg_sys::TEXTARRAYOID {
                return does_not_fit(oid, ty, "text[]");
            }
            Ok(Ok(Conv::Flags(names.clone())))
        }
        WitType::List(inner) if **inner != WitType::U8 => bind_list(oid, ty, inner, dir),
        _ => bind_mapped(oid, ty),
    }
}

/// `Ok(Err(…))`: SQL type `oid` does not fit WIT type `ty`, which needs `what`.
fn does_not_fit(oid: pg_sys::Oid, ty: &WitType, what: &str) -> PluginResult<Result<Conv, String>> {
    Ok(Err(format!(
        "{} does not fit WIT type {ty}, which needs {what}",
        format_type(oid)
    )))
}

fn is_rowtype(oid: pg_sys::Oid) -> bool {
    // SAFETY: catalog lookups by OID.
    unsafe { pg_sys::type_is_rowtype(oid) }
}

/// An enum type whose labels are exactly the WIT cases.
fn bind_enum(
    oid: pg_sys::Oid,
    ty: &WitType,
    cases: &[String],
) -> PluginResult<Result<Conv, String>> {
    // SAFETY: catalog lookup by OID.
    if unsafe { pg_sys::get_typtype(oid) } != pg_sys::TYPTYPE_ENUM as std::ffi::c_char {
        return does_not_fit(oid, ty, "an enum type");
    }
    let labels = enum_labels(oid)?;
    let mut oids = Vec::with_capacity(cases.len());
    for case in cases {
        match labels.iter().find(|(l, _)| l == case) {
            Some((_, o)) => oids.push(*o),
            None => {
                return Ok(Err(format!(
                    "enum {} has no label '{case}'",
                    format_type(oid)
                )));
            }
        }
    }
    if let Some((extra, _)) = labels.iter().find(|(l, _)| !cases.contains(l)) {
        return Ok(Err(format!(
            "enum {} has label '{extra}', which is not a case of WIT type {ty}",
            format_type(oid)
        )));
    }
    Ok(Ok(Conv::Enum {
        cases: cases.to_vec(),
        oids,
    }))
}

/// `list<T>` (not `list<u8>`): an array whose elements bind to `T`, or jsonb.
fn bind_list(
    oid: pg_sys::Oid,
    ty: &WitType,
    inner: &WitType,
    dir: Dir,
) -> PluginResult<Result<Conv, String>> {
    // SAFETY: catalog lookup by OID.
    let elem_oid = unsafe { pg_sys::get_element_type(oid) };
    if elem_oid != pg_sys::Oid::INVALID {
        let elem = match bind(elem_oid, inner, dir)? {
            Ok(c) => c,
            Err(why) => return Ok(Err(format!("its elements: {why}"))),
        };
        let (mut typlen, mut byval, mut align) = (0i16, false, 0 as std::ffi::c_char);
        // SAFETY: catalog lookup of an existing type.
        unsafe { pg_sys::get_typlenbyvalalign(elem_oid, &mut typlen, &mut byval, &mut align) };
        return Ok(Ok(Conv::List {
            elem: Box::new(elem),
            elem_oid,
            typlen,
            byval,
            align,
        }));
    }
    if oid == pg_sys::JSONBOID {
        return Ok(Ok(Conv::Json(ty.clone())));
    }
    does_not_fit(oid, ty, "an array (or jsonb)")
}

/// Scalars, variants, results: the one type the mapping table names.
fn bind_mapped(oid: pg_sys::Oid, ty: &WitType) -> PluginResult<Result<Conv, String>> {
    match sql_type_of(ty) {
        Ok(m) if !m.array => match m.sql {
            crate::mapping::SqlBase::Scalar(SqlType::Jsonb) if oid == pg_sys::JSONBOID => {
                Ok(Ok(Conv::Json(ty.clone())))
            }
            crate::mapping::SqlBase::Scalar(s) if s.oid() == oid => {
                Ok(Ok(Conv::Scalar(ty.clone())))
            }
            crate::mapping::SqlBase::Scalar(s) => does_not_fit(oid, ty, s.sql_name()),
            crate::mapping::SqlBase::Generated(_) => does_not_fit(oid, ty, "a generated type"),
        },
        Ok(_) => does_not_fit(oid, ty, "an array"),
        Err(t) => Err(PluginError::UnsupportedType(format!(
            "WIT type {t} has no SQL mapping"
        ))),
    }
}

fn bind_composite(
    oid: pg_sys::Oid,
    typmod: i32,
    fields: &[(String, &WitType)],
    tuple: bool,
    dir: Dir,
) -> PluginResult<Result<Conv, String>> {
    let (natts, attrs) = attributes(oid, typmod);
    // SAFETY: catalog lookup by OID.
    crate::cache::depend_on_relation(unsafe { pg_sys::get_typ_typrelid(oid) });
    let mut out = Vec::with_capacity(fields.len());
    for (name, ty) in fields {
        let sql_name = sql_ident(name);
        let attr = attrs.iter().find(|(a, ..)| *a == sql_name || a == name);
        match attr {
            Some((attname, atttype, index)) => match bind(*atttype, ty, dir)? {
                Ok(conv) => out.push(FieldConv {
                    name: name.clone(),
                    source: Some((*index, conv)),
                }),
                Err(why) => {
                    return Ok(Err(format!(
                        "attribute {attname} of {}: {why}",
                        format_type(oid)
                    )));
                }
            },
            None if dir == Dir::In && matches!(ty, WitType::Option(_)) => out.push(FieldConv {
                name: name.clone(),
                source: None,
            }),
            None => {
                return Ok(Err(format!(
                    "{} has no attribute {sql_name} for field {name}",
                    format_type(oid)
                )));
            }
        }
    }
    Ok(Ok(Conv::Composite {
        typmod,
        natts,
        fields: out,
        tuple,
        // Copied last, once nothing can fail: an error never leaves it behind.
        desc: Rc::new(RowDesc::of(oid, typmod)),
    }))
}
