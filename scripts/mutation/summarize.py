#!/usr/bin/env python3
"""Turns a Stryker JSON report into a short Markdown record of one run.

    scripts/mutation/summarize.py REPORT.json TITLE > record.md

The record keeps what a later session needs and a report folder under TestResults/ does not survive:
each file's counts and score, the set's total, and every mutant the run left undetected (line, mutator,
replacement), so that survivors can be worked through and sets measured at one commit added up.
Files outside the set (their mutants Ignored, or only failing to compile) are left out.
"""
import json
import sys
from collections import Counter

DETECTED = ("Killed", "Timeout")
UNDETECTED = ("Survived", "NoCoverage")


def score(counts):
    valid = sum(counts[s] for s in DETECTED + UNDETECTED)
    return 100.0 * sum(counts[s] for s in DETECTED) / valid if valid else float("nan")


def main(report_path, title):
    with open(report_path, encoding="utf-8") as f:
        report = json.load(f)
    files = {}
    for path, entry in report["files"].items():
        mutants = [m for m in entry["mutants"] if m["status"] != "Ignored"]
        # A file outside the set still shows the mutants that did not compile (Stryker marks those before
        # it applies the mutate filter): only files with a mutant that ran, or could have, are the set's.
        if any(m["status"] != "CompileError" for m in mutants):
            files[path.split("src/Parley/", 1)[-1]] = mutants

    total = Counter()
    rows = []
    for path, mutants in sorted(files.items()):
        counts = Counter(m["status"] for m in mutants)
        total.update(counts)
        rows.append((score(counts), path, counts))

    out = [f"# {title}", "",
           "| File | Killed | Timeout | Survived | No coverage | Compile error | Score |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for s, path, c in sorted(rows):
        out.append(f"| {path} | {c['Killed']} | {c['Timeout']} | {c['Survived']} | {c['NoCoverage']} "
                   f"| {c['CompileError']} | {s:.2f}% |")
    out.append(f"| **together** | **{total['Killed']}** | **{total['Timeout']}** | **{total['Survived']}** "
               f"| **{total['NoCoverage']}** | **{total['CompileError']}** | **{score(total):.2f}%** |")
    other = {k: v for k, v in total.items() if k not in DETECTED + UNDETECTED + ("CompileError",)}
    if other:
        out += ["", "Other statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(other.items()))]

    out += ["", "## Undetected", "", "`line:column mutator: replacement` (NoCoverage: no test in the filter reached it)."]
    for path, mutants in sorted(files.items()):
        left = sorted((m for m in mutants if m["status"] in UNDETECTED),
                      key=lambda m: (m["location"]["start"]["line"], m["location"]["start"]["column"]))
        if not left:
            continue
        out += ["", f"### {path}", ""]
        for m in left:
            start = m["location"]["start"]
            replacement = " ".join((m.get("replacement") or "").split())
            if len(replacement) > 100:
                replacement = replacement[:97] + "..."
            tag = " (NoCoverage)" if m["status"] == "NoCoverage" else ""
            out.append(f"- {start['line']}:{start['column']} {m['mutatorName']}: `{replacement}`{tag}")
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
