//! Calling an export: instances reused within one transaction for one role, discarded after a
//! trap, interrupted by Postgres' cancel, `statement_timeout` and the per-call time limit, and
//! guest output flushed to the server log after every call.

use std::cell::{Cell, RefCell, UnsafeCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
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
use super::text::PgText;
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

/// A live instance of one component: its store, and its exports looked up so far.
struct LiveInstance {
    store: Store<HostState>,
    instance: Instance,
    /// Exports looked up so far, by index into `CompiledPlugin::exports`.
    funcs: Vec<Option<Func>>,
}

/// Instances are keyed by the address of the `CompiledPlugin` they were made from (export
/// indexes belong to it; compiled plugins live as long as the backend), by role, and by
/// whether the caller is deterministic (a deterministic plugin's sandbox differs), and then
/// by plugin name (`Slot::plugin`).
type InstanceKey = (usize, pg_sys::Oid, bool);

/// One live instance for one plugin and role in one transaction, at one call depth, and
/// what finds it.
struct Slot {
    /// Unique in the backend: resource handles (aggregate states) name their instance by it.
    id: u64,
    key: InstanceKey,
    /// The plugin it runs for: two plugins installed from the same bytes (two importers of
    /// one provider, say) never share an instance, nor the state in it.
    plugin: Box<str>,
    lxid: pg_sys::LocalTransactionId,
    /// The call depth it serves ([`DEPTH`]): a guest query that calls a wasm function runs it
    /// on an instance of the next depth, never re-entering the calling one.
    depth: u32,
    /// In a call (or being instantiated): never entered again until it returns.
    busy: Cell<bool>,
    /// Its linear memory after its last call, for `wasm.backend_stats()`.
    memory: Cell<usize>,
    /// Entered only while `busy` is set, by the call that set it.
    live: UnsafeCell<LiveInstance>,
}

/// Where a plugin's calls found their instance last. Checked on every call against the role,
/// the transaction, the call depth and [`SLOTS_GENERATION`] (`SET ROLE` between rows, a new
/// transaction, a discarded instance), it spares a run of rows the search of [`INSTANCES`].
/// Kept per resolved plugin, whose name, compiled code and determinism make the rest of the
/// key.
pub struct InstanceHint {
    slot: Cell<*const Slot>,
    generation: Cell<u64>,
    role: Cell<pg_sys::Oid>,
    lxid: Cell<pg_sys::LocalTransactionId>,
}

impl std::fmt::Debug for InstanceHint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstanceHint")
            .field("generation", &self.generation.get())
            .field("role", &self.role.get())
            .finish_non_exhaustive()
    }
}

impl Default for InstanceHint {
    fn default() -> Self {
        InstanceHint {
            slot: Cell::new(std::ptr::null()),
            generation: Cell::new(u64::MAX),
            role: Cell::new(pg_sys::Oid::INVALID),
            lxid: Cell::new(0),
        }
    }
}

impl InstanceHint {
    /// The slot it remembers, if still this role's and this transaction's and still live.
    fn get(&self, role: pg_sys::Oid, lxid: pg_sys::LocalTransactionId) -> Option<Rc<Slot>> {
        if self.generation.get() != SLOTS_GENERATION.load(Relaxed)
            || self.role.get() != role
            || self.lxid.get() != lxid
        {
            return None;
        }
        let slot = self.slot.get();
        // SAFETY: the generation is unchanged since `set`, so the slot is still in
        // INSTANCES, which holds a strong reference to it; we take one more.
        let slot = unsafe {
            Rc::increment_strong_count(slot);
            Rc::from_raw(slot)
        };
        (!slot.busy.get()).then_some(slot)
    }

    fn set(&self, slot: &Rc<Slot>, role: pg_sys::Oid) {
        self.slot.set(Rc::as_ptr(slot));
        self.generation.set(SLOTS_GENERATION.load(Relaxed));
        self.role.set(role);
        self.lxid.set(slot.lxid);
    }
}

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
    /// Where its calls found their instance last.
    pub hint: Option<&'a InstanceHint>,
}

