#!/usr/bin/env bash
# Every link of README.md and docs/ leads somewhere (scripts/check_links.py), and the check
# fails on a copy whose link names a missing heading, or a missing file.
#   tests/links_check.sh SOURCE_DIR
set -euo pipefail
src=$1
python3 "$src/scripts/check_links.py" "$src"

copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
mkdir -p "$copy/src/harness/report"
cp -r "$src/README.md" "$src/docs" "$src/scripts" "$copy/"
cp "$src/src/harness/report/sarif.cpp" "$copy/src/harness/report/"
sed -i '0,/(claims.md#declared-against-observed)/s//(claims.md#declared-against-observe)/' \
  "$copy/docs/usage.md"
if python3 "$copy/scripts/check_links.py" "$copy" >/dev/null; then
  echo "tests/links_check.sh: a link to a missing heading passed the check" >&2
  exit 1
fi
cp "$src/docs/usage.md" "$copy/docs/usage.md"
python3 "$copy/scripts/check_links.py" "$copy"
rm "$copy/docs/ads.md"
if python3 "$copy/scripts/check_links.py" "$copy" >/dev/null; then
  echo "tests/links_check.sh: a link to a missing file passed the check" >&2
  exit 1
fi
