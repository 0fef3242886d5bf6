//! Aggregates from exported resources: the support functions install generates
//! (`<resource>$add`, `$finish`, `$merge`, `$serialize`, `$deserialize`, `$remove`, all
//! `LANGUAGE wasm` with bodies `plugin/resource.method`) run here, inside their aggregate.
//!
//! The state (`internal`) is a [`State`] allocated in the aggregate's memory context: a handle
//! of the resource in one instance. A reset callback on that context drops the resource (the
//! guest's destructor runs) when Postgres frees the state: after each group, a window frame
//! restart, or at the end of the query. It never calls into an instance that trapped (that
//! instance is gone, with every state in it) and does nothing once the transaction is
//! aborting; instances end with their transaction at the latest.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use pgrx::pg_catalog::pg_proc::PgProc;
use pgrx::pg_sys;
use pgrx::prelude::*;
use wasmtime::component::Val;

use crate::cache::generation;
use crate::catalog::{ResolvedPlugin, resolve_plugin};
use crate::convert::datum::{datum_to_val, val_to_datum};
use crate::convert::plan::{Conv, Dir, bind, format_type};
use crate::error::{PluginError, PluginResult};
use crate::mapping::WitType;
use crate::runtime::aggregate::Aggregate;
use crate::runtime::call::{StateHandle, call_method_typed, call_resource, drop_state};

use super::bind::parse_body;
use super::{ExportLabel, ValueLabel};

/// What a support function does in its aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Add,
    Remove,
    Finish,
    Merge,
    Serialize,
    Deserialize,
}

