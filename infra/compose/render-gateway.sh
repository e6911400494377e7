#!/bin/sh
# Writes the compose gateway's nginx.conf into the directory $1 (the
# `gateway-config` one-shot service runs this in the app image, so the file
# always matches the image's infra/gateway.toml): that policy with its
# [nginx] section replaced by nginx-deployment.toml's [nginx] and [tls], and
# /_storage/ proxied to the `storage` service.
set -eu
out="${1:?usage: render-gateway.sh OUTPUT_DIR}"
here="$(cd "$(dirname "$0")" && pwd)"
policy="$(mktemp)"
trap 'rm -f "$policy"' EXIT
# Drop the [nginx] table (up to the next table header); a [tls] already in
# the policy would collide with ours and fail the rendering loudly.
awk '/^\[nginx\][ \t]*$/ { skip = 1; next } /^\[/ { skip = 0 } !skip' \
    "$here/../gateway.toml" >"$policy"
cat "$here/nginx-deployment.toml" >>"$policy"
spinstack gateway render-nginx --gateway "$policy" --out "$out/nginx.conf.tmp" \
    --proxy-upstream /_storage/=http://storage:9000 >/dev/null
mv "$out/nginx.conf.tmp" "$out/nginx.conf"
echo "render-gateway: wrote $out/nginx.conf"
