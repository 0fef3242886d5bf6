//! Calling an export: instances reused within one transaction for one role, discarded after a
//! trap, interrupted by Postgres' cancel, `statement_timeout` and the per-call time limit, and
//! guest output flushed to the server log after every call.

use std::cell::RefCell;
use std::time::Instant;

use pgrx::pg_guard;
use pgrx::pg_sys;
use wasmtime::component::{
    ComponentNamedList, Func, Instance, Lift, Lower, ResourceAny, TypedFunc, Val,
};
use wasmtime::{Store, UpdateDeadline};

use super::host::HostState;
use super::plugin::CompiledPlugin;
use super::runtime;
use crate::error::{PluginError, PluginResult, TrapKind, render_chain};
use crate::guc;
use crate::mapping::FastPath;

/// Why the epoch callback (or a host wait, `host::poll`) stopped a guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Query cancel, `statement_timeout` or backend termination is pending.
    Interrupt,
    /// `wasm.max_call_time` ran out.
    CallTime,
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Interrupt => f.write_str("interrupted by a query cancel or timeout"),
            Stop::CallTime => f.write_str("it ran longer than wasm.max_call_time"),
        }
    }
}

impl std::error::Error for Stop {}

/// A live instance of one component for one role in one transaction.
struct LiveInstance {
    /// Unique in the backend: resource handles (aggregate states) name their instance by it.
    id: u64,
    store: Store<HostState>,
    instance: Instance,
    lxid: pg_sys::LocalTransactionId,
    /// Exports looked up so far, by index into `CompiledPlugin::exports`.
    funcs: Vec<Option<Func>>,
    /// The plugin it runs for: two plugins installed from the same bytes (two importers of
    /// one provider, say) never share an instance, nor the state in it.
    plugin: Box<str>,
}

/// Instances are keyed by the address of the `CompiledPlugin` they were made from (export
/// indexes belong to it; compiled plugins live as long as the backend), by role, and by
/// whether the caller is deterministic (a deterministic plugin's sandbox differs), and then
/// by plugin name (`LiveInstance::plugin`).
type InstanceKey = (usize, pg_sys::Oid, bool);

/// Who makes a call: the plugin's name, for messages, and whether it was installed with
/// `deterministic => true` (its instances see a frozen monotonic clock).
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The plugin's name.
    pub plugin: &'a str,
    /// Installed as deterministic.
    pub deterministic: bool,
    /// Where its calls are counted (`crate::stats`).
    pub counters: Option<&'a crate::stats::PluginCounters>,
    /// The plugins it is composed with, for its errors (`plugin "geo" for acme:geo/...`), or
    /// empty: a trap may come from any part.
    pub links: &'a str,
}

thread_local! {
    /// A backend holds few live instances (one per plugin and role in use); a short list is
    /// faster to search than a hash map on the per-row path.
    static INSTANCES: RefCell<Vec<(InstanceKey, LiveInstance)>> = const { RefCell::new(Vec::new()) };
    static NEXT_INSTANCE_ID: std::cell::Cell<u64> = const { std::cell::Cell::new(1) };
}

fn current_lxid() -> pg_sys::LocalTransactionId {
    // SAFETY: MyProc is set for every backend before any SQL function runs.
    unsafe { (*pg_sys::MyProc).lxid }
}

/// Whether Postgres wants the running statement or the backend to stop.
pub(crate) fn interrupt_pending() -> bool {
    // SAFETY: plain reads of sig_atomic_t flags that Postgres' signal handlers set.
    unsafe {
        std::ptr::read_volatile(&raw const pg_sys::QueryCancelPending) != 0
            || std::ptr::read_volatile(&raw const pg_sys::ProcDiePending) != 0
    }
}

