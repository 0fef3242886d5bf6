//! Row-level trigger functions: `CREATE FUNCTION f() RETURNS trigger LANGUAGE wasm AS
//! 'plugin/export'`. The export's parameters are bound by name (`mapping::TriggerShape`); its
//! record types are bound to each table the trigger fires on at the first row for that table
//! (`TRIGGERS`), and again after the table changes (`cache::depend_on_relation`).
//!
//! As Postgres has it, the privilege to run a trigger function is checked by `CREATE
//! TRIGGER`; firing needs none, so no USAGE check is made here.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use pgrx::pg_catalog::pg_proc::PgProc;
use pgrx::pg_sys;
use wasmtime::component::Val;

use crate::cache::{depend_on_relation, generation};
use crate::catalog::acl::require_plugin_usage_cached;
use crate::catalog::{ResolvedPlugin, resolve_plugin};
use crate::convert::datum::{row_to_val, val_into_row};
use crate::convert::plan::{Conv, Dir, bind};
use crate::error::{PluginError, PluginResult};
use crate::mapping::{RowParam, TriggerOutcome, TriggerParam, TriggerShape};
use crate::runtime::call::call_export;

use super::bind::parse_body;
use super::{ExportLabel, ValueLabel, find_export, unwrap_result};

/// Whether the function manager calls this as a trigger (`CALLED_AS_TRIGGER`).
///
/// # Safety
/// `fcinfo` must be a valid call info.
pub unsafe fn called_as_trigger(fcinfo: pg_sys::FunctionCallInfo) -> bool {
    // SAFETY: a valid fcinfo (the caller's contract); context is null or a Node.
    unsafe {
        let context = (*fcinfo).context;
        !context.is_null() && (*context).type_ == pg_sys::NodeTag::T_TriggerData
    }
}

/// A parameter bound to a table.
enum Bound {
    New(Conv, bool),
    Old(Conv, bool),
    Op(Vec<String>),
    Table,
    Args,
}

/// A trigger function bound to one table, valid while the catalog generation is unchanged.
struct TableBinding {
    plugin: Rc<ResolvedPlugin>,
    export: usize,
    params: Vec<Bound>,
    /// The row the result makes, and whether it is an option (none skips the row).
    result: Option<(Conv, bool)>,
    /// The schema-qualified table name, as `table` passes it.
    table: String,
    generation: u64,
}

thread_local! {
    static TRIGGERS: RefCell<HashMap<(pg_sys::Oid, pg_sys::Oid), Rc<TableBinding>>> =
        RefCell::new(HashMap::new());
}

/// A trigger function's plugin, export and shape, from its body.
fn resolve_trigger(proc: &PgProc) -> PluginResult<(Rc<ResolvedPlugin>, usize, TriggerShape)> {
    let body = proc.prosrc();
    let (plugin_name, export_name) = parse_body(&body)?;
    let plugin = resolve_plugin(plugin_name)?;
    let export = find_export(&plugin, export_name)?;
    let sig = &plugin.compiled.exports[export].sig;
    let shape = TriggerShape::of(&sig.params, sig.result.as_ref()).map_err(|why| {
        PluginError::SignatureMismatch(
            format!(
                "plugin \"{plugin_name}\" export \"{}\" is not a trigger export: {why}",
                plugin.compiled.exports[export].name
            ),
            Some(format!("the export is {}", sig.wit())),
        )
    })?;
    Ok((plugin, export, shape))
}

/// The validator's check of a `RETURNS trigger` function: no declared arguments, an export of
/// trigger shape, and the creator's privilege to use the plugin.
pub fn validate(proc: &PgProc) -> PluginResult<()> {
    if !proc.proargtypes().is_empty() {
        return Err(PluginError::SignatureMismatch(
            "trigger functions cannot have declared arguments".into(),
            Some("the trigger's arguments reach the export as its parameter args".into()),
        ));
    }
    let (plugin, ..) = resolve_trigger(proc)?;
    require_plugin_usage_cached(&plugin)
}

