#!/usr/bin/env bash
# Gateway overhead: hello world through spinstack with the whole gateway
# (rate-limit lookup and accounting, security headers, request id,
# compression decision, JSON access log) versus `--gateway off`, same run.
# The policy is the project's, with the api zone's rate raised so that the
# limiter runs on every request without refusing any.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_wrk
build_host
build_fixtures fixture-hello
work="$(mktemp -d)"
manifest "$work/spin.toml" hello "$WASM_DIR/fixture_hello.wasm"
raised_rate_policy "$work/gateway.toml"

run() {
    start_server "$work/$1.log" "$SPINSTACK" up -f "$work/spin.toml" --listen 127.0.0.1:0 \
        --state-dir "$work/state" --gateway "$2"
    load "$SERVER_URL/api/hello"
    kill "$SERVER_PID"
}
# Alternate the two several times and take each one's median: on a shared
# 2-core machine single runs differ by more than the effect measured.
ROUNDS="${ROUNDS:-5}"
for round in $(seq 1 "$ROUNDS"); do
    run off off >>"$work/off.txt"
    run on "$work/gateway.toml" >>"$work/on.txt"
done
median() { sort -n -k1 "$1" | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2)'; }
read -r off_rps off_p50 off_p99 <<<"$(median "$work/off.txt")"
read -r on_rps on_p50 on_p99 <<<"$(median "$work/on.txt")"

echo "median of $ROUNDS alternating runs each (requests/s; latencies of that run)"
echo "| gateway | requests/s | p50 | p99 |"
echo "|---|---|---|---|"
echo "| off | $off_rps | $off_p50 | $off_p99 |"
echo "| on (limiter, headers, request id, access log) | $on_rps | $on_p50 | $on_p99 |"
echo
echo "on / off: $(ratio "$on_rps" "$off_rps") (cost $(awk -v a="$on_rps" -v b="$off_rps" 'BEGIN {printf "%.1f%%", 100*(1-a/b)}'))"
echo "(wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, $(date -u +%F))"
