#!/usr/bin/env bash
# The cost of recording metrics (--admin-listen): hello world and the cached
# GET /api/users/me, each with metrics off and on, alternating in one run;
# requests/s, p50, p99 and the ratio on/off. A scrape every second while
# the load runs, as Prometheus would (more often than its usual 15 s).
#
#   benches/metrics.sh          (DURATION, THREADS, CONNECTIONS, ROUNDS override)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_wrk
build_host
build_fixtures fixture-hello
"$SPINSTACK" build -f "$ROOT/spin.toml" >/dev/null
work="$(mktemp -d)"
manifest "$work/spin.toml" hello "$WASM_DIR/fixture_hello.wasm"

scraper() {
    local metrics
    metrics="$(sed -n '/^Metrics at /{s///p;q}' "$1")"
    [ -n "$metrics" ] || { echo "no admin listener in $1" >&2; return 1; }
    while sleep 1; do curl -sf "$metrics" >/dev/null || break; done &
    SCRAPER_PID=$!
    PIDS+=("$SCRAPER_PID")
}

ROUNDS="${ROUNDS:-3}"
for round in $(seq 1 "$ROUNDS"); do
    for mode in off on; do
        extra=()
        [ "$mode" = on ] && extra=(--admin-listen 127.0.0.1:0)
        start_server "$work/hello-$mode.log" "$SPINSTACK" up -f "$work/spin.toml" --listen 127.0.0.1:0 \
            --state-dir "$work/state" "${extra[@]}"
        [ "$mode" = on ] && scraper "$work/hello-$mode.log"
        load "$SERVER_URL/" >>"$work/hello-$mode.txt"
        [ "$mode" = on ] && kill "$SCRAPER_PID"
        stop_server

        APP_WORK="$work" start_app "metrics_$mode" "${extra[@]}"
        [ "$mode" = on ] && scraper "$work/metrics_$mode.log"
        tokens="$(register_and_login "bench-$mode-$round@example.com")"
        access="$(json_field "$tokens" access_token)"
        load_with "$SERVER_URL/api/users/me" -H "Authorization: Bearer $access" >>"$work/me-$mode.txt"
        [ "$mode" = on ] && kill "$SCRAPER_PID"
        stop_server
    done
done
median() { sort -n -k1 "$1" | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2)'; }

echo "median of $ROUNDS alternating runs each (requests/s; latencies of that run)"
echo "| request | metrics | requests/s | p50 | p99 |"
echo "|---|---|---|---|---|"
for what in hello me; do
    label="GET / (fixture-hello)"
    [ "$what" = me ] && label="GET /api/users/me (cached)"
    for mode in off on; do
        read -r rps p50 p99 <<<"$(median "$work/$what-$mode.txt")"
        echo "| $label | $mode | $rps | $p50 | $p99 |"
        printf -v "${what}_$mode" '%s' "$rps"
    done
done
echo
echo "hello, on / off: $(ratio "$hello_on" "$hello_off")"
echo "users/me, on / off: $(ratio "$me_on" "$me_off")"
echo "(wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, $(date -u +%F))"