fn new_instance(compiled: &CompiledPlugin, caller: Caller<'_>) -> PluginResult<LiveInstance> {
    let deterministic = caller.deterministic;
    if let Some(c) = caller.counters {
        c.instance_created();
    }
    let rt = runtime()?;
    let mut store = Store::new(
        &rt.engine,
        HostState::new(guc::max_memory_bytes(), deterministic),
    );
    store.limiter(|s| &mut s.limits);
    // Live resource handles (aggregate states: one per group) are host memory that the linear
    // memory limit does not count; allow one per 64 bytes of it (wasmtime's default is 100,000).
    store.set_max_component_handles(max_handles());
    // At every epoch tick: stop for a pending cancel, timeout or terminate, or when the
    // current call's wasm.max_call_time deadline has passed.
    store.epoch_deadline_callback(|ctx| {
        if interrupt_pending() {
            return Err(wasmtime::Error::new(Stop::Interrupt));
        }
        if ctx
            .data()
            .call_deadline
            .is_some_and(|d| Instant::now() >= d)
        {
            return Err(wasmtime::Error::new(Stop::CallTime));
        }
        Ok(UpdateDeadline::Continue(1))
    });
    arm_deadline(&mut store);
    let instance = compiled
        .pre
        .instantiate(&mut store)
        .map_err(|e| trap_error(&e, "instantiation"))?;
    Ok(LiveInstance {
        id: NEXT_INSTANCE_ID.with(|n| n.replace(n.get() + 1)),
        store,
        instance,
        lxid: current_lxid(),
        funcs: vec![None; compiled.exports.len()],
        plugin: caller.plugin.into(),
    })
}

/// How many resource handles an instance may hold at once: one per 64 bytes of
/// `wasm.max_memory`, and at least wasmtime's default.
fn max_handles() -> usize {
    (guc::max_memory_bytes() / 64).max(100_000)
}

/// Arm the epoch deadline and the per-call time limit for the next call.
fn arm_deadline(store: &mut Store<HostState>) {
    store.set_epoch_deadline(1);
    store.data_mut().call_deadline = guc::max_call_time().map(|l| Instant::now() + l);
}

fn trap_error(err: &wasmtime::Error, what: &str) -> PluginError {
    if let Some(stop) = err.chain().find_map(|c| c.downcast_ref::<Stop>().copied()) {
        let limit = match (stop, guc::max_call_time()) {
            (Stop::CallTime, Some(d)) => format!(" ({} ms)", d.as_millis()),
            _ => String::new(),
        };
        return PluginError::GuestTrap {
            message: format!("{what} was stopped: {stop}{limit}"),
            detail: String::new(),
            stop: TrapKind::Interrupted,
        };
    }
    if let Some(interrupted) = err
        .chain()
        .find_map(|c| c.downcast_ref::<crate::query::Interrupted>())
    {
        return PluginError::GuestTrap {
            message: format!("{what} was stopped: {}", interrupted.0),
            detail: String::new(),
            stop: TrapKind::Interrupted,
        };
    }
    if let Some(exit) = err
        .chain()
        .find_map(|c| c.downcast_ref::<wasmtime_wasi::I32Exit>())
    {
        return PluginError::GuestTrap {
            message: format!(
                "{what} called exit({}): a plugin cannot end the process",
                exit.0
            ),
            detail: String::new(),
            stop: TrapKind::Trap,
        };
    }
    let (reason, detail) = render_chain(err);
    // Values the canonical ABI cannot lift: the guest broke its own signature.
    for (marker, what_was_wrong) in [
        ("invalid utf-8", "a string that is not valid UTF-8"),
        (
            "out of range for `char`",
            "a char that is not a Unicode scalar value",
        ),
    ] {
        if detail.contains(marker) {
            return PluginError::GuestTrap {
                message: format!("{what} returned {what_was_wrong}"),
                detail,
                stop: TrapKind::BadResult,
            };
        }
    }
    if detail.contains("store handle limit exceeded") {
        return PluginError::GuestTrap {
            message: format!(
                "{what} trapped: its instance would hold more than {} live resource handles (one per aggregate group; one per 64 bytes of wasm.max_memory)",
                max_handles()
            ),
            detail,
            stop: TrapKind::Limit,
        };
    }
    if let Some(hit) = err
        .chain()
        .find_map(|c| c.downcast_ref::<super::host::MemoryLimitHit>())
    {
        return PluginError::GuestTrap {
            message: format!(
                "{what} trapped: its linear memory would exceed wasm.max_memory ({} MB)",
                hit.max >> 20
            ),
            detail,
            stop: TrapKind::Limit,
        };
    }
    PluginError::GuestTrap {
        message: format!("{what} trapped: {reason}"),
        detail,
        stop: TrapKind::Trap,
    }
}