/// A support function bound to its aggregate, valid while the catalog generation is unchanged.
struct Support {
    plugin: Rc<ResolvedPlugin>,
    agg: usize,
    role: Role,
    /// `add`/`remove`: how each argument converts.
    args: Vec<Conv>,
    /// `add`/`remove`: a row with a NULL argument whose parameter is not an option is skipped.
    skip_nulls: Vec<bool>,
    /// `finish`: how the result converts.
    result: Option<Conv>,
    /// `add`/`remove` of one `f64` or one `s64`: called through the typed API.
    typed: Typed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Typed {
    No,
    F64,
    S64,
}

/// A function's support binding as of a catalog generation; `None` for a function called by
/// an aggregate that is not one (a plain wasm function used as a transition function).
type SupportEntry = (u64, Option<Rc<Support>>);

thread_local! {
    /// Support functions by OID.
    static SUPPORT: RefCell<HashMap<pg_sys::Oid, SupportEntry>> = RefCell::new(HashMap::new());
    /// The last support function called, in front of `SUPPORT`: an aggregate calls its `add`
    /// once per row, and a hash lookup per row would cost as much as the rest of our side.
    static LAST: RefCell<Option<(pg_sys::Oid, u64, Rc<Support>)>> = const { RefCell::new(None) };
}

/// The state of one group: a resource handle, whether it is still ours to drop, and the rows
/// buffered for `add-batch`.
struct State {
    handle: StateHandle,
    live: bool,
    pending: Pending,
}

/// Rows `add` has kept for the resource's `add-batch`, not yet given to the guest.
#[derive(Default)]
enum Pending {
    #[default]
    None,
    F64(Vec<f64>),
    S64(Vec<i64>),
    /// One value per row: the argument, or the tuple of the arguments.
    Rows(Vec<Val>),
}

impl Pending {
    fn len(&self) -> usize {
        match self {
            Pending::None => 0,
            Pending::F64(v) => v.len(),
            Pending::S64(v) => v.len(),
            Pending::Rows(v) => v.len(),
        }
    }
}

/// Rows a state keeps before it calls `add-batch`.
const BATCH_ROWS: usize = 256;
/// Rows all the states of this backend may keep at once (a hash aggregate has many groups in
/// progress): past it, a state gives its rows to the guest at once.
const PENDING_CAP: usize = 65_536;
/// Rows kept in all the states of this backend.
static PENDING: AtomicUsize = AtomicUsize::new(0);

/// Whether an aggregate (or a window aggregate) calls through `fcinfo`.
///
/// # Safety
/// `fcinfo` must be a valid call info.
pub unsafe fn called_by_aggregate(fcinfo: pg_sys::FunctionCallInfo) -> bool {
    // SAFETY: a valid fcinfo (the caller's contract); context is null or a Node.
    unsafe {
        let context = (*fcinfo).context;
        !context.is_null()
            && matches!(
                (*context).type_,
                pg_sys::NodeTag::T_AggState | pg_sys::NodeTag::T_WindowAggState
            )
    }
}

/// Whether `proc` is an aggregate support function: `internal` in its signature.
pub fn is_support(proc: &PgProc) -> bool {
    proc.prorettype() == pg_sys::INTERNALOID
        || proc.proargtypes().first() == Some(&pg_sys::INTERNALOID)
}

/// The aggregate and role a support function's body names: `plugin/resource.method`.
fn resolve(proc: &PgProc) -> PluginResult<(Rc<ResolvedPlugin>, usize, Role)> {
    let body = proc.prosrc();
    let (plugin_name, target) = parse_body(&body)?;
    let plugin = resolve_plugin(plugin_name)?;
    let unknown = || {
        PluginError::UndefinedExport(
            format!("plugin \"{plugin_name}\" has no aggregate method \"{target}\""),
            Some("an aggregate support function's body is 'plugin/resource.method'".into()),
        )
    };
    let (resource, method) = target.rsplit_once('.').ok_or_else(unknown)?;
    let agg = plugin
        .compiled
        .aggregates
        .iter()
        .position(|a| a.name == resource || a.sql_name == resource)
        .ok_or_else(unknown)?;
    let role = match method {
        "add" => Role::Add,
        "remove" => Role::Remove,
        "finish" => Role::Finish,
        "merge" => Role::Merge,
        "serialize" => Role::Serialize,
        "deserialize" => Role::Deserialize,
        _ => return Err(unknown()),
    };
    let a = &plugin.compiled.aggregates[agg];
    let offered = match role {
        Role::Remove => a.remove.is_some(),
        Role::Merge => a.merge.is_some(),
        Role::Serialize | Role::Deserialize => a.serialize.is_some(),
        _ => true,
    };
    if !offered {
        return Err(unknown());
    }
    Ok((plugin, agg, role))
}

/// Check a support function's SQL signature against its role and plan its conversions.
fn bind_support(proc: &PgProc) -> PluginResult<Support> {
    let (plugin, agg, role) = resolve(proc)?;
    let a = &plugin.compiled.aggregates[agg];
    let argtypes = proc.proargtypes();
    let ret = proc.prorettype();
    let internal = pg_sys::INTERNALOID;
    let mismatch = |expected: &str| {
        PluginError::SignatureMismatch(
            format!(
                "function does not fit method {} of aggregate resource \"{}\" of plugin \"{}\"",
                method_name(role),
                a.name,
                plugin.name
            ),
            Some(format!("it must be {expected}")),
        )
    };
    let (mut args, mut skip_nulls, mut result) = (Vec::new(), Vec::new(), None);
    match role {
        Role::Add | Role::Remove => {
            if argtypes.first() != Some(&internal)
                || ret != internal
                || argtypes.len() != a.shape.args.len() + 1
            {
                return Err(mismatch(
                    "(internal, <the aggregate's arguments>) RETURNS internal",
                ));
            }
            for (oid, (name, ty)) in argtypes[1..].iter().zip(&a.shape.args) {
                let conv = bind(*oid, ty, Dir::In)?.map_err(|why| {
                    mismatch(&format!(
                        "argument {name} of type {}: {why}",
                        format_type(*oid)
                    ))
                })?;
                skip_nulls.push(!matches!(conv, Conv::Option(_)));
                args.push(conv);
            }
        }
        Role::Finish => {
            if argtypes[..] != [internal] {
                return Err(mismatch("(internal) RETURNS <the aggregate's result>"));
            }
            result = Some(
                bind(ret, &a.shape.result, Dir::Out)?
                    .map_err(|why| mismatch(&format!("returning {}: {why}", format_type(ret))))?,
            );
        }
        Role::Merge if argtypes[..] != [internal, internal] || ret != internal => {
            return Err(mismatch("(internal, internal) RETURNS internal"));
        }
        Role::Serialize if argtypes[..] != [internal] || ret != pg_sys::BYTEAOID => {
            return Err(mismatch("(internal) RETURNS bytea"));
        }
        Role::Deserialize if argtypes[..] != [pg_sys::BYTEAOID, internal] || ret != internal => {
            return Err(mismatch("(bytea, internal) RETURNS internal"));
        }
        Role::Merge | Role::Serialize | Role::Deserialize => {}
    }
    let typed = match (&a.shape.args[..], &args[..]) {
        ([(_, WitType::F64)], [Conv::Scalar(_)]) => Typed::F64,
        ([(_, WitType::S64)], [Conv::Scalar(_)]) => Typed::S64,
        _ => Typed::No,
    };
    Ok(Support {
        plugin,
        agg,
        role,
        args,
        skip_nulls,
        result,
        typed,
    })
}

fn method_name(role: Role) -> &'static str {
    match role {
        Role::Add => "add",
        Role::Remove => "remove",
        Role::Finish => "finish",
        Role::Merge => "merge",
        Role::Serialize => "serialize",
        Role::Deserialize => "deserialize",
    }
}

