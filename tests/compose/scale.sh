# Scale-out (sourced by run.sh): the app as several replicas behind nginx,
# the closest to a serverless fleet one machine runs. Proves that any
# replica can answer any request (nothing lives in a replica), that a
# replica killed under load costs only its in-flight requests, that a
# replica stopped with SIGTERM drains before it exits, and scale to zero
# and back. Needs lib.sh, faults.sh's writer, and compose() from run.sh.
#
# nginx resolves `app` to every replica when it loads its config (the
# images' nginx predates the `resolve` upstream parameter), so after each
# change of scale the test reloads it with SIGHUP, as README "Scaling out"
# tells an operator to.

SCALE_RUN="scale-$$-$RANDOM"

scale_app() {
    local n="$1" start=$SECONDS
    compose up --wait --no-recreate --scale "app=$n" >"$WRITER_DIR/scale.log" 2>&1 \
        || { cat "$WRITER_DIR/scale.log" >&2; fail "docker compose up --scale app=$n"; }
    echo "   up --scale app=$n: $((SECONDS - start)) s"
    reload_gateway
}

reload_gateway() {
    compose kill -s HUP gateway >/dev/null 2>&1 || fail "SIGHUP to the gateway"
    # nginx starts new workers with the new addresses and lets the old ones finish.
    sleep 2
}

app_containers() { compose ps -q app; }

# A request id of this run; the replica that served it is found in the logs.
# Unique without shell state: `traced` often runs in a $(...) subshell.
next_request_id() { echo "$SCALE_RUN-$(cat /proc/sys/kernel/random/uuid)"; }

# `api` with a request id of this run recorded under the label $1.
traced() {
    local label="$1" id
    shift
    id="$(next_request_id)"
    echo "$id $label" >>"$WRITER_DIR/traced"
    api "$@" -H "X-Request-Id: $id"
}

# Which replica served each traced request: counts per label and replica,
# from the access-log lines (`app-N | {"request_id": ...}`).
served_by() {
    compose logs --no-color app 2>/dev/null | python3 -c '
import json, re, sys
labels = dict(line.split(" ", 1) for line in open(sys.argv[1]).read().splitlines())
served = {}
for line in sys.stdin:
    # Compose may still emit terminal escapes around the service prefix.
    name, sep, rest = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", line).partition("|")
    if not sep:
        continue
    try:
        record = json.loads(rest)
    except ValueError:
        continue
    rid = record.get("request_id") or record.get("fields", {}).get("request_id")
    if rid in labels:
        served.setdefault(labels[rid], {}).setdefault(name.strip(), 0)
        served[labels[rid]][name.strip()] += 1
for label, replicas in sorted(served.items()):
    print(label, len(replicas), " ".join(f"{r}={n}" for r, n in sorted(replicas.items())))
' "$WRITER_DIR/traced"
}

# Fails unless the requests labelled $1 reached at least $2 replicas.
expect_spread() {
    local label="$1" want="$2" line
    line="$(served_by | awk -v l="$label" '$1 == l')"
    [ -n "$line" ] || fail "no access-log line for the requests labelled $label"
    [ "$(echo "$line" | cut -d' ' -f2)" -ge "$want" ] || fail "$label reached fewer than $want replicas: $line"
    echo "   $line"
}

# $1 requests (9 reach all 3 replicas: nginx's round robin is per worker,
# and one of its 2 workers gets at least 5 of them) must all answer $3.
repeat_expect() {
    local n="$1" label="$2" want="$3" i
    shift 3
    for i in $(seq 1 "$n"); do
        traced "$label" "$@" >"$WRITER_DIR/last.json"
        expect_status "$want" "$label (request $i of $n)"
    done
}