/// The schema-qualified name of relation `rel`, quoted where needed.
///
/// # Safety
/// `rel` must be a valid, open relation.
unsafe fn table_name(rel: pg_sys::Relation) -> String {
    // SAFETY: a valid relation (the caller's contract); the names are palloc'd C strings.
    unsafe {
        let nsp = pg_sys::get_namespace_name((*(*rel).rd_rel).relnamespace);
        let name = pg_sys::quote_qualified_identifier(nsp, (*(*rel).rd_rel).relname.data.as_ptr());
        std::ffi::CStr::from_ptr(name)
            .to_string_lossy()
            .into_owned()
    }
}

/// Bind a row parameter (or the result) to the table's row type: every field must name a
/// column whose type fits it.
fn bind_row(
    reltype: pg_sys::Oid,
    row: &RowParam,
    dir: Dir,
    what: &str,
    fails: &dyn Fn(String) -> PluginError,
) -> PluginResult<Conv> {
    let conv = bind(reltype, &row.record, dir)?.map_err(|why| fails(format!("{what}: {why}")))?;
    if let Conv::Composite { fields, .. } = &conv
        && let Some(f) = fields.iter().find(|f| f.source.is_none())
    {
        return Err(fails(format!(
            "{what}: the table has no column for field {}",
            f.name
        )));
    }
    Ok(conv)
}

/// Bind the trigger function `fn_oid` to relation `rel`.
///
/// # Safety
/// `rel` must be the valid, open relation the trigger fires on.
unsafe fn bind_table(fn_oid: pg_sys::Oid, rel: pg_sys::Relation) -> PluginResult<TableBinding> {
    let proc = PgProc::new(fn_oid).ok_or_else(|| {
        PluginError::Internal(format!("function {} does not exist", fn_oid.to_u32()))
    })?;
    let (plugin, export, shape) = resolve_trigger(&proc)?;
    // SAFETY: a valid relation (the caller's contract).
    let (table, reltype, relid) =
        unsafe { (table_name(rel), (*(*rel).rd_rel).reltype, (*rel).rd_id) };
    depend_on_relation(relid);
    let sig = &plugin.compiled.exports[export].sig;
    let fails = |why: String| {
        PluginError::SignatureMismatch(
            format!(
                "plugin \"{}\" export \"{}\" does not fit table {table}: {why}",
                plugin.name, plugin.compiled.exports[export].name
            ),
            Some(format!("the export is {}", sig.wit())),
        )
    };
    let mut params = Vec::with_capacity(shape.params.len());
    for p in &shape.params {
        params.push(match p {
            TriggerParam::New(row) => Bound::New(
                bind_row(reltype, row, Dir::In, "parameter new", &fails)?,
                row.optional,
            ),
            TriggerParam::Old(row) => Bound::Old(
                bind_row(reltype, row, Dir::In, "parameter old", &fails)?,
                row.optional,
            ),
            TriggerParam::Op(cases) => Bound::Op(cases.clone()),
            TriggerParam::Table => Bound::Table,
            TriggerParam::Args => Bound::Args,
        });
    }
    let result = match &shape.outcome {
        TriggerOutcome::Unchanged => None,
        TriggerOutcome::Row(row) => Some((
            bind_row(reltype, row, Dir::Out, "the result", &fails)?,
            row.optional,
        )),
    };
    Ok(TableBinding {
        plugin,
        export,
        params,
        result,
        table,
        generation: generation(),
    })
}

/// The binding of trigger function `fn_oid` to `rel`: cached, else made now.
///
/// # Safety
/// `rel` must be the valid, open relation the trigger fires on.
unsafe fn table_binding(
    fn_oid: pg_sys::Oid,
    rel: pg_sys::Relation,
) -> PluginResult<Rc<TableBinding>> {
    // SAFETY: a valid relation (the caller's contract).
    let key = (fn_oid, unsafe { (*rel).rd_id });
    let current = generation();
    if let Some(hit) = TRIGGERS.with(|t| t.borrow().get(&key).cloned())
        && hit.generation == current
    {
        return Ok(hit);
    }
    // SAFETY: as above.
    let bound = Rc::new(unsafe { bind_table(fn_oid, rel) }?);
    TRIGGERS.with(|t| t.borrow_mut().insert(key, bound.clone()));
    Ok(bound)
}