/// Send what the guest printed to the server log; returns what it wrote to stderr, which a
/// trap's message shows (a guest panic explains itself there).
fn flush_output(plugin: &str, state: &HostState) -> String {
    let mut stderr = String::new();
    for (stream, pipe) in [("stdout", &state.stdout), ("stderr", &state.stderr)] {
        if let Some((text, dropped)) = pipe.drain() {
            let text = text.trim();
            if dropped > 0 {
                pgrx::log!("plugin {plugin} {stream}: {text} [{dropped} more bytes dropped]");
            } else {
                pgrx::log!("plugin {plugin} {stream}: {text}");
            }
            if stream == "stderr" {
                stderr = text.to_string();
            }
        }
    }
    stderr
}

/// Run `f` with the export's function on this role's instance of `compiled` for this
/// transaction (instantiated on first use). A trap, a limit or an interrupt discards the
/// instance and becomes an error naming the plugin and the export.
fn run<T>(
    caller: Caller<'_>,
    compiled: &CompiledPlugin,
    export: usize,
    f: impl FnOnce(&mut Store<HostState>, Func) -> wasmtime::Result<T>,
) -> PluginResult<T> {
    run_on(caller, compiled, export, None, |store, func, _| {
        f(store, func)
    })
}

/// [`run`] on the instance with id `expected` (a resource handle's), which must be the one
/// this role's calls use in this transaction; `f` also gets the instance's id.
fn run_on<T>(
    caller: Caller<'_>,
    compiled: &CompiledPlugin,
    export: usize,
    expected: Option<u64>,
    f: impl FnOnce(&mut Store<HostState>, Func, u64) -> wasmtime::Result<T>,
) -> PluginResult<T> {
    let what = || {
        format!(
            "plugin \"{}\" export \"{}\"",
            caller.plugin, compiled.exports[export].name
        )
    };
    let mut instances = INSTANCES.with(|m| m.take());
    let slot = match checkout(&mut instances, caller, compiled) {
        Ok(slot) => slot,
        Err(err) => {
            INSTANCES.with(|m| m.replace(instances));
            return Err(rename_trap(err, &what()));
        }
    };
    let live = &mut instances[slot].1;
    if expected.is_some_and(|id| id != live.id) {
        INSTANCES.with(|m| m.replace(instances));
        return Err(PluginError::NotSupported(
            format!(
                "{}: the state it was called with belongs to an instance that is gone (discarded after a trap, or another role's)",
                what()
            ),
            None,
        ));
    }
    let id = live.id;
    arm_deadline(&mut live.store);
    live.store
        .data_mut()
        .set_max_memory(guc::max_memory_bytes());
    let Some(func) = export_func(live, compiled, export) else {
        INSTANCES.with(|m| m.replace(instances));
        return Err(PluginError::Internal(format!(
            "{} is missing from the instance",
            what()
        )));
    };
    let timed = caller.counters.is_some_and(|c| c.call(export)) || guc::log_calls_over().is_some();
    let started = timed.then(Instant::now);
    let outcome = f(&mut live.store, func, id);
    if let Some(started) = started {
        observe_time(caller, compiled, export, started);
    }
    if let Some(c) = caller.counters {
        c.memory(live.store.data().limits.current);
    }
    let stderr = report_output(caller.plugin, live);
    match outcome {
        Ok(v) => {
            INSTANCES.with(|m| m.replace(instances));
            Ok(v)
        }
        Err(e) => {
            // The store may be mid-update after a trap: never enter it again.
            let memory = live.store.data().limits.current;
            instances.swap_remove(slot);
            INSTANCES.with(|m| m.replace(instances));
            let what = if caller.links.is_empty() {
                what()
            } else {
                format!("{} (linked to {})", what(), caller.links)
            };
            let err = with_guest_stderr(trap_error(&e, &what), &stderr);
            log_discard(&err, memory);
            if interrupt_pending() {
                // Counted here: the ERROR below does not pass through `or_report`.
                crate::stats::note_error(&err);
                // Raises the proper 57014 (or FATAL for a terminate) now that no wasm frame
                // is on the stack.
                pgrx::check_for_interrupts!();
            }
            Err(err)
        }
    }
}

