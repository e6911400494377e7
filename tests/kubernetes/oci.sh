#!/usr/bin/env bash
# The SpinKube artifact (infra/docker/Dockerfile.spin) end to end without a
# cluster: built from what scripts/test.sh built, pushed to a registry on
# loopback (Debian's docker-registry, started here on a free port), pulled
# back, its manifest and layers checked through the registry's API (paths
# where containerd-shim-spin reads them), then the layers unpacked in order
# and the unpacked /spin.toml served by `spinstack up`: GET /health is 200.
#
# Needs the Docker engine (scripts/docker-setup.sh); installs docker-registry.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
components=(health auth users uploads events web)
say() { echo "oci: $*"; }
fail() { echo "oci: FAIL: $*" >&2; exit 1; }

bin="$root/target/debug/spinstack"
needed=("$bin" "$root/frontend/dist/index.html")
for c in "${components[@]}"; do needed+=("$root/target/wasm32-wasip2/wasm/$c.wasm"); done
for path in "${needed[@]}"; do
    [ -e "$path" ] || fail "$path is missing (scripts/test.sh builds it)"
done
if ! command -v docker-registry >/dev/null 2>&1; then
    say "apt-get install docker-registry"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry >/dev/null
fi

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "${image:-}" ] && docker rmi "$image" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# 1. The context: only what the image holds, laid out as the repository.
ctx="$work/context"
mkdir -p "$ctx/target/wasm32-wasip2/wasm" "$ctx/frontend"
cp "$root/spin.toml" "$ctx/"
for c in "${components[@]}"; do cp "$root/target/wasm32-wasip2/wasm/$c.wasm" "$ctx/target/wasm32-wasip2/wasm/"; done
cp -r "$root/frontend/dist" "$ctx/frontend/dist"

# 2. The registry, on loopback only (the engine trusts 127.0.0.0/8 over HTTP).
port="$(free_port)"
registry="127.0.0.1:$port"
cat >"$work/registry.yml" <<EOF
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $work/registry-data } }
http: { addr: $registry }
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do curl -fsS "http://$registry/v2/" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "http://$registry/v2/" >/dev/null || { cat "$work/registry.log" >&2; fail "the registry did not start"; }
say "registry on $registry"

# 3. Build, push, forget, pull.
image="$registry/spinstack/spinapp:test"
docker build -q -f "$root/infra/docker/Dockerfile.spin" -t "$image" "$ctx" >"$work/build.log" 2>&1 \
    || { tail -n 20 "$work/build.log" >&2; fail "docker build"; }
docker push -q "$image" >/dev/null
pushed="$(docker image inspect --format '{{index .RepoDigests 0}}' "$image")"
docker rmi "$image" >/dev/null
docker pull -q "$image" >/dev/null
pulled="$(docker image inspect --format '{{index .RepoDigests 0}}' "$image")"
[ "$pushed" = "$pulled" ] || fail "pulled $pulled, pushed $pushed"
say "pushed and pulled back $pulled"

# 4. The manifest and its layers, straight from the registry; each layer is
#    fetched, its digest checked, and unpacked in order into rootfs/.
mkdir -p "$work/rootfs"
curl -fsS -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$registry/v2/spinstack/spinapp/manifests/test" >"$work/manifest.json"
python3 - "$work" "$registry" <<'EOF'
import hashlib, json, sys, tarfile, urllib.request
work, registry = sys.argv[1], sys.argv[2]
manifest = json.load(open(f"{work}/manifest.json"))
layers = manifest["layers"]
# One layer per COPY of Dockerfile.spin, and what each must hold (no more).
expected = [
    {"spin.toml"},
    {f"target/wasm32-wasip2/wasm/{c}.wasm" for c in ("health", "auth", "users", "uploads", "events", "web")},
    {"frontend/dist/index.html"},
]
if len(layers) != len(expected):
    sys.exit(f"oci: FAIL: {len(layers)} layers, expected {len(expected)}")
for index, (layer, wanted) in enumerate(zip(layers, expected)):
    blob = urllib.request.urlopen(f"http://{registry}/v2/spinstack/spinapp/blobs/{layer['digest']}").read()
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    if digest != layer["digest"]:
        sys.exit(f"oci: FAIL: layer {index} is {digest}, the manifest says {layer['digest']}")
    path = f"{work}/layer{index}.tar.gz"
    open(path, "wb").write(blob)
    with tarfile.open(path) as tar:
        files = {m.name.lstrip("./") for m in tar.getmembers() if m.isfile()}
        missing = wanted - files
        if missing:
            sys.exit(f"oci: FAIL: layer {index} lacks {sorted(missing)} (has {sorted(files)[:8]})")
        if index < 2 and files != wanted:
            sys.exit(f"oci: FAIL: layer {index} has more than expected: {sorted(files - wanted)}")
        tar.extractall(f"{work}/rootfs", filter="data")
    print(f"oci: layer {index}: {len(files)} files, {layer['size']} bytes, {layer['mediaType']}")
EOF
cmp "$work/rootfs/spin.toml" "$root/spin.toml" || fail "the unpacked spin.toml differs from the repository's"
diff -r "$work/rootfs/frontend/dist" "$root/frontend/dist" >/dev/null || fail "the unpacked frontend/dist differs"

# 5. The unpacked manifest loads and serves (embedded Postgres and S3 stand
#    in for the managed ones; the migrations come from the repository, as
#    the Kubernetes Job brings them).
listen="127.0.0.1:$(free_port)"
"$bin" up -f "$work/rootfs/spin.toml" --listen "$listen" --state-dir "$work/state" \
    --migrations "$root/infra/migrations" --gateway none >"$work/up.log" 2>&1 &
pids+=($!)
code=000
for _ in $(seq 1 240); do
    code="$(curl -s -o "$work/health.json" -w '%{http_code}' "http://$listen/health" || true)"
    [ "$code" = 200 ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.5
done
[ "$code" = 200 ] || { tail -n 30 "$work/up.log" >&2; fail "GET /health on the unpacked manifest: $code"; }
say "spinstack up on the unpacked image: GET /health 200 $(cat "$work/health.json")"
say "ok"
