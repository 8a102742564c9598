#!/usr/bin/env bash
# Foundation figures for a release build: cold start to /readyz 200, RSS at idle, and
# authenticated GET /api/v1/me throughput with wrk, on SQLite and (with DATABASE_URL) PostgreSQL,
# beside the ceiling: GET /healthz (a small constant JSON body, no authentication, no database)
# on the same server in the same run; for both, the server's CPU time per request.
#
#   swift build -c release --product parley
#   Benchmarks/foundation.sh [DURATION_SECONDS] [CONNECTIONS]
#   PARLEY=/path/to/parley Benchmarks/foundation.sh …   # another build, e.g. the commit before
#
# Loopback only; every run is bounded by DURATION_SECONDS; the servers it starts are stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-15}
connections=${2:-50}
binary=${PARLEY:-.build/release/parley}
[ -x "$binary" ] || { echo "build first: swift build -c release --product parley" >&2; exit 1; }
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }

millis() { date +%s%3N; }
# The server's CPU time so far (user + system, in clock ticks), and its microseconds per request
# of a wrk report since `cpu_ticks` gave BEFORE: less swayed by a busy machine than req/s.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_per_request() {  # PID BEFORE WRK_REPORT
  awk -v ticks=$(($(cpu_ticks "$1") - $2)) -v hz="$(getconf CLK_TCK)" '/requests in/ {printf "%.1f", ticks * 1e6 / hz / $1}' "$3"
}

measure() {  # measure LABEL [parley options...]
  local label=$1; shift
  local port dir pid start ready token
  port=$(scripts/free-port)
  dir=$(mktemp -d)
  start=$(millis)
  env -u DATABASE_URL "$binary" serve --port "$port" --data-dir "$dir" --log-level warning "$@" >"$dir/server.log" 2>&1 &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.005; done
  ready=$(millis)
  token=$(curl -sf "http://127.0.0.1:$port/api/v1/auth/register" -H 'Content-Type: application/json' \
    -d "{\"username\":\"bench$RANDOM\",\"email\":\"bench$RANDOM$RANDOM@example.com\",\"password\":\"benchmark password\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')
  sleep 1
  local idle_rss
  idle_rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  local ceiling ceiling_cpu cpu_before
  cpu_before=$(cpu_ticks "$pid")
  wrk -t2 -c"$connections" -d"${duration}s" "http://127.0.0.1:$port/healthz" >"$dir/ceiling.txt"
  ceiling=$(awk '/Requests\/sec/ {print $2}' "$dir/ceiling.txt")
  ceiling_cpu=$(cpu_per_request "$pid" "$cpu_before" "$dir/ceiling.txt")
  cpu_before=$(cpu_ticks "$pid")
  wrk -t2 -c"$connections" -d"${duration}s" --latency -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/api/v1/me" >"$dir/wrk.txt"
  local rps p50 p99 loaded_rss me_cpu
  me_cpu=$(cpu_per_request "$pid" "$cpu_before" "$dir/wrk.txt")
  rps=$(awk '/Requests\/sec/ {print $2}' "$dir/wrk.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$dir/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$dir/wrk.txt")
  loaded_rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  local errors
  errors=$(grep -E "Non-2xx|Socket errors" "$dir/wrk.txt" || true)
  kill -TERM "$pid"; wait "$pid" || true
  printf '%-10s start→ready %5d ms | idle RSS %6d KiB | GET /healthz %9s req/s, %s µs CPU each | GET /me %9s req/s (%s%% of it), %s µs CPU each, p50 %8s p99 %8s | RSS after load %6d KiB %s\n' \
    "$label" "$((ready - start))" "$idle_rss" "$ceiling" "$ceiling_cpu" "$rps" "$(awk -v a="$rps" -v b="$ceiling" 'BEGIN {printf "%.0f", 100 * a / b}')" \
    "$me_cpu" "$p50" "$p99" "$loaded_rss" "$errors"
  rm -rf "$dir"
}

echo "$binary (tree at $(git rev-parse --short HEAD)), $(nproc) cores, wrk -t2 -c$connections -d${duration}s on loopback (server and load share the cores)"
measure sqlite
if [ -n "${DATABASE_URL:-}" ]; then
  measure postgresql --database-url "$DATABASE_URL"
fi
