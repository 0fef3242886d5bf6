//! Host bindings of `pg-component:plugin@0.1.0` (`wit/v0.1`), generated from the WIT that
//! plugin authors build against: the host cannot drift from the published contract.

wasmtime::component::bindgen!({
    path: "wit/v0.1",
    world: "imports",
});
