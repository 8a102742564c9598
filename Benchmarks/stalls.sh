#!/usr/bin/env bash
# Looks for latency stalls: one release node (SQLite, or PostgreSQL with its durable defaults),
# a parley-bench sweep against it, then what the server saw of it — its slow writes and late
# tasks from the log, and the per-stage histograms from /metrics (request time of a send, wait
# for and hold of the database, bus lag, scheduling delay).
#
#   Benchmarks/stalls.sh sqlite|postgres [parley-bench sweep options…]
#
# Default sizes: 20 members, 20 senders, 50…400 msg/s, 3 runs of 8 s per rate. Needs the release
# build (swift build -c release --product parley --product parley-bench). METRICS_OUT=FILE keeps
# the whole /metrics scrape taken after the sweep.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:?usage: Benchmarks/stalls.sh sqlite|postgres [sweep options…]}; shift
work=$(mktemp -d /tmp/parley-stalls.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  if [ "$backend" = postgres ]; then scripts/postgres-sandbox stop "$work/pg" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

database=()
if [ "$backend" = postgres ]; then
  database=(--database-url "$(DURABLE=1 scripts/postgres-sandbox start "$work/pg")")
fi
port=$(scripts/free-port)
metrics=$(scripts/free-port)
.build/release/parley serve --port "$port" --metrics-port "$metrics" --data-dir "$work/data" --password-cost 4 \
  --log-level notice --registrations-per-hour 1000000 "${database[@]}" >"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.05; done

.build/release/parley-bench sweep --server "http://127.0.0.1:$port" --members 20 --senders 20 \
  --rates 50,100,200,300,400 --seconds 8 --runs 3 --threshold-ms 1000 "$@"

echo "--- the server's notices (slow writes, late tasks):"
grep -E "Slow database write|Tasks ran late" "$work/server.log" | sed 's/^.*notice parley: //' | sort | uniq -c | sort -rn | head -20 || true
curl -s "http://127.0.0.1:$metrics/metrics" >"$work/metrics.txt"
if [ -n "${METRICS_OUT:-}" ]; then cp "$work/metrics.txt" "$METRICS_OUT"; fi
echo "--- per-stage histograms (cumulative counts per bucket, seconds):"
cat "$work/metrics.txt" | grep -E '^parley_(http_request_duration_seconds_bucket\{operation="sendMessage"|db_wait_seconds_bucket|db_hold_seconds_bucket|bus_lag_seconds_bucket|scheduling_delay_seconds_bucket)' \
  | grep -E 'le="(0\.005|0\.01|0\.025|0\.05|0\.1|0\.25|0\.5|1\.0|\+Inf)"' || true