/// The validator's check of a function with `internal` in its signature: it must be a
/// support function that fits its role.
pub fn validate(proc: &PgProc) -> PluginResult<()> {
    let support = bind_support(proc)?;
    crate::catalog::acl::require_plugin_usage_cached(&support.plugin)
}

/// The error for a support function called outside its aggregate.
pub fn outside_aggregate() -> PluginError {
    PluginError::NotSupported(
        "aggregate support functions can only be called by their aggregate".into(),
        None,
    )
}

unsafe extern "C-unwind" {
    /// Postgres' `AggCheckCallContext`, called directly rather than through pgrx's
    /// error-catching wrapper (a `sigsetjmp` per call): it only reads `fcinfo->context` and
    /// cannot raise an error, and every row's `add` asks for it.
    #[link_name = "AggCheckCallContext"]
    fn agg_check_call_context_direct(
        fcinfo: pg_sys::FunctionCallInfo,
        aggcontext: *mut pg_sys::MemoryContext,
    ) -> std::ffi::c_int;
}

/// The support binding of function `fn_oid`, or `None` if it is not a support function.
fn support(fn_oid: pg_sys::Oid) -> PluginResult<Option<Rc<Support>>> {
    let current = generation();
    let last = LAST.with(|l| match &*l.borrow() {
        Some((oid, g, s)) if *oid == fn_oid && *g == current => Some(s.clone()),
        _ => None,
    });
    if last.is_some() {
        return Ok(last);
    }
    if let Some((g, hit)) = SUPPORT.with(|s| s.borrow().get(&fn_oid).cloned())
        && g == current
    {
        if let Some(s) = &hit {
            LAST.with(|l| *l.borrow_mut() = Some((fn_oid, current, s.clone())));
        }
        return Ok(hit);
    }
    let proc = PgProc::new(fn_oid).ok_or_else(|| {
        PluginError::Internal(format!("function {} does not exist", fn_oid.to_u32()))
    })?;
    let bound = if is_support(&proc) {
        Some(Rc::new(bind_support(&proc)?))
    } else {
        None
    };
    SUPPORT.with(|s| s.borrow_mut().insert(fn_oid, (current, bound.clone())));
    Ok(bound)
}

