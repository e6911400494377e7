# Outages of the backing services while requests run (sourced by run.sh):
# the app answers 503 problem+json while Postgres is down, recovers by
# itself (its container is not restarted), and no upload it acknowledged
# is lost. Needs lib.sh, TOKEN, and compose() from run.sh.

WRITER_DIR="$(mktemp -d)"

# Uploads small distinct files until $WRITER_DIR/stop exists (at most 600
# tries, 0.2 s apart); each acknowledged one is "id sha256" in acked.
writer_start() {
    (
        for i in $(seq 1 600); do
            [ -e "$WRITER_DIR/stop" ] && break
            f="$WRITER_DIR/w$i.txt"
            echo "write $i $(date +%s%N)" >"$f"
            out="$(curl -sS --cacert "$CA" --max-time 20 -w '\n%{http_code}' \
                -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/plain' \
                --data-binary "@$f" "$BASE/api/uploads?filename=w$i.txt" 2>/dev/null || true)"
            code="${out##*$'\n'}"
            echo "$code" >>"$WRITER_DIR/codes"
            if [ "$code" = 201 ]; then
                id="$(printf '%s' "${out%$'\n'*}" | json id)"
                echo "$id $(sha256sum <"$f" | cut -d' ' -f1)" >>"$WRITER_DIR/acked"
            fi
            sleep 0.2
        done
    ) &
    WRITER_PID=$!
}

writer_stop() {
    touch "$WRITER_DIR/stop"
    wait "$WRITER_PID" || true
}

# Every acknowledged upload is readable and has its bytes.
check_acked_writes() {
    local n=0 id sum
    [ -s "$WRITER_DIR/acked" ] || fail "the writer got no upload acknowledged"
    while read -r id sum; do
        download "$TOKEN" "$id" "$WRITER_DIR/back"
        [ "$(sha256sum <"$WRITER_DIR/back" | cut -d' ' -f1)" = "$sum" ] || fail "upload $id came back changed"
        n=$((n + 1))
    done <"$WRITER_DIR/acked"
    echo "   $n acknowledged uploads all present; writer statuses: $(sort "$WRITER_DIR/codes" | uniq -c | tr -s ' \n' ' ')"
}

# Waits (at most $2 s) until `GET /api/uploads` answers $1.
wait_for_uploads_list() {
    local want="$1" deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        api GET /api/uploads -H "Authorization: Bearer $TOKEN" >/dev/null || true
        [ "$(status)" = "$want" ] && return 0
        sleep 0.5
    done
    fail "GET /api/uploads did not answer $want within $2 s (last: $(status))"
}

app_started_at() { docker inspect -f '{{.State.StartedAt}}' "$(compose ps -q app)"; }

check_db_outage() {
    local started
    started="$(app_started_at)"
    writer_start
    sleep 1
    step "db stopped: 503 problem+json"
    compose stop db >/dev/null 2>&1
    wait_for_uploads_list 503 30
    [ "$(header content-type)" = application/problem+json ] \
        || fail "the outage's 503 is $(header content-type), not application/problem+json"
    step "db started: the app recovers by itself"
    compose start db >/dev/null 2>&1
    wait_for_uploads_list 200 60
    step "docker compose restart db while requests run"
    compose restart db >/dev/null 2>&1
    wait_for_uploads_list 200 60
    sleep 1
    writer_stop
    [ "$(app_started_at)" = "$started" ] || fail "the app container was restarted"
    check_acked_writes
}

check_redis_outage() {
    local started body
    started="$(app_started_at)"
    rm -f "$WRITER_DIR/stop" "$WRITER_DIR/acked" "$WRITER_DIR/codes"
    writer_start
    sleep 1
    step "redis stopped: the API reads through to Postgres, /health says 503"
    compose stop redis >/dev/null 2>&1
    sleep 1
    api GET /api/users/me -H "Authorization: Bearer $TOKEN" >/dev/null
    expect_status 200 "GET /api/users/me with redis down"
    body="$(api GET /health)"
    expect_status 503 "GET /health with redis down"
    [ "$(printf '%s' "$body" | json checks.cache)" != ok ] || fail "/health says the cache is ok while redis is down"
    step "docker compose restart redis while requests run"
    compose start redis >/dev/null 2>&1
    compose restart redis >/dev/null 2>&1
    local deadline=$((SECONDS + 60))
    until api GET /health >/dev/null && [ "$(status)" = 200 ]; do
        [ $SECONDS -lt $deadline ] || fail "/health did not recover after redis came back"
        sleep 0.5
    done
    sleep 1
    writer_stop
    [ "$(app_started_at)" = "$started" ] || fail "the app container was restarted"
    check_acked_writes
}
