#!/usr/bin/env bash
# Contract fuzzing: Schemathesis generates requests from openapi.yaml, sends
# them to `spinstack up`, and checks every answer against the document
# (status codes, headers, content types, bodies), that no request gets a 5xx,
# that requests breaking the schema are refused and requests within it are
# not, and that protected operations refuse missing or bad credentials. It
# runs its four phases (the schema's examples, coverage of each constraint's
# edges, random fuzzing, stateful sequences that feed one answer's ids into
# the next request) with a fixed budget and seed, so two runs send the same
# cases. Any failure fails the script.
#
#   scripts/contract-fuzz.sh      # after `cargo build -p spinstack` and `target/debug/spinstack build`
#
# Needs: python3 (venv), curl, redis-server on 127.0.0.1:6379 and PostgreSQL's
# server programs (the host's embedded Postgres), as scripts/test.sh does.
# Schemathesis comes from PyPI into a venv in the cache directory, once.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SCHEMATHESIS_VERSION="4.32.5"
# The budget: test cases per operation and phase, and the seed. 2 cores run
# the whole step in about the time docs/RELIABILITY.md gives.
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-100}"
SEED="${FUZZ_SEED:-20261202}"
# A database number of its own on the machine's Redis, flushed before and after.
REDIS_DB=11

# --- Schemathesis, in a venv kept between runs ---------------------------
cache="${SPINSTACK_CI_CACHE:-/var/cache/spinstack-ci}"
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
    cache="${XDG_CACHE_HOME:-$HOME/.cache}/spinstack"
    mkdir -p "$cache"
fi
venv="$cache/venv-schemathesis"
# shellcheck source=lib/pinned-venv.sh
source scripts/lib/pinned-venv.sh
pinned_venv "$venv" schemathesis "$SCHEMATHESIS_VERSION"
st="$venv/bin/st"

# --- the host ------------------------------------------------------------
[ -x target/debug/spinstack ] || { echo "contract-fuzz: build the host first (cargo build -p spinstack)" >&2; exit 1; }
work="$(mktemp -d)"
host_pid=""
cleanup() {
    status=$?
    if [ -n "$host_pid" ]; then
        kill "$host_pid" 2>/dev/null || true
        wait "$host_pid" 2>/dev/null || true
    fi
    redis-cli -n "$REDIS_DB" flushdb >/dev/null 2>&1 || true
    if [ "$status" -ne 0 ] && [ -f "$work/host.log" ]; then
        echo "contract-fuzz: the host's last log lines (stderr):" >&2
        grep -v '^{' "$work/host.log" | tail -n 20 >&2 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
redis-cli -n "$REDIS_DB" flushdb >/dev/null

ADMIN_EMAIL="fuzz-admin@example.com"
ADMIN_PASSWORD="fuzz-admin-password"
printf '[key_value_store.default]\ntype = "redis"\nurl = "redis://127.0.0.1:6379/%s"\n' "$REDIS_DB" \
    >"$work/runtime-config.toml"
# `--gateway none`: the project's policy allows 5 requests a minute to
# /api/auth/* per client address, and the fuzzer is one address sending
# thousands, so nearly every answer would be a 429 (conformant, and testing
# nothing). `none` keeps everything else of the policy: the security headers,
# the body limits, compression and the /_storage proxy the presigned URLs use.
# Access tokens live an hour, longer than the whole step.
SPIN_VARIABLE_ADMIN_EMAIL="$ADMIN_EMAIL" SPIN_VARIABLE_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
SPIN_VARIABLE_ACCESS_TOKEN_TTL_SECONDS=3600 \
    target/debug/spinstack up -f spin.toml --listen 127.0.0.1:0 --gateway none \
    --state-dir "$work/state" --cache-dir target/contract-fuzz-compiled --runtime-config-file "$work/runtime-config.toml" \
    >"$work/host.log" 2>&1 &
host_pid=$!
for _ in $(seq 1 240); do
    grep -q '^Serving ' "$work/host.log" && break
    kill -0 "$host_pid" 2>/dev/null || break
    sleep 0.5
done
url="$(sed -n '/^Serving /{s///p;q}' "$work/host.log")"
[ -n "$url" ] || { echo "contract-fuzz: spinstack up did not start" >&2; exit 1; }

# --- the identities ------------------------------------------------------
post() {
    curl -sS --max-time 30 -o "$work/body" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' -d "$2" "$url$1"
}
access_token() {
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["access_token"])' "$work/body"
}
# A registered user's access token ($1: email, $2: password).
user_token() {
    local code
    code="$(post /api/auth/register "{\"email\":\"$1\",\"password\":\"$2\",\"name\":\"Contract Fuzz\"}")"
    [ "$code" = 201 ] || { echo "contract-fuzz: register $1: $code $(cat "$work/body")" >&2; exit 1; }
    login_token "$1" "$2"
}
login_token() {
    local code
    code="$(post /api/auth/login "{\"email\":\"$1\",\"password\":\"$2\"}")"
    [ "$code" = 200 ] || { echo "contract-fuzz: login $1: $code $(cat "$work/body")" >&2; exit 1; }
    access_token
}
user="$(user_token fuzz-user@example.com fuzz-user-password)"
# The first admin: the first login with the configured credentials creates it.
admin="$(login_token "$ADMIN_EMAIL" "$ADMIN_PASSWORD")"

