//! wasi:io/poll's blocking waits (`poll` and `pollable.block`, behind a guest's sleep), served
//! in place of wasmtime-wasi's. Its sync bindings wait through a runtime *handle*, which cannot
//! drive the timers of the backend's current-thread tokio runtime: a guest that slept never
//! woke, and nothing could interrupt it, not even a terminate. Here the wait runs on that
//! runtime's own `block_on`, which drives its timers, and gives up with a trap at Postgres'
//! cancel, `statement_timeout` or terminate, or at `wasm.max_call_time`, checked every epoch
//! tick.

use std::future::Future;
use std::time::Instant;

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi_io::bindings::wasi::io::poll::{Host, HostPollable};

use super::HostState;
use crate::runtime::EPOCH_TICK;
use crate::runtime::call::{Stop, interrupt_pending};

/// The package version wasmtime-wasi links wasi:io at (components importing any 0.2.x match).
const POLL: &str = "wasi:io/poll@0.2.12";

/// Replace wasmtime-wasi's `poll` and `[method]pollable.block` in `linker`.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut inst = linker.instance(POLL)?;
    inst.func_wrap(
        "poll",
        |mut store: StoreContextMut<'_, HostState>, (list,): (Vec<Resource<DynPollable>>,)| {
            let deadline = store.data().call_limit.map(|l| l.deadline());
            let ready = wait(deadline, Host::poll(&mut store.data_mut().table, list))??;
            Ok((ready,))
        },
    )?;
    inst.func_wrap(
        "[method]pollable.block",
        |mut store: StoreContextMut<'_, HostState>, (pollable,): (Resource<DynPollable>,)| {
            let deadline = store.data().call_limit.map(|l| l.deadline());
            wait(
                deadline,
                HostPollable::block(&mut store.data_mut().table, pollable),
            )??;
            Ok(())
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// Run `fut` to completion on the backend's tokio runtime, unless Postgres wants to interrupt
/// or `deadline` (the call's `wasm.max_call_time`) passes first.
fn wait<F: Future>(deadline: Option<Instant>, fut: F) -> wasmtime::Result<F::Output> {
    let rt = crate::runtime::runtime().map_err(|e| wasmtime::Error::msg(e.to_string()))?;
    rt.tokio.block_on(async move {
        let mut fut = std::pin::pin!(fut);
        loop {
            if let Ok(out) = tokio::time::timeout(EPOCH_TICK, fut.as_mut()).await {
                return Ok(out);
            }
            if interrupt_pending() {
                return Err(wasmtime::Error::new(Stop::Interrupt));
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(wasmtime::Error::new(Stop::CallTime));
            }
        }
    })
}
