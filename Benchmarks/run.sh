#!/usr/bin/env bash
# Runs every parley-bench scenario against release servers it starts on this machine: one node on
# SQLite, one node on a throwaway PostgreSQL, and two nodes sharing that PostgreSQL. Writes one
# JSON line per scenario to Benchmarks/results/STAMP.jsonl, a chart of fan-out latency against
# offered rate to Benchmarks/results/STAMP.png, and prints a Markdown table of the results.
#
#   Benchmarks/run.sh            the documented sizes (about 10 minutes on 2 cores, after the build)
#   Benchmarks/run.sh --quick    tiny sizes, to check that everything runs (about 2 minutes)
#
# Servers listen on 127.0.0.1 and load goes to loopback only; every scenario is bounded and stops
# by itself; the servers and the cluster this script starts are stopped by PID when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
case "${1:-}" in
  --quick) quick=true ;;
  "") ;;
  *) echo "usage: Benchmarks/run.sh [--quick]" >&2; exit 2 ;;
esac

if $quick; then
  rates=25,50,100; seconds=2; pause=0.5
  connections=600; per_worker=300; hold=1; load_seconds=2; messages=200
else
  rates=25,50,100,200,300,400,600,800; seconds=8; pause=2
  connections=19000; per_worker=9500; hold=10; load_seconds=10; messages=2000
fi

echo "run.sh: building release binaries" >&2
swift build -c release --product parley >&2
swift build -c release --product parley-bench >&2
parley=.build/release/parley
bench=.build/release/parley-bench

python3 -c 'import matplotlib' 2>/dev/null || { echo "run.sh: installing matplotlib" >&2; scripts/pip-install matplotlib; }

# Each server may hold as many sockets as the machine lets a process have.
ulimit -n "$(ulimit -Hn)"

stamp=$(date -u +%Y%m%d-%H%M%S)
mkdir -p Benchmarks/results
results=Benchmarks/results/$stamp.jsonl
work=$(mktemp -d)
server_pids=()
postgres_dir=""

cleanup() {
  for pid in "${server_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${server_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$postgres_dir" ]; then scripts/postgres-sandbox stop "$postgres_dir"; fi
  rm -rf "$work"
}
trap cleanup EXIT


# start_node NAME [parley serve options…]: starts a node; sets node_url and node_pid.
start_node() {
  local name=$1; shift
  local port
  port=$(scripts/free-port)
  mkdir -p "$work/$name"
  # bcrypt cost 4: the scenarios register hundreds of users, and password hashing is not what they measure.
  # The connection limits are raised: the connections scenario opens thousands per user and per address.
  env -u DATABASE_URL "$parley" serve --port "$port" --data-dir "$work/$name" --password-cost 4 --log-level warning \
    --max-connections-per-user 100000 --max-connections-per-address 100000 --registrations-per-hour 1000000 "$@" \
    >"$work/$name.log" 2>&1 &
  node_pid=$!
  server_pids+=("$node_pid")
  node_url=http://127.0.0.1:$port
  for _ in $(seq 1 600); do
    curl -sf "$node_url/readyz" >/dev/null && return 0
    kill -0 "$node_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "run.sh: node $name did not become ready; its log:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

stop_node() {  # stop_node PID
  kill -TERM "$1"
  wait "$1" || true
}

# scenario LABEL SCENARIO [options…]: runs one parley-bench scenario, appending its JSON line.
scenario() {
  local label=$1 name=$2; shift 2
  echo "run.sh: $name on $label" >&2
  "$bench" "$name" --label "$label" --output "$results" "$@" >/dev/null
}

# The REST and fan-out scenarios of one backend, on the nodes named by `--server` options.
rest_and_fanout() {
  local label=$1; shift
  scenario "$label" sweep "$@" --members 100 --senders 10 --rates "$rates" --seconds "$seconds" --pause "$pause"
  scenario "$label" history "$@" --concurrency 16 --seconds "$load_seconds" --messages "$messages"
  scenario "$label" send "$@" --concurrency 16 --seconds "$load_seconds" --conversations 1
  scenario "$label" send "$@" --concurrency 16 --seconds "$load_seconds" --conversations 16
}

# Idle connections on a fresh node, so its RSS before them is the server's own.
connections() {
  local label=$1 pid=$2; shift 2
  scenario "$label" connections "$@" --connections "$connections" --users 100 --per-worker "$per_worker" \
    --hold "$hold" --source-address 127.0.0.2 --source-address 127.0.0.3 --server-pid "$pid"
}

start_node sqlite
rest_and_fanout sqlite --server "$node_url"
stop_node "$node_pid"
start_node sqlite-connections
connections sqlite "$node_pid" --server "$node_url"
stop_node "$node_pid"

# Outside $work, and open to the `postgres` user who owns the cluster when this runs as root.
postgres_dir=$(mktemp -d /tmp/parley-bench-postgres.XXXXXX)
chmod 755 "$postgres_dir"
# PostgreSQL's durable defaults (fsync, synchronous_commit, full_page_writes on): figures that hold
# for a real deployment, not a test cluster's.
database_url=$(DURABLE=1 scripts/postgres-sandbox start "$postgres_dir")
start_node postgres --database-url "$database_url"
rest_and_fanout postgres --server "$node_url"
stop_node "$node_pid"

start_node postgres-a --database-url "$database_url"
first=$node_url
start_node postgres-b --database-url "$database_url"
rest_and_fanout postgres-2-nodes --server "$first" --server "$node_url"

# The nodes log at warning level: anything they wrote deserves a look.
for log in "$work"/*.log; do
  if [ -s "$log" ]; then
    echo "run.sh: $(basename "$log" .log) logged $(wc -l <"$log") warning(s) or error(s), the first:" >&2
    head -n 5 "$log" >&2
  fi
done

python3 Benchmarks/report.py "$results" \
  --machine "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release && echo "$PRETTY_NAME"), commit $(git rev-parse --short HEAD)"
echo "run.sh: results in $results and ${results%.jsonl}.png" >&2
