#!/usr/bin/env bash
# The key-value benchmark: a component that, per request, gets and sets a
# key and lists the keys of the default store (the work Spin's default
# SQLite store was measured with: ~1,100 requests/s, p99 > 80 ms here).
# Hello world runs in the same run as the baseline.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_wrk
build_host
build_fixtures fixture-hello fixture-kvbench
work="$(mktemp -d)"
manifest "$work/hello.toml" hello "$WASM_DIR/fixture_hello.wasm"
manifest "$work/kv.toml" kv "$WASM_DIR/fixture_kvbench.wasm" 'key_value_stores = ["default"]'

start_server "$work/hello.log" "$SPINSTACK" up -f "$work/hello.toml" --listen 127.0.0.1:0 --state-dir "$work/hello-state"
read -r hello_rps hello_p50 hello_p99 <<<"$(load "$SERVER_URL/")"
kill "$SERVER_PID"

start_server "$work/kv.log" "$SPINSTACK" up -f "$work/kv.toml" --listen 127.0.0.1:0 --state-dir "$work/kv-state"
read -r kv_rps kv_p50 kv_p99 <<<"$(load "$SERVER_URL/")"
final="$(curl -s "$SERVER_URL/")"
kill "$SERVER_PID"

echo "| component | requests/s | p50 | p99 |"
echo "|---|---|---|---|"
echo "| hello (baseline) | $hello_rps | $hello_p50 | $hello_p99 |"
echo "| key-value get + set + get-keys | $kv_rps | $kv_p50 | $kv_p99 |"
echo
echo "key-value / hello: $(ratio "$kv_rps" "$hello_rps"); versus Spin's ~1,100 requests/s: $(awk -v a="$kv_rps" 'BEGIN {printf "%.1fx", a/1100}')"
echo "counter after the run (every write kept): $final"
echo "(wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, $(date -u +%F))"
