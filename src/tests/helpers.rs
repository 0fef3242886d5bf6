//! Helpers of the `#[pg_test]`s: fixtures, one-value queries, and error outcomes.

use pgrx::prelude::*;

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let dir = option_env!("PG_COMPONENT_WASM_DIR").unwrap_or("/var/tmp/pg_component/components");
    let path = format!("{dir}/{name}.wasm");
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("fixture {path}: {e}; run scripts/build-guests.sh"))
}

pub(crate) fn install(name: &str, component: &str) -> i64 {
    Spi::get_one_with_args::<i64>(
        "SELECT count(*) FROM wasm.install($1, $2)",
        &[name.into(), fixture(component).into()],
    )
    .unwrap()
    .unwrap()
}

pub(crate) fn one<T: IntoDatum + FromDatum>(sql: &str) -> Option<T> {
    Spi::get_one::<T>(sql).unwrap()
}

/// Run `sql` in a subtransaction; "ok" or "SQLSTATE: message [detail]".
pub(crate) fn outcome(sql: &str) -> String {
    Spi::run(
        "CREATE OR REPLACE FUNCTION pg_temp.outcome(q text) RETURNS text LANGUAGE plpgsql AS $f$
         DECLARE d text;
         BEGIN EXECUTE q; RETURN 'ok';
         EXCEPTION WHEN query_canceled OR others THEN
             GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
             RETURN SQLSTATE || ': ' || SQLERRM || ' [' || d || ']';
         END $f$",
    )
    .unwrap();
    Spi::get_one_with_args::<String>("SELECT pg_temp.outcome($1)", &[sql.into()])
        .unwrap()
        .unwrap()
}

pub(crate) fn assert_error(sql: &str, sqlstate: &str, fragment: &str) {
    let got = outcome(sql);
    assert!(
        got.starts_with(&format!("{sqlstate}: ")) && got.contains(fragment),
        "{sql}\n  expected {sqlstate} containing {fragment:?}\n  got {got}"
    );
}

/// Keep component bytes in the setting `pgc.bytes` for SQL run through `outcome`.
pub(crate) fn stash_bytes(bytes: Vec<u8>) {
    Spi::run_with_args(
        "SELECT set_config('pgc.bytes', encode($1, 'base64'), true)",
        &[bytes.into()],
    )
    .unwrap();
}

/// Run `f` as `role` (SET LOCAL ROLE), then go back to the test's superuser.
pub(crate) fn as_role<T>(role: &str, f: impl FnOnce() -> T) -> T {
    Spi::run(&format!("SET LOCAL ROLE {role}")).unwrap();
    let out = f();
    Spi::run("RESET ROLE").unwrap();
    out
}

pub(crate) fn plugin_count() -> i64 {
    one::<i64>("SELECT count(*) FROM wasm.plugins").unwrap()
}

/// Install a component written in WAT text.
pub(crate) fn install_wat(name: &str, text: &str) {
    let bytes = wat::parse_str(text).expect("fixture WAT parses");
    Spi::run_with_args(
        "SELECT count(*) FROM wasm.install($1, $2)",
        &[name.into(), bytes.into()],
    )
    .unwrap();
}

/// A component whose core module runs `start_body` as its start function and exports
/// `f: func() -> u32`.
pub(crate) fn start_function_component(start_body: &str) -> String {
    format!(
        r#"(component
             (core module $m
               (func $start {start_body})
               (func (export "f") (result i32) i32.const 7)
               (start $start))
             (core instance $i (instantiate $m))
             (func (export "f") (result u32) (canon lift (core func $i "f"))))"#
    )
}

/// A component that imports `wasi:clocks/monotonic-clock` and exports `now: func() -> u64`.
pub(crate) const MONOTONIC_NOW: &str = r#"(component
    (import "wasi:clocks/monotonic-clock@0.2.0" (instance $clock
        (export "now" (func (result u64)))))
    (core func $now (canon lower (func $clock "now")))
    (core module $m
        (import "clock" "now" (func $now (result i64)))
        (func (export "now") (result i64) call $now))
    (core instance $i (instantiate $m (with "clock" (instance (export "now" (func $now))))))
    (func (export "now") (result u64) (canon lift (core func $i "now"))))"#;

/// A component exporting `bad: func() -> T` whose core function returns the flat value
/// `value` (for strings: a pointer to (ptr, len) in its memory, which holds `data`).
pub(crate) fn bad_value_component(
    result_type: &str,
    core_result: &str,
    body: &str,
    data: &str,
) -> String {
    format!(
        r#"(component
             (core module $m
               (memory (export "mem") 1)
               (data (i32.const 16) "{data}")
               (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 256)
               (func (export "bad") (result {core_result}) {body}))
             (core instance $i (instantiate $m))
             (func (export "bad") (result {result_type})
               (canon lift (core func $i "bad") (memory (core memory $i "mem")) (realloc (core func $i "realloc")))))"#
    )
}

/// The backend's resident memory in KiB.
pub(crate) fn backend_rss_kib() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}