thread_local! {
    /// A backend holds few live instances (one per plugin and role in use); a short list is
    /// searched when a plugin's [`InstanceHint`] misses.
    static INSTANCES: RefCell<Vec<Rc<Slot>>> = const { RefCell::new(Vec::new()) };
}

/// Bumped whenever a slot leaves [`INSTANCES`]: hints made before are stale. This and the
/// counters below are process globals rather than thread-locals: a backend runs SQL on one
/// thread, and a thread-local in a shared library costs a `__tls_get_addr` call per touch.
static SLOTS_GENERATION: AtomicU64 = AtomicU64::new(0);
/// How many guest calls are in progress on the stack (a guest query can call wasm functions).
static DEPTH: AtomicU32 = AtomicU32::new(0);

/// Whether a guest call is running (a statement ending now is a guest's query, or a wasm
/// function that query called).
pub fn in_guest_call() -> bool {
    DEPTH.load(Relaxed) > 0
}
static NEXT_INSTANCE_ID: AtomicU64 = AtomicU64::new(1);

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
        if ctx.data().call_limit.is_some_and(|l| l.passed()) {
            return Err(wasmtime::Error::new(Stop::CallTime));
        }
        Ok(UpdateDeadline::Continue(1))
    });
    // Armed once here; from then on the callback re-arms it one tick ahead. A call that starts
    // after a tick has passed runs the callback once at its first check (cheap), so no call
    // needs to re-arm it.
    store.set_epoch_deadline(1);
    arm_call_limit(&mut store);
    let instance = compiled
        .pre
        .instantiate(&mut store)
        .map_err(|e| trap_error(&e, "instantiation"))?;
    Ok(LiveInstance {
        store,
        instance,
        funcs: vec![None; compiled.exports.len()],
    })
}

/// How many resource handles an instance may hold at once: one per 64 bytes of
/// `wasm.max_memory`, and at least wasmtime's default.
fn max_handles() -> usize {
    (guc::max_memory_bytes() / 64).max(100_000)
}

