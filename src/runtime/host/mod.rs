//! The per-store host state: WASI with every capability denied, memory limits, and guest
//! stdout/stderr captured into bounded buffers that go to the server log after each call.

pub mod http;
pub mod log;
pub mod poll;
pub mod query;
mod v0_1;
mod v0_2;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use parking_lot::Mutex;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// How much guest output one store keeps between two flushes to the log; the rest is counted
/// and dropped, so a guest that prints in a loop cannot flood the server log or the memory.
pub const OUTPUT_CAP: usize = 64 * 1024;

/// Bytes a guest wrote to one stream, shared between the stream handles WASI hands out and
/// the host that drains it.
#[derive(Default)]
struct Captured {
    bytes: Vec<u8>,
    dropped: usize,
}

/// One guest output stream (stdout or stderr), bounded by [`OUTPUT_CAP`]. The flag tells,
/// without taking the lock, whether anything was written since the last drain.
#[derive(Clone, Default)]
pub struct LogPipe(Arc<(Mutex<Captured>, AtomicBool)>);

impl LogPipe {
    fn push(&self, data: &[u8]) {
        self.0.1.store(true, Ordering::Relaxed);
        let mut c = self.0.0.lock();
        let room = OUTPUT_CAP.saturating_sub(c.bytes.len());
        let take = room.min(data.len());
        c.bytes.extend_from_slice(&data[..take]);
        c.dropped += data.len() - take;
    }

    /// Whether anything was written (or dropped) since the last drain.
    pub fn has_data(&self) -> bool {
        self.0.1.load(Ordering::Relaxed)
    }

    /// Take what was written since the last drain: the text and how many bytes were dropped.
    pub fn drain(&self) -> Option<(String, usize)> {
        self.0.1.store(false, Ordering::Relaxed);
        let mut c = self.0.0.lock();
        if c.bytes.is_empty() && c.dropped == 0 {
            return None;
        }
        let text = String::from_utf8_lossy(&c.bytes).into_owned();
        let dropped = c.dropped;
        c.bytes.clear();
        c.dropped = 0;
        Some((text, dropped))
    }
}

impl IsTerminal for LogPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogPipe {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Pollable for LogPipe {
    async fn ready(&mut self) {}
}

impl OutputStream for LogPipe {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // Always accept: what exceeds the cap is dropped and counted, not refused, so a chatty
        // guest keeps working.
        Ok(OUTPUT_CAP)
    }
}

impl tokio::io::AsyncWrite for LogPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The data of one wasmtime `Store`: one instance of one plugin for one role in one
/// transaction.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// `wasi:http`'s context; its hooks deny every request.
    http: wasmtime_wasi_http::WasiHttpCtx,
    network: http::DenyNetwork,
    /// The linear-memory cap, checked by wasmtime on every growth.
    pub limits: MemoryLimit,
    /// Guest stdout.
    pub stdout: LogPipe,
    /// Guest stderr.
    pub stderr: LogPipe,
    /// Messages from `pg-component:plugin/log`.
    pub log: log::LogBuffer,
    /// When the current call must stop (`wasm.max_call_time`), if set.
    pub call_limit: Option<CallLimit>,
}

/// A call's `wasm.max_call_time`, in epoch ticks from when it was armed.
#[derive(Debug, Clone, Copy)]
pub struct CallLimit {
    /// [`crate::runtime::ticks`] when the call started.
    pub armed_at: u64,
    /// How many ticks it may run.
    pub ticks: u64,
}

impl CallLimit {
    /// A limit of `ticks` ticks from now.
    pub fn from_now(ticks: u64) -> CallLimit {
        CallLimit {
            armed_at: crate::runtime::ticks(),
            ticks,
        }
    }

    /// Whether the call has run out of time.
    pub fn passed(&self) -> bool {
        crate::runtime::ticks().wrapping_sub(self.armed_at) >= self.ticks
    }

    /// The wall-clock time the call must end by, for a host wait.
    pub fn deadline(&self) -> std::time::Instant {
        let spent = crate::runtime::ticks().wrapping_sub(self.armed_at);
        let left = u32::try_from(self.ticks.saturating_sub(spent)).unwrap_or(u32::MAX);
        std::time::Instant::now() + crate::runtime::EPOCH_TICK * left
    }
}

impl HostState {
    /// A sandbox with no filesystem, network, environment or arguments, whose linear memory
    /// may grow to `max_memory` bytes. A deterministic plugin's monotonic clock is frozen.
    pub fn new(max_memory: usize, deterministic: bool) -> HostState {
        let stdout = LogPipe::default();
        let stderr = LogPipe::default();
        let mut builder = WasiCtx::builder();
        if deterministic {
            builder.monotonic_clock(FrozenClock);
        }
        let wasi = builder
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }))
            .build();
        HostState {
            wasi,
            table: ResourceTable::new(),
            http: wasmtime_wasi_http::WasiHttpCtx::new(),
            network: http::DenyNetwork,
            limits: MemoryLimit {
                max: max_memory,
                current: 0,
            },
            stdout,
            stderr,
            log: Default::default(),
            call_limit: None,
        }
    }

    /// Whether the guest wrote or logged anything since the last flush.
    pub fn has_output(&self) -> bool {
        self.stdout.has_data() || self.stderr.has_data() || !self.log.is_empty()
    }
}

/// The monotonic clock of deterministic plugins: it never advances, so a result cannot depend
/// on elapsed time. (Rust's standard library imports `wasi:clocks/monotonic-clock` for its I/O
/// whether or not the plugin reads it; the wall clock and random numbers stay refused.)
struct FrozenClock;

impl wasmtime_wasi::HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        0
    }
}

/// The error a refused memory growth traps with: the trap's cause, found by type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryLimitHit {
    /// The size the guest asked for, in bytes.
    pub desired: usize,
    /// `wasm.max_memory` in bytes.
    pub max: usize,
}

impl std::fmt::Display for MemoryLimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "linear memory of {} bytes would exceed wasm.max_memory ({} bytes)",
            self.desired, self.max
        )
    }
}

impl std::error::Error for MemoryLimitHit {}

/// `wasm.max_memory` for one store: a growth beyond it traps with [`MemoryLimitHit`] (instead
/// of `memory.grow` returning -1, which guests rarely check). Tables grow freely: their
/// elements count against the same memory only through the host.
pub struct MemoryLimit {
    /// The cap in bytes (`wasm.max_memory` when the instance was made or last grew).
    pub max: usize,
    /// The linear memory the instance has, in bytes (its largest memory's size).
    pub current: usize,
}

impl ResourceLimiter for MemoryLimit {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // The current setting, read at each growth (not per call): a SET applies at once, to
        // live instances too.
        self.max = crate::guc::max_memory_bytes();
        if desired > self.max {
            return Err(wasmtime::Error::new(MemoryLimitHit {
                desired,
                max: self.max,
            }));
        }
        self.current = self.current.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_bounded_and_drained() {
        let pipe = LogPipe::default();
        assert_eq!(pipe.drain(), None);
        pipe.push(b"hello ");
        pipe.push(b"world");
        assert_eq!(pipe.drain(), Some(("hello world".to_string(), 0)));
        assert_eq!(pipe.drain(), None);
        pipe.push(&vec![b'x'; OUTPUT_CAP + 10]);
        let (text, dropped) = pipe.drain().unwrap();
        assert_eq!(text.len(), OUTPUT_CAP);
        assert_eq!(dropped, 10);
    }
}
