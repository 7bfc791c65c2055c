#!/usr/bin/env bash
# Runs linksim's benchmarks in one go: installs what is missing (Debian packages, the pinned npm
# peers), builds the release binaries, and measures linksim's identity provider against
# oauth2-mock-server and oidc-provider, interleaved and repeated. Writes bench/results/latest.json
# and prints it. Options go to bench/driver.mjs (--reps, --ops, --seconds, --concurrency,
# --threads: the request threads of linksim's provider and of the ceiling, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
if ! dpkg-query -W -f='${Status}' wrk 2>/dev/null | grep -q 'ok installed'; then
  apt-get install -y -qq wrk >/dev/null
fi
command -v node >/dev/null || { echo "bench: needs node (20 or later) and npm" >&2; exit 1; }
(cd bench && npm ci --no-audit --no-fund --silent)
cmake --preset release >/dev/null
cmake --build --preset release
mkdir -p bench/results
node bench/driver.mjs --linksim build/release/src/cli/linksim \
  --ceiling build/release/bench/ceiling_server --flowgen build/release/bench/flowgen "$@" | tee bench/results/latest.json
