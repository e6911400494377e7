#!/usr/bin/env bash
# Issue 14's figures: who terminates TLS. spinstack serving HTTPS itself
# (`--tls-cert/--tls-key`) against nginx terminating TLS in front of a
# cleartext spinstack (the nginx.conf rendered from the project's policy
# with a [tls] section and the api zone's rate raised; nginx keeps
# connections to spinstack alive), same run, rounds alternating:
#
# - TLS handshakes per second: wrk with `Connection: close`, so every request
#   is a new connection and a full handshake (wrk does not resume sessions),
#   on a path the host answers without a component (/.well-known/spin/info);
# - the cached `GET /api/users/me` (token check, user from the cache) over
#   HTTP/1.1 on kept connections (wrk) and over HTTP/2 (h2load, H2_CLIENTS
#   connections x H2_STREAMS streams, 900 requests per connection: nginx
#   ends an HTTP/2 connection after 1000 (`keepalive_requests`) and h2load
#   does not reconnect, so a timed run would measure that, not the server).
#
# Both spinstack instances run `--gateway none` (benches/lib.sh: no rate
# limits, the rest of the gateway on); the certificate is an ECDSA P-256 one
# made here, so both sides negotiate TLS 1.3 with the same key.
#
#   benches/tls.sh   (ROUNDS, DURATION, THREADS, CONNECTIONS as in lib.sh;
#                     H2_CLIENTS, H2_STREAMS for h2load)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_wrk
command -v h2load >/dev/null || { apt-get update -qq && apt-get install -y -qq nghttp2-client; }
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx; }
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
build_host
"$SPINSTACK" build -f "$ROOT/spin.toml" >/dev/null
ROUNDS="${ROUNDS:-3}"
H2_CLIENTS="${H2_CLIENTS:-16}"
H2_STREAMS="${H2_STREAMS:-2}"
H2_REQUESTS=$((H2_CLIENTS * 900))
work="$(mktemp -d)"
APP_WORK="$work"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
export CURL_CA_BUNDLE="$work/cert.pem"   # curl trusts the pair in register_and_login

# spinstack terminating TLS.
start_app tls --tls-cert "$work/cert.pem" --tls-key "$work/key.pem"
direct_url="$SERVER_URL"
direct_token="$(json_field "$(register_and_login bench-tls@example.com)" access_token)"

# A cleartext spinstack, and nginx in front of it with the rendered policy.
start_app behind_nginx
upstream="${SERVER_URL#http://}"
nginx_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
plain_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
raised_rate_policy "$work/policy.toml"
sed -e "s/^listen = 80$/listen = $plain_port/" -e "s|^upstream = \"127.0.0.1:3000\"|upstream = \"$upstream\"|" \
    -e "s|^runtime_dir = \"/tmp\"|runtime_dir = \"$work\"|" "$work/policy.toml" >"$work/gateway.toml"
printf '\n[tls]\ncert = "cert.pem"\nkey = "key.pem"\nnginx_listen = %s\n' "$nginx_port" >>"$work/gateway.toml"
"$SPINSTACK" gateway render-nginx --gateway "$work/gateway.toml" --out "$work/nginx.conf" >/dev/null
"$NGINX" -c "$work/nginx.conf" -g 'daemon off;' >"$work/nginx.log" 2>&1 &
PIDS+=($!)
nginx_url="https://127.0.0.1:$nginx_port"
for _ in $(seq 1 100); do curl -sf -o /dev/null "$nginx_url/.well-known/spin/info" && break; sleep 0.1; done
SERVER_URL="$nginx_url"
nginx_token="$(json_field "$(register_and_login bench-nginx@example.com)" access_token)"

# h2 URL TOKEN: h2load over TLS (ALPN h2), prints "requests_per_s mean_latency".
h2() {
    local out
    h2load -t"$THREADS" -c"$H2_CLIENTS" -m"$H2_STREAMS" -n "$H2_REQUESTS" -H "authorization: Bearer $2" "$1" >/dev/null 2>&1
    out="$(h2load -t"$THREADS" -c"$H2_CLIENTS" -m"$H2_STREAMS" -n "$H2_REQUESTS" -H "authorization: Bearer $2" "$1")"
    grep -qi '^application protocol: h2' <<<"$out" || { echo "h2load did not negotiate h2" >&2; echo "$out" >&2; return 1; }
    local failed
    failed="$(awk '/^requests:/ {print $10 + $12}' <<<"$out")"
    [ "$failed" = 0 ] || echo "warning: $failed failed or errored h2 requests on $1" >&2
    echo "$(awk '/^finished in/ {print $4}' <<<"$out") $(awk '/^time for request:/ {print $6}' <<<"$out")"
}

# measure SIDE URL TOKEN: one round of the three loads against one side.
measure() {
    load_with "$2/.well-known/spin/info" -H "Connection: close" >>"$work/$1.handshakes"
    load_with "$2/api/users/me" -H "Authorization: Bearer $3" >>"$work/$1.h1"
    h2 "$2/api/users/me" "$3" >>"$work/$1.h2"
}
for round in $(seq 1 "$ROUNDS"); do
    measure spinstack "$direct_url" "$direct_token"
    measure nginx "$nginx_url" "$nginx_token"
done

median() { sort -n -k1 "$1" | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2)'; }
row() {  # row LABEL KIND: "| label | spinstack | its latency | nginx | its latency | nginx / spinstack |"
    local s n s_rps s_lat n_rps n_lat rest
    read -r s_rps s_lat rest <<<"$(median "$work/spinstack.$2")"
    read -r n_rps n_lat rest <<<"$(median "$work/nginx.$2")"
    s="$s_rps"; n="$n_rps"
    echo "| $1 | $s | $s_lat | $n | $n_lat | $(awk -v a="$n" -v b="$s" 'BEGIN {printf "%.2fx", a/b}') |"
}
echo "median of $ROUNDS alternating rounds (per second; the latency is that run's: p50 for the handshakes, p99 for h1 (wrk), the mean for h2 (h2load))"
echo "| load | spinstack TLS | latency | nginx TLS -> spinstack | latency | nginx / spinstack |"
echo "|---|---|---|---|---|---|"
row "new TLS connections (handshake + one request)" handshakes
# load_with prints "rps p50 p99": keep p50 for handshakes, p99 for h1.
sed -i -E 's/^([^ ]+) ([^ ]+) ([^ ]+)$/\1 \3/' "$work/spinstack.h1" "$work/nginx.h1"
row "GET /api/users/me, HTTP/1.1, kept connections" h1
row "GET /api/users/me, HTTP/2 ($H2_CLIENTS x $H2_STREAMS streams)" h2
echo "(wrk -t$THREADS -c$CONNECTIONS -d$DURATION; h2load -t$THREADS -c$H2_CLIENTS -m$H2_STREAMS -n $H2_REQUESTS; $(nproc) cores, $(date -u +%F))"
