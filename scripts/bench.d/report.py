#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# report.py: the Markdown summary of one scripts/bench run: the table of
# peers.sh's CSV, the first connections (first_connection.sh's CSV) and the
# memory per peer (peer_memory.sh's), and issue 7's targets. With --docs
# FILE it replaces the text between the bench markers of FILE instead of
# printing; with --check it prints nothing and exits 1 when an idloc row did
# not complete.
import argparse
import csv
import os
import statistics
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
    return out


def optional_csv(path):
    """The rows of the CSV at path, or None when there is none."""
    if not path or not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def first_connections(path):
    """{delay: [rows]} of first_connection.sh's CSV, or None without one."""
    rows = optional_csv(path)
    if rows is None:
        return None
    by = {}
    for r in rows:
        by.setdefault(int(r["delay_ms"]), []).append(r)
    return by


def first_stats(rows):
    t = [float(r["first_byte_ms"]) for r in rows]
    return statistics.median(t), min(t), max(t), float(rows[0]["underlay_rtt_ms"])


# The two ways a first connection goes: the overlay had already made an
# association with the peer (its links are associations), or it takes a new
# one (a base exchange routed through the overlay, then a pipe).
KINDS = (("all trials", lambda r: True),
         ("over an overlay association", lambda r: r["assoc_before"].startswith("ESTABLISHED")),
         ("new association", lambda r: not r["assoc_before"].startswith("ESTABLISHED")))


def first_kinds(rows):
    """(label, rows) for all trials, then each kind of trial if both occurred."""
    out = []
    for kind, match in KINDS:
        sel = [r for r in rows if match(r)]
        if kind == KINDS[0][0]:
            out.append((f"all {len(rows)} trials", rows))
        elif len(sel) == len(rows):
            out[0] = (f"all {len(rows)} trials, each {kind}", rows)
        elif sel:
            out.append((f"{len(sel)} trial{'s' if len(sel) > 1 else ''} {kind}", sel))
    return out


def first_targets(first):
    """The targets' rows for the first connections (no delay: 50 ms; each
    added delay: at most 5 underlay round trips plus 30 ms), for all trials
    and for each kind that occurred."""
    if first is None:
        return ["| first connection (three peers, name to first HTTP byte) | not measured "
                "(first_connection.sh failed or was skipped) | - | - | <= 50 ms | - |"]
    out = []
    for delay, rows in sorted(first.items()):
        rtt = float(rows[0]["underlay_rtt_ms"])
        goal = 50.0 if delay == 0 else 5 * rtt + 30
        for label, sel in first_kinds(rows):
            med, lo, hi, _ = first_stats(sel)
            what = f"first connection, {label}"
            if delay == 0:
                what += ", median ms"
                ratio, goal_s = "-", "<= 50 ms"
            else:
                what += f", {delay} ms added per packet (round trip {rtt:.1f} ms)"
                ratio = f"{med / rtt:.1f} round trips"
                goal_s = f"<= 5 round trips + 30 ms = {goal:.0f} ms"
            out.append(f"| {what} | {med:.1f} ({lo:.1f} to {hi:.1f}) | - | {ratio} | {goal_s} "
                       f"| {verdict(med <= goal)} |")
    return out


def memory(path):
    """peer_memory.sh's key,value CSV as a dict, or None without one."""
    rows = optional_csv(path)
    return None if rows is None else {r["key"]: r["value"] for r in rows}


def module_note(mem, step):
    """Says so when idlocd loaded its GLib module (ICE) during this step."""
    if mem.get(f"module_{step}") == "1" and mem.get(f"module_{step - 1}") != "1":
        return ", idloc-glib.so (libnice and its libraries) loaded in this step"
    return ""


