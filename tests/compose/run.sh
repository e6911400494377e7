#!/usr/bin/env bash
# The compose test: infra/compose.yaml on a real Docker engine, from a clean
# state, on images built here (images.sh, app-image.sh: no registry).
# scripts/test.sh runs it when SPINSTACK_TEST_COMPOSE=1 (.ci/run sets it).
#
#   tests/compose/run.sh        # needs scripts/docker-setup.sh and the host build
#
# Checks, through nginx on 127.0.0.1 only: `up --wait`; the HTTP suite over
# HTTPS; http -> 301; h2; HSTS; an upload and download via /_storage/;
# mail reaches the catcher service once; Postgres and Redis outages (faults.sh); down/up keeps data; down -v drops
# it; scale-out to 3 replicas, one killed, one drained, to zero and back
# (scale.sh); nginx's rate limit (429 + Retry-After). Prints each step's time.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$here/lib.sh"
source "$here/faults.sh"
source "$here/scale.sh"
t0=$SECONDS

docker info >/dev/null 2>&1 || "$root/scripts/docker-setup.sh"

step "images"
images="$("$here/images.sh")"
app="$("$here/app-image.sh" "$(sed -n 's/^BASE_IMAGE=//p' <<<"$images")")"
work="$(mktemp -d)"
# Ports on loopback, clear of the host's own services (5432, 6379, 80, 443).
https_port="${SPINSTACK_COMPOSE_HTTPS_PORT:-18443}"
http_port="${SPINSTACK_COMPOSE_HTTP_PORT:-18080}"
mail_port="${SPINSTACK_COMPOSE_MAIL_PORT:-18025}"
{
    echo "$images"
    echo "$app"
    echo "GATEWAY_HTTPS_PORT=$https_port"
    echo "GATEWAY_HTTP_PORT=$http_port"
    echo "MAIL_UI_PORT=$mail_port"
} >"$work/images.env"
"$root/scripts/compose-env.sh" --env "$work/.env" --tls-dir "$work/tls" >/dev/null
cat "$work/images.env" >>"$work/.env"
echo "   $(tr '\n' ' ' <"$work/images.env")"
export BASE="https://127.0.0.1:$https_port" CA="$work/tls/ca.pem"

project=spinstack-compose-test
compose() { docker compose -p "$project" -f "$root/infra/compose.yaml" --env-file "$work/.env" "$@"; }
cleanup() {
    local rc=$?
    if [ $rc -ne 0 ]; then
        echo "== compose: logs after the failure" >&2
        compose ps -a >&2 || true
        compose logs --no-color --tail 40 >&2 || true
    fi
    compose down -v --remove-orphans >/dev/null 2>&1 || true
    rm -rf "$work" "$WRITER_DIR" "$STATUS_FILE" "$HEADERS_FILE"
    exit $rc
}
trap cleanup EXIT
compose down -v --remove-orphans >/dev/null 2>&1 || true

up() {
    local start=$SECONDS
    compose up --wait --quiet-pull >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; fail "docker compose up --wait"; }
    echo "   up --wait: $((SECONDS - start)) s"
}

step "up --wait from a clean state"
up

step "the HTTP suite over HTTPS through nginx"
(cd "$root" && SPINSTACK_BASE_URL="$BASE" SPINSTACK_CA_CERT="$CA" \
    SPINSTACK_MAIL_URL="http://127.0.0.1:$mail_port" cargo test --locked -q -p http-suite)

step "http:// answers 301 to https://"
location="$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$http_port/health")"
case "$location" in "301 https://"*) ;; *) fail "http://: $location" ;; esac

step "HTTP/2 over TLS, HSTS, one X-Request-Id"
version="$(curl -sS --cacert "$CA" --http2 -o /dev/null -D "$HEADERS_FILE" -w '%{http_version}' "$BASE/health")"
[ "$version" = 2 ] || fail "HTTP version $version, expected 2"
case "$(header strict-transport-security)" in max-age=*) ;; *) fail "no HSTS header" ;; esac
ids="$(grep -ci '^x-request-id:' "$HEADERS_FILE" || true)"
[ "$ids" = 1 ] || fail "$ids X-Request-Id headers through nginx, expected one"