check_stateless_replicas() {
    local email tokens access refresh
    step "scale out to 3 replicas"
    scale_app 3
    [ "$(app_containers | wc -l)" = 3 ] || fail "$(app_containers | wc -l) app containers, expected 3"

    step "3 replicas: any replica answers any step of a session"
    email="scale-$RANDOM@example.com"
    traced register POST /api/auth/register -H 'Content-Type: application/json' \
        -d "{\"email\":\"$email\",\"password\":\"scale-test-password\",\"name\":\"Scale Test\"}" >/dev/null
    expect_status 201 "register"
    tokens="$(traced login POST /api/auth/login -H 'Content-Type: application/json' \
        -d "{\"email\":\"$email\",\"password\":\"scale-test-password\"}")"
    expect_status 200 "login"
    access="$(printf '%s' "$tokens" | json access_token)"
    refresh="$(printf '%s' "$tokens" | json refresh_token)"
    repeat_expect 9 me-after-login 200 GET /api/users/me -H "Authorization: Bearer $access"
    expect_spread me-after-login 3

    # The profile cache lives in Redis: a change made through one replica is
    # what every replica answers next.
    traced rename PATCH /api/users/me -H "Authorization: Bearer $access" \
        -H 'Content-Type: application/json' -d '{"name":"Renamed Through One Replica"}' >/dev/null
    expect_status 200 "rename"
    for _ in $(seq 1 9); do
        traced me-after-rename GET /api/users/me -H "Authorization: Bearer $access" >"$WRITER_DIR/last.json"
        expect_status 200 "GET /api/users/me after the rename"
        [ "$(json name <"$WRITER_DIR/last.json")" = "Renamed Through One Replica" ] \
            || fail "a replica answered a stale profile: $(cat "$WRITER_DIR/last.json")"
    done
    expect_spread me-after-rename 3

    # An upload acknowledged by one replica is listed and readable through all.
    head -c 50000 /dev/urandom >"$WRITER_DIR/scale-upload.bin"
    local upload_id
    upload_id="$(upload "$access" "$WRITER_DIR/scale-upload.bin")"
    repeat_expect 9 upload-read 200 GET "/api/uploads/$upload_id" -H "Authorization: Bearer $access"
    expect_spread upload-read 3
    download "$access" "$upload_id" "$WRITER_DIR/scale-download.bin"
    cmp -s "$WRITER_DIR/scale-upload.bin" "$WRITER_DIR/scale-download.bin" || fail "the upload came back changed"

    # Refresh rotation: the spent token is refused by whichever replica gets it.
    traced refresh POST /api/auth/refresh -H 'Content-Type: application/json' \
        -d "{\"refresh_token\":\"$refresh\"}" >/dev/null
    expect_status 200 "refresh"
    traced refresh-reused POST /api/auth/refresh -H 'Content-Type: application/json' \
        -d "{\"refresh_token\":\"$refresh\"}" >/dev/null
    expect_status 401 "the spent refresh token used again"
    # Its reuse revoked the family; a new session for what follows (the auth
    # zone allows 6 requests at once: this is the sixth and last).
    tokens="$(traced login-again POST /api/auth/login -H 'Content-Type: application/json' \
        -d "{\"email\":\"$email\",\"password\":\"scale-test-password\"}")"
    expect_status 200 "log in again"
    TOKEN="$(printf '%s' "$tokens" | json access_token)"
    SCALE_REFRESH="$(printf '%s' "$tokens" | json refresh_token)"
}

# Logout's denylist is shared: no replica accepts the access token after it.
check_logout_everywhere() {
    step "3 replicas: after logout no replica accepts the access token"
    # The auth zone refills one request per 12 s; the previous steps took longer.
    traced logout POST /api/auth/logout -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' -d "{\"refresh_token\":\"$SCALE_REFRESH\"}" >/dev/null
    expect_status 204 "logout"
    repeat_expect 9 me-after-logout 401 GET /api/users/me -H "Authorization: Bearer $TOKEN"
    expect_spread me-after-logout 3
    served_by | awk '{ print "   " $0 }'
}

# GETs until $READER_DIR/stop exists, each retried once (GET is idempotent);
# "code" per request in $READER_DIR/codes.
reader_start() {
    READER_DIR="$(mktemp -d)"
    (
        for _ in $(seq 1 2000); do
            [ -e "$READER_DIR/stop" ] && break
            code="$(curl -sS --cacert "$CA" --max-time 20 -o /dev/null -w '%{http_code}' \
                -H "Authorization: Bearer $TOKEN" "$BASE/api/users/me" 2>/dev/null || true)"
            if [ "$code" != 200 ]; then
                echo "retry after $code" >>"$READER_DIR/retries"
                code="$(curl -sS --cacert "$CA" --max-time 20 -o /dev/null -w '%{http_code}' \
                    -H "Authorization: Bearer $TOKEN" "$BASE/api/users/me" 2>/dev/null || true)"
            fi
            echo "$code" >>"$READER_DIR/codes"
            sleep 0.05
        done
    ) &
    READER_PID=$!
}

reader_stop() {
    touch "$READER_DIR/stop"
    wait "$READER_PID" || true
    local bad
    bad="$(grep -vc '^200$' "$READER_DIR/codes" || true)"
    echo "   reader: $(wc -l <"$READER_DIR/codes") GETs, $(cat "$READER_DIR/retries" 2>/dev/null | wc -l) retried once, $bad failed after the retry"
    [ "$bad" = 0 ] || fail "reads failed even after a retry: $(sort "$READER_DIR/codes" | uniq -c | tr -s ' \n' ' ')"
    rm -rf "$READER_DIR"
}

