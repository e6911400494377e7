#!/usr/bin/env bash
# The project's test command (README quick start; .ci/run calls it).
#
# Needs: the wasm32-wasip2 target, PostgreSQL, Redis and Mosquitto on 127.0.0.1
# (.ci/run installs and starts what is missing), python3 for the OpenAPI
# validator and the contract fuzzer (Schemathesis), nginx for the config
# check, kubectl (or kustomize) for the Kubernetes manifests (each script
# installs its own tool).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo clippy --locked --target wasm32-wasip2 \
    -p spinstack-shared -p health -p auth -p users -p uploads -p events -p web -p fixture-probe -p fixture-hello -p fixture-pg -p fixture-kvbench -p fixture-redis -p fixture-mqtt -p fixture-tcp -p fixture-wasi \
    -- -D warnings

echo "== contract and gateway config (nginx-check installs the nginx the parity test runs)"
scripts/validate-openapi.sh
scripts/nginx-check.sh

echo "== Kubernetes manifests, offline: kustomize overlays, SpinApp CRD schema, Kubernetes schemas"
scripts/k8s-validate.sh

echo "== build the host and the app's components (as spin build would)"
cargo build --locked -p spinstack
target/debug/spinstack build

echo "== contract fuzzing: Schemathesis over openapi.yaml against spinstack up (as a user and as the admin)"
scripts/contract-fuzz.sh

echo "== tests: crates, host conformance, host-agnostic HTTP suite"
cargo test --locked
# The gateway's behaviour over HTTP/2 (cleartext, prior knowledge): the same
# tests as over HTTP/1.1 (TLS and h2 over TLS: tests/tls.rs).
SPINSTACK_TEST_HTTP=2 cargo test --locked -p spinstack --test gateway --test routing --test web --test in_process
# Component crates whose logic tests run natively (spin-sdk compiles for the host).
cargo test --locked -p spinstack-shared -p health -p auth -p users -p uploads -p events -p web
# The app's tests and the HTTP suite again on a Postgres that behaves as Spin
# 4.0.0-4.0.2's client does (README, "Running on Spin").
SPINSTACK_TEST_POSTGRES_COMPAT=spin-4.0.2 cargo test --locked -p spinstack -p http-suite \
    --test auth --test auth_tokens --test accounts --test two_factor --test email_change --test mailed_links --test users --test users_cache --test uploads --test health --test events --test web

echo "== web app: Vitest, build budget, end-to-end in Chromium"
scripts/frontend-test.sh

if [ "${SPINSTACK_TEST_COMPOSE:-0}" = 1 ]; then
    echo "== the compose stack on Docker: nginx + TLS, the app image, Postgres, Redis, S3"
    tests/compose/run.sh
    echo "== the SpinKube OCI artifact: built, through a loopback registry and back, served unpacked"
    tests/kubernetes/oci.sh
fi