/// Record a timed call: its sampled time, and a LOG line past `wasm.log_calls_over`.
fn observe_time(caller: Caller<'_>, compiled: &CompiledPlugin, export: usize, started: Instant) {
    let elapsed = started.elapsed();
    if let Some(c) = caller.counters {
        c.timed(export, elapsed.as_nanos() as u64);
    }
    if guc::log_calls_over().is_some_and(|limit| elapsed > limit) {
        pgrx::log!(
            "duration: {:.3} ms  plugin \"{}\" export \"{}\"",
            elapsed.as_secs_f64() * 1e3,
            caller.plugin,
            compiled.exports[export].name
        );
    }
}

/// LOG an instance discarded after a trap or a limit, with its memory: a DBA acts on these.
fn log_discard(err: &PluginError, memory: usize) {
    if let PluginError::GuestTrap { message, stop, .. } = err {
        let why = match stop {
            TrapKind::Limit => "a limit",
            TrapKind::Interrupted => "an interrupt or time limit",
            TrapKind::Trap | TrapKind::BadResult => "a trap",
        };
        pgrx::log!(
            "pg_component: instance discarded after {why} ({} MB of linear memory): {message}",
            memory >> 20
        );
    }
}

/// The linear memory of this backend's live instances of `compiled`, in bytes.
pub fn live_memory(compiled: &CompiledPlugin) -> u64 {
    let key = compiled as *const CompiledPlugin as usize;
    INSTANCES.with(|m| {
        m.try_borrow().map_or(0, |list| {
            list.iter()
                .filter(|(k, _)| k.0 == key)
                .map(|(_, l)| l.store.data().limits.current as u64)
                .sum()
        })
    })
}

/// The slot in `instances` of this role's instance of `compiled` for this transaction: the
/// one there, else a fresh one (replacing one from an earlier transaction). If instantiating
/// fails, the earlier one is gone too.
fn checkout(
    instances: &mut Vec<(InstanceKey, LiveInstance)>,
    caller: Caller<'_>,
    compiled: &CompiledPlugin,
) -> PluginResult<usize> {
    let key = (
        compiled as *const CompiledPlugin as usize,
        crate::catalog::acl::current_role(),
        caller.deterministic,
    );
    let lxid = current_lxid();
    let found = instances
        .iter()
        .position(|(k, live)| *k == key && *live.plugin == *caller.plugin);
    if let Some(i) = found
        && instances[i].1.lxid == lxid
    {
        return Ok(i);
    }
    // A new transaction (or a first call): a fresh instance.
    let fresh = match new_instance(compiled, caller) {
        Ok(fresh) => fresh,
        Err(err) => {
            if let Some(i) = found {
                instances.swap_remove(i);
            }
            return Err(err);
        }
    };
    Ok(match found {
        Some(i) => {
            instances[i].1 = fresh;
            i
        }
        None => {
            instances.push((key, fresh));
            instances.len() - 1
        }
    })
}

/// Export number `export`'s function in `live`, looked up once per instance.
fn export_func(live: &mut LiveInstance, compiled: &CompiledPlugin, export: usize) -> Option<Func> {
    if let Some(func) = live.funcs[export] {
        return Some(func);
    }
    let func = live
        .instance
        .get_func(&mut live.store, compiled.exports[export].index)?;
    live.funcs[export] = Some(func);
    Some(func)
}

/// Report what the guest logged or printed during the call; returns its stderr, for an error
/// message.
fn report_output(plugin: &str, live: &mut LiveInstance) -> String {
    if !live.store.data().has_output() {
        return String::new();
    }
    let stderr = flush_output(plugin, live.store.data());
    super::host::log::report(plugin, &mut live.store.data_mut().log);
    stderr
}

