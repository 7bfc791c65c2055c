#!/usr/bin/env bash
# Runs clang-tidy with the project's .clang-tidy over every source in src/, using the compile
# commands of a configured build (default build/dev); exit status 1 on any finding.
#
#   scripts/tidy.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/dev}
[[ -f $build/compile_commands.json ]] || {
  echo "tidy.sh: no $build/compile_commands.json; configure that build first" >&2
  exit 2
}
log=$build/clang-tidy.log
if run-clang-tidy -p "$build" -quiet "$(pwd)/src/.*\.cpp" >"$log" 2>&1; then
  echo "tidy.sh: no finding in $(find src -name '*.cpp' | wc -l) files"
else
  sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E "(warning|error): " | sort -u >&2 || true
  echo "tidy.sh: clang-tidy found the problems above (full output in $log)" >&2
  exit 1
fi
