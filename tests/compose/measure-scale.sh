#!/usr/bin/env bash
# The figures of docs/PERFORMANCE.md's scale-out section, in one run:
#   - scale 0 -> 1, five times: container start to spinstack's "Serving"
#     line (compiled components in the image), and `up` to the first 200
#     through nginx;
#   - the same start with the compile cache cold (an empty cache directory);
#   - the cached GET /api/users/me through nginx (HTTPS, h2) with 1, 2 and
#     3 replicas on the same 2 cores, and GET /health likewise;
#   - memory per replica, idle.
# nginx's api zone (30 r/s per client address, and every request here comes
# from one) is raised for this run only: the gateway-config service renders
# from a copy of infra/gateway.toml whose api rate no client reaches, so
# what is measured is the replicas, not the limiter's refusals.
#
#   tests/compose/measure-scale.sh   # after tests/compose/run.sh has built the images
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$here/lib.sh"
work="$(mktemp -d)"
measure_setup "$work"

# The policy with the api zone's rate raised past anything one client sends
# (measurement only; the file is the run's): the limiter still runs.
sed -e 's/rate = "30r\/s"/rate = "1000000r\/s"/' -e 's/^burst = 50$/burst = 1000000/' \
    "$root/infra/gateway.toml" >"$work/gateway.toml"
grep -q 'rate = "1000000r/s"' "$work/gateway.toml" || fail "the api zone's rate was not raised"
cat >"$work/measure.yaml" <<EOF
services:
  gateway-config:
    volumes:
      - type: bind
        source: $work/gateway.toml
        target: /app/infra/gateway.toml
        read_only: true
EOF
compose() {
    docker compose -p spinstack-scale-measure -f "$root/infra/compose.yaml" -f "$work/measure.yaml" \
        --env-file "$work/.env" "$@"
}
cleanup() {
    compose down -v >/dev/null 2>&1 || true
    rm -rf "$work" "$STATUS_FILE" "$HEADERS_FILE"
}
trap cleanup EXIT
compose down -v >/dev/null 2>&1 || true
compose up --wait >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; compose logs --no-color gateway-config >&2; fail "compose up --wait"; }
reload_gateway() { compose kill -s HUP gateway >/dev/null 2>&1; sleep 2; }
scale() { compose up --wait --no-recreate --scale "app=$1" >/dev/null 2>&1; reload_gateway; }

# Milliseconds between two Docker timestamps (RFC 3339, nanoseconds).
ms_between() {
    python3 -c '
import sys
from datetime import datetime
def parse(s):
    head, _, frac = s.rstrip("Z").partition(".")
    return datetime.fromisoformat(head).timestamp() + float("0." + (frac or "0"))
print(f"{(parse(sys.argv[2]) - parse(sys.argv[1])) * 1000:.0f}")' "$1" "$2"
}
start_to_serving() {
    local c="$1" started serving
    for _ in $(seq 1 600); do docker logs "$c" 2>&1 | grep '^Serving ' >/dev/null && break; sleep 0.1; done
    started="$(docker inspect -f '{{.State.StartedAt}}' "$c")"
    serving="$(docker logs --timestamps "$c" 2>&1 | awk '/ Serving / && !seen++ { print $1 }')"
    ms_between "$started" "$serving"
}

echo "scale 0 -> 1, compiled components in the image (5 runs):"
for i in 1 2 3 4 5; do
    scale 0
    t0="$(date +%s%N)"
    compose up --no-recreate --detach --scale app=1 >/dev/null 2>&1
    compose kill -s HUP gateway >/dev/null 2>&1
    until api GET /health >/dev/null && [ "$(status)" = 200 ]; do sleep 0.05; done
    t1="$(date +%s%N)"
    echo "  run $i: container start to Serving $(start_to_serving "$(compose ps -q app)") ms;" \
        "up to the first 200 through nginx $(((t1 - t0) / 1000000)) ms"
done

# Cold: the same image and variables, the cache pointed at an empty directory.
echo "container start to Serving, compile cache cold (3 runs):"
for i in 1 2 3; do
    c="$(compose run --detach --no-deps --entrypoint spinstack app up -f /app/spin.toml \
        --listen 0.0.0.0:3001 --state-dir /tmp/state --cache-dir /tmp/cold-cache \
        --gateway /app/infra/compose/app-gateway.toml 2>/dev/null | tail -n1)"
    echo "  run $i: $(start_to_serving "$c") ms"
    docker rm -f "$c" >/dev/null
done

token="$(register_and_login "measure-scale@example.com" "measure-password")"
api GET /api/users/me -H "Authorization: Bearer $token" >/dev/null

load() {
    h2load "$@" 2>&1 | awk '/^finished in/ { rps = $4 } /^time for request:/ { mean = $6 }
        /^status codes:/ { ok = $3 } END { print rps " req/s, mean " mean " (" ok " 2xx)" }'
}
memory_per_replica() {
    docker stats --no-stream --format '{{.Name}} {{.MemUsage}}' $(compose ps -q app) |
        awk '{ print "  " $1 ": " $2 }'
}
for n in 1 2 3; do
    scale "$n"
    sleep 3
    echo "$n replica(s), idle memory:"
    memory_per_replica
    h2load -n 200 -c 4 -H "Authorization: Bearer $token" "$BASE/api/users/me" >/dev/null 2>&1 # warm
    echo "  GET /api/users/me (cached), 8 connections x 4 streams, 15 s: $(load -D 15 -c 8 -m 4 -H "Authorization: Bearer $token" "$BASE/api/users/me")"
    echo "  GET /health, 8 connections x 4 streams, 15 s: $(load -D 15 -c 8 -m 4 "$BASE/health")"
done
