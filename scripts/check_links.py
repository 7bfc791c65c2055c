#!/usr/bin/env python3
"""Every relative link of README.md and docs/*.md names a file that exists and, with a
#fragment, a heading or an <a id> of that file, as GitHub makes them; so does every
`helpUri` the SARIF report gives (src/harness/report/sarif.cpp).

  scripts/check_links.py [ROOT]    prints FILE:LINE: LINK: PROBLEM for each broken one, exit 1
"""

import re
import sys
from pathlib import Path

ROOT = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
_anchors = {}


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation but `-` and `_` dropped, each
    space a `-`."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path):
    if path not in _anchors:
        text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.S | re.M)
        found, seen = set(), {}
        for m in re.finditer(r"^#{1,6} +(.+?) *#*$", text, re.M):
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
        found |= set(re.findall(r'<a id="([^"]+)"', text))
        _anchors[path] = found
    return _anchors[path]


def check(where, base, target):
    if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
        return None
    file, _, fragment = target.partition("#")
    dest = (base / file).resolve() if file else None
    if dest is not None and not dest.exists():
        return f"{where}: {target}: no such file"
    if fragment and (dest is None or dest.suffix == ".md"):
        if fragment not in anchors(dest or base):
            return f"{where}: {target}: no such heading or anchor"
    return None


def main():
    broken = []
    for md in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = md.read_text()
        for m in re.finditer(r"\]\(([^)\s]+)\)", text):
            line = text.count("\n", 0, m.start()) + 1
            where = f"{md.relative_to(ROOT)}:{line}"
            broken.append(check(where, md if m.group(1).startswith("#") else md.parent,
                                m.group(1)))
    sarif = ROOT / "src/harness/report/sarif.cpp"
    text = sarif.read_text()
    for m in re.finditer(r'"(docs/[^"#]+\.md)#([A-Za-z0-9_\-]+)"', text):
        line = text.count("\n", 0, m.start()) + 1
        broken.append(check(f"{sarif.relative_to(ROOT)}:{line}", ROOT, f"{m.group(1)}#{m.group(2)}"))
    broken = [b for b in broken if b]
    for b in broken:
        print(b)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
