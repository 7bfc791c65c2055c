#!/usr/bin/env bash
# The population benchmark's shards: the same run gives the same evidence root whether its shards
# run one at a time or all at once, one shard is the unsharded run, the allocator's page size
# changes nothing but speed, every run converges, the report names its machine and measures its
# speed without changing the run, and a bad number on the command line is refused.
#   population_shards.sh PATH/TO/population
set -euo pipefail
population=$1
root() {
  local out
  out=$("$population" --accounts 300 --changes 2 --json --machine-speed off "$@")
  grep -q '"mismatched_at_end":0' <<<"$out" || { echo "did not converge: $out" >&2; exit 1; }
  grep -o '"evidence_root":"[0-9a-f]*"' <<<"$out" | head -1 | cut -d'"' -f4
}
one_by_one=$(root --shards 3 --jobs 1)
at_once=$(root --shards 3 --jobs 3)
unsharded=$(root)
one_shard=$(root --shards 1 --jobs 2)
two_shards=$(root --shards 2)
small_pages=$(root --huge-pages off)
echo "3 shards, 1 job: $one_by_one; 3 jobs: $at_once; unsharded: $unsharded; 1 shard: $one_shard; 2 shards: $two_shards"
[[ ${#one_by_one} == 64 ]] || { echo "no evidence root" >&2; exit 1; }
[[ $one_by_one == "$at_once" ]] || { echo "the root depends on how many shards ran at once" >&2; exit 1; }
[[ $unsharded == "$one_shard" ]] || { echo "one shard is not the unsharded run" >&2; exit 1; }
[[ $two_shards != "$one_by_one" && $two_shards != "$unsharded" ]] ||
  { echo "different splits gave the same root" >&2; exit 1; }
[[ $small_pages == "$unsharded" ]] || { echo "--huge-pages off changed the root" >&2; exit 1; }
if "$population" --accounts 10 --huge-pages maybe >/dev/null 2>&1; then
  echo "--huge-pages maybe was accepted" >&2
  exit 1
fi
# The report names the machine it measured, and its speed before and after the run (on by
# default), which leaves the run itself alone.
report=$("$population" --accounts 300 --changes 2 --json)
grep -q '"cpu_model":"[^"]\+","cores":[1-9]' <<<"$report" || { echo "no machine in: $report" >&2; exit 1; }
number='[0-9]+(\.[0-9]+)?'
positive='[1-9][0-9]*(\.[0-9]+)?'
grep -Eq "\"machine_speed\":\{\"sha256_mb_s\":\[$positive,$positive\],\"memory_ns\":\[$number,$number\]\}" <<<"$report" ||
  { echo "no machine speed in: $report" >&2; exit 1; }
grep -q '"evidence_root":"'"$unsharded"'"' <<<"$report" ||
  { echo "measuring the machine changed the root: $report" >&2; exit 1; }
text=$("$population" --accounts 20 --changes 1)
grep -q "cores; SHA-256 [0-9]* and [0-9]* MB/s, a load from memory" <<<"$text" ||
  { echo "no machine speed in: $text" >&2; exit 1; }
if "$population" --accounts 10 --machine-speed maybe >/dev/null 2>&1; then
  echo "--machine-speed maybe was accepted" >&2
  exit 1
fi
# Bad numbers are refused with exit status 2, each with a message naming its option: std::stoul
# once took "-5" for 2^64 - 5 and "10abc" for 10.
for bad in "--accounts -5" "--accounts 10abc" "--loss nan" "--loss 0.3x" "--jobs 0" "--seed -1"; do
  set +e
  message=$("$population" $bad 2>&1 >/dev/null)
  status=$?
  set -e
  option=${bad%% *}
  if [[ $status != 2 || $message != *"$option takes"* ]]; then
    echo "population $bad: exit $status, message: $message" >&2
    exit 1
  fi
done
