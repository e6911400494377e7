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

start_server "$work/native.log" "$BENCH_TARGET/bench-host/examples/native_hello" 127.0.0.1:0
native_url="$SERVER_URL"
read -r native_rps native_p50 native_p99 <<<"$(load "$native_url/")"
kill "$SERVER_PID"

start_server "$work/host.log" "$SPINSTACK" up -f "$work/spin.toml" --listen 127.0.0.1:0 \
    --state-dir "$work/state" ${GATEWAY_ARGS:-}
host_pid="$SERVER_PID"
sleep 2
idle_rss="$(rss_mib "$host_pid")"
read -r host_rps host_p50 host_p99 <<<"$(RUST_LOG=warn load "$SERVER_URL/")"
kill "$host_pid"

instantiate="$("$SPINSTACK" bench-instantiate -f "$work/spin.toml" --state-dir "$work/state" \
    --component hello --iterations 20000 2>/dev/null | tail -n1)"

echo "| server | requests/s | p50 | p99 |"
echo "|---|---|---|---|"
echo "| native hyper | $native_rps | $native_p50 | $native_p99 |"
echo "| spinstack (fixture-hello) | $host_rps | $host_p50 | $host_p99 |"
echo
echo "spinstack / native: $(ratio "$host_rps" "$native_rps")"
echo "$instantiate"
echo "idle RSS of spinstack with the app loaded: ${idle_rss} MiB"
echo "(wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, $(date -u +%F))"
