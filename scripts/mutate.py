#!/usr/bin/env python3
"""Mutation testing of linksim's audit: does the audit notice when the services are wrong?

Plants one source-level mutant at a time in the three services (src/idp, src/threads_sim,
src/ads), as the mutation-testing tools of other languages do (Mull, PIT, Stryker): a negated
condition, a swapped comparison or logical operator, a flipped boolean, a removed statement (never
inside a string literal: that changes a message, not the logic).
Each mutant is built incrementally in a copy of the tree, then judged:

  killed      `linksim audit --profile documented` fails or reports a kind of undisclosed flow
              or of declared-against-observed mismatch the original does not have, or
              `linksim fuzz` finds a broken invariant, or the scenario library fails
              (`linksim run scenarios`); the library and the audit run over each channel of
              account changes (`--changes webhook`, `ssf-push`, `ssf-poll`);
  survived    the evidence of some scenario over some channel changed (its root differs from
              the original's), yet nothing failed: a behaviour the audit does not check;
  unexercised every run's evidence root is the original's: no run tells the mutant from
              the original. Either it is equivalent (it cannot change behaviour) or it
              changes something no scenario exercises (a request none sends): each needs a
              reader's judgement, which docs/claims.md records;
  stillborn   it does not compile (not counted).

A mutant the first judgement misses (survived or unexercised) is judged again, more widely, as
PIT runs its slower tests only on the mutants the fast ones leave alive:

  killed wide `linksim audit --all-profiles` over each channel fails, or some claim's verdict
              under some profile differs from the original's: the mutant sits on a path only
              another behaviour profile takes (a fault's own rule, say), and the audit of that
              profile tells it from the original; with --sanitize, also a build of the copy
              with AddressSanitizer, UndefinedBehaviorSanitizer and libstdc++'s assertions
              whose scenario library fails (a read through an empty optional that happens to
              give the right answer).

Both scores are printed: the first judgement's alone, and with the wider one.

The score is killed / (killed + survived) over the mutants some run exercised, and
killed / (killed + survived + unexercised) counting every unexercised one as a miss. The
sample is drawn with a fixed seed, so the same command on the same tree plants the same
mutants.

  scripts/mutate.py [--mutants N] [--seed S] [--fuzz-seeds N] [--work DIR] [--json FILE]
                    [--only PATH_SUBSTRING] [--narrow] [--sanitize]
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ["src/idp", "src/threads_sim", "src/ads"]
CHANNELS = ["webhook", "ssf-push", "ssf-poll"]  # how account changes reach the service

# --- Mutation operators: each gives the mutated line, or None where it does not apply. ---


def balanced_condition(line, start):
    """The end of the parenthesised condition that opens at `start` (the '('), or -1."""
    depth = 0
    for i in range(start, len(line)):
        if line[i] == "(":
            depth += 1
        elif line[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def negate_if(line):
    m = re.search(r"\b(if|while) \(", line)
    if not m or "constexpr" in line:
        return []
    open_at = m.end() - 1
    close = balanced_condition(line, open_at)
    if close < 0:
        return []
    cond = line[open_at + 1 : close]
    if ";" in cond:  # if (auto x = ...; x): an init-statement
        return []
    return [line[: open_at + 1] + "!(" + cond + ")" + line[close:]]


def in_string(line, i):
    """Whether position i of the line is inside a string or character literal: a mutant there
    changes a message, not the logic."""
    quote = None
    j = 0
    while j < i:
        c = line[j]
        if quote and c == "\\":
            j += 2
            continue
        if c in "\"'" and (quote is None or quote == c):
            quote = None if quote else c
        j += 1
    return quote is not None


SWAPS = [(" == ", " != "), (" != ", " == "), (" < ", " <= "), (" <= ", " < "), (" > ", " >= "),
         (" >= ", " > "), (" && ", " || "), (" || ", " && ")]


def swap_operator(line):
    out = []
    code = line.split("//")[0]
    if "<<" in code or "template" in code or "#include" in code:
        return out
    for a, b in SWAPS:
        start = 0
        while True:
            i = code.find(a, start)
            if i < 0:
                break
            if not in_string(line, i):
                out.append(line[:i] + b + line[i + len(a) :])
            start = i + len(a)
    return out


def flip_bool(line):
    code = line.split("//")[0]
    out = []
    for a, b in (("true", "false"), ("false", "true")):
        for m in re.finditer(r"\b" + a + r"\b", code):
            if not in_string(line, m.start()):
                out.append(line[: m.start()] + b + line[m.end() :])
    return out


STATEMENT = re.compile(r"^(\s*)([A-Za-z_][\w:.>\-\[\]]*(\.|->)[\w]+\(.*\);)\s*$")


def remove_statement(line):
    """A one-line call made for its effect (no declaration, no return, no assignment)."""
    m = STATEMENT.match(line)
    if not m or line.strip().startswith(("return", "throw")) or " = " in line:
        return []
    stmt = m.group(2)
    if stmt.count("(") != stmt.count(")"):
        return []
    return [m.group(1) + "(void)0;  // mutant: removed " + stmt.replace("*/", "* /")]


OPERATORS = {"negate_condition": negate_if, "swap_operator": swap_operator,
             "flip_boolean": flip_bool, "remove_statement": remove_statement}


def candidates(only):
    """Every mutation site, in files whose path contains `only`; `only` of the form PATH:LINE
    keeps that one line's sites (a survivor planted again after a change)."""
    out = []
    only_line = None
    if re.fullmatch(r".+:\d+", only):
        only, only_line = only.rsplit(":", 1)
        only_line = int(only_line)
    for d in SERVICES:
        for path in sorted((ROOT / d).rglob("*.cpp")):
            rel = path.relative_to(ROOT).as_posix()
            if only and only not in rel:
                continue
            if "/storage/schema" in rel:  # SQL text, not logic
                continue
            lines = path.read_text().splitlines(keepends=True)
            for n, line in enumerate(lines):
                s = line.strip()
                if not s or s.startswith(("//", "#", "*")) or '"' in s and "R\"" in s:
                    continue
                if only_line is not None and n + 1 != only_line:
                    continue
                for op, f in OPERATORS.items():
                    for mutated in f(line.rstrip("\n")):
                        if mutated != line.rstrip("\n"):
                            out.append({"file": rel, "line": n + 1, "operator": op,
                                        "original": line.rstrip("\n"), "mutated": mutated})
    return out


