#!/usr/bin/env bash
# Slow clients against `linksim serve`'s dependent service: 2,000 connections trickle a header
# byte every 2 s, from another loopback address and then from the normal client's own, while
# a normal client asks GET /healthz; prints one JSON line for each (docs/benchmarks.md).
#
#   bench/slow_clients.sh [BUILD_DIR]     (default build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
linksim=$build/src/cli/linksim
load=$build/bench/slow_clients
for f in "$linksim" "$load"; do
  [[ -x $f ]] || { echo "slow_clients.sh: $f is missing; build $build first" >&2; exit 2; }
done
data=$(mktemp -d)
out=$data/serve.out
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
"$linksim" serve --data-dir "$data/d" --no-demo >"$out" 2>"$data/serve.err" &
pid=$!
for _ in $(seq 100); do
  grep -q '^threads: ' "$out" 2>/dev/null && break
  [[ -d /proc/$pid ]] || { cat "$data/serve.err" >&2; exit 1; }
  sleep 0.1
done
port=$(sed -n 's|^threads: http://127.0.0.1:\([0-9]*\).*|\1|p' "$out")
[[ -n $port ]] || { echo "slow_clients.sh: serve printed no threads URL" >&2; exit 1; }
for source in 127.0.0.2 127.0.0.1; do
  "$load" --port "$port" --connections 2000 --trickle-ms 2000 --tries 300 --seconds 60 \
    --source "$source" --pid "$pid"
done
