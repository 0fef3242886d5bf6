//! The extension's configuration parameters (GUCs). The limits are superuser-only: a user
//! who could raise them could take the server's memory or time.

use std::time::Duration;

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};

/// `wasm.max_memory`: cap on one instance's linear memory, in MB.
pub static MAX_MEMORY_MB: GucSetting<i32> = GucSetting::<i32>::new(256);
/// `wasm.max_call_time`: wall-clock limit of one guest call, in ms; 0 = none beyond
/// `statement_timeout`.
pub static MAX_CALL_TIME_MS: GucSetting<i32> = GucSetting::<i32>::new(0);
/// `wasm.max_component_size`: largest component `wasm.install` accepts, in MB.
pub static MAX_COMPONENT_SIZE_MB: GucSetting<i32> = GucSetting::<i32>::new(64);

/// `wasm.max_query_rows`: most rows one `query` of a plugin returns at once.
pub static MAX_QUERY_ROWS: GucSetting<i32> = GucSetting::<i32>::new(10_000);

/// `wasm.log_calls_over`: log each plugin call that runs longer, in ms; -1 = off.
pub static LOG_CALLS_OVER_MS: GucSetting<i32> = GucSetting::<i32>::new(-1);

/// `wasm.track_stats`: count calls, errors and sampled times per plugin and export.
pub static TRACK_STATS: GucSetting<bool> = GucSetting::<bool>::new(true);

/// Register the GUCs; called from `_PG_init`.
pub fn register() {
    GucRegistry::define_int_guc(
        c"wasm.max_memory",
        c"Maximum linear memory of one plugin instance.",
        c"A guest that grows beyond it gets an error. Only superusers can change it.",
        &MAX_MEMORY_MB,
        1,
        64 * 1024,
        GucContext::Suset,
        GucFlags::UNIT_MB,
    );
    GucRegistry::define_int_guc(
        c"wasm.max_call_time",
        c"Maximum wall-clock time of one plugin call (0 = only statement_timeout applies).",
        c"A guest call running longer is stopped with SQLSTATE 57014. Only superusers can change it.",
        &MAX_CALL_TIME_MS,
        0,
        i32::MAX,
        GucContext::Suset,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_int_guc(
        c"wasm.max_component_size",
        c"Largest component wasm.install accepts.",
        c"Only superusers can change it.",
        &MAX_COMPONENT_SIZE_MB,
        1,
        1024,
        GucContext::Suset,
        GucFlags::UNIT_MB,
    );
    GucRegistry::define_int_guc(
        c"wasm.max_query_rows",
        c"Most rows one query of a plugin returns at once.",
        c"A query returning more gives the plugin an error (54000); a cursor reads any number in batches. Only superusers can change it.",
        &MAX_QUERY_ROWS,
        1,
        i32::MAX,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"wasm.track_stats",
        c"Count plugin calls, errors and sampled call times for wasm.stats.",
        c"Only superusers can change it.",
        &TRACK_STATS,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"wasm.log_calls_over",
        c"Log each plugin call that runs longer than this (-1 = off), naming plugin and export.",
        c"Like log_min_duration_statement, for one guest call. Only superusers can change it.",
        &LOG_CALLS_OVER_MS,
        -1,
        i32::MAX,
        GucContext::Suset,
        GucFlags::UNIT_MS,
    );
}

/// `wasm.track_stats`.
pub fn track_stats() -> bool {
    // SAFETY: see `read`.
    unsafe { read(&TRACK_STATS) }
}

/// A GUC's current value, read in place without pgrx's per-read thread check: the call path
/// reads three per row. Postgres sets GUCs on the backend's thread, the only one that runs
/// SQL (and this code).
///
/// # Safety
/// Call on the backend's thread.
unsafe fn read<T: pgrx::guc::GucValue>(setting: &GucSetting<T>) -> T::Raw
where
    T::Raw: Copy,
{
    // SAFETY: a valid pointer to the GUC's variable (a static), written only on this thread.
    unsafe { *setting.as_ptr() }
}

/// `wasm.log_calls_over`, if on.
pub fn log_calls_over() -> Option<Duration> {
    // SAFETY: see `read`.
    match unsafe { read(&LOG_CALLS_OVER_MS) } {
        ms if ms >= 0 => Some(Duration::from_millis(ms as u64)),
        _ => None,
    }
}

/// `wasm.max_query_rows`.
pub fn max_query_rows() -> usize {
    MAX_QUERY_ROWS.get().max(1) as usize
}

/// `wasm.max_memory` in bytes.
pub fn max_memory_bytes() -> usize {
    (MAX_MEMORY_MB.get().max(1) as usize) << 20
}

/// `wasm.max_call_time`, if set.
pub fn max_call_time() -> Option<Duration> {
    match MAX_CALL_TIME_MS.get() {
        ms if ms > 0 => Some(Duration::from_millis(ms as u64)),
        _ => None,
    }
}

/// `wasm.max_call_time` in epoch ticks, rounded up and one more (a call armed just before a
/// tick is never stopped early), if set.
pub fn max_call_time_ticks() -> Option<u64> {
    let tick = crate::runtime::EPOCH_TICK.as_millis() as u64;
    // SAFETY: see `read`.
    match unsafe { read(&MAX_CALL_TIME_MS) } {
        ms if ms > 0 => Some((ms as u64).div_ceil(tick) + 1),
        _ => None,
    }
}

/// `wasm.max_component_size` in bytes.
pub fn max_component_bytes() -> usize {
    (MAX_COMPONENT_SIZE_MB.get().max(1) as usize) << 20
}