/// Call export number `export` of `compiled` (installed as `plugin`) with dynamic values;
/// returns its result value.
pub fn call_export(
    caller: Caller<'_>,
    compiled: &CompiledPlugin,
    export: usize,
    args: &[Val],
) -> PluginResult<Option<Val>> {
    let has_result = compiled.exports[export].sig.result.is_some();
    run(caller, compiled, export, |store, func| {
        let mut results = vec![Val::Bool(false); usize::from(has_result)];
        func.call(store, args, &mut results).map(|()| results.pop())
    })
}

/// Call an export whose signature is known to be `Params -> Results` (checked when the
/// component was prepared), without dynamic values.
pub fn call_typed<Params, Results>(
    caller: Caller<'_>,
    compiled: &CompiledPlugin,
    export: usize,
    params: Params,
) -> PluginResult<Results>
where
    Params: ComponentNamedList + Lower,
    Results: ComponentNamedList + Lift,
{
    run(caller, compiled, export, |store, func| {
        // SAFETY: callers pick Params/Results from the export's WIT signature (see
        // `FastPath::of`), which wasmtime verified against the component when it was compiled.
        let typed = unsafe { TypedFunc::<Params, Results>::new_unchecked(func) };
        typed.call(store, params)
    })
}

/// An exported resource's handle in one instance: an aggregate's state.
#[derive(Debug, Clone, Copy)]
pub struct StateHandle {
    /// The instance it lives in.
    pub instance: u64,
    /// The handle, owned by the host.
    pub resource: ResourceAny,
}

/// Call resource function `export` (a constructor, a static function, or, with `this`, a
/// method on that state) with dynamic values; returns its result and the instance's id.
pub fn call_resource(
    caller: Caller<'_>,
    compiled: &CompiledPlugin,
    export: usize,
    this: Option<StateHandle>,
    args: &[Val],
) -> PluginResult<(Option<Val>, u64)> {
    let has_result = compiled.exports[export].sig.result.is_some();
    let expected = this.map(|h| h.instance);
    run_on(caller, compiled, export, expected, |store, func, id| {
        let mut results = vec![Val::Bool(false); usize::from(has_result)];
        match this {
            Some(h) => {
                let mut all = Vec::with_capacity(args.len() + 1);
                all.push(Val::Resource(h.resource));
                all.extend_from_slice(args);
                func.call(&mut *store, &all, &mut results)?;
            }
            None => func.call(&mut *store, args, &mut results)?,
        }
        Ok((results.pop(), id))
    })
}

/// Call a method that returns nothing through wasmtime's typed API (an aggregate's `add` of
/// common shapes): `params` are `self` (`this.resource`) and the method's own parameters.
pub fn call_method_typed<Params>(
    caller: Caller<'_>,
    compiled: &CompiledPlugin,
    export: usize,
    this: StateHandle,
    params: Params,
) -> PluginResult<()>
where
    Params: ComponentNamedList + Lower,
{
    run_on(
        caller,
        compiled,
        export,
        Some(this.instance),
        |store, func, _| {
            // SAFETY: callers pick Params from the method's WIT signature, checked against the
            // component's types when the aggregate was bound.
            let typed = unsafe { TypedFunc::<Params, ()>::new_unchecked(func) };
            typed.call(store, params)
        },
    )
}

/// Drop an aggregate's state in its instance, running the guest's destructor. Nothing is
/// done when that instance is gone (after a trap, or at the end of its transaction) or in
/// use: it frees its states with itself.
pub fn drop_state(state: StateHandle) {
    INSTANCES.with(|m| {
        let Ok(mut list) = m.try_borrow_mut() else {
            return;
        };
        let Some(i) = list.iter().position(|(_, l)| l.id == state.instance) else {
            return;
        };
        let live = &mut list[i].1;
        arm_deadline(&mut live.store);
        if state.resource.resource_drop(&mut live.store).is_err() {
            // A destructor that traps leaves the store mid-update: never enter it again.
            list.swap_remove(i);
        }
    });
}

/// The argument of a scalar fast-path call (see [`FastPath`]), already in Rust form.
#[derive(Debug, Clone, Copy)]
pub enum ScalarArg<'a> {
    I64(i64),
    I32(i32),
    F64(f64),
    F64F64(f64, f64),
    Str(&'a str),
}

