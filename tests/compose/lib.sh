# Helpers for the compose test (sourced by run.sh): HTTP through the stack's
# nginx on loopback, JSON fields, assertions. Expects BASE (https://127.0.0.1:PORT)
# and CA (the stack's development CA) to be set.

fail() { echo "compose test: FAIL: $*" >&2; exit 1; }
step() { echo "== compose: $*"; }

# curl through nginx over HTTPS, trusting only the stack's CA.
# Prints the body; the status goes to the file $STATUS_FILE.
STATUS_FILE="$(mktemp)"
HEADERS_FILE="$(mktemp)"
api() {
    local method="$1" path="$2"
    shift 2
    curl -sS --cacert "$CA" --max-time 30 -X "$method" -o - -D "$HEADERS_FILE" \
        -w '%{stderr}%{http_code}' "$@" "$BASE$path" 2>"$STATUS_FILE"
}
status() { tail -c 3 "$STATUS_FILE"; }
header() { grep -i -m1 "^$1:" "$HEADERS_FILE" | cut -d' ' -f2- | tr -d '\r'; }

# A field of a JSON document on stdin ("a.b" for nested ones).
json() {
    python3 -c '
import json, sys
value = json.load(sys.stdin)
for part in sys.argv[1].split("."):
    value = value[part]
print(value)' "$1"
}

expect_status() {
    local want="$1" what="$2" got
    got="$(status)"
    [ "$got" = "$want" ] || fail "$what: status $got, expected $want ($(sed -n 1p "$HEADERS_FILE"))"
}

# `api` for /api/auth/*: the gateway's auth zone (5 a minute per address)
# is shared with the steps before (the HTTP suite spends it too), so a 429
# is waited out (its Retry-After) and the request sent again, for up to two
# minutes; any other answer is returned as it is.
auth_api() {
    local deadline=$((SECONDS + 120)) out wait
    while :; do
        out="$(api "$@")"
        [ "$(status)" = 429 ] && [ $SECONDS -lt $deadline ] || break
        wait="$(header retry-after)"
        sleep "${wait:-5}"
    done
    printf '%s' "$out"
}

# POST /api/auth/register then login; prints the access token.
register_and_login() {
    local email="$1" password="$2"
    auth_api POST /api/auth/register -H 'Content-Type: application/json' \
        -d "{\"email\":\"$email\",\"password\":\"$password\",\"name\":\"Compose Test\"}" >/dev/null
    expect_status 201 "register $email"
    login "$email" "$password"
}

login() {
    local body
    body="$(auth_api POST /api/auth/login -H 'Content-Type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"$2\"}")"
    expect_status 200 "login $1"
    printf '%s' "$body" | json access_token
}

# A direct (streamed) upload of the file $2 named $1; prints the upload's id.
upload() {
    local token="$1" file="$2" body
    body="$(api POST "/api/uploads?filename=$(basename "$file")" -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/octet-stream' --data-binary "@$file")"
    expect_status 201 "upload $file"
    printf '%s' "$body" | json id
}

# Downloads upload $2 through its presigned URL (on /_storage/) into $3.
download() {
    local token="$1" id="$2" out="$3" url
    url="$(api GET "/api/uploads/$id" -H "Authorization: Bearer $token" | json download_url)"
    expect_status 200 "read upload $id"
    case "$url" in /_storage/*) ;; *) fail "download_url is not on the app's origin: $url" ;; esac
    curl -sS --cacert "$CA" --max-time 30 -f -o "$out" "$BASE$url" || fail "GET $url"
}

# For the measuring scripts: h2load, and in the directory $1 a stack's .env
# (fresh secrets, a dev certificate, the images built here, the gateway on
# 127.0.0.1:18443 and :18080); exports BASE and CA for it.
measure_setup() {
    local work="$1" here root images
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    root="$(cd "$here/../.." && pwd)"
    command -v h2load >/dev/null || apt-get install -y -qq --no-install-recommends nghttp2-client >/dev/null
    "$root/scripts/compose-env.sh" --env "$work/.env" --tls-dir "$work/tls" >/dev/null
    images="$("$here/images.sh")"
    { echo "$images"; "$here/app-image.sh" "$(sed -n 's/^BASE_IMAGE=//p' <<<"$images")"; } >>"$work/.env"
    printf 'GATEWAY_HTTPS_PORT=18443\nGATEWAY_HTTP_PORT=18080\n' >>"$work/.env"
    export BASE=https://127.0.0.1:18443 CA="$work/tls/ca.pem"
}
