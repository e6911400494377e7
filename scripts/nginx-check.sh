#!/usr/bin/env bash
# Checks the committed infra/nginx/nginx.conf with nginx itself (`nginx -t`),
# installing Debian's nginx first when it is missing. CI runs this.
# Without an argument it also checks the rendering of a policy with [tls]
# (the committed policy has none): the policy plus a [tls] section naming a
# throwaway self-signed pair made by openssl, rendered by the gateway crate's
# render-nginx example.
#
# That the file matches infra/gateway.toml is checked by the Rust test
# `the_committed_nginx_conf_is_up_to_date` (cargo test -p spinstack-gateway);
# to regenerate it: spinstack gateway render-nginx
# (or: cargo run -p spinstack-gateway --example render-nginx).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
conf="${1:-$root/infra/nginx/nginx.conf}"

find_nginx() {
    command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true
}

apt_install() {
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "$@"
}

nginx_bin="$(find_nginx)"
if [ -z "$nginx_bin" ]; then
    echo "nginx-check: nginx is missing; installing Debian's nginx" >&2
    apt_install nginx || apt_install nginx-light
    nginx_bin="$(find_nginx)"
    [ -n "$nginx_bin" ] || { echo "nginx-check: nginx still not found after installing" >&2; exit 1; }
fi

check_tls_rendering=0
[ $# -eq 0 ] && check_tls_rendering=1

case "$conf" in
    /*) ;;
    *) conf="$PWD/$conf" ;;
esac
[ -f "$conf" ] || { echo "nginx-check: no such file: $conf" >&2; exit 1; }

"$nginx_bin" -v
"$nginx_bin" -t -q -c "$conf"
echo "nginx-check: $conf is valid"

[ "$check_tls_rendering" -eq 1 ] || exit 0
if ! command -v openssl >/dev/null 2>&1; then
    echo "nginx-check: openssl is missing; installing Debian's openssl" >&2
    apt_install openssl
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=localhost -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
{
    cat "$root/infra/gateway.toml"
    printf '\n[tls]\ncert = "cert.pem"\nkey = "key.pem"\nredirect_http = true\n'
} >"$tmp/gateway.toml"
(cd "$root" && cargo run -q --locked -p spinstack-gateway --example render-nginx -- \
    "$tmp/gateway.toml" "$tmp/nginx.conf")
grep -q "ssl_certificate $tmp/cert.pem;" "$tmp/nginx.conf" \
    || { echo "nginx-check: the [tls] rendering names no certificate" >&2; exit 1; }
"$nginx_bin" -t -q -c "$tmp/nginx.conf"
echo "nginx-check: the rendering of a policy with [tls] is valid"
