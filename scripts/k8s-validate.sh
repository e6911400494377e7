#!/usr/bin/env bash
# Offline checks of infra/kubernetes/ (no cluster): each overlay rendered by
# kustomize, every object validated (scripts/k8s_validate.py says against
# what), then the validator's self-test (broken copies must be refused).
# Installs what it needs, once: kubernetes-validate (pinned) from PyPI and,
# only on a machine without a kubectl whose kustomize is v4 or newer,
# Debian trixie's kustomize (bookworm's kubernetes-client is kubectl 1.20,
# whose kustomize v2.0.3 reads neither `patches:` nor `labels:`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# SpinKube's CRDs are data the workplace keeps beside the repository
# (../shared), not in it; a clone elsewhere (CI's) finds them at /work/shared.
crds="${SPINSTACK_CRDS:-}"
if [ -z "$crds" ]; then
    for candidate in "$root/../shared/kubernetes/crds" /work/shared/kubernetes/crds; do
        if [ -f "$candidate/core.spinkube.dev_spinapps.yaml" ]; then crds="$candidate"; break; fi
    done
    crds="${crds:-$root/../shared/kubernetes/crds}"
fi
# Pinned: the Kubernetes schemas it ships include 1.31.0 (K8S_VERSION there).
validate_version=1.31.0

[ -f "$crds/core.spinkube.dev_spinapps.yaml" ] || {
    echo "k8s-validate: no SpinApp CRD in $crds or /work/shared/kubernetes/crds (SPINSTACK_CRDS names another folder)" >&2
    exit 1
}

if ! python3 -c "import kubernetes_validate, sys; sys.exit(kubernetes_validate.version.__version__ != '$validate_version')" 2>/dev/null; then
    echo "k8s-validate: pip install kubernetes-validate==$validate_version"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "kubernetes-validate==$validate_version"
fi

# The kustomize to render with: kubectl's if recent enough, else a kustomize.
kustomize_major() { grep -o 'Kustomize Version: v[0-9]*' | grep -o '[0-9]*$' || echo 0; }
if command -v kubectl >/dev/null 2>&1 \
    && [ "$(kubectl version --client 2>/dev/null | kustomize_major)" -ge 4 ]; then
    render() { kubectl kustomize "$1"; }
else
    if ! command -v kustomize >/dev/null 2>&1; then
        echo "k8s-validate: installing Debian trixie's kustomize (pinned: nothing else from trixie)"
        if ! grep -qs 'Suites: trixie' /etc/apt/sources.list.d/*.sources; then
            printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
                >/etc/apt/sources.list.d/spinstack-trixie-kustomize.sources
        fi
        printf 'Package: *\nPin: release n=trixie\nPin-Priority: -1\n\nPackage: kustomize\nPin: release n=trixie\nPin-Priority: 990\n' \
            >/etc/apt/preferences.d/spinstack-trixie-kustomize
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends kustomize >/dev/null
    fi
    render() { kustomize build "$1"; }
fi

# A copy, so that the dev overlay's git-ignored secret files can be the
# committed placeholders without touching the working tree.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$root/infra/kubernetes" "$work/"
k8s="$work/kubernetes"
cp "$k8s/secrets.env.example" "$k8s/overlays/dev/secrets.env"
cp "$k8s/runtime-config.toml.example" "$k8s/overlays/dev/runtime-config.toml"

rendered=()
for overlay in "$k8s"/overlays/*/; do
    name="$(basename "$overlay")"
    render "$overlay" >"$work/$name.yaml" || { echo "k8s-validate: kustomize failed on overlays/$name" >&2; exit 1; }
    rendered+=("$work/$name.yaml")
done
[ ${#rendered[@]} -ge 3 ] || { echo "k8s-validate: expected dev, prod and prod-keda overlays" >&2; exit 1; }

python3 "$root/scripts/k8s_validate.py" check "$crds" "$root/spin.toml" "${rendered[@]}"
python3 "$root/scripts/k8s_validate.py" self-test "$crds" "$root/spin.toml" "$work/prod.yaml"
echo "k8s-validate: ok"