/// Arm the per-call time limit for the next call (no clock read: the limit counts epoch
/// ticks, and the epoch callback checks it at every tick the call runs through).
#[inline(always)]
fn arm_call_limit(store: &mut Store<HostState>) {
    store.data_mut().call_limit = guc::max_call_time_ticks().map(super::host::CallLimit::from_now);
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
    let slot = instance_for(caller, compiled).map_err(|err| rename_trap(err, &what()))?;
    if expected.is_some_and(|id| id != slot.id) {
        return Err(PluginError::NotSupported(
            format!(
                "{}: the state it was called with belongs to an instance that is gone (discarded after a trap, or another role's)",
                what()
            ),
            None,
        ));
    }
    let call = InCall::enter(&slot);
    // SAFETY: `call` marked the slot busy, so nothing else enters it until it is dropped.
    let live = unsafe { call.live() };
    arm_call_limit(&mut live.store);
    let Some(func) = export_func(live, compiled, export) else {
        return Err(PluginError::Internal(format!(
            "{} is missing from the instance",
            what()
        )));
    };
    let timed = caller.counters.is_some_and(|c| c.call(export)) || guc::log_calls_over().is_some();
    let started = timed.then(Instant::now);
    let outcome = f(&mut live.store, func, slot.id);
    if let Some(started) = started {
        observe_time(caller, compiled, export, started);
    }
    let memory = live.store.data().limits.current;
    slot.memory.set(memory);
    if let Some(c) = caller.counters {
        c.memory(memory);
    }
    let stderr = report_output(caller.plugin, live);
    drop(call);
    match outcome {
        Ok(v) => Ok(v),
        Err(e) => {
            // The store may be mid-update after a trap: never enter it again.
            forget_slot(&slot);
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

/// A call in progress on a slot: marks it busy and one call deeper, and undoes both when
/// dropped (on every exit, a panic's unwinding included).
struct InCall<'a> {
    slot: &'a Slot,
    _deeper: Deeper,
}

impl<'a> InCall<'a> {
    fn enter(slot: &'a Slot) -> InCall<'a> {
        debug_assert!(!slot.busy.get(), "an instance is never re-entered");
        slot.busy.set(true);
        InCall {
            slot,
            _deeper: Deeper::enter(DEPTH.load(Relaxed)),
        }
    }

    /// The slot's instance.
    ///
    /// # Safety
    /// Only one reference from it may be live at a time (the slot is busy: no other call
    /// takes one).
    #[allow(clippy::mut_from_ref)]
    unsafe fn live(&self) -> &'a mut LiveInstance {
        // SAFETY: as the contract says; `busy` keeps every other call out.
        unsafe { &mut *self.slot.live.get() }
    }
}

impl Drop for InCall<'_> {
    fn drop(&mut self) {
        self.slot.busy.set(false);
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

/// The linear memory of this backend's live instances of `compiled`, in bytes, after their
/// last calls.
pub fn live_memory(compiled: &CompiledPlugin) -> u64 {
    let key = compiled as *const CompiledPlugin as usize;
    INSTANCES.with(|m| {
        m.borrow()
            .iter()
            .filter(|s| s.key.0 == key)
            .map(|s| s.memory.get() as u64)
            .sum()
    })
}

/// This role's instance of `compiled` for this transaction at the current call depth: the
/// one the caller's hint remembers (the per-row case), else the one in [`INSTANCES`], else a
/// fresh one (replacing one from an earlier transaction).
#[inline(always)]
fn instance_for(caller: Caller<'_>, compiled: &CompiledPlugin) -> PluginResult<Rc<Slot>> {
    let role = crate::catalog::acl::current_role();
    let lxid = current_lxid();
    let depth = DEPTH.load(Relaxed);
    // Only outermost calls use hints: they are the per-row case, and a hint is one slot.
    let hint = caller.hint.filter(|_| depth == 0);
    if let Some(slot) = hint.and_then(|h| h.get(role, lxid)) {
        return Ok(slot);
    }
    let slot = checkout(caller, compiled, role, lxid, depth)?;
    if let Some(h) = hint {
        h.set(&slot, role);
    }
    Ok(slot)
}

/// [`instance_for`] without a hint: search [`INSTANCES`], or instantiate. The list is not
/// borrowed while the guest's start code runs (it may query, and the query call plugins).
fn checkout(
    caller: Caller<'_>,
    compiled: &CompiledPlugin,
    role: pg_sys::Oid,
    lxid: pg_sys::LocalTransactionId,
    depth: u32,
) -> PluginResult<Rc<Slot>> {
    let key = (
        compiled as *const CompiledPlugin as usize,
        role,
        caller.deterministic,
    );
    let found = INSTANCES.with(|m| {
        let mut list = m.borrow_mut();
        let i = list.iter().position(|s| {
            s.key == key && s.depth == depth && !s.busy.get() && *s.plugin == *caller.plugin
        })?;
        if list[i].lxid == lxid {
            return Some(list[i].clone());
        }
        // From an earlier transaction.
        list.swap_remove(i);
        SLOTS_GENERATION.fetch_add(1, Relaxed);
        None
    });
    if let Some(slot) = found {
        return Ok(slot);
    }
    // Instantiation may run guest code: it counts as a call one level down (restored on every
    // exit, an ERROR's unwinding included, so a caught one leaves the depth as it was).
    let fresh = {
        let _deeper = Deeper::enter(depth);
        new_instance(compiled, caller)
    };
    let slot = Rc::new(Slot {
        id: NEXT_INSTANCE_ID.fetch_add(1, Relaxed),
        key,
        plugin: caller.plugin.into(),
        lxid,
        depth,
        busy: Cell::new(false),
        memory: Cell::new(0),
        live: UnsafeCell::new(fresh?),
    });
    INSTANCES.with(|m| m.borrow_mut().push(slot.clone()));
    Ok(slot)
}

/// [`DEPTH`] one level below `depth` while it lives, restored when dropped. A store, not a
/// locked read-modify-write: only the backend's main thread touches [`DEPTH`].
struct Deeper(u32);

impl Deeper {
    #[inline(always)]
    fn enter(depth: u32) -> Deeper {
        DEPTH.store(depth + 1, Relaxed);
        Deeper(depth)
    }
}

impl Drop for Deeper {
    fn drop(&mut self) {
        DEPTH.store(self.0, Relaxed);
    }
}

/// Take `slot` out of [`INSTANCES`] (after a trap): no call finds it again.
fn forget_slot(slot: &Rc<Slot>) {
    INSTANCES.with(|m| m.borrow_mut().retain(|s| !Rc::ptr_eq(s, slot)));
    SLOTS_GENERATION.fetch_add(1, Relaxed);
}

/// Export number `export`'s function in `live`, looked up once per instance.
#[inline]
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
#[inline]
fn report_output(plugin: &str, live: &mut LiveInstance) -> String {
    if !live.store.data().has_output() {
        return String::new();
    }
    report_some_output(plugin, live)
}

/// [`report_output`] when there is some.
#[inline(never)]
fn report_some_output(plugin: &str, live: &mut LiveInstance) -> String {
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
    let slot = INSTANCES.with(|m| {
        m.borrow()
            .iter()
            .find(|s| s.id == state.instance && !s.busy.get())
            .cloned()
    });
    let Some(slot) = slot else {
        return;
    };
    let call = InCall::enter(&slot);
    // SAFETY: `call` marked the slot busy, so nothing else enters it until it is dropped.
    let live = unsafe { call.live() };
    arm_call_limit(&mut live.store);
    let dropped = state.resource.resource_drop(&mut live.store);
    drop(call);
    if dropped.is_err() {
        // A destructor that traps leaves the store mid-update: never enter it again.
        forget_slot(&slot);
    }
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
    /// A string lifted straight into a `text` (when the caller asked for one).
    Text(PgText),
    OptText(Option<PgText>),
}

/// Call a scalar fast-path export through wasmtime's typed API, skipping dynamic values; the
/// one place that knows which Rust types each [`FastPath`] lowers and lifts. A string result
/// comes back as a `text` datum when `as_text`, else as a `String`. `None` when the export
/// has no scalar fast path or `arg` does not fit it.
#[inline(always)]
pub fn call_scalar(
    caller: Caller<'_>,
    compiled: &CompiledPlugin,
    export: usize,
    arg: ScalarArg<'_>,
    as_text: bool,
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
        (F::StrToStr, A::Str(s)) if as_text => {
            call_typed(p, c, e, (s,)).map(|(r,)| ScalarOut::Text(r))
        }
        (F::StrToStr, A::Str(s)) => call_typed(p, c, e, (s,)).map(|(r,)| ScalarOut::Str(r)),
        (F::StrToBool, A::Str(s)) => call_typed(p, c, e, (s,)).map(|(r,)| ScalarOut::Bool(r)),
        (F::StrToS64, A::Str(s)) => call_typed(p, c, e, (s,)).map(|(r,)| ScalarOut::I64(r)),
        (F::StrToOptStr, A::Str(s)) if as_text => {
            call_typed(p, c, e, (s,)).map(|(r,)| ScalarOut::OptText(r))
        }
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
    // An instance's stores, memories and tables are freed here, not at the next call (a
    // call in progress, if any, holds on to its own until it returns).
    drop(INSTANCES.with(|m| m.take()));
    SLOTS_GENERATION.fetch_add(1, Relaxed);
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
        // No guest call survives its transaction; an abort may have skipped their ends.
        DEPTH.store(0, Relaxed);
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
