#!/usr/bin/env bash
# Compares two builds of the server in one run: each in turn gets a fresh release node (SQLite, or
# PostgreSQL with its durable defaults) and the same `parley-bench fanout` step, ROUNDS times
# (A B A B …), with the server's CPU time counted over each step (--server-pid).
#
#   Benchmarks/compare.sh BINARY_A BINARY_B [sqlite|postgres] [parley-bench fanout options…]
#
# Default step: 100 members, 10 senders, 200 msg/s for 10 s; ROUNDS=2. Build the binaries with
# `swift build -c release --product parley` at each commit and copy .build/release/parley aside.
set -euo pipefail
cd "$(dirname "$0")/.."
a=${1:?usage: Benchmarks/compare.sh BINARY_A BINARY_B [sqlite|postgres] [fanout options…]}
b=${2:?usage: Benchmarks/compare.sh BINARY_A BINARY_B [sqlite|postgres] [fanout options…]}
shift 2
backend=sqlite
if [ "${1:-}" = sqlite ] || [ "${1:-}" = postgres ]; then backend=$1; shift; fi
work=$(mktemp -d /tmp/parley-compare.XXXXXX)
chmod 755 "$work"
server=
cleanup() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ -d "$work/pg" ]; then scripts/postgres-sandbox stop "$work/pg" >/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

for round in $(seq 1 "${ROUNDS:-2}"); do
  for binary in "$a" "$b"; do
    database=()
    if [ "$backend" = postgres ]; then
      database=(--database-url "$(DURABLE=1 scripts/postgres-sandbox start "$work/pg")")
    fi
    port=$(scripts/free-port)
    "$binary" serve --port "$port" --data-dir "$work/data" --password-cost 4 --log-level warning \
      --registrations-per-hour 1000000 "${database[@]}" >"$work/server.log" 2>&1 &
    server=$!
    for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.05; done
    echo "=== round $round: $binary ($backend)"
    .build/release/parley-bench fanout --server "http://127.0.0.1:$port" --server-pid "$server" \
      --members 100 --senders 10 --rate 200 --seconds 10 --label "$(basename "$binary") $backend" "$@" \
      | grep -E "^\{|send→receive|server CPU|delivered" || true
    kill -TERM "$server"; wait "$server" 2>/dev/null || true
    server=
    rm -rf "$work/data"
    if [ "$backend" = postgres ]; then scripts/postgres-sandbox stop "$work/pg" >/dev/null; rm -rf "$work/pg"; fi
  done
done
