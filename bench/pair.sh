#!/usr/bin/env bash
# Compares the CPU time of two builds of the population benchmark on a shared, noisy machine.
# Each pair runs both builds at once, one on each core, so that both see the same hour of the
# machine; the start order alternates, since the process started second has been measured to
# take a few per cent less CPU. Reports each pair's ratio B/A of CPU time (user + system), the
# median, the median of each start order, and their geometric mean, in which that order's
# effect cancels. A ratio below 1 means B took less CPU than A.
#
#   bench/pair.sh [--pairs N] [--env-a NAME=VALUE]... [--env-b NAME=VALUE]... A B [ARGS...]
#
# A and B are population executables (the same one twice, with --env-a or --env-b, compares
# two settings); ARGS go to both (default: --accounts 10000). See docs/benchmarks.md.
set -euo pipefail

usage() {
  echo "usage: bench/pair.sh [--pairs N] [--env-a NAME=VALUE]... [--env-b NAME=VALUE]... A B [ARGS...]" >&2
  echo "bench/pair.sh: $1" >&2
  exit 2
}

pairs=6
env_a=()
env_b=()
while (($#)); do
  case "$1" in
    --pairs)
      (($# >= 2)) || usage "--pairs needs a number"
      [[ $2 =~ ^[0-9]+$ && $2 -ge 1 && $2 -le 1000 ]] || usage "--pairs: '$2' is not a number from 1 to 1000"
      pairs=$2
      shift 2
      ;;
    --env-a | --env-b)
      (($# >= 2)) || usage "$1 needs NAME=VALUE"
      [[ $2 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || usage "$1: '$2' is not NAME=VALUE"
      if [[ $1 == --env-a ]]; then env_a+=("$2"); else env_b+=("$2"); fi
      shift 2
      ;;
    --) shift; break ;;
    -*) usage "unknown option: $1" ;;
    *) break ;;
  esac
done
(($# >= 2)) || usage "two population executables are needed, A and B"
bin_a=$1
bin_b=$2
shift 2
for b in "$bin_a" "$bin_b"; do
  [[ -f $b && -x $b ]] || usage "not an executable file: $b"
done
args=("$@")
((${#args[@]})) || args=(--accounts 10000)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# start SIDE: runs one build in the background, its output to $work/SIDE.
start() {
  local side=$1
  (
    if [[ $side == a ]]; then vars=("${env_a[@]+"${env_a[@]}"}") bin=$bin_a; else vars=("${env_b[@]+"${env_b[@]}"}") bin=$bin_b; fi
    for kv in "${vars[@]+"${vars[@]}"}"; do export "${kv?}"; done
    exec "$bin" "${args[@]}" --json >"$work/$side" 2>"$work/$side.err"
  ) &
  pids+=($!)
}

# field FILE NAME: one value of the benchmark's JSON line, a string's without its quotes.
field() {
  grep -o "\"$2\":\(\"[^\"]*\"\|[^,}]*\)" "$1" | head -1 | sed -e "s/^\"$2\"://" -e 's/^"\(.*\)"$/\1/'
}

count() { if (($1 == 1)) then echo "1 pair"; else echo "$1 pairs"; fi; }

median() {
  sort -g | awk '{v[NR] = $1} END {printf "%.3f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

ratios=()
first_a=()
first_b=()
for ((i = 1; i <= pairs; i++)); do
  pids=()
  if ((i % 2)); then order="A first"; start a; start b; else order="B first"; start b; start a; fi
  failed=0
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  for side in a b; do
    if ((failed)) || ! grep -q '"cpu_user_s"' "$work/$side"; then
      echo "bench/pair.sh: pair $i: a run failed; its output:" >&2
      cat "$work/$side" "$work/$side.err" >&2
      exit 1
    fi
  done
  cpu_a=$(awk -v u="$(field "$work/a" cpu_user_s)" -v s="$(field "$work/a" cpu_system_s)" 'BEGIN {print u + s}')
  cpu_b=$(awk -v u="$(field "$work/b" cpu_user_s)" -v s="$(field "$work/b" cpu_system_s)" 'BEGIN {print u + s}')
  ratio=$(awk -v a="$cpu_a" -v b="$cpu_b" 'BEGIN {printf "%.3f", b / a}')
  root_a=$(field "$work/a" evidence_root)
  root_b=$(field "$work/b" evidence_root)
  ratios+=("$ratio")
  if ((i % 2)); then first_a+=("$ratio"); else first_b+=("$ratio"); fi
  printf 'pair %d (%s): A %.2f s, B %.2f s of CPU, B/A %s\n' "$i" "$order" "$cpu_a" "$cpu_b" "$ratio"
  if [[ $root_a != "$root_b" ]]; then
    echo "  the evidence roots differ (A ${root_a:0:16}…, B ${root_b:0:16}…): the builds simulate different histories"
  fi
done

model=$(field "$work/a" cpu_model || true)  # a stand-in may not name one
[[ -z $model ]] || echo "machine: $model, $(field "$work/a" cores) cores"
all=$(printf '%s\n' "${ratios[@]}" | median)
lo=$(printf '%s\n' "${ratios[@]}" | sort -g | head -1)
hi=$(printf '%s\n' "${ratios[@]}" | sort -g | tail -1)
echo "B/A of CPU time: median $all over $(count "$pairs") ($lo to $hi)"
if ((${#first_b[@]})); then
  ma=$(printf '%s\n' "${first_a[@]}" | median)
  mb=$(printf '%s\n' "${first_b[@]}" | median)
  balanced=$(awk -v x="$ma" -v y="$mb" 'BEGIN {printf "%.3f", sqrt(x * y)}')
  echo "A started first: median $ma ($(count ${#first_a[@]})); B first: median $mb ($(count ${#first_b[@]})); both orders: $balanced"
fi
