#!/usr/bin/env bash
# Issue 19's soak: the whole app under a realistic mix (benches/soak.lua:
# cached reads, list pages, small uploads, refreshes, rare logins) at a
# share of its measured capacity for many minutes, one wrk run a minute.
# Prints, per minute: the rate reached, p50 and p99, failed requests, and
# the host's resident memory and open file descriptors; then the RSS trend
# (least squares, MiB per minute) after the first minute and over the
# second half (the allocator's warm-up excluded), and the change in
# descriptors. Exits 1 if any request failed.
#
# The baseline of the same run is the capacity: the same mix unpaced for
# 20 s, before the soak.
#
#   benches/soak.sh   (SOAK_MINUTES=10, SOAK_LOAD=80 (% of capacity),
#                      SOAK_USERS=8: users = wrk connections, one each)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_wrk
build_host
"$SPINSTACK" build -f "$ROOT/spin.toml" >/dev/null
minutes="${SOAK_MINUTES:-10}"
share="${SOAK_LOAD:-80}"
users="${SOAK_USERS:-8}"
work="$(mktemp -d)"
APP_WORK="$work"
start_app soak

tokens="$work/tokens"
for i in $(seq 1 "$users"); do
    login="$(register_and_login "soak-$i@example.com")"
    echo "soak-$i@example.com $(json_field "$login" access_token) $(json_field "$login" refresh_token)" >>"$tokens"
done

# segment SECONDS INTERVAL_MS: prints "requests_per_s p50 p99 failures detail".
segment() {
    local out
    out="$(SOAK_TOKENS="$tokens" SOAK_INTERVAL_MS="$2" wrk -t"$users" -c"$users" -d"$1s" --latency \
        -s "$ROOT/benches/soak.lua" "$SERVER_URL")"
    echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="50%" {print $2}' <<<"$out")" \
        "$(awk '$1=="99%" {print $2}' <<<"$out") $(awk '/^soak-failures/ {$1=""; print}' <<<"$out")"
}

fds() { find "/proc/$SERVER_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }

read -r capacity cap_p50 cap_p99 cap_failed _ <<<"$(segment 20 0)"
target="$(awk -v c="$capacity" -v s="$share" 'BEGIN {printf "%.0f", c * s / 100}')"
# delay() is whole milliseconds between a response and the next request on
# a connection; start from the rate alone and correct it each minute by the
# rate reached (latency adds to the gap).
interval="$(awk -v u="$users" -v t="$target" 'BEGIN {printf "%.0f", u * 1000 / t}')"

echo "capacity (unpaced, 20 s): $capacity req/s, p50 $cap_p50, p99 $cap_p99, $cap_failed failed"
echo "soak: $minutes min at $share% = $target req/s target, $users users"
echo
echo "| minute | req/s | % of capacity | p50 | p99 | failed | RSS MiB | open fds |"
echo "|---|---|---|---|---|---|---|---|"
failed_total=0
rss_series=""
fds_first=""
for minute in $(seq 1 "$minutes"); do
    read -r rps p50 p99 failed detail <<<"$(segment 60 "$interval")"
    rss="$(rss_mib "$SERVER_PID")"
    open="$(fds)"
    [ -n "$fds_first" ] || fds_first="$open"
    failed_total=$((failed_total + failed))
    [ "$minute" -gt 1 ] && rss_series="$rss_series $minute:$rss"
    echo "| $minute | $rps | $(ratio "$rps" "$capacity") | $p50 | $p99 | $failed${detail:+ ($detail)} | $rss | $open |"
    interval="$(awk -v i="$interval" -v r="$rps" -v t="$target" 'BEGIN {n = i * r / t; if (n < 0) n = 0; printf "%.0f", n}')"
done
stop_server

# slope FROM_MINUTE: least-squares MiB per minute of the RSS from that minute on.
slope() {
    tr ' ' '\n' <<<"$rss_series" | awk -F: -v from="$1" 'NF == 2 && $1 >= from {n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2}
        END {if (n < 2) {print "n/a"} else {printf "%+.2f", (n * sxy - sx * sy) / (n * sxx - sx * sx)}}'
}
half=$((minutes / 2 + 1))
echo
echo "RSS trend after minute 1: $(slope 2) MiB/min, from minute $half: $(slope "$half") MiB/min (warm-up excluded);" \
    "open fds: $fds_first -> $open; failed requests: $failed_total"
echo "(wrk -t$users -c$users, one connection per user, $(nproc) cores, $(date -u +%F))"
[ "$failed_total" = 0 ]
