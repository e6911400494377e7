#!/bin/sh
# `rustfs` with the official image's variables, served by s3s-fs.
set -eu
if [ "${1:-}" != rustfs ]; then exec "$@"; fi
: "${RUSTFS_ACCESS_KEY:?RUSTFS_ACCESS_KEY is required}"
: "${RUSTFS_SECRET_KEY:?RUSTFS_SECRET_KEY is required}"
address="${RUSTFS_ADDRESS:-:9000}"
port="${address##*:}"
volume="${RUSTFS_VOLUMES:-/data}"
mkdir -p "$volume"
# s3s logs every refused request at ERROR, so the health check's anonymous
# probe would fill the log every 2 s; the refusals are still answered.
export RUST_LOG="${RUST_LOG:-info,s3s::ops=off}"
# Keys on the command line stay inside this container's process table.
exec s3s-fs --host 0.0.0.0 --port "$port" \
    --access-key "$RUSTFS_ACCESS_KEY" --secret-key "$RUSTFS_SECRET_KEY" "$volume"
