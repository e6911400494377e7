#!/usr/bin/env bash
# Issue 6's figures: GET /api/users/me and GET /api/users/{id} (a user
# reading their own record) per second and p99, with the user cache (the
# default, `user:{id}` in the key-value store, 600 s) against the same
# requests with the cache switched off (SPIN_VARIABLE_USER_CACHE_SECONDS=0:
# every request reads Postgres), same run, same database server.
#
#   benches/users.sh     (DURATION, THREADS, CONNECTIONS override wrk's;
#                         KV=redis uses the local Redis as the cache store)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_wrk
build_host
"$SPINSTACK" build -f "$ROOT/spin.toml" >/dev/null
work="$(mktemp -d)"
APP_WORK="$work"
extra=()
if [ "${KV:-file}" = redis ]; then
    printf '[key_value_store.default]\ntype = "redis"\nurl = "redis://127.0.0.1:6379/3"\n' >"$work/runtime-config.toml"
    extra=(--runtime-config-file "$work/runtime-config.toml")
fi

measure() {  # measure NAME: prints "me_rps me_p99 one_rps one_p99"
    start_app "$1" "${extra[@]}"
    local login access id
    login="$(register_and_login "bench-$1@example.com")"
    access="$(json_field "$login" access_token)"
    id="$(curl -sf "$SERVER_URL/api/users/me" -H "Authorization: Bearer $access" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
    local me one
    me="$(load_with "$SERVER_URL/api/users/me" -H "Authorization: Bearer $access")"
    one="$(load_with "$SERVER_URL/api/users/$id" -H "Authorization: Bearer $access")"
    stop_server
    echo "$(cut -d' ' -f1,3 <<<"$me") $(cut -d' ' -f1,3 <<<"$one")"
}

read -r c_me c_me99 c_one c_one99 <<<"$(measure cached)"
read -r n_me n_me99 n_one n_one99 <<<"$(SPIN_VARIABLE_USER_CACHE_SECONDS=0 measure uncached)"

echo "| request | cache on: req/s | p99 | cache off: req/s | p99 | on / off |"
echo "|---|---|---|---|---|---|"
echo "| GET /api/users/me | $c_me | $c_me99 | $n_me | $n_me99 | $(awk -v a="$c_me" -v b="$n_me" 'BEGIN {printf "%.2fx", a/b}') |"
echo "| GET /api/users/{id} | $c_one | $c_one99 | $n_one | $n_one99 | $(awk -v a="$c_one" -v b="$n_one" 'BEGIN {printf "%.2fx", a/b}') |"
echo "(key-value store: ${KV:-file}; wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, $(date -u +%F))"
