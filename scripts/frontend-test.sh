#!/usr/bin/env bash
# The web app's checks (scripts/test.sh calls this after building the host
# and the components): npm dependencies from the lock file, API types fresh
# against openapi.yaml, type check, Vitest, the production build and its
# first-load budget, then the end-to-end run in Debian's Chromium against
# `spinstack up` (needs target/debug/spinstack and the built components).
#
# Needs Node 20, zbarimg (zbar-tools: the two-factor test reads the QR code)
# and /usr/bin/chromium (.ci/run installs them; no browser is
# ever downloaded).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

echo "== frontend: dependencies"
npm --prefix frontend ci --no-audit --no-fund

echo "== frontend: API types, type check, unit and component tests"
npm --prefix frontend run check:api
npm --prefix frontend run typecheck
npm --prefix frontend exec -- vitest run --root frontend

echo "== frontend: build (precompressed) and first-load budget (200 KB)"
npm --prefix frontend run build
node frontend/scripts/first-load-size.mjs frontend/dist --max 204800

echo "== frontend: end-to-end in Chromium"
node tests/e2e/run.mjs
echo "== frontend: end-to-end in Chromium over HTTPS (HTTP/2, --tls-self-signed)"
E2E_TLS=1 node tests/e2e/run.mjs
