#!/usr/bin/env bash
# Our Postgres pool against deadpool-postgres (Fast and Clean recycling):
# checkouts with one cached statement each, 16 tasks, alternating rounds,
# and how many prepared statements each keeps after 2,000 distinct ones.
# Needs the local Postgres (SPINSTACK_BENCH_POSTGRES overrides the address).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
CARGO_TARGET_DIR="$BENCH_TARGET" cargo test -q --profile bench-host -p spinstack --lib \
    capabilities::postgres::pool_comparison -- --ignored --nocapture --test-threads=1 |
    grep -v '^running\|^test \|^$\|test result'
echo "($(nproc) cores, $(date -u +%F))"
