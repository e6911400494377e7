#!/usr/bin/env bash
# Writes infra/.env for the compose stack (infra/compose.yaml) with fresh
# random secrets, and a development certificate for localhost (a local CA
# and a leaf it signs) in infra/compose/tls/ unless one is there.
# An existing .env is kept (--force replaces it): replacing the Postgres
# or Redis password would lock the stack out of its own volumes.
#
#   scripts/compose-env.sh [--force] [--env FILE] [--tls-dir DIR]
#
# Real certificates: put fullchain.pem and privkey.pem in a directory and
# set TLS_DIR in .env to it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
env_file="$root/infra/.env"
tls_dir="$root/infra/compose/tls"
force=0
while [ $# -gt 0 ]; do
    case "$1" in
        --force) force=1 ;;
        --env) env_file="$2"; shift ;;
        --tls-dir) tls_dir="$2"; shift ;;
        *) echo "usage: $0 [--force] [--env FILE] [--tls-dir DIR]" >&2; exit 2 ;;
    esac
    shift
done
command -v openssl >/dev/null || { echo "compose-env: needs openssl (apt-get install openssl)" >&2; exit 1; }

# Hex: safe inside URLs (postgres://app:PASSWORD@db) without escaping.
secret() { openssl rand -hex "$1"; }

if [ -e "$env_file" ] && [ "$force" -eq 0 ]; then
    echo "compose-env: $env_file exists; kept (--force writes a new one)"
else
    umask 077
    cat >"$env_file.tmp" <<ENV
# Written by scripts/compose-env.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ). Never commit this file.
POSTGRES_PASSWORD=$(secret 24)
REDIS_PASSWORD=$(secret 24)
S3_ACCESS_KEY=$(secret 10)
S3_SECRET_KEY=$(secret 24)
JWT_SECRET=$(secret 48)
ADMIN_EMAIL=admin@example.com
ADMIN_PASSWORD=$(secret 12)
TLS_DIR=$tls_dir
ENV
    mv "$env_file.tmp" "$env_file"
    echo "compose-env: wrote $env_file (the first admin's password is in it)"
fi

if [ -s "$tls_dir/fullchain.pem" ] && [ -s "$tls_dir/privkey.pem" ]; then
    echo "compose-env: $tls_dir has a certificate; kept"
    exit 0
fi
mkdir -p "$tls_dir"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The CA's key is thrown away: it signs this one certificate and nothing else.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
    -subj "/CN=Spinstack compose development CA" -keyout "$work/ca.key" -out "$tls_dir/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=localhost" -keyout "$work/privkey.pem" -out "$work/leaf.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' >"$work/ext"
openssl x509 -req -in "$work/leaf.csr" -CA "$tls_dir/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
    -days 825 -extfile "$work/ext" -out "$work/leaf.pem" 2>/dev/null
cat "$work/leaf.pem" "$tls_dir/ca.pem" >"$tls_dir/fullchain.pem"
install -m 600 "$work/privkey.pem" "$tls_dir/privkey.pem"
echo "compose-env: wrote a localhost certificate in $tls_dir (trust ca.pem, e.g. curl --cacert $tls_dir/ca.pem)"
