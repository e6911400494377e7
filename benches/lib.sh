# Shared helpers of the benchmark scripts (sourced, not run).
# Load comes from Debian's wrk on loopback; every figure is taken in the same
# run as its baseline so the ratio, not the absolute number, is the result.

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Optimised host in its own target dir, so a long release build never holds
# the lock of the development target dir.
BENCH_TARGET="${BENCH_TARGET:-$ROOT/target/bench}"
SPINSTACK="$BENCH_TARGET/bench-host/spinstack"
WASM_DIR="$ROOT/target/wasm32-wasip2/wasm"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
PIDS=()

cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

ensure_wrk() {
    command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
}

# BENCH_SKIP_BUILD=1 measures the binaries already in $BENCH_TARGET (say so
# with the figures: they are of the tree they were built from).
build_host() {
    [ "${BENCH_SKIP_BUILD:-}" = 1 ] && return 0
    (cd "$ROOT" && CARGO_TARGET_DIR="$BENCH_TARGET" cargo build -q --profile bench-host -p spinstack --bin spinstack --example native_hello)
}

build_fixtures() {
    (cd "$ROOT" && cargo build -q --target wasm32-wasip2 --profile wasm "${@/#/--package=}")
}

# start_server LOGFILE COMMAND... : runs COMMAND, waits for its "Serving URL"
# line, sets SERVER_URL and SERVER_PID.
start_server() {
    local log="$1"; shift
    "$@" >"$log" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    for _ in $(seq 1 600); do
        SERVER_URL="$(sed -n '/^Serving /{s///p;q}' "$log")"
        [ -n "$SERVER_URL" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; return 1; }
        sleep 0.1
    done
    echo "server did not start" >&2; return 1
}

# rss_mib PID: resident memory of a process, MiB.
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# load URL: runs wrk, prints "requests_per_s p50 p99" (latencies as wrk prints them).
load() {
    local out
    wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$1" >/dev/null 2>&1   # warm-up
    out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$1")"
    local rps p50 p99 non2xx
    rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
    p50="$(awk '$1=="50%" {print $2}' <<<"$out")"
    p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
    non2xx="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
    [ -z "$non2xx" ] || echo "warning: $non2xx non-2xx responses from $1" >&2
    echo "$rps $p50 $p99"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f%%", 100*a/b}'; }

# manifest FILE ROUTE COMPONENT WASM [EXTRA...]: a one-component spin.toml.
manifest() {
    local file="$1" component="$2" wasm="$3"; shift 3
    {
        printf 'spin_manifest_version = 2\n[application]\nname = "bench"\n'
        printf '[[trigger.http]]\nroute = "/..."\ncomponent = "%s"\n' "$component"
        printf '[component.%s]\nsource = "%s"\n' "$component" "$wasm"
        for line in "$@"; do printf '%s\n' "$line"; done
    } >"$file"
}

# start_app NAME [ARGS...]: the project's own spin.toml (components built by
# `spinstack build`) on a fresh database `spinstack_bench_NAME` of the local
# Postgres, rate limits off (`--gateway none`). Sets SERVER_URL, SERVER_PID.
# Extra environment (SPIN_VARIABLE_*) is passed through.
APP_DB_SERVER="${APP_DB_SERVER:-postgres://postgres@127.0.0.1:5432}"
start_app() {
    local name="$1"; shift
    local db="spinstack_bench_$name"
    psql -q "$APP_DB_SERVER/test" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
    APP_WORK="${APP_WORK:-$(mktemp -d)}"
    SPIN_VARIABLE_DATABASE_URL="$APP_DB_SERVER/$db" SPIN_VARIABLE_DATABASE_HOST=127.0.0.1:5432 \
        start_server "$APP_WORK/$name.log" "$SPINSTACK" up -f "$ROOT/spin.toml" \
        --listen 127.0.0.1:0 --state-dir "$APP_WORK/state-$name" --gateway none "$@"
}

stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; }

# json_field JSON FIELD: one string field of a JSON object.
json_field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# register_and_login EMAIL: prints the login response.
register_and_login() {
    curl -sf -X POST "$SERVER_URL/api/auth/register" -H 'content-type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"password123\",\"name\":\"Bench\"}" >/dev/null
    curl -sf -X POST "$SERVER_URL/api/auth/login" -H 'content-type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"password123\"}"
}

# load_with URL [WRK ARGS...]: like `load`, with extra wrk arguments
# (headers, scripts); prints "requests_per_s p50 p99".
load_with() {
    local url="$1"; shift
    local out
    wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$@" "$url" >/dev/null 2>&1
    out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url")"
    local non2xx
    non2xx="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
    [ -z "$non2xx" ] || echo "note: $non2xx non-2xx responses from $url" >&2
    echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="50%" {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out")"
}

# raised_rate_policy FILE: the project's gateway policy with the api zone's
# rate raised, so the limiter runs on every request without refusing any.
raised_rate_policy() {
    sed -e 's/rate = "30r\/s"/rate = "1000000r\/s"/' -e 's/^burst = 50$/burst = 1000000/' \
        "$ROOT/infra/gateway.toml" >"$1"
    grep -q 'rate = "1000000r/s"' "$1"
}
