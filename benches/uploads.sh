#!/usr/bin/env bash
# Upload throughput: a limit-sized file (25 MiB by default) sent ROUNDS times
# through the uploads component (`POST /api/uploads`, streamed by the
# component to the embedded S3 store), and, in the same run, the same file
# PUT straight to the same store with a presigned URL (the baseline). Prints
# MiB/s for both and their ratio, and the host's resident memory before and
# at its peak during one limit-sized upload through the component.
#
#   benches/uploads.sh     (SIZE_MIB, ROUNDS override; PG_ADMIN the Postgres
#                           to create the throwaway database on)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SIZE_MIB="${SIZE_MIB:-25}"
ROUNDS="${ROUNDS:-8}"
PG_ADMIN="${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}"
build_host
# Every component of the project's spin.toml.
mapfile -t packages < <(grep -o -- '-p [a-z0-9_-]*' "$ROOT/spin.toml" | awk '{print $2}' | sort -u)
build_fixtures "${packages[@]}"
work="$(mktemp -d)"
db="spinstack_bench_uploads_$$"
psql -q "$PG_ADMIN" -c "CREATE DATABASE $db"
drop_db() { psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true; }
trap 'cleanup; drop_db' EXIT

SPIN_VARIABLE_DATABASE_URL="${PG_ADMIN%/*}/$db" SPIN_VARIABLE_DATABASE_HOST=127.0.0.1:5432 \
RUST_LOG=warn start_server "$work/app.log" "$SPINSTACK" up -f "$ROOT/spin.toml" --listen 127.0.0.1:0 \
    --state-dir "$work/state" --migrations "$ROOT/infra/migrations" --gateway none

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
curl -sf -H 'content-type: application/json' "$SERVER_URL/api/auth/register" \
    -d '{"email":"bench@example.com","password":"password123","name":"Bench"}' >/dev/null
token="$(curl -sf -H 'content-type: application/json' "$SERVER_URL/api/auth/login" \
    -d '{"email":"bench@example.com","password":"password123"}' | json '["access_token"]')"

file="$work/file.bin"
bytes=$((SIZE_MIB * 1024 * 1024))
# Random bytes, starting with "x" (no file signature by chance).
{ printf x; head -c $((bytes - 1)) /dev/urandom; } >"$file"

# seconds LABEL COMMAND...: runs COMMAND ROUNDS times, each must print 2xx;
# prints the total seconds.
seconds() {
    local label="$1" total=0 code time; shift
    for _ in $(seq 1 "$ROUNDS"); do
        read -r code time <<<"$("$@" -s -o /dev/null -w '%{http_code} %{time_total}')"
        [[ "$code" == 2* ]] || { echo "$label answered $code" >&2; cat "$work/app.log" >&2; exit 1; }
        total="$(awk -v a="$total" -v b="$time" 'BEGIN {print a + b}')"
    done
    echo "$total"
}
mibps() { awk -v s="$1" 'BEGIN {printf "%.1f", '"$SIZE_MIB"' * '"$ROUNDS"' / s}'; }

through_component() {
    curl "$SERVER_URL/api/uploads?filename=bench.bin" -H "authorization: Bearer $token" \
        -H 'content-type: application/octet-stream' --data-binary @"$file" "$@"
}
presigned="$(curl -sf -H "authorization: Bearer $token" -H 'content-type: application/json' \
    "$SERVER_URL/api/uploads/presign" \
    -d "{\"filename\":\"bench.bin\",\"content_type\":\"application/octet-stream\",\"size\":$bytes}")"
upload_url="$(json '["upload_url"]' <<<"$presigned")"
direct() {
    curl -X PUT "$upload_url" -H 'content-type: application/octet-stream' --data-binary @"$file" "$@"
}

# Warm-up (compiles, connections), then the measured rounds.
through_component -s -o /dev/null
direct -s -o /dev/null
component_s="$(seconds component through_component)"
direct_s="$(seconds direct direct)"

# Resident memory of the host: before, and at its peak (sampled every 10 ms)
# during one more limit-sized upload through the component.
rss_before="$(rss_mib "$SERVER_PID")"
( peak=0
  while [ ! -e "$work/stop" ]; do
      now="$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status")"
      [ "$now" -gt "$peak" ] && peak="$now"
      sleep 0.01
  done
  echo "$peak" >"$work/peak" ) &
sampler=$!
through_component -s -o /dev/null
touch "$work/stop"
wait "$sampler"
rss_peak="$(awk '{printf "%.1f", $1/1024}' "$work/peak")"

echo "| path | MiB/s | seconds for $ROUNDS x $SIZE_MIB MiB |"
echo "|---|---|---|"
echo "| PUT straight to the store, presigned (baseline) | $(mibps "$direct_s") | $direct_s |"
echo "| POST /api/uploads through the component | $(mibps "$component_s") | $component_s |"
echo
echo "component / direct: $(ratio "$direct_s" "$component_s")"
echo "host RSS: $rss_before MiB before, $rss_peak MiB at the peak of a $SIZE_MIB MiB upload"
echo "(curl, loopback, embedded S3 store, $(nproc) cores, $(date -u +%F))"
