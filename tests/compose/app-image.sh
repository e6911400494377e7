#!/usr/bin/env bash
# Builds the app image for the compose test from what scripts/test.sh already
# built on the host (infra/docker/Dockerfile's `prebuilt` target: CI's
# containers reach no crate or npm registry), on the local Debian base.
# The context holds only what the image needs, laid out as the repository;
# the binary loses its debug info (the image is not for debugging, and the
# vfs storage driver copies every byte per layer). Skipped when an image with
# the same content exists. Prints APP_IMAGE=<image>.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
base="${1:?usage: app-image.sh BASE_IMAGE}"
bin="$root/target/debug/spinstack"
for path in "$bin" "$root/target/wasm32-wasip2/wasm/web.wasm" "$root/frontend/dist/index.html"; do
    [ -e "$path" ] || { echo "app-image: $path is missing (scripts/test.sh builds it)" >&2; exit 1; }
done

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/target/debug" "$ctx/target/wasm32-wasip2/wasm" "$ctx/frontend" "$ctx/infra/docker"
objcopy --strip-debug "$bin" "$ctx/target/debug/spinstack"
for component in health auth users uploads events web; do
    cp "$root/target/wasm32-wasip2/wasm/$component.wasm" "$ctx/target/wasm32-wasip2/wasm/"
done
cp -r "$root/frontend/dist" "$ctx/frontend/dist"
cp "$root/spin.toml" "$ctx/"
cp -r "$root/infra/gateway.toml" "$root/infra/migrations" "$root/infra/compose" "$ctx/infra/"
rm -rf "$ctx/infra/compose/tls"
cp "$root/infra/docker/app.sh" "$ctx/infra/docker/"

tag="$( (cd "$ctx" && find . -type f -print0 | sort -z | xargs -0 sha256sum; \
    sha256sum <"$root/infra/docker/Dockerfile"; echo "$base") | sha256sum | cut -c1-12)"
image="spinstack-ci/app:$tag"
if ! docker image inspect "$image" >/dev/null 2>&1; then
    echo "app-image: building $image" >&2
    docker build -q --target prebuilt --build-arg RUNTIME_IMAGE="$base" \
        -f "$root/infra/docker/Dockerfile" -t "$image" "$ctx" >"$ctx.log" 2>&1 \
        || { tail -n 30 "$ctx.log" >&2; rm -f "$ctx.log"; exit 1; }
    rm -f "$ctx.log"
fi
# Each CI run builds a new binary, so older app images only fill the disk.
docker images spinstack-ci/app --format '{{.Repository}}:{{.Tag}}' | grep -vx "$image" \
    | xargs -r docker rmi >/dev/null 2>&1 || true
echo "APP_IMAGE=$image"
