#!/usr/bin/env bash
# bench/pair.sh: two builds run in pairs, both start orders, a ratio per pair and the medians;
# bad arguments exit 2 and a failed run exits 1 with its output.
#   pair.sh PATH/TO/bench/pair.sh PATH/TO/population
set -euo pipefail
pair=$1
population=$2
out=$(bash "$pair" --pairs 2 "$population" "$population" --accounts 200 --changes 2)
echo "$out"
grep -q '^pair 1 (A first): A [0-9.]* s, B [0-9.]* s of CPU, B/A [0-9.]*$' <<<"$out" ||
  { echo "no line for the first pair" >&2; exit 1; }
grep -q '^pair 2 (B first): ' <<<"$out" || { echo "the second pair did not start B first" >&2; exit 1; }
grep -q '^B/A of CPU time: median [0-9.]* over 2 pairs (' <<<"$out" || { echo "no median" >&2; exit 1; }
grep -q 'both orders: [0-9.]*$' <<<"$out" || { echo "no order-balanced ratio" >&2; exit 1; }
grep -q '^machine: .*, [1-9][0-9]* cores$' <<<"$out" || { echo "no machine" >&2; exit 1; }
if grep -q 'roots differ' <<<"$out"; then echo "one build gave two roots" >&2; exit 1; fi

# --env-a and --env-b reach their own side only: a stand-in for the benchmark reports its
# variable as the evidence root.
# In the working folder (the build's, under ctest): /tmp may be mounted without exec.
fake=$(mktemp -p "$PWD" pair-fake.XXXXXX)
trap 'rm -f "$fake"' EXIT
cat >"$fake" <<'FAKE'
#!/usr/bin/env bash
echo "{\"cpu_user_s\":1.5,\"cpu_system_s\":0.5,\"evidence_root\":\"${PAIR_TEST:-unset}\"}"
FAKE
chmod +x "$fake"
out=$(bash "$pair" --pairs 1 --env-b PAIR_TEST="b side" "$fake" "$fake")
echo "$out"
grep -q 'A 2.00 s, B 2.00 s of CPU, B/A 1.000$' <<<"$out" || { echo "user + system not summed" >&2; exit 1; }
grep -q 'roots differ (A unset…, B b side…)' <<<"$out" || { echo "--env-b did not reach B alone" >&2; exit 1; }

expect() {  # expect STATUS TEXT ARGS...: pair.sh exits STATUS and says TEXT on stderr
  local want=$1 text=$2 status message
  shift 2
  set +e
  message=$(bash "$pair" "$@" 2>&1 >/dev/null)
  status=$?
  set -e
  if [[ $status != "$want" || $message != *"$text"* ]]; then
    echo "pair.sh $*: exit $status, expected $want and '$text'; said: $message" >&2
    exit 1
  fi
}
expect 2 "--pairs: '0' is not a number" --pairs 0 "$population" "$population"
expect 2 "not an executable file: /nonexistent" /nonexistent "$population"
expect 2 "is not NAME=VALUE" --env-a X "$population" "$population"
expect 2 "two population executables" "$population"
expect 1 "--accounts takes a whole number" --pairs 1 "$population" "$population" --accounts -5
echo "pair.sh: ok"
