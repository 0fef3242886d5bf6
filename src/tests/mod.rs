//! `#[pg_test]`s: behaviour inside a real Postgres backend, with real components built from
//! `guests/` (see `scripts/build-guests.sh`), by concern. Each test runs in a transaction that
//! is rolled back, so installs do not leak between tests. Each file has its own
//! `#[pg_schema] mod tests`: the functions pgrx generates live in schema `tests`.

// Tests may unwrap: a panic is a failed test. (They build under the `pg_test` feature, not
// `cfg(test)`, so clippy's `allow-unwrap-in-tests` does not cover them.)
#![allow(clippy::unwrap_used)]

#[cfg(any(test, feature = "pg_test"))]
mod helpers;

mod calls;
mod install;
mod privileges;
mod runtime;
mod sandbox;
