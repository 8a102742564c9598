#!/usr/bin/env bash
# Does a history page cost more in a longer conversation? Random 50-message pages of conversations
# of 10k, 100k and 1M messages, at 1 and 16 connections, with wrk, for a release build — on SQLite,
# and on PostgreSQL when DATABASE_URL is set (each run in a schema of its own, dropped afterwards).
# (`parley-bench history` measures concurrent pages of a conversation seeded over the API.)
#
#   swift build -c release --product parley
#   DATABASE_URL=postgres://… Benchmarks/history-depth.sh [SECONDS] [SIZES]
#   PARLEY=/path/to/parley Benchmarks/history-depth.sh …   # another build, e.g. the commit before
#
# Messages are seeded straight into the database (generate_series / a recursive CTE): the page
# reads only the messages table and its index, and sending a million through the API would take
# longer than the measurement. Loopback only; every wrk run lasts SECONDS; servers are stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
export PGOPTIONS='-c client_min_messages=warning'
seconds=${1:-10}
sizes=${2:-"10000 100000 1000000"}
binary=${PARLEY:-.build/release/parley}
results=Benchmarks/results
mkdir -p "$results"
out="$results/history-depth-$(date +%Y%m%d-%H%M%S).jsonl"
[ -x "$binary" ] || { echo "build first: swift build -c release --product parley" >&2; exit 1; }

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

start_server() {  # start_server BACKEND → sets PORT PID DIR URL
  PORT=$(scripts/free-port)
  DIR=$(mktemp -d)
  local args=(--data-dir "$DIR")
  if [ "$1" = postgresql ]; then
    SCHEMA="bench_$RANDOM$RANDOM"
    psql -q "$DATABASE_URL" -c "CREATE SCHEMA $SCHEMA"
    URL="${DATABASE_URL}$([[ $DATABASE_URL == *\?* ]] && echo '&' || echo '?')options=-c%20search_path%3D$SCHEMA"
    args=(--database-url "$URL")
  fi
  # DATABASE_URL names the PostgreSQL to use, not the server's database: the server gets it as a flag only.
  env -u DATABASE_URL "$binary" serve --port "$PORT" --log-level warning --password-cost 4 --registrations-per-hour 1000000 "${args[@]}" >"$DIR/server.log" 2>&1 &
  PID=$!
  until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do
    kill -0 "$PID" 2>/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
    sleep 0.02
  done
}
trap '[ -n "${PID:-}" ] && kill -TERM "$PID" 2>/dev/null || true' EXIT

stop_server() {  # stop_server BACKEND
  kill -TERM "$PID"; wait "$PID" || true
  if [ "$1" = postgresql ]; then psql -q "$DATABASE_URL" -c "DROP SCHEMA $SCHEMA CASCADE"; fi
  rm -rf "$DIR"
}

api() { curl -sf "http://127.0.0.1:$PORT/api/v1$1" -H "Authorization: Bearer $TOKEN" "${@:2}"; }

register() {
  TOKEN=$(curl -sf "http://127.0.0.1:$PORT/api/v1/auth/register" \
    --json '{"username":"bench","email":"bench@example.com","password":"benchmark password"}' | json '["accessToken"]')
  ME=$(api /me | json '["id"]')
}

seed() {  # seed BACKEND GROUP COUNT: messages with seqs 100 … 99+COUNT
  local backend=$1 group=$2 count=$3 last=$((99 + $3))
  if [ "$backend" = sqlite ]; then
    local g=${group^^} me=${ME^^}
    sqlite3 "$DIR/parley.sqlite" >/dev/null <<SQL
PRAGMA busy_timeout = 10000;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM n WHERE i < $last)
INSERT INTO messages (id, conversation_id, seq, sender_id, client_message_id, body, created_at)
SELECT printf('%08X-0000-4000-8000-%012X', i, i), '$g', i, '$me', 'seed-' || i,
       'seeded message number ' || i || ' about tea, tarts and the time', 1795000000.0 + i FROM n;
UPDATE event_streams SET last_seq = $last WHERE stream = 'conversation:$group';
UPDATE conversations SET last_message_seq = $last WHERE id = '$g';
COMMIT;
SQL
  else
    psql -q "$URL" <<SQL
INSERT INTO messages (id, conversation_id, seq, sender_id, client_message_id, body, created_at)
SELECT md5('$group' || i)::uuid, '$group', i, '$ME', 'seed-' || i,
       'seeded message number ' || i || ' about tea, tarts and the time', now()
FROM generate_series(100, $last) AS i;
UPDATE event_streams SET last_seq = $last WHERE stream = 'conversation:$group';
UPDATE conversations SET last_message_seq = $last WHERE id = '$group';
ANALYZE messages;
SQL
  fi
}

wrk_json() {  # wrk_json LABEL wrk-args…: runs wrk and prints one JSON line of its figures
  local label=$1; shift
  wrk --latency "$@" | python3 Benchmarks/wrk_json.py "$label"
}

backends=(sqlite)
[ -n "${DATABASE_URL:-}" ] && backends+=(postgresql)
printf '{"run": "history-depth", "commit": "%s", "binary": "%s", "cores": %s, "build": "release", "wrk_seconds": %s, "note": "server, database and wrk share the cores; loopback"}\n' \
  "$(git rev-parse --short HEAD)" "$binary" "$(nproc)" "$seconds" | tee "$out"
for backend in "${backends[@]}"; do
  for size in $sizes; do
    start_server "$backend"
    register
    group=$(api /groups --json '{"title":"History"}' | json '["id"]')
    seed "$backend" "$group" "$size"
    for connections in 1 16; do
      TOKEN=$TOKEN GROUP=$group FIRST_SEQ=100 LAST_SEQ=$((99 + size)) \
        wrk_json "history $backend size=$size c=$connections" -t1 -c"$connections" -d"${seconds}s" -s Benchmarks/lua/history.lua \
        "http://127.0.0.1:$PORT" | tee -a "$out"
    done
    stop_server "$backend"
  done
done
echo "results: $out"