/// What fired the trigger.
struct Firing {
    op: &'static str,
    before: bool,
    /// The new row (INSERT, UPDATE) and the old one (UPDATE, DELETE), or null.
    new: pg_sys::HeapTuple,
    old: pg_sys::HeapTuple,
}

/// The event of a trigger call; statement-level and `INSTEAD OF` triggers are refused.
///
/// # Safety
/// `td` must be the valid trigger data of the call in progress.
unsafe fn firing(td: *const pg_sys::TriggerData) -> PluginResult<Firing> {
    // SAFETY: valid trigger data (the caller's contract); tgname is a C string.
    let (event, trigtuple, newtuple, name) = unsafe {
        (
            (*td).tg_event,
            (*td).tg_trigtuple,
            (*td).tg_newtuple,
            std::ffi::CStr::from_ptr((*(*td).tg_trigger).tgname).to_string_lossy(),
        )
    };
    let refuse = |what: &str| {
        Err(PluginError::NotSupported(
            format!("trigger \"{name}\": LANGUAGE wasm trigger functions do not support {what}"),
            Some("use a row-level BEFORE or AFTER trigger (FOR EACH ROW)".into()),
        ))
    };
    if event & pg_sys::TRIGGER_EVENT_ROW == 0 {
        return refuse("statement-level triggers");
    }
    let timing = event & pg_sys::TRIGGER_EVENT_TIMINGMASK;
    if timing == pg_sys::TRIGGER_EVENT_INSTEAD {
        return refuse("INSTEAD OF triggers");
    }
    let null = std::ptr::null_mut();
    let (op, new, old) = match event & pg_sys::TRIGGER_EVENT_OPMASK {
        pg_sys::TRIGGER_EVENT_INSERT => ("insert", trigtuple, null),
        pg_sys::TRIGGER_EVENT_UPDATE => ("update", newtuple, trigtuple),
        pg_sys::TRIGGER_EVENT_DELETE => ("delete", null, trigtuple),
        _ => return refuse("TRUNCATE triggers"),
    };
    Ok(Firing {
        op,
        before: timing == pg_sys::TRIGGER_EVENT_BEFORE,
        new,
        old,
    })
}

/// A row parameter's value: the row as a record, none when the operation has no such row
/// and the parameter is an option.
///
/// # Safety
/// `tuple` must be null or a valid tuple of the relation `desc` describes, bound by `conv`.
unsafe fn row_arg(
    tuple: pg_sys::HeapTuple,
    desc: pg_sys::TupleDesc,
    (conv, optional): (&Conv, bool),
    name: &str,
    firing: &Firing,
    label: &ExportLabel<'_>,
    table: &str,
) -> PluginResult<Val> {
    if tuple.is_null() {
        return if optional {
            Ok(Val::Option(None))
        } else {
            Err(PluginError::SignatureMismatch(
                format!(
                    "{label} takes parameter {name}, which is not an option, but a {} trigger on \
                     table {table} has no {name} row",
                    firing.op.to_uppercase()
                ),
                Some(format!(
                    "declare it as option<…> to serve {} triggers",
                    firing.op.to_uppercase()
                )),
            ))
        };
    }
    let what = ValueLabel {
        param: Some(name),
        export: label,
    };
    // SAFETY: a valid tuple of the relation (the caller's contract), bound by `conv`.
    let row = unsafe { row_to_val(tuple, desc, conv, &what) }?;
    Ok(if optional {
        Val::Option(Some(Box::new(row)))
    } else {
        row
    })
}

/// The trigger's arguments (`TG_ARGV`).
///
/// # Safety
/// `td` must be the valid trigger data of the call in progress.
unsafe fn trigger_args(td: *const pg_sys::TriggerData) -> Val {
    // SAFETY: tgargs has tgnargs C strings (valid trigger data, the caller's contract).
    let args = unsafe {
        let trigger = (*td).tg_trigger;
        let n = (*trigger).tgnargs as usize;
        if n == 0 {
            &[]
        } else {
            std::slice::from_raw_parts((*trigger).tgargs, n)
        }
    };
    Val::List(
        args.iter()
            .map(|a| {
                // SAFETY: each is a NUL-terminated C string.
                let arg = unsafe { std::ffi::CStr::from_ptr(*a) };
                Val::String(arg.to_string_lossy().into())
            })
            .collect(),
    )
}

