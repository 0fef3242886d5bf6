//! Host bindings of `pg-component:plugin@0.2.0` (`wit/v0.2`), generated from the WIT that
//! plugin authors build against. Every import may trap: a query interrupted by a cancel ends
//! the guest call.

wasmtime::component::bindgen!({
    path: "wit/v0.2",
    world: "imports",
    imports: { default: trappable },
    with: {
        "pg-component:plugin/query.statement": crate::query::Statement,
        "pg-component:plugin/query.rows": crate::query::Rows,
    },
});
