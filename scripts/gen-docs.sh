#!/usr/bin/env bash
# Refreshes the two generated examples the docs carry, or checks them (--check: exit 1 when one
# is stale, naming it). Each sits between `<!-- generated: ... -->` and `<!-- end generated -->`:
#   docs/claims.md    the verdicts of one claim, as `linksim audit --all-profiles` reports them
#   docs/teaching.md  one walkthrough, as `linksim explain` draws it
# The full outputs are not kept in docs/: `linksim audit --all-profiles --out DIR` writes the
# whole report (DIR/report.md), and `linksim explain scenarios/NAME.yaml` draws any scenario.
#
#   scripts/gen-docs.sh [--check]      LINKSIM=path/to/linksim overrides the dev build's
#   LINKSIM_AUDIT_REPORT=DIR/report.md reads a report `linksim audit --all-profiles --out DIR`
#   wrote instead of running the audit (DIR is written as linksim-audit in the example)
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
case "${1-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: scripts/gen-docs.sh [--check]" >&2; exit 2 ;;
esac
bin=${LINKSIM:-./build/dev/src/cli/linksim}
[[ -x $bin ]] || { echo "scripts/gen-docs.sh: no linksim at $bin (build the dev preset, or set LINKSIM)" >&2; exit 2; }

claim=002.never-sold
scenario=rename_by_webhook

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The claim's section of a fresh report, its folder named as the default one.
report=${LINKSIM_AUDIT_REPORT:-}
if [[ -z $report ]]; then
  "$bin" audit --all-profiles --out "$work/audit" >/dev/null 2>&1 || true
  report=$work/audit/report.md
fi
[[ -f $report ]] || { echo "scripts/gen-docs.sh: no audit report at $report" >&2; exit 1; }
awk -v id="<a id=\"$claim\"></a>" '
  $0 == id { on = 1 } on && /^<a id="/ && $0 != id { exit } on { print }' "$report" |
  sed -e "s|$(dirname "$report")|linksim-audit|g" -e 's/^### /#### /' >"$work/claim.md"
[[ -s $work/claim.md ]] || { echo "scripts/gen-docs.sh: claim $claim is not in the report" >&2; exit 1; }
"$bin" explain "scenarios/$scenario.yaml" 2>/dev/null | sed -e '1s/^# /### /' >"$work/walkthrough.md"

# splice DOC BLOCK: DOC with the text between its markers replaced by BLOCK, on stdout.
splice() {
  awk -v block="$2" '
    /^<!-- generated: / { print; while ((getline line < block) > 0) print line; skip = 1; next }
    /^<!-- end generated -->$/ { skip = 0 }
    !skip { print }' "$1"
}

stale=0
for pair in "docs/claims.md:$work/claim.md" "docs/teaching.md:$work/walkthrough.md"; do
  doc=${pair%%:*}
  grep -q '^<!-- generated: ' "$doc" || { echo "scripts/gen-docs.sh: $doc has no generated block" >&2; exit 1; }
  splice "$doc" "${pair#*:}" >"$work/new"
  if ((check)); then
    if ! cmp -s "$doc" "$work/new"; then
      echo "$doc: its generated example is stale; run scripts/gen-docs.sh" >&2
      diff -u "$doc" "$work/new" | head -20 >&2 || true
      stale=1
    fi
  else
    cp "$work/new" "$doc"
  fi
done
exit $stale
