#!/usr/bin/env bash
# Installs what is missing, builds the release binary and runs linksim's main job.
# Until the claims audit exists, the main job is `linksim serve`; extra arguments go to it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release
exec ./build/release/src/cli/linksim serve "$@"