def memory_targets(mem):
    if mem is None:
        return ["| idle RSS per added peer | not measured (peer_memory.sh failed or was "
                "skipped) | - | - | <= 64 KiB | - |"]
    out = []
    step = 1
    while f"per_rss_{step}" in mem:
        per, anon = float(mem[f"per_rss_{step}"]), float(mem[f"per_anon_{step}"])
        out.append(f"| idle RSS per added peer, {mem[f'peers_{step - 1}']} to "
                   f"{mem[f'peers_{step}']} established peers{module_note(mem, step)}, "
                   f"KiB | {per:.1f} "
                   f"(anonymous {anon:.1f}) | - | - | <= 64 KiB | {verdict(per <= 64)} |")
        step += 1
    return out


def first_section(first):
    if first is None:
        return []
    lines = ["#### First connection", "",
             "Three fresh daemons per trial (earth the bootstrap, then mars with a web "
             "server, then venus, each started once the one before registered its name); "
             "venus runs `curl -4 http://mars.<domain>/`, resolving through its own idlocd; "
             "the time is curl's, from before the name lookup to the first byte of the "
             "answer. Whether the overlay had associated venus with mars before depends on "
             "the keys and timing of each trial's join. Medians, ms:", "",
             "| added delay per packet | underlay round trip | trials | name looked up "
             "| TCP connected | first byte: median | min | max |",
             "|---|---|---|---|---|---|---|---|"]
    for delay, rows in sorted(first.items()):
        for label, sel in first_kinds(rows):
            med, lo, hi, rtt = first_stats(sel)
            look = statistics.median(float(r["lookup_ms"]) for r in sel)
            conn = statistics.median(float(r["connect_ms"]) for r in sel)
            by = "" if delay == 0 else f" ({sel[0].get('delay_by', '?')})"
            lines.append(f"| {delay} ms{by} | {rtt:.2f} ms | {label} | {look:.1f} | "
                         f"{conn:.1f} | {med:.1f} | {lo:.1f} | {hi:.1f} |")
    return lines + [""]


def memory_section(mem):
    if mem is None:
        return []
    def mib(key):
        return float(mem[key]) / 1024

    libs = sorted(((int(v), k[4:]) for k, v in mem.items() if k.startswith("lib_")),
                  reverse=True)
    top = ", ".join(f"{name.split('.so')[0]} {v / 1024:.1f}" for v, name in libs[:10])
    lines = ["#### Memory", "",
             f"One idle idlocd (\"sun\") with {mem['peers_0']} established peer(s): VmRSS "
             f"{mib('rss_0'):.1f} MiB, of which anonymous memory (heap, stacks, libraries' "
             f"zeroed data) {mib('anon'):.1f} MiB, idlocd's own pages {mib('binary'):.1f} MiB "
             f"and shared libraries' pages {mib('libs'):.1f} MiB ({mib('libs_dirty'):.1f} MiB "
             f"of them written by the process: relocations, data); PSS {mib('pss'):.1f} MiB. "
             f"The largest libraries (MiB): {top}. idloc-glib.so (ICE) "
             f"{'loaded' if mem.get('module_0') == '1' else 'not loaded'}.", ""]
    step = 1
    while f"rss_{step}" in mem:
        lines.append(f"- {mem[f'peers_{step - 1}']} -> {mem[f'peers_{step}']} established "
                     f"peers: VmRSS {mib(f'rss_{step - 1}'):.2f} -> {mib(f'rss_{step}'):.2f} MiB, "
                     f"{mem[f'per_rss_{step}']} KiB per added peer "
                     f"(anonymous: {mem[f'per_anon_{step}']} KiB){module_note(mem, step)}")
        step += 1
    return lines + [""]


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
    lines += targets(rows) + first_targets(args.first_data) + memory_targets(args.memory_data)
    lines += [""] + first_section(args.first_data) + memory_section(args.memory_data)
    lines.pop()
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
    p.add_argument("--first", help="first_connection.sh's CSV")
    p.add_argument("--memory", help="peer_memory.sh's CSV")
    p.add_argument("--check", action="store_true")
    args = p.parse_args()
    args.first_data = first_connections(args.first)
    args.memory_data = memory(args.memory)
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