/// Run a support function if `fcinfo` calls one from inside an aggregate; `None` when it is
/// not one (the caller goes on with the plain call path).
///
/// # Safety
/// `fcinfo` must be a valid call info.
pub unsafe fn call_support(
    fcinfo: pg_sys::FunctionCallInfo,
) -> PluginResult<Option<pg_sys::Datum>> {
    // SAFETY: a valid fcinfo (the caller's contract).
    let fn_oid = unsafe { (*(*fcinfo).flinfo).fn_oid };
    let Some(s) = support(fn_oid)? else {
        return Ok(None);
    };
    let mut aggcontext: pg_sys::MemoryContext = std::ptr::null_mut();
    // SAFETY: as above; AggCheckCallContext only reads fcinfo->context.
    if unsafe { agg_check_call_context_direct(fcinfo, &mut aggcontext) } == 0 {
        return Err(outside_aggregate());
    }
    let a = &s.plugin.compiled.aggregates[s.agg];
    s.plugin.counters.enter(match s.role {
        Role::Add => a.add,
        Role::Remove => a.remove.unwrap_or(a.add),
        Role::Finish => a.finish,
        Role::Merge => a.merge.unwrap_or(a.add),
        Role::Serialize => a.serialize.unwrap_or(a.add),
        Role::Deserialize => a.deserialize.unwrap_or(a.add),
    });
    // SAFETY: the support function's arguments as its (checked) signature declares them.
    let out = unsafe {
        match s.role {
            Role::Add | Role::Remove => transition(fcinfo, &s, a, aggcontext),
            Role::Finish => finish(fcinfo, &s, a, aggcontext),
            Role::Merge => merge(fcinfo, &s, a),
            Role::Serialize => serialize(fcinfo, &s, a),
            Role::Deserialize => deserialize(fcinfo, &s, a, aggcontext),
        }
    }?;
    Ok(Some(out))
}

/// The label of a method in messages: `plugin "p" export "mean.add"`.
fn label<'a>(s: &'a Support, export: usize) -> ExportLabel<'a> {
    ExportLabel {
        plugin: &s.plugin.name,
        export: &s.plugin.compiled.exports[export].name,
    }
}

/// Set the result: `Some(datum)`, or NULL.
///
/// # Safety
/// `fcinfo` must be a valid call info.
unsafe fn set_result(
    fcinfo: pg_sys::FunctionCallInfo,
    datum: Option<pg_sys::Datum>,
) -> pg_sys::Datum {
    // SAFETY: a valid fcinfo (the caller's contract).
    unsafe { (*fcinfo).isnull = datum.is_none() };
    datum.unwrap_or(pg_sys::Datum::from(0))
}

/// The state argument `i`, or null.
///
/// # Safety
/// `fcinfo` must be a valid call info with an `internal` argument `i` made by this module.
unsafe fn state_arg(fcinfo: pg_sys::FunctionCallInfo, i: usize) -> *mut State {
    // SAFETY: as above.
    let arg = unsafe { (*fcinfo).args.as_slice(i + 1)[i] };
    if arg.isnull {
        std::ptr::null_mut()
    } else {
        arg.value.cast_mut_ptr()
    }
}

#[pgrx::pg_guard]
unsafe extern "C-unwind" fn release_state(arg: *mut std::ffi::c_void) {
    let state = arg as *mut State;
    // SAFETY: the State this callback was registered with, in the same memory context.
    unsafe {
        // Rows never given to the guest are of a state whose result nobody asked for.
        let pending = std::mem::take(&mut (*state).pending);
        PENDING.fetch_sub(pending.len(), Relaxed);
        drop(pending);
        if (*state).live && pg_sys::IsTransactionState() {
            (*state).live = false;
            drop_state((*state).handle);
        }
    }
}

/// A state for `handle` in `aggcontext`, freed (the resource dropped) with the context.
///
/// # Safety
/// `aggcontext` must be the aggregate's memory context.
unsafe fn new_state(aggcontext: pg_sys::MemoryContext, handle: StateHandle) -> *mut State {
    // SAFETY: allocations in the aggregate's context, which outlives every use of the state;
    // the callback lives in the same context and runs before it is freed.
    unsafe {
        let state =
            pg_sys::MemoryContextAlloc(aggcontext, std::mem::size_of::<State>()) as *mut State;
        state.write(State {
            handle,
            live: true,
            pending: Pending::None,
        });
        let cb = pg_sys::MemoryContextAlloc(
            aggcontext,
            std::mem::size_of::<pg_sys::MemoryContextCallback>(),
        ) as *mut pg_sys::MemoryContextCallback;
        cb.write(pg_sys::MemoryContextCallback {
            func: Some(release_state),
            arg: state.cast(),
            next: std::ptr::null_mut(),
        });
        pg_sys::MemoryContextRegisterResetCallback(aggcontext, cb);
        state
    }
}

