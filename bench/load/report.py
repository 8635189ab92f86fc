#!/usr/bin/env python3
"""Summary for bench/load.sh: report.py table RESULTS.tsv prints markdown tables of the medians over
rounds and the ratios to raw Kestrel (load scenarios: the median of the ratios within each round). (report.py wrk FILE parses one wrk output, as load/parse_wrk.awk
does inside the script.)"""
import re
import statistics
import sys

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_wrk(path):
    text = open(path).read()
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", text)
    if not m:
        print("0 0 0 nan 0")
        return
    requests = int(m.group(1))
    seconds = float(m.group(2)) * UNITS[m.group(3)] / 1000.0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    p99 = float(p.group(1)) * UNITS[p.group(2)] if p else float("nan")
    errors = 0
    s = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if s:
        errors += sum(int(x) for x in s.groups())
    n = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if n:
        errors += int(n.group(1))
    print(f"{requests} {seconds:.3f} {rps:.1f} {p99:.3f} {errors}")


COLUMNS = ["round", "server", "scenario", "rps", "p99_ms", "cpu_us", "mib_s", "kib_conn", "bytes_req", "requests", "errors"]
SCENARIO_ORDER = ["plaintext", "pipelined", "json", "close", "file", "idle", "alloc"]
SCENARIO_TITLE = {
    "plaintext": "plaintext, 64 keep-alive conns",
    "pipelined": "plaintext, pipelined 16 deep, 64 conns",
    "json": "json, 64 conns",
    "close": "Connection: close, 16 conns",
    "file": "1 MiB file, 16 conns",
    "idle": "idle keep-alive conns",
    "alloc": "allocation, plaintext 64 conns",
}


def num(v):
    try:
        return float(v)
    except ValueError:
        return float("nan")


def median(values):
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


def fmt(v, digits=1):
    if v != v:
        return "—"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def ratio(v, base):
    if v != v or base != base or base == 0:
        return "—"
    return f"{v / base:.2f}x"


def table(path):
    rows = []
    for line in open(path):
        parts = line.rstrip("\n").split("\t")
        if len(parts) != len(COLUMNS) or parts[0] == "round":
            continue
        rows.append(dict(zip(COLUMNS, parts)))
    servers = []
    for r in rows:
        if r["server"] not in servers:
            servers.append(r["server"])
    known = ["kestrel", "parley", "parley-epoll", "nginx", "ceiling"]
    order = [s for s in known if s in servers] + [s for s in servers if s not in known]

    def med(server, scenario, key):
        return median([num(r[key]) for r in rows if r["server"] == server and r["scenario"] == scenario])

    def paired(server, scenario, key, against="kestrel"):
        # The median of the per-round ratios to Kestrel (or another server): each round measures a
        # scenario on every server seconds apart, so a ratio within a round cancels the drift between rounds.
        base = {r["round"]: num(r[key]) for r in rows if r["server"] == against and r["scenario"] == scenario}
        ratios = [num(r[key]) / base[r["round"]] for r in rows
                  if r["server"] == server and r["scenario"] == scenario and base.get(r["round"], 0) == base.get(r["round"], 0) and base.get(r["round"], 0)]
        if not ratios:
            return "—"
        m = median(ratios)
        return "—" if m != m else f"{m:.2f}x"

    def rounds(server, scenario):
        return sum(1 for r in rows if r["server"] == server and r["scenario"] == scenario)

    print("| scenario | server | rounds | req/s | vs Kestrel | p99 ms | vs Kestrel | server CPU µs/req | vs Kestrel | MiB/s | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for sc in SCENARIO_ORDER:
        if sc in ("idle", "alloc"):
            continue
        for sv in order:
            n = rounds(sv, sc)
            if not n:
                continue
            rps, p99, cpu, mib = med(sv, sc, "rps"), med(sv, sc, "p99_ms"), med(sv, sc, "cpu_us"), med(sv, sc, "mib_s")
            # wrk times only the first request of each pipelined write: no latency figure to compare.
            p99_vs = "—" if sc == "pipelined" else paired(sv, sc, "p99_ms")
            if sc == "pipelined":
                p99 = float("nan")
            errors = sum(int(num(r["errors"])) for r in rows if r["server"] == sv and r["scenario"] == sc if num(r["errors"]) == num(r["errors"]))
            print(f"| {SCENARIO_TITLE[sc]} | {sv} | {n} | {fmt(rps)} | {paired(sv, sc, 'rps')} | "
                  f"{fmt(p99, 2)} | {p99_vs} | {fmt(cpu, 2)} | {paired(sv, sc, 'cpu_us')} | "
                  f"{fmt(mib) if sc == 'file' else '—'} | {errors} |")
    if rounds("nginx", "file"):
        print()
        print("| 1 MiB file against nginx (median of the per-round MiB/s ratios) | server | ratio |")
        print("|---|---|---|")
        for sv in order:
            if sv != "nginx" and rounds(sv, "file"):
                print(f"| | {sv} | {paired(sv, 'file', 'mib_s', against='nginx')} |")
    print()
    print("| measure | server | rounds | value | vs Kestrel | detail |")
    print("|---|---|---|---|---|---|")
    for sv in order:
        n = rounds(sv, "idle")
        if n:
            v = med(sv, "idle", "kib_conn")
            conns = median([num(r["requests"]) for r in rows if r["server"] == sv and r["scenario"] == "idle"])
            print(f"| RSS per idle keep-alive connection (KiB) | {sv} | {n} | {fmt(v, 2)} | {ratio(v, med('kestrel', 'idle', 'kib_conn'))} | {fmt(conns, 0)} connections open |")
    for sv in order:
        n = rounds(sv, "alloc")
        if n:
            v = med(sv, "alloc", "bytes_req")
            reqs = median([num(r["requests"]) for r in rows if r["server"] == sv and r["scenario"] == "alloc"])
            print(f"| bytes allocated per plaintext request | {sv} | {n} | {fmt(v, 2)} | {ratio(v, med('kestrel', 'alloc', 'bytes_req'))} | over {fmt(reqs, 0)} requests |")


if __name__ == "__main__":
    if sys.argv[1] == "wrk":
        parse_wrk(sys.argv[2])
    elif sys.argv[1] == "table":
        table(sys.argv[2])
    else:
        sys.exit("usage: report.py wrk FILE | table TSV")