# --- Building and judging ---


IGNORED = {"build", ".git", "node_modules", "linksim-audit"}


def follow(src, dst):
    """Makes `dst` a copy of the tree at `src`: a file whose bytes differ is written anew (so
    its time is now and the build redoes it, whatever time the tree's copy has), an unchanged
    file is left alone (not rebuilt), and a file the tree no longer has is removed (a scenario
    deleted from the tree must not run in the copy)."""
    dst.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for entry in os.scandir(src):
        if entry.name in IGNORED:
            continue
        wanted.add(entry.name)
        target = dst / entry.name
        if entry.is_dir(follow_symlinks=False):
            if target.exists() and not target.is_dir():
                target.unlink()
            follow(Path(entry.path), target)
        elif entry.is_file(follow_symlinks=False):
            data = Path(entry.path).read_bytes()
            if target.is_dir():
                shutil.rmtree(target)
            if not target.exists() or target.read_bytes() != data:
                target.write_bytes(data)
            shutil.copymode(entry.path, target)
    for entry in os.scandir(dst):
        if entry.name not in wanted and entry.name not in IGNORED:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)


def run(cmd, cwd, timeout=None):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def roots(linksim, tree):
    """Each scenario's evidence root under its own profile and seed, over each channel it is
    told over: what a run can observe."""
    found, rc = {}, 0
    for channel in CHANNELS:
        r = run([linksim, "run", str(tree / "scenarios"), "--changes", channel], tree,
                timeout=120)
        rc = rc or r.returncode
        for line in r.stdout.splitlines():
            m = re.match(r"^(PASS|FAIL) (\S+)\s+([0-9a-f]{64})", line)
            if m:
                found[m.group(2) + " over " + channel] = m.group(3)
    return found, rc