step "register, log in, upload and download through /_storage/"
email="compose-$RANDOM@example.com"
TOKEN="$(register_and_login "$email" "compose-test-password")"
head -c 200000 /dev/urandom >"$work/upload.bin"
id="$(upload "$TOKEN" "$work/upload.bin")"
download "$TOKEN" "$id" "$work/download.bin"
cmp -s "$work/upload.bin" "$work/download.bin" || fail "the download differs from the upload"
# A presigned upload: the URL is on the app's origin, nginx forwards it byte for byte.
presigned="$(api POST /api/uploads/presign -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"filename":"presigned.bin","content_type":"application/octet-stream","size":200000}')"
expect_status 200 "presign"
put_url="$(printf '%s' "$presigned" | json upload_url)"
presigned_id="$(printf '%s' "$presigned" | json upload.id)"
case "$put_url" in /_storage/*) ;; *) fail "upload_url is not on the app's origin: $put_url" ;; esac
curl -sS --cacert "$CA" -f -X PUT -H 'Content-Type: application/octet-stream' \
    --data-binary "@$work/upload.bin" "$BASE$put_url" -o /dev/null || fail "PUT to the presigned URL"
api POST "/api/uploads/$presigned_id/complete" -H "Authorization: Bearer $TOKEN" >/dev/null
expect_status 200 "complete the presigned upload"
download "$TOKEN" "$presigned_id" "$work/download2.bin"
cmp -s "$work/upload.bin" "$work/download2.bin" || fail "the presigned download differs"

step "mail: registration and a reset request reach the catcher service, once each"
auth_api POST /api/auth/password-reset -H 'Content-Type: application/json' -d "{\"email\":\"$email\"}" >/dev/null
expect_status 202 "a password reset request"
mail_count() {
    curl -sS -f "http://127.0.0.1:$mail_port/messages" | python3 -c '
import json, sys
print(sum(1 for m in json.load(sys.stdin) if m["To"] == sys.argv[1] and m["Subject"] == sys.argv[2]))' "$email" "$1"
}
deadline=$((SECONDS + 60))
until [ "$(mail_count 'Reset your password')" = 1 ] && [ "$(mail_count 'Confirm your email address')" = 1 ]; do
    [ $SECONDS -lt $deadline ] || fail "the catcher has $(mail_count 'Reset your password') reset and $(mail_count 'Confirm your email address') verification mails for $email, expected one each"
    sleep 1
done
# Once each: a few seconds more (later logins sweep the outbox) add none.
sleep 3
[ "$(mail_count 'Reset your password')" = 1 ] || fail "a reset mail was delivered twice"

check_db_outage
check_redis_outage

step "down, then up: users and uploads survive (volumes); migrations not re-run"
compose down >/dev/null 2>&1
up
api GET /api/users/me -H "Authorization: Bearer $TOKEN" >/dev/null
expect_status 200 "the user after down/up"
download "$TOKEN" "$id" "$work/download3.bin"
cmp -s "$work/upload.bin" "$work/download3.bin" || fail "the upload changed across down/up"
compose logs --no-color migrate | grep "Database up to date" >/dev/null || fail "the second up re-ran migrations: $(compose logs --no-color migrate)"

step "down -v, then up: the data is gone"
compose down -v >/dev/null 2>&1
up
api GET /api/users/me -H "Authorization: Bearer $TOKEN" >/dev/null
expect_status 401 "the old user's token after down -v"
compose logs --no-color migrate | grep "applied, 0 already applied" >/dev/null || fail "a fresh volume should get every migration"

check_scale_out

step "nginx's rate limit: 429 problem+json with Retry-After"
limited=0
for i in $(seq 1 12); do
    api POST /api/auth/login -H 'Content-Type: application/json' -d '{"email":"nobody@example.com","password":"wrong-password"}' >/dev/null
    if [ "$(status)" = 429 ]; then limited=$i; break; fi
done
[ "$limited" -gt 0 ] || fail "12 logins in a row were never limited"
[ -n "$(header retry-after)" ] || fail "the 429 has no Retry-After"
[ "$(header content-type)" = application/problem+json ] || fail "the 429 is $(header content-type)"
echo "   login $limited was refused (auth zone: 5r/m, burst 5), Retry-After $(header retry-after)"

echo "== compose: all checks passed in $((SECONDS - t0)) s"
