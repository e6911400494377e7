#!/usr/bin/env bash
# Issue 16's figure: a password reset request costs the same whether or not
# the address has an account, so its timing does not tell who is registered
# (the README promises it; a test cannot, as timing assertions are not
# tests). POST /api/auth/password-reset for a registered address against the
# same request for an unknown one (both write the same request row; after the
# response a registered address also gets its token, its mail row and the
# delivery to the embedded catcher), with wrk back to back on one connection
# and on one per core, and paced (reset_probe.py: one client, requests 20 ms
# apart, alternating addresses).
#
#   benches/accounts.sh      (DURATION, THREADS override wrk's)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_wrk
build_host
"$SPINSTACK" build -f "$ROOT/spin.toml" >/dev/null
work="$(mktemp -d)"
APP_WORK="$work"

start_app accounts
register_and_login known@example.com >/dev/null
for who in known unknown; do
    cat >"$work/$who.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"$who@example.com"}'
LUA
done

echo "| address | connections | per second | p50 | p99 |"
echo "|---|---|---|---|---|"
for connections in 1 "$(nproc)"; do
    # Alternating, twice each: drift of the machine shows as disagreement
    # between the two rounds rather than as a difference of the addresses.
    for round in 1 2; do
        for who in known unknown; do
            read -r rps median p99 <<<"$(THREADS=1 CONNECTIONS=$connections load_with "$SERVER_URL/api/auth/password-reset" -s "$work/$who.lua")"
            echo "| $who (round $round) | $connections | $rps | $median | $p99 |"
        done
    done
done
echo
echo "| address | requests | p50 | interquartile range |"
echo "|---|---|---|---|"
python3 "$ROOT/benches/reset_probe.py" "$SERVER_URL" known@example.com unknown@example.com unknown2@example.com 300 20
stop_server
caught="$(find "$work/state-accounts/mail/messages" -name '*.json' | wc -l)"
echo
echo "mail caught for the known address: $caught (one per request; none for the unknown one)"
echo "(wrk -t1 -d$DURATION; $(nproc) cores, $(date -u +%F))"
