#!/usr/bin/python3
"""A second verifier of linksim's evidence, written from RFC 9162 (section 2.1) and the C2SP
signed-note and tlog-checkpoint texts alone, sharing no code with linksim. It must agree with
linksim on every root of an audit's logs and on the proofs of up to 48 entries and sizes of each
(all of a shorter log), and reject every tampering case that linksim's verifier rejects.

    independent_verifier.py LINKSIM WORKDIR

Needs Debian's python3-cryptography (Ed25519) and Python's own sqlite3. Exits non-zero, naming
the disagreement, when it finds one.
"""
import base64
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


# --- RFC 9162 2.1: the Merkle tree -----------------------------------------------------------

def sha256(data):
    return hashlib.sha256(data).digest()


def leaf_hash(entry):
    return sha256(b"\x00" + entry)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def largest_power_of_two_below(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves):
    """MTH(D[n]) over leaf hashes (2.1.1)."""
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaves[0]
    k = largest_power_of_two_below(n)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m, leaves):
    """PATH(m, D[n]) (2.1.3.1)."""
    n = len(leaves)
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m, leaves, b):
    """SUBPROOF(m, D[n], b) (2.1.4.1)."""
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def consistency(m, leaves):
    """PROOF(m, D[n]) (2.1.4.1)."""
    return subproof(m, leaves, True)