/// A resource handle from a constructor's or `deserialize`'s result.
fn handle_of(
    result: Option<Val>,
    instance: u64,
    what: &ExportLabel<'_>,
) -> PluginResult<StateHandle> {
    match result {
        Some(Val::Resource(resource)) => Ok(StateHandle { instance, resource }),
        other => Err(PluginError::Internal(format!(
            "{what} returned {other:?}, not a resource"
        ))),
    }
}

/// A fresh state: the constructor, in `aggcontext`.
///
/// # Safety
/// `aggcontext` must be the aggregate's memory context.
unsafe fn construct(
    s: &Support,
    a: &Aggregate,
    aggcontext: pg_sys::MemoryContext,
) -> PluginResult<*mut State> {
    let (result, instance) = call_resource(
        s.plugin.caller(),
        &s.plugin.compiled,
        a.constructor,
        None,
        &[],
    )?;
    let handle = handle_of(result, instance, &label(s, a.constructor))?;
    // SAFETY: the aggregate's context (the caller's contract).
    Ok(unsafe { new_state(aggcontext, handle) })
}

/// `add` or `remove`: one row into (or out of) the state, made on the first row.
///
/// # Safety
/// `fcinfo` must be the call of a transition function bound as `s`.
unsafe fn transition(
    fcinfo: pg_sys::FunctionCallInfo,
    s: &Support,
    a: &Aggregate,
    aggcontext: pg_sys::MemoryContext,
) -> PluginResult<pg_sys::Datum> {
    // SAFETY: the call info of a function with 1 + args.len() arguments.
    let raw = unsafe { (*fcinfo).args.as_slice(s.args.len() + 1) };
    // SAFETY: as above; argument 0 is the state.
    let mut state = unsafe { state_arg(fcinfo, 0) };
    let skipped = raw[1..]
        .iter()
        .zip(&s.skip_nulls)
        .any(|(arg, skip)| arg.isnull && *skip);
    if skipped {
        // SAFETY: a valid fcinfo.
        return Ok(unsafe {
            set_result(
                fcinfo,
                (!state.is_null()).then(|| pg_sys::Datum::from(state)),
            )
        });
    }
    if state.is_null() {
        // SAFETY: the aggregate's context.
        state = unsafe { construct(s, a, aggcontext) }?;
    }
    if s.role == Role::Add && a.add_batch.is_some() {
        // SAFETY: a valid fcinfo; a State made by this module, alive while its context is.
        if unsafe { called_by_plain_aggregate(fcinfo) } {
            // SAFETY: as above; the arguments as the binding checked them.
            unsafe { keep_row(s, a, state, raw) }?;
            // SAFETY: a valid fcinfo.
            return Ok(unsafe { set_result(fcinfo, Some(pg_sys::Datum::from(state))) });
        }
    }
    if a.add_batch.is_some() {
        // SAFETY: a State made by this module (a window's `remove` after rows kept elsewhere).
        unsafe { flush(s, a, state) }?;
    }
    let export = if s.role == Role::Add {
        a.add
    } else {
        a.remove.unwrap_or(a.add)
    };
    // SAFETY: a State made by this module, alive while its context is.
    let this = unsafe { (*state).handle };
    let caller = s.plugin.caller();
    let compiled = &s.plugin.compiled;
    match s.typed {
        Typed::F64 => {
            // SAFETY: a non-null float8 argument (the binding checked the type).
            let x = unsafe { f64::from_datum(raw[1].value, false) }.unwrap_or_default();
            call_method_typed(caller, compiled, export, this, (this.resource, x))?;
        }
        Typed::S64 => {
            let x = raw[1].value.value() as i64;
            call_method_typed(caller, compiled, export, this, (this.resource, x))?;
        }
        Typed::No => {
            let what = label(s, export);
            let mut args = Vec::with_capacity(s.args.len());
            for ((arg, conv), (name, _)) in raw[1..].iter().zip(&s.args).zip(&a.shape.args) {
                let label = ValueLabel {
                    param: Some(name),
                    export: &what,
                };
                // SAFETY: an argument of the SQL type `conv` was bound to.
                args.push(unsafe { datum_to_val(arg.value, arg.isnull, conv, &label) }?);
            }
            call_resource(caller, compiled, export, Some(this), &args)?;
        }
    }
    // SAFETY: a valid fcinfo.
    Ok(unsafe { set_result(fcinfo, Some(pg_sys::Datum::from(state))) })
}

