#!/usr/bin/env bash
# Issue 5's figures, each against its baseline in the same run:
#
# 1. Logins per second through the auth component (POST /api/auth/login: one
#    argon2id check, m = 19 MiB, t = 2, p = 1, plus its Postgres work) versus
#    the same argon2id checks run natively on as many threads
#    (examples/native_argon2.rs): the wasm tax on the work that bounds a
#    login.
# 2. The per-request cost of the shared token check: GET /api/users/me with
#    a valid access token (JWT check, denylist, cached user) versus the same
#    request without one (the component answers 401 before any of it).
#
#   benches/auth.sh      (DURATION, THREADS, CONNECTIONS override wrk's)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_wrk
build_host
(cd "$ROOT" && CARGO_TARGET_DIR="$BENCH_TARGET" cargo build -q --profile bench-host -p spinstack --example native_argon2)
"$SPINSTACK" build -f "$ROOT/spin.toml" >/dev/null
work="$(mktemp -d)"
APP_WORK="$work"

start_app auth
login="$(register_and_login bench@example.com)"
access="$(json_field "$login" access_token)"
cat >"$work/login.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench@example.com","password":"password123"}'
LUA

sed 's/password123/wrong-password/' "$work/login.lua" >"$work/wrong.lua"
sed 's/bench@example.com/nobody@example.com/' "$work/login.lua" >"$work/unknown.lua"

# Logins are CPU-bound: as many connections as cores keeps both busy.
read -r login_rps login_p50 login_p99 <<<"$(CONNECTIONS=$(nproc) load_with "$SERVER_URL/api/auth/login" -s "$work/login.lua")"
# Failures must cost what a success costs (no account enumeration by time).
read -r wrong_rps wrong_p50 wrong_p99 <<<"$(CONNECTIONS=$(nproc) load_with "$SERVER_URL/api/auth/login" -s "$work/wrong.lua" 2>/dev/null)"
read -r unknown_rps unknown_p50 unknown_p99 <<<"$(CONNECTIONS=$(nproc) load_with "$SERVER_URL/api/auth/login" -s "$work/unknown.lua" 2>/dev/null)"
native_checks="$("$BENCH_TARGET/bench-host/examples/native_argon2" "$(nproc)" "${DURATION%s}")"

read -r me_rps me_p50 me_p99 <<<"$(load_with "$SERVER_URL/api/users/me" -H "Authorization: Bearer $access")"
read -r anon_rps anon_p50 anon_p99 <<<"$(load_with "$SERVER_URL/api/users/me" 2>/dev/null)"
stop_server

echo "| what | per second | p50 | p99 |"
echo "|---|---|---|---|"
echo "| logins through the component | $login_rps | $login_p50 | $login_p99 |"
echo "| logins with a wrong password (401) | $wrong_rps | $wrong_p50 | $wrong_p99 |"
echo "| logins with an unknown email (401) | $unknown_rps | $unknown_p50 | $unknown_p99 |"
echo "| argon2id checks, native, $(nproc) threads | $native_checks | | |"
echo "| GET /api/users/me with a valid token (token check + cached user) | $me_rps | $me_p50 | $me_p99 |"
echo "| GET /api/users/me without a token (401 before the check) | $anon_rps | $anon_p50 | $anon_p99 |"
echo
echo "logins / native checks: $(ratio "$login_rps" "$native_checks")"
echo "token check, per request: $(awk -v a="$me_rps" -v b="$anon_rps" 'BEGIN {printf "%.0f µs of one core (%.0f µs vs %.0f µs a request)", 1e6*'"$(nproc)"'*(1/a-1/b), 1e6*'"$(nproc)"'/a, 1e6*'"$(nproc)"'/b}')"
echo "(wrk -t$THREADS -c$CONNECTIONS -d$DURATION; logins with -c$(nproc); $(nproc) cores, $(date -u +%F))"
