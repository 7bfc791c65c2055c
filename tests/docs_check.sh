#!/usr/bin/env bash
# The generated examples in docs/ match what linksim generates now (scripts/gen-docs.sh --check),
# and the check fails on a copy of the tree whose example was changed by one character.
#   tests/docs_check.sh SOURCE_DIR LINKSIM
set -euo pipefail
src=$1
export LINKSIM=$2
"$src/scripts/gen-docs.sh" --check

copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
cp -r "$src/scripts" "$src/docs" "$src/scenarios" "$copy/"
sed -i '0,/answers 200\./s//answers 201./' "$copy/docs/teaching.md"
if "$copy/scripts/gen-docs.sh" --check 2>/dev/null; then
  echo "tests/docs_check.sh: a changed example passed the check" >&2
  exit 1
fi
