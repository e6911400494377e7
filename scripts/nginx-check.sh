#!/usr/bin/env bash
# Checks the committed infra/nginx/nginx.conf with nginx itself (`nginx -t`),
# installing Debian's nginx first when it is missing. CI runs this.
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

nginx_bin="$(find_nginx)"
if [ -z "$nginx_bin" ]; then
    echo "nginx-check: nginx is missing; installing Debian's nginx" >&2
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends nginx \
        || $sudo apt-get install -y -qq --no-install-recommends nginx-light
    nginx_bin="$(find_nginx)"
    [ -n "$nginx_bin" ] || { echo "nginx-check: nginx still not found after installing" >&2; exit 1; }
fi

case "$conf" in
    /*) ;;
    *) conf="$PWD/$conf" ;;
esac
[ -f "$conf" ] || { echo "nginx-check: no such file: $conf" >&2; exit 1; }

"$nginx_bin" -v
"$nginx_bin" -t -q -c "$conf"
echo "nginx-check: $conf is valid"
