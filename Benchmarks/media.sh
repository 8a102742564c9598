#!/usr/bin/env bash
# Images: upload processing time, server memory, thumbnail and upload throughput, on a fresh
# release server (SQLite) per photo size. Makes the test photos itself (Pillow: a 12-megapixel
# and a 640 × 480 JPEG that compress like photos).
#
#   Benchmarks/media.sh [CONCURRENCY] [SECONDS]     (defaults 10 and 10)
#
# Servers listen on 127.0.0.1 and are stopped by PID; every phase is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
concurrency=${1:-10}
seconds=${2:-10}

swift build -c release --product parley >&2
swift build -c release --product parley-bench >&2
python3 -c 'import PIL' 2>/dev/null || scripts/pip-install pillow

work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import sys
from PIL import Image
work = sys.argv[1]
w, h = 4000, 3000
noise = Image.effect_noise((w // 4, h // 4), 64).resize((w, h), Image.BILINEAR)
gradient = Image.linear_gradient("L").resize((w, h))
photo = Image.merge("RGB", (noise, gradient, Image.blend(noise, gradient, 0.5)))
photo.save(f"{work}/photo-12mp.jpg", quality=90)
photo.resize((640, 480)).save(f"{work}/photo-small.jpg", quality=95)
PY

for image in photo-12mp.jpg photo-small.jpg; do
  port=$(scripts/free-port)
  .build/release/parley serve --port "$port" --data-dir "$work/data-$image" --password-cost 4 \
    --uploads-per-hour 1000000 --registrations-per-hour 100000 --log-level warning >"$work/log-$image" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf "localhost:$port/readyz" >/dev/null && break; sleep 0.1; done
  .build/release/parley-bench media --server "http://127.0.0.1:$port" --image "$work/$image" \
    --concurrency "$concurrency" --seconds "$seconds" --sequential 10 --server-pid "$pid" --label "$image"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""
done