# $1: token, $2: field; that field of the caller's account (GET
# /api/users/me), or the HTTP status when the token is refused.
me() {
    local code
    code="$(curl -sS --max-time 30 -o "$work/me" -w '%{http_code}' -H "Authorization: Bearer $1" "$url/api/users/me")"
    if [ "$code" = 200 ]; then
        python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/me" "$2"
    else
        echo "$code"
    fi
}

# --- the runs ------------------------------------------------------------
# Each run: a name, the identity's token, the role it must still have when
# the run ends, and the operations.
#
# The fuzzer must not end its own identity halfway through a run: every
# later request would get a conformant 401 or 403 and test nothing.
# - `logout` revokes the caller's access token when the refresh token sent
#   is the caller's: it runs only as a throwaway account, in a run of its
#   own, last, the account registered when the run starts (the admin run may
#   delete any account).
# - `deleteUser` with the caller's own id (the stateful phase takes it from
#   `getCurrentUser`), or the admin changing its own role (it can once it has
#   promoted another account), goes to an id nobody has instead:
#   tests/contract/hooks.py, given the run's own id. infra/host/tests/users.rs
#   covers deleting oneself and the last admin.
# After each run the script checks that the token still works with its
# role: a run that lost its identity fails here.
# - `streamEvents` (GET /api/events) is left out: a valid request is a
#   server-sent events stream that stays open for events_stream_seconds, so
#   every example would wait that long (Schemathesis reads whole bodies).
#   tests/http-suite/tests/events.rs checks it over HTTP, 401 included.
runs=(
    "user|$user|user|--exclude-operation-id logout --exclude-operation-id streamEvents"
    "admin|$admin|admin|--include-tag users --include-tag uploads"
    "throwaway user, logging out|throwaway|user|--include-operation-id logout --include-operation-id getCurrentUser --include-operation-id deleteUser"
)
started=$(date +%s)
for run in "${runs[@]}"; do
    IFS='|' read -r name token keeps filters <<<"$run"
    echo "== contract fuzz: as $name ($filters)"
    run_started=$(date +%s)
    [ "$token" != throwaway ] || token="$(user_token fuzz-throwaway@example.com fuzz-throwaway-password)"
    own_id="$(me "$token" id)"
    log_from=$(($(wc -l <"$work/host.log") + 1))
    # shellcheck disable=SC2086 # the filters are words
    FUZZ_TOKEN="$token" FUZZ_OWN_ID="$own_id" \
        "$st" --no-color --config-file tests/contract/schemathesis.toml run openapi.yaml \
        --url "$url" $filters \
        --checks all --phases examples,coverage,fuzzing,stateful \
        --max-examples "$MAX_EXAMPLES" --seed "$SEED" --workers 1 \
        --request-timeout 30 --warnings off \
        >"$work/run.log" 2>&1 || {
        cat "$work/run.log"
        echo "contract-fuzz: FAIL: the run as $name found problems (seed $SEED, $MAX_EXAMPLES examples)" >&2
        exit 1
    }
    cat "$work/run.log"
    # What the server answered in this run, from its access log (one JSON
    # line a request): the statuses each operation gave, so a run that never
    # got past the refusals shows as one.
    tail -n "+$log_from" "$work/host.log" | python3 -c '
import collections, json, re, sys
operations = re.compile(r"(GET|POST|PATCH|DELETE) (/health|/api/(auth/\w+|users(/me|/\{id\})?|uploads(/presign|/\{id\}(/complete)?)?))")
seen, other = collections.defaultdict(collections.Counter), collections.Counter()
for line in sys.stdin:
    if not line.startswith("{"):
        continue
    entry = json.loads(line)
    if "status" not in entry:
        continue
    route = entry["method"] + " " + re.sub(r"/[0-9a-fA-F-]{36}(?=/|$)", "/{id}", entry["path"])
    if operations.fullmatch(route) and entry["status"] != 405:
        seen[route][entry["status"]] += 1
    else:
        other[entry["status"]] += 1
print("Answers by operation and status:")
for route in sorted(seen):
    print(f"  {route}: " + ", ".join(f"{s} x{n}" for s, n in sorted(seen[route].items())))
print("  other methods and paths: " + ", ".join(f"{s} x{n}" for s, n in sorted(other.items())))
'
    echo "contract fuzz: as $name: $(($(date +%s) - run_started)) s"
    now="$(me "$token" role)"
    [ "$now" = "$keeps" ] || {
        echo "contract-fuzz: FAIL: after the run as $name its token gets $now, not a $keeps's answer: the run lost its identity" >&2
        exit 1
    }
done
echo "contract fuzz: passed, $(($(date +%s) - started)) s (seed $SEED, $MAX_EXAMPLES examples per operation and phase)"