FINDING_KEYS = ("as_of", "kind", "from", "to", "channel", "purpose", "category", "categories",
                "profile", "scenario")


def flow_findings(report):
    """The kinds of flow finding a report holds: undisclosed flows and mismatches."""
    return {key + " " + json.dumps({k: f.get(k) for k in FINDING_KEYS}, sort_keys=True)
            for key in ("undisclosed_flows", "declared_against_observed")
            for f in report.get(key, [])}


def findings(scratch):
    """The kinds of flow finding the audits of each channel reported."""
    out = set()
    for channel in CHANNELS:
        try:
            report = json.loads((scratch / ("audit-" + channel) / "report.json").read_text())
        except (OSError, ValueError):
            return None
        out |= {f + " over " + channel for f in flow_findings(report)}
    return out


def judge(linksim, tree, baseline, fuzz_seeds, scratch, reported=None):
    try:
        return judge_runs(linksim, tree, baseline, fuzz_seeds, scratch, reported)
    except subprocess.TimeoutExpired as e:
        return "killed", "hangs (" + " ".join(e.cmd[1:3]) + " timed out)"


def judge_runs(linksim, tree, baseline, fuzz_seeds, scratch, reported):
    found, run_rc = roots(linksim, tree)
    audit_rc = 0
    for channel in CHANNELS:
        audit = run([linksim, "audit", "--profile", "documented", "--changes", channel,
                     "--out", str(scratch / ("audit-" + channel)),
                     "--claims", str(tree / "scenarios" / "claims.yaml")], tree, timeout=300)
        audit_rc = audit_rc or audit.returncode
    fuzz = run([linksim, "fuzz", "--seeds", str(fuzz_seeds)], tree, timeout=300)
    new = None
    if reported is not None and audit_rc == 0:
        now = findings(scratch)
        new = sorted(now - reported) if now is not None else ["no report"]
    if audit_rc != 0 or fuzz.returncode != 0 or run_rc != 0 or new:
        why = []
        if new:
            why.append("audit reports " + new[0].split(" ")[0].replace("_", " ") +
                       (" and %d more" % (len(new) - 1) if len(new) > 1 else ""))
        if run_rc != 0:
            why.append("scenario library")
        if audit_rc != 0:
            why.append("audit")
        if fuzz.returncode != 0:
            why.append("fuzz")
        return "killed", ", ".join(why)
    changed = sorted(k for k in set(found) | set(baseline) if found.get(k) != baseline.get(k))
    if changed:
        return "survived", "evidence changed in " + ", ".join(changed[:4]) + (
            " and %d more" % (len(changed) - 4) if len(changed) > 4 else "")
    return "unexercised", "every scenario's evidence root is the original's"


def verdicts(report_path):
    """Every claim's verdict under every profile an audit ran, and the flow findings: what the
    audit says, as a set that two audits' can be compared by."""
    try:
        report = json.loads(report_path.read_text())
    except (OSError, ValueError):
        return None
    out = {"passed " + str(report.get("passed"))}
    for claim in report.get("claims", []):
        for profile, v in claim.get("verdicts", {}).items():
            out.add(f"{claim['id']} under {profile}: {v.get('verdict')}")
    out |= flow_findings(report)
    for name in report.get("mutation_score", {}).get("missed", []):
        out.add("fault missed " + name)
    return out


def wide(linksim, tree, scratch):
    """The audit of every profile over each channel: its exit status and verdicts."""
    rc, said = 0, {}
    for channel in CHANNELS:
        out = scratch / ("wide-" + channel)
        r = run([linksim, "audit", "--all-profiles", "--changes", channel, "--out", str(out),
                 "--claims", str(tree / "scenarios" / "claims.yaml")], tree, timeout=900)
        rc = rc or r.returncode
        said[channel] = verdicts(out / "report.json")
    return rc, said


