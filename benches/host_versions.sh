#!/usr/bin/env bash
# One host build against another in the same run: hello world (gateway on,
# the project's policy with the api zone's rate raised so the limiter runs
# without refusing) through BASELINE and through this tree's host,
# alternating rounds, medians. For a refactor, the ratio says whether the
# request path got slower.
#
#   benches/host_versions.sh /path/to/baseline/spinstack
#
# A baseline binary comes from another checkout built the same way, e.g.
#   git worktree add /tmp/base <rev> && cp -a target/bench /tmp/base-target &&
#   (cd /tmp/base && CARGO_TARGET_DIR=/tmp/base-target cargo build --profile bench-host -p spinstack --bin spinstack)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BASELINE="${1:?usage: benches/host_versions.sh BASELINE_SPINSTACK}"
ensure_wrk
build_host
build_fixtures fixture-hello
work="$(mktemp -d)"
manifest "$work/spin.toml" hello "$WASM_DIR/fixture_hello.wasm"
raised_rate_policy "$work/gateway.toml"

run() {
    start_server "$work/$1.log" "$2" up -f "$work/spin.toml" --listen 127.0.0.1:0 \
        --state-dir "$work/state-$1" --gateway "$3"
    load "$SERVER_URL/api/hello"
    kill "$SERVER_PID"
}
ROUNDS="${ROUNDS:-5}"
for round in $(seq 1 "$ROUNDS"); do
    run base "$BASELINE" "$work/gateway.toml" >>"$work/base.txt"
    run this "$SPINSTACK" "$work/gateway.toml" >>"$work/this.txt"
    run base-off "$BASELINE" off >>"$work/base-off.txt"
    run this-off "$SPINSTACK" off >>"$work/this-off.txt"
done
median() { sort -n -k1 "$1" | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2)'; }
echo "median of $ROUNDS alternating runs each (requests/s; latencies of that run)"
echo "| host | gateway | requests/s | p50 | p99 |"
echo "|---|---|---|---|---|"
for side in base this; do
    read -r on_rps on_p50 on_p99 <<<"$(median "$work/$side.txt")"
    read -r off_rps off_p50 off_p99 <<<"$(median "$work/$side-off.txt")"
    echo "| $side | on | $on_rps | $on_p50 | $on_p99 |"
    echo "| $side | off | $off_rps | $off_p50 | $off_p99 |"
    eval "${side}_on=$on_rps ${side}_off=$off_rps"
done
echo
echo "this / base, gateway on: $(ratio "$this_on" "$base_on"); gateway off: $(ratio "$this_off" "$base_off")"
echo "gateway cost: base $(awk -v a="$base_on" -v b="$base_off" 'BEGIN {printf "%.1f%%", 100*(1-a/b)}'), this $(awk -v a="$this_on" -v b="$this_off" 'BEGIN {printf "%.1f%%", 100*(1-a/b)}')"
echo "(wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, $(date -u +%F))"
