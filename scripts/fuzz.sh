#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang, ASan and UBSan) and runs each for a
# bounded time from its committed seed corpus (fuzz/corpus/<target>), adding what it finds to a
# working corpus in build/fuzz/corpus/<target> that later runs start from. Prints executions and
# findings per target; a crash, leak, timeout or sanitizer report saves its input under
# build/fuzz/findings/<target>/ and makes the exit status 1.
#
#   scripts/fuzz.sh [--seconds N] [--target NAME]...   (default: 20 s for every target)
#   scripts/fuzz.sh --seconds 3600 --target fuzz_threads_request   (a deeper run of one)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=20
targets=()
while (($#)); do
  case "$1" in
    --seconds)
      [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --seconds needs a positive number" >&2; exit 2; }
      seconds=$2; shift 2 ;;
    --target)
      [[ -d fuzz/corpus/${2:-} ]] || { echo "fuzz.sh: no target ${2:-} (see fuzz/corpus/)" >&2; exit 2; }
      targets+=("$2"); shift 2 ;;
    *) echo "fuzz.sh: unknown argument: $1 (known: --seconds N, --target NAME)" >&2; exit 2 ;;
  esac
done
((${#targets[@]})) || mapfile -t targets < <(ls fuzz/corpus)

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
failed=0
for t in "${targets[@]}"; do
  work=build/fuzz/corpus/$t findings=build/fuzz/findings/$t log=build/fuzz/logs/$t.log
  mkdir -p "$work" "$findings" "$(dirname "$log")"
  before=$(find "$work" -type f | wc -l)
  status=0
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "build/fuzz/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$findings/" "$work" "fuzz/corpus/$t" >"$log" 2>&1 ||
    status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  after=$(find "$work" -type f | wc -l)
  if ((status == 0)); then
    echo "$t: ${runs:-0} executions in ${seconds} s, working corpus $before -> $after inputs, no finding"
  else
    failed=1
    echo "$t: FINDING after ${runs:-?} executions (exit $status); input in $findings/, log in $log"
    grep -m 5 -E "ERROR|runtime error|SUMMARY" "$log" || true
  fi
done
exit "$failed"