def judge_wide(linksim, tree, scratch, original, sanitized):
    """A miss judged again: every profile's audit, and the library under the sanitizers."""
    try:
        rc, said = wide(linksim, tree, scratch)
    except subprocess.TimeoutExpired as e:
        return "killed", "hangs (" + " ".join(e.cmd[1:3]) + " timed out)"
    for channel in CHANNELS:
        now, before = said[channel], original[channel]
        if now is None:
            return "killed", "audit of every profile writes no report over " + channel
        if now != before:
            diff = (["now " + x for x in sorted(now - before)] +
                    ["no longer " + x for x in sorted(before - now)])
            return "killed", ("audit of every profile " + ("fails" if rc else "differs") +
                              f" over {channel}: {diff[0]}" +
                              (f" and {len(diff) - 1} more" if len(diff) > 1 else ""))
    if rc != 0:
        return "killed", "audit of every profile fails"
    if sanitized:
        build_dir, binary = sanitized
        b = run(["ninja", "-C", str(build_dir), "linksim"], tree)
        if b.returncode != 0:
            return None, "sanitized build does not compile"
        try:
            _, rc = roots(binary, tree)
        except subprocess.TimeoutExpired:
            return "killed", "hangs under the sanitizers"
        if rc != 0:
            return "killed", "scenario library under the sanitizers"
    return None, ""


def configure(tree, build, extra):
    if not (build / "build.ninja").exists():
        r = run(["cmake", "-S", str(tree), "-B", str(build), "-G", "Ninja",
                 "-DCMAKE_BUILD_TYPE=Debug", "-DLINKSIM_BUILD_TESTS=OFF",
                 "-DLINKSIM_BUILD_LOAD_TOOLS=OFF"] + extra, tree)
        if r.returncode != 0:
            sys.exit("mutate.py: cmake failed:\n" + r.stdout + r.stderr)


