#!/usr/bin/env python3
"""Which lines of the three services no scenario of the library executes.

The audit judges only what its scenarios make the services do: a line no scenario reaches is a
line where any bug goes unseen (a mutant planted there is "unexercised" in scripts/mutate.py).
This builds linksim with gcc's coverage instrumentation in a separate build folder, runs the
scenario library over each channel of account changes (as the audit and scripts/mutate.py do),
and reads gcov's counts for src/idp, src/threads_sim and src/ads.

  scripts/scenario_coverage.py [--build DIR] [--wide] [--lines] [--branches] [--no-run]
                              [--only PATH_SUBSTRING]

  --build DIR   the instrumented build (default build/coverage; the first run configures and
                builds it, about 3 minutes on two cores, later runs rebuild what changed)
  --wide        also run what scripts/mutate.py's judgements run besides the library: the
                audit of every behaviour profile over each channel, and `linksim fuzz`; a line
                only a fault profile's rule reaches then counts as run
  --lines       list each line no scenario executed, with its text
  --branches    also list each executed line with a condition (if, while, for, &&, ||, ?:) one
                of whose branches no run took: an outcome of the condition no scenario shows
  --only S      only files whose path contains S
  --no-run      report the counts the last run left in the build folder, without building or
                running anything

Prints, per file, the executable lines no scenario ran and the file's executable lines, then
the total. Lines are gcov's: a line holding code the compiler emitted, so declarations and
comments do not count, and code inlined from headers counts where gcov puts it.
"""

import argparse
import glob
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("src/idp/", "src/threads_sim/", "src/ads/")
CHANNELS = ("webhook", "ssf-push", "ssf-poll")


def run(cmd, cwd, **kw):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"scenario_coverage.py: {' '.join(map(str, cmd))} failed:\n"
                 f"{(r.stdout + r.stderr)[-3000:]}")
    return r


def build(folder):
    if not (folder / "build.ninja").exists():
        run(["cmake", "-S", str(ROOT), "-B", str(folder), "-G", "Ninja",
             "-DCMAKE_BUILD_TYPE=Debug", "-DCMAKE_CXX_COMPILER=g++",
             "-DCMAKE_CXX_FLAGS=-O0 --coverage", "-DCMAKE_EXE_LINKER_FLAGS=--coverage",
             "-DLINKSIM_BUILD_TESTS=OFF", "-DLINKSIM_MIMALLOC=OFF",
             "-DLINKSIM_BUILD_LOAD_TOOLS=OFF"], ROOT)
    run(["ninja", "-C", str(folder), "linksim"], ROOT)
    return folder / "src" / "cli" / "linksim"


def counts(folder):
    """{source path: {line: [times executed, [times each branch was taken]]}} for the services'
    files, summed over objects. Branches an exception takes are left out."""
    lines = {}
    for gcda in glob.glob(str(folder / "src" / "**" / "*.gcda"), recursive=True):
        with tempfile.TemporaryDirectory() as out:
            # One object at a time in its own folder: two sources of one name (sqlite.cpp) would
            # write the same report file.
            subprocess.run(["gcov", "--json-format", "--branch-probabilities", "-o",
                            os.path.dirname(gcda), gcda],
                           cwd=out, capture_output=True, check=False)
            for report in glob.glob(out + "/*.gcov.json.gz"):
                with gzip.open(report) as f:
                    data = json.load(f)
                for file in data.get("files", []):
                    name = file["file"]
                    if name.startswith(str(ROOT) + "/"):
                        name = name[len(str(ROOT)) + 1:]
                    if not name.startswith(SERVICES):
                        continue
                    into = lines.setdefault(name, {})
                    for line in file["lines"]:
                        taken = [b["count"] for b in line.get("branches", []) if not b["throw"]]
                        seen = into.setdefault(line["line_number"], [0, taken])
                        seen[0] += line["count"]
                        if seen[1] is not taken and len(seen[1]) == len(taken):
                            seen[1] = [x + y for x, y in zip(seen[1], taken)]
    return lines


# A line whose condition a mutant can negate or change: a branch of it never taken means some
# outcome of the condition no run shows.
CONDITION = re.compile(r"\b(if|while|for) \(|&&|\|\||\? ")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", type=Path, default=ROOT / "build" / "coverage")
    p.add_argument("--wide", action="store_true")
    p.add_argument("--lines", action="store_true")
    p.add_argument("--branches", action="store_true")
    p.add_argument("--no-run", action="store_true")
    p.add_argument("--only", default="")
    a = p.parse_args()

    if not a.no_run:
        linksim = build(a.build.resolve())
        for old in glob.glob(str(a.build / "**" / "*.gcda"), recursive=True):
            os.unlink(old)
        for channel in CHANNELS:
            r = subprocess.run([str(linksim), "run", "scenarios", "--changes", channel], cwd=ROOT,
                               capture_output=True, text=True, check=False)
            if r.returncode != 0:
                sys.exit(f"scenario_coverage.py: the library fails over {channel}:\n"
                         f"{r.stdout[-3000:]}")
            if a.wide:
                with tempfile.TemporaryDirectory() as out:
                    run([str(linksim), "audit", "--all-profiles", "--changes", channel, "--out", out],
                        ROOT)
        if a.wide:
            run([str(linksim), "fuzz", "--seeds", "200"], ROOT)

    found = counts(a.build.resolve())
    if not found:
        sys.exit("scenario_coverage.py: gcov reported no lines (is gcov the compiler's?)")
    rows, missed_all, total_all, partly_all = [], 0, 0, 0
    for name, by_line in sorted(found.items()):
        text = (ROOT / name).read_text().splitlines()
        missed = sorted(n for n, (c, _) in by_line.items() if c == 0)
        partly = sorted(n for n, (c, taken) in by_line.items()
                        if c > 0 and 0 in taken and n <= len(text)
                        and CONDITION.search(text[n - 1].split("//")[0]))
        missed_all += len(missed)
        partly_all += len(partly)
        total_all += len(by_line)
        if a.only in name:
            rows.append((len(missed), len(by_line), name, missed, partly, text))
    for missed, total, name, which, partly, text in sorted(rows, key=lambda r: (-r[0], r[2])):
        print(f"{missed:5d} of {total:5d}  {name}"
              + (f"  ({len(partly)} conditions with a branch never taken)" if a.branches else ""))
        if a.lines:
            for n in which:
                print(f"      {n:5d}  {text[n - 1].strip()[:110] if n <= len(text) else ''}")
        if a.branches:
            for n in partly:
                print(f"    ~ {n:5d}  {text[n - 1].strip()[:110]}")
    share = 100.0 * missed_all / total_all if total_all else 0.0
    runs = ("no run recorded in " + str(a.build) if a.no_run
            else "no run of the library, the audit of every profile or fuzz" if a.wide
            else "no scenario")
    print(f"{missed_all} of {total_all} executable lines of {', '.join(s.rstrip('/') for s in SERVICES)}"
          f" ({share:.1f} %) run in {runs} over {', '.join(CHANNELS)}")
    if a.branches:
        print(f"{partly_all} executed lines hold a condition with a branch never taken")
    return 0


if __name__ == "__main__":
    sys.exit(main())