/// The result of a scalar fast-path call.
#[derive(Debug)]
pub enum ScalarOut {
    I64(i64),
    I32(i32),
    F64(f64),
    Bool(bool),
    Str(String),
    OptStr(Option<String>),
}

/// Call a scalar fast-path export through wasmtime's typed API, skipping dynamic values; the
/// one place that knows which Rust types each [`FastPath`] lowers and lifts. `None` when the
/// export has no scalar fast path or `arg` does not fit it.
pub fn call_scalar(
    caller: Caller<'_>,
    compiled: &CompiledPlugin,
    export: usize,
    arg: ScalarArg<'_>,
) -> Option<PluginResult<ScalarOut>> {
    use FastPath as F;
    use ScalarArg as A;
    let (p, c, e) = (caller, compiled, export);
    Some(match (compiled.exports[export].fast, arg) {
        (F::S64ToS64, A::I64(x)) => call_typed(p, c, e, (x,)).map(|(r,)| ScalarOut::I64(r)),
        (F::S32ToS32, A::I32(x)) => call_typed(p, c, e, (x,)).map(|(r,)| ScalarOut::I32(r)),
        (F::F64ToF64, A::F64(x)) => call_typed(p, c, e, (x,)).map(|(r,)| ScalarOut::F64(r)),
        (F::F64F64ToF64, A::F64F64(a, b)) => {
            call_typed(p, c, e, (a, b)).map(|(r,)| ScalarOut::F64(r))
        }
        (F::StrToStr, A::Str(s)) => call_typed(p, c, e, (s,)).map(|(r,)| ScalarOut::Str(r)),
        (F::StrToBool, A::Str(s)) => call_typed(p, c, e, (s,)).map(|(r,)| ScalarOut::Bool(r)),
        (F::StrToS64, A::Str(s)) => call_typed(p, c, e, (s,)).map(|(r,)| ScalarOut::I64(r)),
        (F::StrToOptStr, A::Str(s)) => call_typed(p, c, e, (s,)).map(|(r,)| ScalarOut::OptStr(r)),
        _ => return None,
    })
}

/// Put the tail of what the guest wrote to stderr before a trap into the error's detail.
fn with_guest_stderr(err: PluginError, stderr: &str) -> PluginError {
    match err {
        PluginError::GuestTrap {
            message,
            detail,
            stop,
        } if !stderr.is_empty() => {
            let tail: String = stderr
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            PluginError::GuestTrap {
                message,
                detail: format!("guest stderr:\n{tail}\n{detail}"),
                stop,
            }
        }
        other => other,
    }
}

fn rename_trap(err: PluginError, what: &str) -> PluginError {
    match err {
        PluginError::GuestTrap {
            message,
            detail,
            stop,
        } => PluginError::GuestTrap {
            message: format!("{what}: {message}"),
            detail,
            stop,
        },
        other => other,
    }
}

/// Drop every live instance of this backend (at the end of each transaction, after an install
/// or uninstall, and in tests).
pub fn discard_instances() {
    // An instance's stores, memories and tables are freed here, not at the next call.
    drop(INSTANCES.with(|m| m.take()));
}

#[pg_guard]
unsafe extern "C-unwind" fn end_of_transaction(
    event: pg_sys::XactEvent::Type,
    _arg: *mut std::ffi::c_void,
) {
    use pg_sys::XactEvent::*;
    if matches!(
        event,
        XACT_EVENT_COMMIT
            | XACT_EVENT_ABORT
            | XACT_EVENT_PARALLEL_COMMIT
            | XACT_EVENT_PARALLEL_ABORT
            | XACT_EVENT_PREPARE
    ) {
        discard_instances();
    }
    if matches!(
        event,
        XACT_EVENT_COMMIT | XACT_EVENT_ABORT | XACT_EVENT_PREPARE
    ) {
        super::cache::end_of_transaction(event == XACT_EVENT_COMMIT);
    }
}

/// Free instances when their transaction ends; called once per backend from `_PG_init`.
pub fn register_xact_callback() {
    // SAFETY: registers a callback that only touches this backend's thread-locals.
    unsafe { pg_sys::RegisterXactCallback(Some(end_of_transaction), std::ptr::null_mut()) };
}
