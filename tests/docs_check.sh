#!/usr/bin/env bash
# The generated examples in docs/ match what linksim generates now (scripts/gen-docs.sh --check),
# and the check fails on a copy of the tree whose example was changed by one character.
#   tests/docs_check.sh SOURCE_DIR LINKSIM
set -euo pipefail
src=$1
export LINKSIM=$2
# One audit serves both checks: it is the slow part (minutes under the sanitizers).
copy=$(mktemp -d)
audit=$(mktemp -d)
trap 'rm -rf "$copy" "$audit"' EXIT
(cd "$src" && "$LINKSIM" audit --all-profiles --out "$audit/report" >/dev/null 2>&1) || true
export LINKSIM_AUDIT_REPORT=$audit/report/report.md
"$src/scripts/gen-docs.sh" --check

cp -r "$src/scripts" "$src/docs" "$src/scenarios" "$copy/"
sed -i '0,/answers 200\./s//answers 201./' "$copy/docs/teaching.md"
if "$copy/scripts/gen-docs.sh" --check 2>/dev/null; then
  echo "tests/docs_check.sh: a changed example passed the check" >&2
  exit 1
fi
