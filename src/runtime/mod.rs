//! The per-backend wasmtime runtime: one `Engine`, one `Linker`, created lazily on first use
//! inside a backend (never in the postmaster), plus the epoch ticker that lets Postgres
//! interrupts stop a running guest.

pub mod aggregate;
pub mod cache;
pub mod call;
pub mod host;
pub mod plugin;
pub mod text;

use std::cell::OnceCell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use wasmtime::component::Linker;
use wasmtime::{Config, Engine};

use crate::error::{PluginError, PluginResult};
use host::HostState;

/// How often the ticker advances the engine's epoch; the latency of a cancel or timeout.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Epoch ticks since the ticker started. `wasm.max_call_time` is counted in them, so arming it
/// for a call reads no clock.
static TICKS: AtomicU64 = AtomicU64::new(0);

/// The epoch ticks so far.
pub fn ticks() -> u64 {
    TICKS.load(Relaxed)
}

/// The backend's engine and linker.
pub struct Runtime {
    /// The one engine of this backend.
    pub engine: Engine,
    /// WASI p2 (every capability denied by the per-store context) and our host interfaces.
    pub linker: Linker<HostState>,
    /// A current-thread tokio runtime for WASI's sync bindings: without one entered, they
    /// would start a multi-threaded pool inside the backend. Only its own `block_on` drives
    /// its timers, which is how `host::poll` waits.
    pub tokio: tokio::runtime::Runtime,
}

thread_local! {
    static RUNTIME: OnceCell<&'static Runtime> = const { OnceCell::new() };
}

/// The backend's runtime, created on first use.
pub fn runtime() -> PluginResult<&'static Runtime> {
    RUNTIME.with(|cell| {
        if let Some(rt) = cell.get() {
            return Ok(*rt);
        }
        let rt: &'static Runtime = Box::leak(Box::new(create_runtime()?));
        let _ = cell.set(rt);
        Ok(rt)
    })
}

fn engine_config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // No component-model async: calls are synchronous, and without it wasmtime 50 takes the
    // cheaper call path (wasmtime-wasi's p2 bindings do not need it).
    config.concurrency_support(false);
    // Cancel, statement_timeout and the per-call limit work through epochs.
    config.epoch_interruption(true);
    // The guest stack lives on the backend's stack; keep it well under its 8 MB.
    config.max_wasm_stack(1 << 20);
    // Reserve address space per linear memory modestly: many plugins in many backends.
    config.memory_reservation(1 << 30);
    config.memory_guard_size(32 << 20);
    config.memory_reservation_for_growth(16 << 20);
    config.memory_init_cow(true);
    config
}

fn create_runtime() -> PluginResult<Runtime> {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| PluginError::Internal(format!("could not start the I/O runtime: {e}")))?;
    // Keep it entered for the life of the backend.
    std::mem::forget(tokio.enter());

    let engine = Engine::new(&engine_config())
        .map_err(|e| PluginError::Internal(format!("could not create the wasm engine: {e}")))?;
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
        .map_err(|e| PluginError::Internal(format!("could not link WASI: {e}")))?;
    host::poll::add_to_linker(&mut linker)
        .map_err(|e| PluginError::Internal(format!("could not link wasi:io/poll: {e}")))?;
    host::http::add_to_linker(&mut linker)
        .map_err(|e| PluginError::Internal(format!("could not link WASI HTTP: {e}")))?;
    host::log::add_to_linker(&mut linker)
        .map_err(|e| PluginError::Internal(format!("could not link the log interface: {e}")))?;
    host::query::add_to_linker(&mut linker)
        .map_err(|e| PluginError::Internal(format!("could not link the query interface: {e}")))?;
    start_epoch_ticker(engine.clone())?;
    Ok(Runtime {
        engine,
        linker,
        tokio,
    })
}

/// A thread that advances the epoch so running guests check for interrupts. It blocks every
/// signal: Postgres' SIGINT, SIGALRM and SIGTERM must reach the backend's main thread.
fn start_epoch_ticker(engine: Engine) -> PluginResult<()> {
    // SAFETY: sigfillset/pthread_sigmask only touch the masks passed in; the old mask is
    // restored right after the spawn, so only the new thread inherits the blocked set.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
        let spawned = std::thread::Builder::new()
            .name("pg_component epoch".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                loop {
                    std::thread::sleep(EPOCH_TICK);
                    TICKS.fetch_add(1, Relaxed);
                    engine.increment_epoch();
                }
            });
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        spawned
            .map(|_| ())
            .map_err(|e| PluginError::Internal(format!("could not start the epoch ticker: {e}")))
    }
}
