#!/usr/bin/env bash
# Installs what is missing, builds the release binary and runs linksim's main job: the claims
# audit over every scenario and every behaviour profile. Reports go to ./linksim-audit/ (or the
# folder given by --out); extra arguments go to `linksim audit`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release
exec ./build/release/src/cli/linksim audit --all-profiles "$@"
