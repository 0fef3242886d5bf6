#!/usr/bin/env bash
# The whole test suite: unit tests and #[pg_test]s (cargo pgrx test), then the SQL regression
# tests (scripts/regress.sh, Postgres' pg_regress), against a real PostgreSQL 15 run as the OS user postgres.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/env.sh"
root="$(dirname "$here")"

bash "$here/setup.sh"
bash "$here/build-guests.sh" >/dev/null
install -d -o postgres -g postgres "$PGC_VAR/test-pgdata"
cd "$root"
cargo pgrx test pg15 --runas postgres --pgdata "$PGC_VAR/test-pgdata/data"
bash "$here/regress.sh"
bash "$here/sessions.sh"
bash "$here/cli.sh"
bash "$here/operations.sh"