/// Whether an `Agg` node (not a window) calls through `fcinfo`: its `finish`, `serialize` or
/// `merge` comes once the rows are in, so rows may wait for `add-batch` until then. A window
/// asks for `finish` after each row: rows go to `add` one by one.
///
/// # Safety
/// `fcinfo` must be a valid call info.
unsafe fn called_by_plain_aggregate(fcinfo: pg_sys::FunctionCallInfo) -> bool {
    // SAFETY: a valid fcinfo; context is null or a Node.
    unsafe {
        let context = (*fcinfo).context;
        !context.is_null() && (*context).type_ == pg_sys::NodeTag::T_AggState
    }
}

/// Keep one row (its arguments, none of them a skipped NULL) in `state` for `add-batch`; give
/// the kept rows to the guest when the state has [`BATCH_ROWS`] of them, or when this
/// backend's states keep more than [`PENDING_CAP`] in all.
///
/// # Safety
/// `state` must be a State made by this module; `raw` the transition call's arguments (the
/// state first) of the SQL types `s` was bound to.
unsafe fn keep_row(
    s: &Support,
    a: &Aggregate,
    state: *mut State,
    raw: &[pg_sys::NullableDatum],
) -> PluginResult<()> {
    // SAFETY: the caller's contract.
    let pending = unsafe { &mut (*state).pending };
    match (s.typed, &mut *pending) {
        (Typed::F64, Pending::F64(v)) => {
            // SAFETY: a non-null float8 argument (the binding checked the type).
            let x = unsafe { f64::from_datum(raw[1].value, false) };
            v.push(x.unwrap_or_default());
        }
        (Typed::S64, Pending::S64(v)) => v.push(raw[1].value.value() as i64),
        (Typed::No, Pending::Rows(v)) => v.push(row_value(s, a, &raw[1..])?),
        (_, p @ Pending::None) => {
            *p = match s.typed {
                Typed::F64 => Pending::F64(Vec::new()),
                Typed::S64 => Pending::S64(Vec::new()),
                Typed::No => Pending::Rows(Vec::new()),
            };
            // SAFETY: as this function's contract; the kind now matches.
            return unsafe { keep_row(s, a, state, raw) };
        }
        _ => {
            return Err(PluginError::Internal(
                "rows of two kinds in one state".into(),
            ));
        }
    }
    // A load and a store (no locked read-modify-write per row): only the backend's main
    // thread touches the counter.
    let all = PENDING.load(Relaxed) + 1;
    PENDING.store(all, Relaxed);
    if pending.len() >= BATCH_ROWS {
        // SAFETY: as this function's contract.
        unsafe { flush(s, a, state) }?;
    } else if all > PENDING_CAP {
        // Many groups at once: this one's rows go now, and it keeps no buffer (a hash
        // aggregate's states are not counted in work_mem, and neither is this).
        // SAFETY: as this function's contract.
        unsafe { flush(s, a, state) }?;
        // SAFETY: as above.
        unsafe { (*state).pending = Pending::None };
    }
    Ok(())
}

