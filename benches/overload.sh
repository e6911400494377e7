#!/usr/bin/env bash
# Issue 19's overload: the app's cached read (GET /api/users/me with a
# bearer token) at twice its measured capacity for 30 s, as an arrival rate
# (infra/host/examples/open_loop.rs sends on schedule whether or not earlier
# requests were answered). Prints per second what came back (2xx, 429, 503,
# 503 without Retry-After, other statuses, no answer), the admitted
# requests' p50/p99 and the host's resident memory; then, from the moment
# the overload stops, half the capacity in 100 ms steps: how soon every
# request succeeds again.
#
# The baseline of the same run is the capacity: wrk, 32 connections, 10 s,
# on the same request. The driver shares the two cores with the host, as
# wrk does.
#
#   benches/overload.sh   (OVERLOAD_FACTOR=2, OVERLOAD_SECONDS=30)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_wrk
build_host
[ "${BENCH_SKIP_BUILD:-}" = 1 ] ||
    (cd "$ROOT" && CARGO_TARGET_DIR="$BENCH_TARGET" cargo build -q --profile bench-host -p spinstack --example open_loop)
DRIVER="$BENCH_TARGET/bench-host/examples/open_loop"
"$SPINSTACK" build -f "$ROOT/spin.toml" >/dev/null
factor="${OVERLOAD_FACTOR:-2}"
seconds="${OVERLOAD_SECONDS:-30}"
work="$(mktemp -d)"
APP_WORK="$work"
start_app overload

login="$(register_and_login overload@example.com)"
token="$(json_field "$login" access_token)"
url="$SERVER_URL/api/users/me"
rss_idle="$(rss_mib "$SERVER_PID")"

read -r capacity cap_p50 cap_p99 <<<"$(load_with "$url" -H "Authorization: Bearer $token")"
rate="$(awk -v c="$capacity" -v f="$factor" 'BEGIN {printf "%.0f", c * f}')"
half="$(awk -v c="$capacity" 'BEGIN {printf "%.0f", c / 2}')"
echo "capacity (wrk, $CONNECTIONS connections, $DURATION): $capacity req/s, p50 $cap_p50, p99 $cap_p99; RSS idle $rss_idle MiB"
echo "overload: $rate req/s (x$factor) for $seconds s, then $half req/s (x0.5)"

rss_log="$work/rss"
( while kill -0 "$SERVER_PID" 2>/dev/null; do rss_mib "$SERVER_PID" >>"$rss_log"; echo >>"$rss_log"; sleep 1; done ) &
sampler=$!
PIDS+=("$sampler")
"$DRIVER" "$url" "$rate" "$seconds" 1000 "$token" >"$work/overload" &
driver=$!
sleep "$seconds"
"$DRIVER" "$url" "$half" 3 100 "$token" >"$work/after"
wait "$driver"
kill "$sampler" 2>/dev/null || true

echo
echo "| second | sent | 2xx | 429 | 503 | 503/429 without Retry-After | other | no answer | p50 ms (2xx) | p99 ms (2xx) |"
echo "|---|---|---|---|---|---|---|---|---|---|"
awk '$1 != "total" {printf "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1/1000+1, $2, $3, $4, $5, $6, $7, $8, $9, $10}' "$work/overload"
read -r _ sent ok r429 r503 bare other errors p50 p99 < <(grep '^total' "$work/overload")
rss_peak="$(awk 'NF {if ($1 > max) max = $1} END {print max}' "$rss_log")"
echo
echo "overload total: $sent sent, $ok 2xx ($(ratio "$ok" "$sent")), $r429 429, $r503 503, $bare without Retry-After, $other other, $errors no answer; admitted p50 $p50 ms, p99 $p99 ms"
echo "RSS: idle $rss_idle MiB, peak $rss_peak MiB, after $(rss_mib "$SERVER_PID") MiB"
echo
echo "after the overload stops, every 100 ms at $half req/s:"
echo "| from ms | sent | 2xx | 503 | no answer | p99 ms |"
echo "|---|---|---|---|---|---|"
awk '$1 != "total" {printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $5, $8, $10}' "$work/after"
first_clean="$(awk '$1 != "total" && $2 > 0 && $3 == $2 {print $1; exit}' "$work/after")"
echo "first 100 ms step with every request answered 2xx: from ${first_clean:-never} ms"
[ "$bare" = 0 ] && [ "$other" = 0 ] && [ "$errors" = 0 ]
