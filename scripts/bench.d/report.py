#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# report.py: the Markdown summary of one scripts/bench run: the table of
# peers.sh's CSV and issue 7's targets as ratios within the run. With --docs
# FILE it replaces the text between the bench markers of FILE instead of
# printing; with --check it prints nothing and exits 1 when an idloc row did
# not complete.
import argparse
import csv
import os
import sys

BEGIN = "<!-- scripts/bench results: begin -->"
END = "<!-- scripts/bench results: end -->"
CEILING = "veth"


def num(row, key):
    try:
        return float(row.get(key, ""))
    except ValueError:
        return None


def fmt(v, digits=2, unit=""):
    return "-" if v is None else f"{v:.{digits}f}{unit}"


def is_idloc(row):
    return row["system"] == "idloc" or row["system"].startswith("idloc-")


def rss_mib(row):
    a, b = num(row, "rss_idle_a_kib"), num(row, "rss_idle_b_kib")
    if a is None or b is None:
        return None
    return a / 1024, b / 1024


def table(rows):
    out = ["| system | version | cipher | MTU | TCP 1 stream | TCP 4 streams | ping avg | "
           "CPU s per GB | idle RSS A/B | first reply |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for i, r in enumerate(rows):
        if r["status"] != "ok" and num(r, "tcp1_gbps") is None:
            out.append(f"| {r['system']} | {r['version'] or '-'} | {r['cipher'] or '-'} | "
                       f"{r['mtu'] or '-'} | {r['status']}: {r['problem'].strip().rstrip(';')} "
                       "| | | | | |")
            continue
        unit = " Gbit/s" if i == 0 else ""
        rss = rss_mib(r)
        first = num(r, "first_reply_ms")
        out.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            r["system"] if r["status"] == "ok" else f"{r['system']} ({r['status']})",
            r["version"] or "-", r["cipher"] or "-", r["mtu"] or "-",
            fmt(num(r, "tcp1_gbps"), 2, unit), fmt(num(r, "tcp4_gbps")),
            fmt(num(r, "rtt_avg_ms"), 3, " ms"), fmt(num(r, "cpu_s_per_gb"), 1),
            "-" if rss is None else f"{rss[0]:.1f}/{rss[1]:.1f} MiB",
            "-" if first is None else f"{first:.0f} ms"))
    return out


def best(peers, key, smaller):
    vals = [(num(r, key), r["system"]) for r in peers if num(r, key) is not None]
    if not vals:
        return None, None
    return min(vals) if smaller else max(vals)


def verdict(ok):
    return "-" if ok is None else ("**met**" if ok else "**missed**")


def targets(rows):
    by = {r["system"]: r for r in rows}
    peers = [r for r in rows if r["status"] == "ok" and r["system"] != CEILING and not is_idloc(r)]
    direct, relay = by.get("idloc"), by.get("idloc-relay")
    out = ["| target | idloc | best peer | ratio | goal | |", "|---|---|---|---|---|---|"]

    def compare(what, key, smaller, goal, passes, digits):
        mine = num(direct, key) if direct and direct["status"] == "ok" else None
        b, who = best(peers, key, smaller)
        ratio = mine / b if mine is not None and b else None
        out.append(f"| {what} | {fmt(mine, digits)} | "
                   f"{'-' if b is None else f'{b:.{digits}f} ({who})'} | {fmt(ratio)} | {goal} | "
                   f"{verdict(None if ratio is None else passes(ratio))} |")

    compare("TCP 1 stream, Gbit/s", "tcp1_gbps", False, "ratio >= 1.5", lambda x: x >= 1.5, 2)
    compare("TCP 4 streams, Gbit/s", "tcp4_gbps", False, "ratio >= 1.5", lambda x: x >= 1.5, 2)
    compare("CPU s per GB", "cpu_s_per_gb", True, "ratio <= 0.7", lambda x: x <= 0.7, 1)
    compare("ping avg, ms", "rtt_avg_ms", True, "below every peer", lambda x: x < 1, 3)

    rss = rss_mib(direct) if direct and direct["status"] == "ok" else None
    worst = None if rss is None else max(rss)
    out.append(f"| idle RSS of idlocd, MiB (larger side) | {fmt(worst, 1)} | - | - | <= 6 MiB | "
               f"{verdict(None if worst is None else worst <= 6)} |")

    for what, key in (("relay / direct, TCP 1 stream", "tcp1_gbps"),
                      ("relay / direct, TCP 4 streams", "tcp4_gbps")):
        d = num(direct, key) if direct else None
        r = num(relay, key) if relay and relay["status"] == "ok" else None
        ratio = r / d if r is not None and d else None
        out.append(f"| {what} | {fmt(r)} relayed, {fmt(d)} direct | - | {fmt(ratio)} | >= 0.5 | "
                   f"{verdict(None if ratio is None else ratio >= 0.5)} |")
    out.append("| first connection (three peers, name to HTTP reply), per added peer RSS | "
               "not measured by scripts/bench | | | <= 50 ms; <= 64 KiB | - |")
    return out


def summary(rows, args):
    r0 = rows[0]
    cpu = r0["host"].split(", ", 1)[-1]
    lines = [f"Run of {r0['date']}: {cpu}, nproc {r0['nproc']}, kernel {r0['kernel']}; "
             f"idloc {args.rev}; iperf3 {args.duration} s per run. "
             f"Load average (1, 5, 15 min) before the run: {args.load[0]}; after: {args.load[1]}.",
             ""]
    lines += table(rows)
    lines += ["", "#### Targets (issue 7), ratios within this run", ""]
    peers = sorted({r["system"] for r in rows
                    if r["status"] == "ok" and r["system"] != CEILING and not is_idloc(r)})
    lines += [f"Peers in the run: {', '.join(peers) or 'none'}. Ratio: idloc / best peer "
              "(the relay rows: relayed / direct).", ""]
    lines += targets(rows)
    notes = [f"- {r['system']}: {r['note']}" for r in rows if r.get("note")]
    problems = [f"- {r['system']}: {r['status']}: {r['problem'].strip()}"
                for r in rows if r["status"] != "ok"]
    lines += ["", "Systems:", ""] + notes
    if problems:
        lines += ["", "Problems:", ""] + problems
    return "\n".join(lines) + "\n"


def write_docs(path, text):
    with open(path) as f:
        doc = f.read()
    b, e = doc.find(BEGIN), doc.find(END)
    if b < 0 or e < b:
        sys.exit(f"report.py: {path} has no '{BEGIN}' ... '{END}' block")
    doc = doc[:b + len(BEGIN)] + "\n" + text + doc[e:]
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(doc)
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--csv", required=True)
    p.add_argument("--load", nargs=2, default=["?", "?"])
    p.add_argument("--rev", default="?")
    p.add_argument("--duration", default="?")
    p.add_argument("--docs")
    p.add_argument("--check", action="store_true")
    args = p.parse_args()
    with open(args.csv, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit("report.py: no rows in " + args.csv)
    if args.check:
        bad = [r["system"] for r in rows if is_idloc(r) and r["status"] != "ok"]
        if bad:
            sys.exit("idloc rows that failed: " + ", ".join(bad))
        return
    text = summary(rows, args)
    if args.docs:
        write_docs(args.docs, text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