def verify_inclusion(index, size, leaf, proof, root):
    """2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_hash, second_hash, proof):
    """2.1.4.2."""
    if first == second:
        return not proof and first_hash == second_hash
    if first == 0 or first > second or not proof:
        return False
    proof = list(proof)
    if first & (first - 1) == 0:  # a power of two
        proof = [first_hash] + proof
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


# --- C2SP signed-note and tlog-checkpoint ----------------------------------------------------

def parse_verifier_key(vkey):
    """<name>+<hex key hash>+<base64(0x01 || 32-byte Ed25519 key)>."""
    name, key_hash, key = vkey.split("+", 2)
    raw = base64.b64decode(key, validate=True)
    if len(raw) != 33 or raw[0] != 0x01:
        raise ValueError("not an Ed25519 verifier key")
    computed = sha256(name.encode() + b"\n" + raw)[:4]
    if computed.hex() != key_hash:
        raise ValueError("the key hash does not match the key")
    return name, computed, Ed25519PublicKey.from_public_bytes(raw[1:])


def open_note(note, vkey):
    """The checkpoint (origin, size, root) a note signed by vkey carries, or None."""
    name, key_hash, public = vkey
    text = note.encode()
    split = text.find(b"\n\n")
    if split < 0:
        return None
    body, signatures = text[: split + 1], text[split + 2:]
    signed = False
    for line in signatures.decode().split("\n"):
        if not line:
            continue
        if not line.startswith("\u2014 "):
            return None
        line_name, blob = line[2:].rsplit(" ", 1)
        sig = base64.b64decode(blob)
        if line_name != name or sig[:4] != key_hash or len(sig) != 68:
            continue
        try:
            public.verify(sig[4:], body)
            signed = True
        except InvalidSignature:
            return None
    if not signed:
        return None
    lines = body.decode().split("\n")
    if len(lines) < 4 or not lines[1].isdigit():
        return None
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32:
        return None
    return lines[0], int(lines[1]), root


# --- The evidence log ------------------------------------------------------------------------

def read_log(file):
    db = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
    entries = db.execute("SELECT idx, entry FROM entries ORDER BY idx").fetchall()
    notes = [n for (n,) in db.execute("SELECT note FROM checkpoints ORDER BY tree_size")]
    db.close()
    return entries, notes


def check_log(file, vkey, allow_tail=False):
    """The problems an auditor would find, in words; empty when the log verifies."""
    problems = []
    entries, notes = read_log(file)
    leaves = []
    for i, (idx, entry) in enumerate(entries):
        if idx != i:
            problems.append(f"entry {idx} where {i} was expected")
        leaves.append(leaf_hash(entry.encode()))
    heads = []
    for note in notes:
        c = open_note(note, vkey)
        if c is None:
            problems.append("a checkpoint is not signed by the key")
            continue
        heads.append(c)
    if not heads:
        problems.append("no checkpoint")
    for origin, size, root in heads:
        if size > len(leaves) or mth(leaves[:size]) != root:
            problems.append(f"the checkpoint at {size} does not sign the log's entries")
    if heads and heads[-1][1] < len(leaves) and not allow_tail:
        problems.append(f"{len(leaves) - heads[-1][1]} entries after the newest checkpoint")
    return problems, leaves, heads


# --- The test --------------------------------------------------------------------------------

class disagreement(Exception):
    pass


def expect(condition, what):
    if not condition:
        raise disagreement(what)


def spread(n, most=48):
    """The positions 0..n-1 whose proofs are checked: every one of a small log; of a larger one
    the first, the last and evenly spaced ones between, so that each log costs a bounded number
    of `linksim evidence prove` runs (each one a process, slow under AddressSanitizer)."""
    if n <= most:
        return list(range(n))
    return sorted({0, n - 1} | {k * (n - 1) // (most - 1) for k in range(most)})


def main():
    linksim, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    audit = os.path.join(work, "audit")
    run = subprocess.run([linksim, "audit", "--profile", "documented", "--out", audit],
                         capture_output=True, text=True)
    expect(run.returncode == 0, "linksim audit failed:\n" + run.stdout + run.stderr)
    report = json.load(open(os.path.join(audit, "report.json")))
    vkey_text = report["verifier_key"]
    vkey = parse_verifier_key(vkey_text)
    expect(report["verifier_key_fingerprint"] == "SHA256:" + sha256(
        base64.b64decode(vkey_text.split("+", 2)[2])[1:]).hex(), "the fingerprint differs")

    # The sealed logs the report names: {"log", "size", "root", "checkpoint"}.
    sealed = {}

    def collect(o):
        if isinstance(o, dict):
            if "log" in o and "root" in o and "checkpoint" in o:
                sealed[o["log"]] = o
            for v in o.values():
                collect(v)
        elif isinstance(o, list):
            for v in o:
                collect(v)
    collect(report)
    expect(sealed, "the report names no sealed log")

    logs = 0
    for name, s in sorted(sealed.items()):
        file = os.path.join(audit, name)
        problems, leaves, heads = check_log(file, vkey)
        expect(not problems, f"{name}: {problems}")
        root = mth(leaves)
        expect(root.hex() == s["root"], f"{name}: root {root.hex()}, the report says {s['root']}")
        expect(open_note(s["checkpoint"], vkey) == (heads[-1][0], len(leaves), root),
               f"{name}: the report's checkpoint is not the log's")
        n = len(leaves)
        for i in spread(n):
            out = subprocess.run([linksim, "evidence", "prove", "--log", file, "--entry", str(i)],
                                 capture_output=True, text=True, check=True).stdout
            p = json.loads(out)
            proof = [bytes.fromhex(h) for h in p["proof"]]
            expect(proof == path(i, leaves), f"{name}: entry {i}: linksim's path differs")
            expect(verify_inclusion(i, n, leaf_hash(p["entry"].encode()), proof, root),
                   f"{name}: entry {i}: the inclusion proof does not verify")
            expect(not verify_inclusion(i, n, leaf_hash(p["entry"].encode() + b" "), proof, root),
                   f"{name}: entry {i}: a changed entry verifies")
        for m in (k + 1 for k in spread(n)):
            out = subprocess.run([linksim, "evidence", "prove", "--log", file, "--from", str(m)],
                                 capture_output=True, text=True, check=True).stdout
            p = json.loads(out)
            proof = [bytes.fromhex(h) for h in p["proof"]]
            expect(proof == consistency(m, leaves), f"{name}: from {m}: linksim's proof differs")
            expect(bytes.fromhex(p["from_root"]) == mth(leaves[:m]), f"{name}: from {m}: root")
            expect(verify_consistency(m, n, mth(leaves[:m]), root, proof),
                   f"{name}: from {m}: the consistency proof does not verify")
            other = mth(leaves[:m - 1] + [sha256(b"another entry")])
            expect(not verify_consistency(m, n, other, root, proof),
                   f"{name}: from {m}: another earlier tree verifies")
        logs += 1

    # The report proves each entry a verdict cites: checked with the key alone.
    cited = 0
    for claim in report["claims"]:
        for profile, verdict in claim.get("verdicts", {}).items():
            for scenario, e in verdict.get("evidence", {}).items():
                head = open_note(e["checkpoint"], vkey)
                expect(head is not None, f"{claim['id']}/{profile}/{scenario}: checkpoint")
                _, size, root = head
                for c in e.get("cited", []):
                    proof = [bytes.fromhex(h) for h in c["proof"]]
                    expect(verify_inclusion(c["leaf"], size, leaf_hash(c["entry"].encode()),
                                            proof, root),
                           f"{claim['id']}/{profile}/{scenario}: cited leaf {c['leaf']}")
                    expect(not verify_inclusion(c["leaf"], size,
                                                leaf_hash(c["entry"].encode() + b" "), proof,
                                                root),
                           f"{claim['id']}/{profile}/{scenario}: a changed cited entry verifies")
                    cited += 1
    expect(cited > 0, "the report proves no cited entry")

    # Tampering: each case is rejected by both verifiers.
    victim = os.path.join(audit, sorted(sealed)[0])
    def linksim_verifies(file, *extra):
        return subprocess.run([linksim, "evidence", "verify", "--log", file, "--key", vkey_text,
                               *extra], capture_output=True).returncode == 0

    def tampered(label, sql):
        copy = os.path.join(work, label + ".db")
        shutil.copy(victim, copy)
        db = sqlite3.connect(copy)
        for statement in sql:
            if callable(statement):
                statement(db)
            else:
                db.execute(statement)
        db.commit()
        db.close()
        return copy

    def rewrite_entry(idx, text):
        def go(db):
            db.execute("UPDATE entries SET entry = ?, leaf_hash = ? WHERE idx = ?",
                       (text, leaf_hash(text.encode()), idx))
        return go

    def forged_append(db):
        (n,) = db.execute("SELECT count(*) FROM entries").fetchone()
        text = db.execute("SELECT entry FROM entries WHERE idx = 0").fetchone()[0]
        text = text.replace('"to":"', '"to":"advertiser-')
        db.execute("INSERT INTO entries VALUES (?, ?, ?)", (n, text, leaf_hash(text.encode())))

    def swap(db):
        a = db.execute("SELECT entry FROM entries WHERE idx = 0").fetchone()[0]
        b = db.execute("SELECT entry FROM entries WHERE idx = 1").fetchone()[0]
        rewrite_entry(0, b)(db)
        rewrite_entry(1, a)(db)

    def bad_signature(db):
        (size, note) = db.execute(
            "SELECT tree_size, note FROM checkpoints ORDER BY tree_size DESC LIMIT 1").fetchone()
        sig_at = note.rindex(" ") + 5
        note = note[:sig_at] + ("A" if note[sig_at] != "A" else "B") + note[sig_at + 1:]
        db.execute("DELETE FROM checkpoints WHERE tree_size = ?", (size,))
        db.execute("INSERT INTO checkpoints VALUES (?, ?)", (size, note))

    def edited_root(db):
        (size, note) = db.execute(
            "SELECT tree_size, note FROM checkpoints ORDER BY tree_size DESC LIMIT 1").fetchone()
        lines = note.split("\n")
        lines[2] = base64.b64encode(sha256(b"another tree")).decode()
        db.execute("DELETE FROM checkpoints WHERE tree_size = ?", (size,))
        db.execute("INSERT INTO checkpoints VALUES (?, ?)", (size, "\n".join(lines)))

    drop = ["DROP TRIGGER entries_append_only_update", "DROP TRIGGER entries_append_only_delete",
            "DROP TRIGGER checkpoints_append_only_update",
            "DROP TRIGGER checkpoints_append_only_delete"]
    first_entry = read_log(victim)[0][0][1]
    cases = {
        "edited": drop + [rewrite_entry(0, first_entry.replace('"from":"', '"from":"x'))],
        "no-checkpoint": drop + ["DELETE FROM checkpoints"],
        "forged-tail": drop + [forged_append],
        "swapped": drop + [swap],
        "bad-signature": drop + [bad_signature],
        "deleted-entry": drop + ["DELETE FROM entries WHERE idx = (SELECT max(idx) FROM entries)"],
        "renumbered": drop + ["UPDATE entries SET idx = idx + 1 WHERE idx = (SELECT max(idx) FROM entries)"],
        "edited-root": drop + [edited_root],
    }
    for label, sql in cases.items():
        copy = tampered(label, sql)
        problems, _, _ = check_log(copy, vkey)
        expect(problems, f"{label}: the independent verifier accepts it")
        expect(not linksim_verifies(copy), f"{label}: linksim's verifier accepts it")

    # A rollback is caught with a witness: both refuse a log shorter than a checkpoint seen.
    rolled = tampered("rolled-back", drop + [
        "DELETE FROM entries WHERE idx = (SELECT max(idx) FROM entries)",
        "DELETE FROM checkpoints WHERE tree_size = (SELECT max(tree_size) FROM checkpoints)"])
    witness = os.path.join(work, "witness.json")
    json.dump({"checkpoints": [sealed[sorted(sealed)[0]]["checkpoint"]]}, open(witness, "w"))
    seen = open_note(sealed[sorted(sealed)[0]]["checkpoint"], vkey)
    rolled_leaves = check_log(rolled, vkey, allow_tail=True)[1]
    expect(seen[1] > len(rolled_leaves), "rolled-back: the witness does not see the rollback")
    expect(not linksim_verifies(rolled, "--witness", witness),
           "rolled-back: linksim's verifier accepts it with a witness")
    expect(linksim_verifies(victim, "--witness", witness), "the intact log fails its own witness")

    print(f"independent verifier: {logs} logs agree with linksim on every root, inclusion and "
          f"consistency proof; the report's {cited} proofs of cited entries verify; "
          f"{len(cases) + 1} tampering cases rejected by both")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except disagreement as d:
        print("independent verifier: DISAGREES: " + str(d))
        sys.exit(1)
