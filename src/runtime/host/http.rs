//! `wasi:http`, linked so that components whose toolchain imports it by default (a default
//! componentize-js build imports `wasi:http/types` and `outgoing-handler` whether or not the
//! script calls `fetch`) install and run. `wasi:http/types` is wasmtime's; our
//! `outgoing-handler` denies every request at once with the error code `HTTP-request-denied`:
//! no connection is opened and no task is started (a task could not run anyway: a backend's
//! tokio runtime is a current-thread one that nothing drives).

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi_http::p2::bindings::http::types;
use wasmtime_wasi_http::p2::types::{HostFutureIncomingResponse, HostOutgoingRequest};
use wasmtime_wasi_http::{RequestOptions, WasiHttp, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use super::HostState;

/// The `wasi:http` hooks of every plugin. Requests never get as far as `send_request` (our
/// `outgoing-handler` refuses them first); if one did, it would be denied too.
#[derive(Default)]
pub struct DenyNetwork;

impl WasiHttpHooks for DenyNetwork {
    fn send_request(
        &mut self,
        _request: http::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> Box<dyn Future<Output = wasmtime_wasi_http::Result<Sent>> + Send> {
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}

/// What `send_request` hands back: the response and the future of its body's I/O.
type Sent = (
    http::Response<wasmtime_wasi_http::WasiBody>,
    Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
);

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.network,
        }
    }
}

/// The `wasi:http` version whose `outgoing-handler` we define; imports of any 0.2.x resolve
/// to it (wasmtime's linker matches semver-compatible versions), as `wasi:http/types` does.
const OUTGOING_HANDLER: &str = "wasi:http/outgoing-handler@0.2.12";

/// Link `wasi:http/types` (wasmtime's) and our `wasi:http/outgoing-handler`, whose `handle`
/// frees the request (and its options) and refuses it with `HTTP-request-denied`.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    let options = wasmtime_wasi_http::p2::bindings::LinkOptions::default();
    types::add_to_linker::<_, WasiHttp>(linker, &options.into(), HostState::http)?;
    linker.instance(OUTGOING_HANDLER)?.func_wrap(
        "handle",
        |mut store: StoreContextMut<'_, HostState>,
         (request, options): (
            Resource<HostOutgoingRequest>,
            Option<Resource<RequestOptions>>,
        )| {
            let table = &mut store.data_mut().table;
            table.delete(request)?;
            if let Some(options) = options {
                table.delete(options)?;
            }
            let denied: Result<Resource<HostFutureIncomingResponse>, types::ErrorCode> =
                Err(types::ErrorCode::HttpRequestDenied);
            Ok((denied,))
        },
    )
}
