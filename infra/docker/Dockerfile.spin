# The app as an OCI image for SpinKube: no operating system, only what
# containerd-shim-spin reads. It loads /spin.toml and resolves the
# manifest's paths against it, so each file sits where spin.toml names it:
# /target/wasm32-wasip2/wasm/*.wasm and /frontend/dist (the web component's
# files). Nothing here runs: FROM scratch needs no base image, and the
# migrations are not in it (they run as the Kubernetes Job, from the app
# image: infra/kubernetes/base/migrate-job.yaml).
#
# Context: a directory laid out as the repository with only these files (the
# repository root would send target/ whole); tests/kubernetes/oci.sh makes one:
#
#   docker build -f infra/docker/Dockerfile.spin -t REGISTRY/spinstack/spinapp:TAG CONTEXT
#
# Three layers (the manifest, the wasm, the web files): a release that
# changes one of them shares the others with the previous one.
FROM scratch
COPY spin.toml /spin.toml
COPY target/wasm32-wasip2/wasm/ /target/wasm32-wasip2/wasm/
COPY frontend/dist/ /frontend/dist/
