#!/usr/bin/env bash
# The Postgres round trip through a component: GET /bench/42 makes
# `fixture-pg` open a connection and read one row by primary key
# (`SELECT id, name, score FROM spinstack_bench WHERE id = $1`), so
# requests/s is queries/s. Run twice in the same run against the machine's
# Postgres: pooled with cached prepared statements (the default), then
# `--postgres-naive` (a new connection per open, every statement prepared on
# every call), the baseline. Prints queries/s, p50, p99 and the ratio.
#
#   benches/postgres.sh     (DURATION, THREADS, CONNECTIONS override wrk's;
#                            PG_ADDRESS the database, default the local one)
export CONNECTIONS="${CONNECTIONS:-16}"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PG_ADDRESS="${PG_ADDRESS:-postgres://postgres@127.0.0.1:5432/test}"
ensure_wrk
build_host
build_fixtures fixture-pg
work="$(mktemp -d)"

psql -q -v ON_ERROR_STOP=1 "$PG_ADDRESS" <<'SQL'
DROP TABLE IF EXISTS spinstack_bench;
CREATE TABLE spinstack_bench (id int PRIMARY KEY, name text NOT NULL, score double precision NOT NULL);
INSERT INTO spinstack_bench SELECT i, 'item ' || i, i * 1.5 FROM generate_series(1, 1000) AS i;
ANALYZE spinstack_bench;
SQL

manifest "$work/spin.toml" pg "$WASM_DIR/fixture_pg.wasm" \
    'allowed_outbound_hosts = ["postgres://127.0.0.1:5432"]' \
    "environment = { PG_ADDRESS = \"$PG_ADDRESS\" }"

run_mode() {  # run_mode NAME [ARGS...]: prints "rps p50 p99"
    local name="$1"; shift
    start_server "$work/$name.log" "$SPINSTACK" up -f "$work/spin.toml" --listen 127.0.0.1:0 \
        --state-dir "$work/state" "$@"
    curl -sf "$SERVER_URL/bench/42" >/dev/null || { cat "$work/$name.log" >&2; exit 1; }
    RUST_LOG=warn load "$SERVER_URL/bench/42"
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
}

read -r pooled_rps pooled_p50 pooled_p99 <<<"$(run_mode pooled)"
read -r naive_rps naive_p50 naive_p99 <<<"$(run_mode naive --postgres-naive)"

echo "| mode | queries/s | p50 | p99 |"
echo "|---|---|---|---|"
echo "| pooled, statements cached (default) | $pooled_rps | $pooled_p50 | $pooled_p99 |"
echo "| naive: connect per open, prepare per call (\`--postgres-naive\`) | $naive_rps | $naive_p50 | $naive_p99 |"
echo
echo "pooled / naive: $(awk -v a="$pooled_rps" -v b="$naive_rps" 'BEGIN {printf "%.1fx", a/b}')"
echo "(wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, PostgreSQL $(psql -tAc 'SHOW server_version' "$PG_ADDRESS" | cut -d' ' -f1), $(date -u +%F))"