SANITIZE = ["-DCMAKE_CXX_FLAGS=-O1 -fsanitize=address,undefined -fno-omit-frame-pointer "
            "-D_GLIBCXX_ASSERTIONS "
            "-fno-sanitize-recover=undefined",
            "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined", "-DLINKSIM_MIMALLOC=OFF"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mutants", type=int, default=80, help="how many to plant (default 80)")
    ap.add_argument("--seed", type=int, default=1, help="the sample's seed (default 1)")
    ap.add_argument("--fuzz-seeds", type=int, default=200, help="seeds linksim fuzz tries (200)")
    ap.add_argument("--work", type=Path, help="where the copy and its build live (kept)")
    ap.add_argument("--json", type=Path, help="write every mutant's result here")
    ap.add_argument("--only", default="",
                    help="only files whose path contains this, or PATH:LINE for one line")
    ap.add_argument("--list", action="store_true", help="print the sample and stop")
    ap.add_argument("--narrow", action="store_true",
                    help="judge each mutant once, without the wider judgement of misses")
    ap.add_argument("--sanitize", action="store_true",
                    help="the wider judgement also runs the library built with ASan, UBSan and "
                         "libstdc++'s assertions")
    a = ap.parse_args()
    if a.mutants < 1:
        sys.exit("mutate.py: --mutants must be at least 1")

    pool = candidates(a.only)
    if not pool:
        sys.exit("mutate.py: no mutation site in " + ", ".join(SERVICES))
    rng = random.Random(a.seed)
    sample = rng.sample(pool, min(a.mutants, len(pool)))
    sample.sort(key=lambda m: (m["file"], m["line"], m["operator"], m["mutated"]))
    print(f"{len(pool)} mutation sites in {', '.join(SERVICES)}; planting {len(sample)}",
          flush=True)
    if a.list:
        for m in sample:
            print(f"{m['file']}:{m['line']} {m['operator']}: {m['mutated'].strip()}")
        return 0

    work = a.work or Path(tempfile.mkdtemp(prefix="linksim-mutants-"))
    tree = work / "tree"
    build = work / "build"
    follow(ROOT, tree)
    configure(tree, build, [])
    print("building the original ...", flush=True)
    r = run(["ninja", "-C", str(build), "linksim"], tree)
    if r.returncode != 0:
        sys.exit("mutate.py: the original does not build:\n" + r.stdout[-3000:])
    linksim = str(build / "src" / "cli" / "linksim")
    baseline, rc = roots(linksim, tree)
    if rc != 0 or not baseline:
        sys.exit("mutate.py: the original's scenario library does not pass")
    scratch = work / "scratch"
    scratch.mkdir(exist_ok=True)
    status, why = judge(linksim, tree, baseline, a.fuzz_seeds, scratch)
    if status != "unexercised":
        sys.exit(f"mutate.py: the original itself is judged {status} ({why})")
    reported = findings(scratch)
    said, sanitized = None, None
    if not a.narrow:
        print("auditing every profile of the original ...", flush=True)
        rc, said = wide(linksim, tree, scratch)
        if rc != 0 or any(v is None for v in said.values()):
            sys.exit("mutate.py: the original's audit of every profile fails")
    if a.sanitize and not a.narrow:
        sbuild = work / "build-sanitize"
        configure(tree, sbuild, SANITIZE)
        print("building the original with the sanitizers ...", flush=True)
        r = run(["ninja", "-C", str(sbuild), "linksim"], tree)
        if r.returncode != 0:
            sys.exit("mutate.py: the original does not build with the sanitizers:\n" +
                     r.stdout[-3000:])
        sanitized = (sbuild, str(sbuild / "src" / "cli" / "linksim"))
        _, rc = roots(sanitized[1], tree)
        if rc != 0:
            sys.exit("mutate.py: the original's library fails under the sanitizers")

    results = []
    t0 = time.time()
    for i, m in enumerate(sample, 1):
        path = tree / m["file"]
        original = path.read_text()
        lines = original.splitlines(keepends=True)
        lines[m["line"] - 1] = m["mutated"] + "\n"
        path.write_text("".join(lines))
        try:
            b = run(["ninja", "-C", str(build), "linksim"], tree)
            if b.returncode != 0:
                status, why = "stillborn", "does not compile"
            else:
                status, why = judge(linksim, tree, baseline, a.fuzz_seeds, scratch, reported)
            first = status
            if status in ("survived", "unexercised") and said is not None:
                wider, wider_why = judge_wide(linksim, tree, scratch, said, sanitized)
                if wider:
                    status, why = "killed", wider_why + " (wide; first " + first + ")"
        finally:
            path.write_text(original)
            os.utime(path)  # rebuilt from the original next time
        results.append(dict(m, status=status, why=why, first=first))
        print(f"[{i}/{len(sample)}] {status:10} {m['file']}:{m['line']} {m['operator']}: {why}",
              flush=True)
    run(["ninja", "-C", str(build), "linksim"], tree)  # the original again
    if sanitized:
        run(["ninja", "-C", str(sanitized[0]), "linksim"], tree)

    count = {k: sum(1 for r in results if r["status"] == k)
             for k in ("killed", "survived", "unexercised", "stillborn")}
    scored = count["killed"] + count["survived"]
    score = 100.0 * count["killed"] / scored if scored else 100.0
    all_live = scored + count["unexercised"]
    floor = 100.0 * count["killed"] / all_live if all_live else 100.0
    print(f"\n{count['killed']} killed, {count['survived']} survived, {count['unexercised']} "
          f"unexercised, {count['stillborn']} stillborn in {time.time() - t0:.0f} s: "
          f"{score:.1f} % of the {scored} exercised mutants killed, {floor:.1f} % of all "
          f"{all_live}")
    if said is not None:
        first = sum(1 for r in results if r["first"] == "killed")
        print(f"the first judgement alone (the documented audit, fuzz, the library) killed "
              f"{first}: {100.0 * first / all_live if all_live else 100.0:.1f} % of all "
              f"{all_live}; the audit of every profile"
              f"{' and the sanitizers' if sanitized else ''} killed {count['killed'] - first} more")
    for r in results:
        if r["status"] in ("survived", "unexercised"):
            print(f"  {r['status']} {r['file']}:{r['line']} {r['operator']}: "
                  f"{r['mutated'].strip()}  ({r['why']})")
    if a.json:
        a.json.write_text(json.dumps({"seed": a.seed, "sites": len(pool), "counts": count,
                                      "score": score, "floor": floor, "wide": said is not None,
                                      "sanitize": sanitized is not None, "mutants": results},
                                     indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
