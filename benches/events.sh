#!/usr/bin/env bash
# Issue 15's figures for server-sent events from a component (the path
# that works on every host: one instance per open stream, polling its
# user's outbox every events_poll_ms): the time from a write's response to
# its event's arrival, with 1 and 100 open streams (one user each), beside
# the write's own round trip in the same rounds, and the host's memory per
# open stream. The client is benches/events_latency.py (standard library).
#
#   benches/events.sh    (EVENTS_STREAMS="1 100": the counts to measure;
#                         EVENTS_ROUNDS=100: writes timed per count;
#                         EVENTS_POLL_MS: the component's poll interval)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
build_host
"$SPINSTACK" build -f "$ROOT/spin.toml" >/dev/null
work="$(mktemp -d)"
APP_WORK="$work"
read -r -a counts <<<"${EVENTS_STREAMS:-1 100}"
total="$(printf '%s\n' "${counts[@]}" | awk '{n += $1} END {print n}')"
# Streams outlive the run (no reconnects mid-measure); every stream holds
# an instance, so the host admits them all and a few requests besides. A
# count's streams, once closed by the client, keep their instances until
# each one's next write fails (a heartbeat: up to 15 s later), so the
# admission limit is the sum of the counts, not the largest.
export SPIN_VARIABLE_EVENTS_STREAM_SECONDS=600
export SPIN_VARIABLE_EVENTS_POLL_MS="${EVENTS_POLL_MS:-500}"
start_app events --max-concurrent "$((total + 16))"
echo "poll interval ${SPIN_VARIABLE_EVENTS_POLL_MS} ms, $(nproc) cores, $(date -u +%F)"
python3 "$ROOT/benches/events_latency.py" "$SERVER_URL" "$SERVER_PID" "${counts[@]}"
stop_server