/// Run the trigger function `fcinfo` describes: the tuple to write (BEFORE), or nothing.
///
/// # Safety
/// `fcinfo` must be the valid call info of a trigger call ([`called_as_trigger`]).
pub unsafe fn call_trigger(fcinfo: pg_sys::FunctionCallInfo) -> PluginResult<pg_sys::Datum> {
    // SAFETY: the context of a trigger call is its TriggerData (the caller's contract).
    let td = unsafe { (*fcinfo).context } as *const pg_sys::TriggerData;
    // SAFETY: as above.
    let firing = unsafe { firing(td) }?;
    // SAFETY: the trigger's relation is open for the call; flinfo is the function's.
    let (rel, fn_oid) = unsafe { ((*td).tg_relation, (*(*fcinfo).flinfo).fn_oid) };
    // SAFETY: as above.
    let b = unsafe { table_binding(fn_oid, rel) }?;
    // SAFETY: as above.
    let desc = unsafe { (*rel).rd_att };
    b.plugin.counters.enter(b.export);
    let export = &b.plugin.compiled.exports[b.export];
    let label = ExportLabel {
        plugin: &b.plugin.name,
        export: &export.name,
    };
    let mut args = Vec::with_capacity(b.params.len());
    for p in &b.params {
        args.push(match p {
            // SAFETY: the trigger's tuples are of `rel`, whose row type the binding bound.
            Bound::New(conv, opt) => unsafe {
                row_arg(
                    firing.new,
                    desc,
                    (conv, *opt),
                    "new",
                    &firing,
                    &label,
                    &b.table,
                )
            }?,
            // SAFETY: as above.
            Bound::Old(conv, opt) => unsafe {
                row_arg(
                    firing.old,
                    desc,
                    (conv, *opt),
                    "old",
                    &firing,
                    &label,
                    &b.table,
                )
            }?,
            Bound::Op(cases) if cases.iter().any(|c| c == firing.op) => {
                Val::Enum(firing.op.to_string())
            }
            Bound::Op(cases) => {
                return Err(PluginError::SignatureMismatch(
                    format!(
                        "{label} cannot serve a {} trigger on table {}: its op enum has no case {}",
                        firing.op.to_uppercase(),
                        b.table,
                        firing.op
                    ),
                    Some(format!("its cases are: {}", cases.join(", "))),
                ));
            }
            Bound::Table => Val::String(b.table.clone()),
            // SAFETY: valid trigger data.
            Bound::Args => unsafe { trigger_args(td) },
        });
    }
    let result = call_export(b.plugin.caller(), &b.plugin.compiled, b.export, &args)?;
    let (value, _) = unwrap_result(result, export.sig.result.as_ref(), &label)?;
    // SAFETY: fcinfo is valid for the call; a trigger returns a (possibly null) pointer,
    // never SQL NULL.
    unsafe { (*fcinfo).isnull = false };
    if !firing.before {
        // An AFTER trigger's result is ignored.
        return Ok(pg_sys::Datum::from(0));
    }
    let base = if firing.op == "delete" {
        firing.old
    } else {
        firing.new
    };
    let row = match (&b.result, value) {
        (None, _) => return Ok(pg_sys::Datum::from(base)),
        (Some((_, true)), Some(Val::Option(None))) => return Ok(pg_sys::Datum::from(0)),
        (Some(_), _) if firing.op == "delete" => return Ok(pg_sys::Datum::from(base)),
        (Some((conv, true)), Some(Val::Option(Some(v)))) => (conv, *v),
        (Some((conv, false)), Some(v)) => (conv, v),
        (_, other) => {
            return Err(PluginError::Internal(format!(
                "result of {label}: the guest returned {other:?}, which is not a row"
            )));
        }
    };
    let what = ValueLabel {
        param: None,
        export: &label,
    };
    // SAFETY: `base` is a valid tuple of `rel`; the result was bound to its row type.
    let tuple = unsafe { val_into_row(row.1, row.0, base, desc, &what) }?;
    Ok(pg_sys::Datum::from(tuple))
}