/// One row's arguments as `add-batch`'s list element: the value, or the tuple of them.
fn row_value(s: &Support, a: &Aggregate, args: &[pg_sys::NullableDatum]) -> PluginResult<Val> {
    let what = label(s, a.add);
    let mut vals = Vec::with_capacity(args.len());
    for ((arg, conv), (name, _)) in args.iter().zip(&s.args).zip(&a.shape.args) {
        let label = ValueLabel {
            param: Some(name),
            export: &what,
        };
        // SAFETY: an argument of the SQL type `conv` was bound to.
        vals.push(unsafe { datum_to_val(arg.value, arg.isnull, conv, &label) }?);
    }
    Ok(if vals.len() == 1 {
        vals.pop().expect("one value")
    } else {
        Val::Tuple(vals)
    })
}

/// Give the rows `state` keeps to the guest's `add-batch`, in the order they came; nothing to
/// do when it keeps none. Every method but `add` reads the state: each flushes first.
///
/// # Safety
/// `state` must be a State made by this module.
unsafe fn flush(s: &Support, a: &Aggregate, state: *mut State) -> PluginResult<()> {
    // SAFETY: the caller's contract.
    let (pending, this) = unsafe { (&mut (*state).pending, (*state).handle) };
    let n = pending.len();
    if n == 0 {
        return Ok(());
    }
    PENDING.fetch_sub(n, Relaxed);
    let export = a
        .add_batch
        .ok_or_else(|| PluginError::Internal("rows kept without add-batch".into()))?;
    let (caller, compiled) = (s.plugin.caller(), &s.plugin.compiled);
    let called = match pending {
        Pending::F64(v) => {
            call_method_typed(caller, compiled, export, this, (this.resource, &v[..]))
        }
        Pending::S64(v) => {
            call_method_typed(caller, compiled, export, this, (this.resource, &v[..]))
        }
        Pending::Rows(v) => {
            let rows = Val::List(std::mem::take(v));
            call_resource(caller, compiled, export, Some(this), &[rows]).map(|_| ())
        }
        Pending::None => Ok(()),
    };
    // Kept for the next rows: its allocation is reused.
    match pending {
        Pending::F64(v) => v.clear(),
        Pending::S64(v) => v.clear(),
        Pending::Rows(v) => v.clear(),
        Pending::None => {}
    }
    called
}

/// `finish`: the aggregate's result, the state left as it is (`FINALFUNC_MODIFY = READ_ONLY`);
/// an empty input finishes a fresh state.
///
/// # Safety
/// `fcinfo` must be the call of a final function bound as `s`.
unsafe fn finish(
    fcinfo: pg_sys::FunctionCallInfo,
    s: &Support,
    a: &Aggregate,
    aggcontext: pg_sys::MemoryContext,
) -> PluginResult<pg_sys::Datum> {
    // SAFETY: argument 0 is the state.
    let mut state = unsafe { state_arg(fcinfo, 0) };
    if state.is_null() {
        // SAFETY: the aggregate's context.
        state = unsafe { construct(s, a, aggcontext) }?;
    }
    // SAFETY: a State made by this module.
    unsafe { flush(s, a, state) }?;
    // SAFETY: as above.
    let this = unsafe { (*state).handle };
    let what = label(s, a.finish);
    let (result, _) = call_resource(
        s.plugin.caller(),
        &s.plugin.compiled,
        a.finish,
        Some(this),
        &[],
    )?;
    let conv = s
        .result
        .as_ref()
        .ok_or_else(|| PluginError::Internal("finish has no result plan".into()))?;
    let value = result.ok_or_else(|| PluginError::Internal(format!("{what} returned nothing")))?;
    let datum = val_to_datum(
        value,
        conv,
        &ValueLabel {
            param: None,
            export: &what,
        },
    )?;
    // SAFETY: a valid fcinfo.
    Ok(unsafe { set_result(fcinfo, datum) })
}

