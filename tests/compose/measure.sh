#!/usr/bin/env bash
# The figures of docs/PERFORMANCE.md's compose section, in one run:
#   - cold `up --wait` (images built, volumes new);
#   - GET /health (not rate limited) and the cached GET /api/users/me
#     through nginx (HTTPS, h2) on the compose stack, against the same
#     requests straight to `spinstack up` on the host (h2c), same binary;
#   - the stack's memory (all containers) idle and under load.
# h2load is the client on both sides; /api/users/me is paced under nginx's
# api zone (30 r/s per client) so what is measured is not the limiter.
#
#   tests/compose/measure.sh     # after tests/compose/run.sh has built the images
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$here/lib.sh"
work="$(mktemp -d)"
measure_setup "$work"
compose() { docker compose -p spinstack-compose-measure -f "$root/infra/compose.yaml" --env-file "$work/.env" "$@"; }
host_pid=""
cleanup() {
    [ -z "$host_pid" ] || kill "$host_pid" 2>/dev/null || true
    compose down -v >/dev/null 2>&1 || true
    rm -rf "$work" "$STATUS_FILE" "$HEADERS_FILE"
}
trap cleanup EXIT
compose down -v >/dev/null 2>&1 || true

start=$(date +%s.%N)
compose up --wait >/dev/null 2>&1
echo "cold up --wait: $(echo "$(date +%s.%N) - $start" | bc) s"

memory() {
    docker stats --no-stream --format '{{.MemUsage}}' $(compose ps -q) | python3 -c '
import sys
units = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}
total = 0
for line in sys.stdin:
    used = line.split("/")[0].strip()
    for unit in sorted(units, key=len, reverse=True):
        if used.endswith(unit):
            total += float(used[: -len(unit)]) * units[unit]
            break
print(f"{total / 1024**2:.0f} MiB")'
}
echo "memory, idle: $(memory)"

token="$(register_and_login "measure@example.com" "measure-password")"
api GET /api/users/me -H "Authorization: Bearer $token" >/dev/null

# One figure from h2load: mean and max request time, and requests/s.
load() {
    h2load "$@" 2>&1 | awk '/^finished in/ { rps = $4 } /^time for request:/ { mean = $6; max = $5 }
        /^status codes:/ { codes = $0 } END { print "mean " mean ", max " max ", " rps " req/s (" codes ")" }'
}
health() { load -D 10 -c 4 -m 4 "$1/health"; }
me() { load -n 300 -c 1 --rps 20 -H "Authorization: Bearer $2" "$1/api/users/me"; }

( sleep 5; echo "memory, under load (GET /health): $(memory)" ) &
compose_health="$(health "$BASE")"
wait
compose_me="$(me "$BASE" "$token")"

# The same binary on the host: its embedded Postgres and S3, the host's
# Redis (database 7), no gateway limits; h2c with prior knowledge.
printf '[key_value_store.default]\ntype = "redis"\nurl = "redis://127.0.0.1:6379/7"\n' >"$work/runtime-config.toml"
"$root/target/debug/spinstack" up -f "$root/spin.toml" --listen 127.0.0.1:0 --gateway none \
    --state-dir "$work/host-state" --runtime-config-file "$work/runtime-config.toml" >"$work/host.log" 2>&1 &
host_pid=$!
for _ in $(seq 1 240); do grep -q '^Serving ' "$work/host.log" && break; sleep 0.5; done
host_url="$(sed -n '/^Serving /{s///p;q}' "$work/host.log")"
[ -n "$host_url" ] || { cat "$work/host.log"; fail "spinstack up on the host did not start"; }
BASE="$host_url"
htoken="$(register_and_login "measure@example.com" "measure-password")"
api GET /api/users/me -H "Authorization: Bearer $htoken" >/dev/null
host_health="$(health "$host_url")"
host_me="$(me "$host_url" "$htoken")"
redis-cli -n 7 flushdb >/dev/null

echo "GET /health, 4 connections x 4 streams, 10 s:"
echo "  compose (nginx, TLS, h2): $compose_health"
echo "  host spinstack (h2c):     $host_health"
echo "GET /api/users/me (cached), 1 client at 20 r/s, 300 requests:"
echo "  compose (nginx, TLS, h2): $compose_me"
echo "  host spinstack (h2c):     $host_me"
