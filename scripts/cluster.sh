# Throwaway Postgres cluster helpers: sourced by demo.sh and bench/run.sh, not run.
# The cluster runs as the OS user postgres (Postgres refuses root) on a Unix socket only.
PGBIN="$(dirname "$PG_CONFIG")"

# The guests and a release build of the extension, installed: what every bench/ script times.
install_release() {
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    bash "$root/scripts/build-guests.sh" >/dev/null
    (cd "$root" && cargo pgrx install --release --pg-config "$PG_CONFIG" >/dev/null)
}

cluster_start() { # dir port [extra postgres options, e.g. "-c shared_preload_libraries=pg_component"]
    local dir="$1" port="$2" extra="${3:-}"
    install -d -o postgres -g postgres -m 700 "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
        sudo -u postgres "$PGBIN/initdb" -D "$dir" -A trust -U postgres --locale=C.UTF-8 -E UTF8 >/dev/null
    fi
    sudo -u postgres "$PGBIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
        -o "-p $port -k /tmp -c listen_addresses=''" stop -m fast >/dev/null 2>&1 || true
    sudo -u postgres "$PGBIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
        -o "-p $port -k /tmp -c listen_addresses='' $extra" start >/dev/null
}

cluster_stop() { # dir
    sudo -u postgres "$PGBIN/pg_ctl" -D "$1" -w stop -m fast >/dev/null 2>&1 || true
}

# psql against the cluster as the postgres superuser; extra arguments pass through.
cluster_psql() { # port db args...
    local port="$1" db="$2"
    shift 2
    "$PGBIN/psql" -X -v ON_ERROR_STOP=1 -h /tmp -p "$port" -U postgres -d "$db" "$@"
}

# Test checks for the scripts that run them (sessions.sh, operations.sh): count and report each.
passed=0
failed=0
check() { # name command...: runs the command (under set -e, a failing one must not end the script)
    local name="$1"
    shift
    if "$@"; then passed=$((passed + 1)); echo "ok - $name"; else failed=$((failed + 1)); echo "FAILED - $name"; fi
}
