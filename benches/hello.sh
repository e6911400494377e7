#!/usr/bin/env bash
# Hello world through spinstack versus a native hyper server returning the
# same bytes: requests/s, p50, p99 and the ratio, plus per-request
# instantiation time and the host's idle RSS.
#
#   benches/hello.sh            (DURATION, THREADS, CONNECTIONS override wrk's)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_wrk
build_host
build_fixtures fixture-hello
work="$(mktemp -d)"
manifest "$work/spin.toml" hello "$WASM_DIR/fixture_hello.wasm"

# Idle RSS: the host freshly started (components compiled, nothing served).
start_server "$work/idle.log" "$SPINSTACK" up -f "$work/spin.toml" --listen 127.0.0.1:0 \
    --state-dir "$work/state"
sleep 2
idle_rss="$(rss_mib "$SERVER_PID")"
kill "$SERVER_PID"

# Alternate native and spinstack several times; report each one's median
# (single runs on a shared 2-core machine vary by more than 10%).
ROUNDS="${ROUNDS:-3}"
for round in $(seq 1 "$ROUNDS"); do
    start_server "$work/native.log" "$BENCH_TARGET/bench-host/examples/native_hello" 127.0.0.1:0
    load "$SERVER_URL/" >>"$work/native.txt"
    kill "$SERVER_PID"
    start_server "$work/host.log" "$SPINSTACK" up -f "$work/spin.toml" --listen 127.0.0.1:0 \
        --state-dir "$work/state" ${GATEWAY_ARGS:-}
    load "$SERVER_URL/" >>"$work/host.txt"
    kill "$SERVER_PID"
done
median() { sort -n -k1 "$1" | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2)'; }
read -r native_rps native_p50 native_p99 <<<"$(median "$work/native.txt")"
read -r host_rps host_p50 host_p99 <<<"$(median "$work/host.txt")"

instantiate="$("$SPINSTACK" bench-instantiate -f "$work/spin.toml" --state-dir "$work/state" \
    --component hello --iterations 20000 2>/dev/null | tail -n1)"

echo "median of $ROUNDS alternating runs each (requests/s; latencies of that run)"
echo "| server | requests/s | p50 | p99 |"
echo "|---|---|---|---|"
echo "| native hyper | $native_rps | $native_p50 | $native_p99 |"
echo "| spinstack (fixture-hello) | $host_rps | $host_p50 | $host_p99 |"
echo
echo "spinstack / native: $(ratio "$host_rps" "$native_rps")"
echo "$instantiate"
echo "idle RSS of spinstack with the app loaded: ${idle_rss} MiB"
echo "(wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, $(date -u +%F))"