/// `merge`: fold the second partial state into the first; either may be NULL.
///
/// # Safety
/// `fcinfo` must be the call of a combine function bound as `s`.
unsafe fn merge(
    fcinfo: pg_sys::FunctionCallInfo,
    s: &Support,
    a: &Aggregate,
) -> PluginResult<pg_sys::Datum> {
    // SAFETY: arguments 0 and 1 are states.
    let (left, right) = unsafe { (state_arg(fcinfo, 0), state_arg(fcinfo, 1)) };
    let out = match (left.is_null(), right.is_null()) {
        (true, true) => None,
        (true, false) => Some(right),
        (false, true) => Some(left),
        (false, false) => {
            let merge = a
                .merge
                .ok_or_else(|| PluginError::Internal("no merge".into()))?;
            // SAFETY: States made by this module.
            unsafe {
                flush(s, a, left)?;
                flush(s, a, right)?;
            }
            // SAFETY: States made by this module; the right one's resource moves into the
            // guest (merge takes it), so it is no longer ours to drop.
            let (this, other) = unsafe {
                (*right).live = false;
                ((*left).handle, (*right).handle)
            };
            call_resource(
                s.plugin.caller(),
                &s.plugin.compiled,
                merge,
                Some(this),
                &[Val::Resource(other.resource)],
            )?;
            Some(left)
        }
    };
    // SAFETY: a valid fcinfo.
    Ok(unsafe { set_result(fcinfo, out.map(pg_sys::Datum::from)) })
}

/// `serialize`: the state as bytes, for another process.
///
/// # Safety
/// `fcinfo` must be the call of a serial function bound as `s`.
unsafe fn serialize(
    fcinfo: pg_sys::FunctionCallInfo,
    s: &Support,
    a: &Aggregate,
) -> PluginResult<pg_sys::Datum> {
    // SAFETY: argument 0 is a state (the function is STRICT).
    let state = unsafe { state_arg(fcinfo, 0) };
    let export = a
        .serialize
        .ok_or_else(|| PluginError::Internal("no serialize".into()))?;
    // SAFETY: a State made by this module.
    unsafe { flush(s, a, state) }?;
    // SAFETY: as above.
    let this = unsafe { (*state).handle };
    let (result, _) = call_resource(
        s.plugin.caller(),
        &s.plugin.compiled,
        export,
        Some(this),
        &[],
    )?;
    let what = label(s, export);
    let value = result.ok_or_else(|| PluginError::Internal(format!("{what} returned nothing")))?;
    let bytes = Conv::Scalar(WitType::List(Box::new(WitType::U8)));
    let datum = val_to_datum(
        value,
        &bytes,
        &ValueLabel {
            param: None,
            export: &what,
        },
    )?;
    // SAFETY: a valid fcinfo.
    Ok(unsafe { set_result(fcinfo, datum) })
}

/// `deserialize`: a state from bytes `serialize` made.
///
/// # Safety
/// `fcinfo` must be the call of a deserial function bound as `s`.
unsafe fn deserialize(
    fcinfo: pg_sys::FunctionCallInfo,
    s: &Support,
    a: &Aggregate,
    aggcontext: pg_sys::MemoryContext,
) -> PluginResult<pg_sys::Datum> {
    let export = a
        .deserialize
        .ok_or_else(|| PluginError::Internal("no deserialize".into()))?;
    let what = label(s, export);
    // SAFETY: argument 0 is a non-null bytea (the function is STRICT).
    let arg = unsafe { (*fcinfo).args.as_slice(2)[0] };
    let bytes = Conv::Scalar(WitType::List(Box::new(WitType::U8)));
    let label_in = ValueLabel {
        param: Some("bytes"),
        export: &what,
    };
    // SAFETY: a bytea datum.
    let value = unsafe { datum_to_val(arg.value, arg.isnull, &bytes, &label_in) }?;
    let (result, instance) = call_resource(
        s.plugin.caller(),
        &s.plugin.compiled,
        export,
        None,
        &[value],
    )?;
    let handle = handle_of(result, instance, &what)?;
    // SAFETY: the aggregate's context; a valid fcinfo.
    unsafe {
        let state = new_state(aggcontext, handle);
        Ok(set_result(fcinfo, Some(pg_sys::Datum::from(state))))
    }
}