# The writer's failures may only be the killed replica's in-flight requests.
expect_writer_failures_at_most() {
    local most="$1" failed
    failed="$(grep -vc '^201$' "$WRITER_DIR/codes" || true)"
    [ "$failed" -le "$most" ] || fail "$failed uploads failed (at most $most expected): $(sort "$WRITER_DIR/codes" | uniq -c | tr -s ' \n' ' ')"
}

check_replica_killed() {
    local victim pid
    step "3 replicas: one killed with SIGKILL under load; nginx routes around it"
    rm -f "$WRITER_DIR/stop" "$WRITER_DIR/acked" "$WRITER_DIR/codes"
    writer_start
    reader_start
    sleep 2
    victim="$(app_containers | sed -n 1p)"
    pid="$(docker inspect -f '{{.State.Pid}}' "$victim")"
    docker kill -s KILL "$victim" >/dev/null || fail "docker kill"
    sleep 5
    writer_stop
    reader_stop
    # At most the uploads in flight on the victim (one writer: one at a time).
    expect_writer_failures_at_most 1
    check_acked_writes
    # Its restart policy may have started it again, as a new process.
    [ "$(docker inspect -f '{{.State.Pid}}' "$victim")" != "$pid" ] || fail "the victim was not killed"
    step "back to 3 replicas"
    scale_app 3
}

check_replica_drained() {
    local victim started exit_code took
    step "3 replicas: one stopped with SIGTERM under load drains before it exits"
    rm -f "$WRITER_DIR/stop" "$WRITER_DIR/acked" "$WRITER_DIR/codes"
    writer_start
    reader_start
    sleep 2
    victim="$(app_containers | sed -n 1p)"
    started=$SECONDS
    docker stop "$victim" >/dev/null || fail "docker stop"
    took=$((SECONDS - started))
    sleep 2
    writer_stop
    reader_stop
    exit_code="$(docker inspect -f '{{.State.ExitCode}}' "$victim")"
    [ "$exit_code" = 0 ] || fail "the stopped replica exited with $exit_code (137: killed before it drained)"
    docker logs "$victim" 2>&1 | grep "drained: every request in flight finished" >/dev/null \
        || fail "the stopped replica did not log its drain: $(docker logs --tail 5 "$victim" 2>&1)"
    expect_writer_failures_at_most 1
    check_acked_writes
    echo "   stopped in $took s with exit code 0 after draining"
}

check_scale_to_zero() {
    local start ready started listening
    step "scale to zero: nginx answers 502 or 504 problem+json"
    scale_app 0
    [ -z "$(app_containers)" ] || fail "app containers left at scale 0"
    api GET /health >/dev/null || true
    # Its reload failed (`app` has no address): it tries the old addresses,
    # whose connects time out (504), or finds them all marked failed (502).
    case "$(status)" in 502 | 504) ;; *) fail "GET /health with no replica: $(status), expected 502 or 504" ;; esac
    [ "$(header content-type)" = application/problem+json ] || fail "the $(status) is $(header content-type)"

    step "and back to one: time to the first 200"
    start="$(date +%s%N)"
    compose up --no-recreate --detach --scale app=1 >"$WRITER_DIR/scale.log" 2>&1 \
        || { cat "$WRITER_DIR/scale.log" >&2; fail "docker compose up --scale app=1"; }
    local deadline=$((SECONDS + 60))
    # The new replica's address is known once its container exists.
    reload_gateway
    until api GET /health >/dev/null && [ "$(status)" = 200 ]; do
        [ $SECONDS -lt $deadline ] || fail "no 200 within 60 s of scaling back to one"
        sleep 0.1
    done
    ready="$(date +%s%N)"
    # Container start to spinstack's "listening" line, both from Docker's clock.
    started="$(docker inspect -f '{{.State.StartedAt}}' "$(app_containers)")"
    listening="$(docker logs --timestamps "$(app_containers)" 2>&1 | awk '/ Serving / && !seen++ { print $1 }')"
    echo "   scale 0 -> 1: first 200 through nginx $(((ready - start) / 1000000)) ms after \`up\` (incl. the 2 s reload wait);" \
        "container start to "Serving": $(python3 -c '
import sys
from datetime import datetime
def parse(s):
    s = s.rstrip("Z")
    head, _, frac = s.partition(".")
    return datetime.fromisoformat(head).timestamp() + float("0." + (frac or "0"))
print(f"{(parse(sys.argv[2]) - parse(sys.argv[1])) * 1000:.0f} ms")' "$started" "$listening")"
}

# The whole scale-out sequence; the stack is at one replica after it.
check_scale_out() {
    check_stateless_replicas
    check_replica_killed
    check_replica_drained
    step "back to 3 replicas"
    scale_app 3
    check_logout_everywhere
    check_scale_to_zero
}
