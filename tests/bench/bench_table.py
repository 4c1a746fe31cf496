#!/usr/bin/env python3
"""`make bench`: every performance figure of the reconstruction, the encoder and the inline MLE in
one table, today's code (a baseline tree built from BENCH_BASE) against this tree.

Instruction counts come from callgrind (load-independent); page faults from getrusage (exact);
wall times are medians of old/new runs alternated round by round, so both see the same load;
the machine's load average is printed before and after.

usage: bench_table.py --build BUILD --base-build BASE_BUILD [--rounds R] [--quick]
BASE_BUILD holds a build of the baseline tree with this tree's benchmark harnesses
(tests/bench/bench_reconstruct.c, bench_encode.c and bench_incidence.c build against both)."""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def callgrind(cmd, toggles=()):
    """Instructions executed by cmd (only inside the toggled functions, if any)."""
    args = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    args += ["--toggle-collect=" + t for t in toggles]
    r = subprocess.run(args + cmd, capture_output=True, text=True)
    m = re.search(r"Collected : (\d+)", r.stderr)
    if r.returncode != 0 or not m:
        sys.exit("callgrind failed: %s\n%s" % (" ".join(cmd), r.stderr[-2000:]))
    return int(m.group(1))


def timed(cmd):
    """(wall seconds, user + system CPU seconds) of a command whose output is discarded."""
    t0 = time.monotonic()
    r0 = os.times()
    subprocess.run(cmd, check=True, capture_output=True)
    r1 = os.times()
    return (time.monotonic() - t0,
            (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system))


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--base-build", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    a = ap.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("bench: valgrind is needed for the instruction counts")
    new, old = a.build, a.base_build
    rec = lambda b: os.path.join(b, "tests/bench/bench_reconstruct")
    enc = lambda b: os.path.join(b, "tests/bench/bench_encode")
    cli = lambda b: os.path.join(b, "server/pinhole")
    k, eps = ("100000", "4") if a.quick else ("3307948", "5")
    rows = []
    load0 = load()
    print("load average before: %s (%d cores)" % (load0, os.cpu_count()), flush=True)

    # 1. reconstruction + estimates: instructions of one repeated call = run(R=3) - run(R=2),
    # one thread (callgrind serializes threads anyway)
    tog = ["pinhole_pgr_reconstruct_ex", "pinhole_pgr_estimate", "pinhole_pgr_reconstruct_estimate"]
    base = [rec(old), "--k", k, "--epsilon", eps, "--threads", "1"]
    basen = [rec(new), "--k", k, "--epsilon", eps, "--threads", "1"]
    i_old = [callgrind(base + ["--repeat", str(r)], tog) for r in (2, 3)]
    i_new = [callgrind(basen + ["--calls", "kept", "--repeat", str(r)], tog) for r in (2, 3)]
    i_new1 = callgrind(basen + ["--calls", "kept", "--repeat", "1"], tog)
    rows.append(("reconstruction + estimates, instructions per repeated call (callgrind, eps %s, "
                 "k %s)" % (eps, k), i_old[1] - i_old[0], i_new[1] - i_new[0], "<= 300 M"))
    rows.append(("  the same, first call of a process (new: builds the gather table)",
                 i_old[1] - i_old[0], i_new1, ""))

    # 2. page faults and wall time, alternating old (fresh calls, today's callers) and new (kept)
    walls_old, walls_new, cpu_old, cpu_new = [], [], [], []
    flt = {}
    for _ in range(a.rounds):
        o = run_json([rec(old), "--k", k, "--epsilon", eps, "--repeat", "5"])
        n = run_json([rec(new), "--k", k, "--epsilon", eps, "--repeat", "5", "--calls", "kept"])
        walls_old.append(o["median_seconds"])
        walls_new.append(n["median_seconds"])
        cpu_old.append(o["cpu_seconds"])
        cpu_new.append(n["cpu_seconds"])
        flt = {"old_first": o["minflt_first"], "old_rep": o["minflt_repeat"],
               "new_first": n["minflt_first"], "new_rep": n["minflt_repeat"],
               "old_rss": o["peak_rss_mb"], "new_rss": n["peak_rss_mb"]}
    nf = run_json([rec(new), "--k", k, "--epsilon", eps, "--repeat", "5"])
    rows.append(("  minor page faults, first call", flt["old_first"], flt["new_first"], ""))
    rows.append(("  minor page faults, each later call (median)", flt["old_rep"], flt["new_rep"],
                 "near 0"))
    rows.append(("  (new without a kept workspace: faults first / later)",
                 "", "%d / %d" % (nf["minflt_first"], nf["minflt_repeat"]), ""))
    mo, mn = statistics.median(walls_old), statistics.median(walls_new)
    rows.append(("  wall s of a repeated call, 2 threads (median of %d alternating rounds)"
                 % a.rounds, "%.4f" % mo, "%.4f" % mn, ">= 1.5x: %.2fx" % (mo / mn)))
    rows.append(("  CPU s of a repeated call (median)", "%.4f" % statistics.median(cpu_old),
                 "%.4f" % statistics.median(cpu_new), ""))
    rows.append(("  peak RSS MB", flt["old_rss"], flt["new_rss"], ""))

    # 3. encoder: instructions per report = (I(150000) - I(50000)) / 100000
    def per_report(b, batch):
        x = [callgrind([enc(b), "74286", "4", str(nn), str(batch)]) for nn in (50000, 150000)]
        return (x[1] - x[0]) / 100000
    e_old, e_new, e_bat = per_report(old, 0), per_report(new, 0), per_report(new, 1000)
    rows.append(("encoder, instructions per report (callgrind, k 74286, eps 4): single / batch",
                 "%.0f" % e_old, "%.0f / %.0f" % (e_new, e_bat), "batch <= 1200"))
    nrep = "1000000" if a.quick else "5000000"
    r_old, r_new, r_bat = [], [], []
    for _ in range(a.rounds):
        r_old.append(run_json([enc(old), "74286", "4", nrep])["reports_per_second"])
        r_new.append(run_json([enc(new), "74286", "4", nrep])["reports_per_second"])
        r_bat.append(run_json([enc(new), "74286", "4", nrep, "1000"])["reports_per_second"])
    rows.append(("  reports/s, one core (median of %d alternating rounds): single / batch"
                 % a.rounds, "%.2f M" % (statistics.median(r_old) / 1e6),
                 "%.2f M / %.2f M" % (statistics.median(r_new) / 1e6,
                                      statistics.median(r_bat) / 1e6), ""))

    # 4. the inline MLE of the demo collection (SUBTLEX-US, 700,000 users, eps 4, 200 steps)
    users = "100000" if a.quick else "700000"
    m_old, m_new = [], []
    for _ in range(max(1, a.rounds // 2)):
        for b, acc in ((old, m_old), (new, m_new)):
            acc.append(timed([cli(b), "analyze", "consistency", "--method", "mle", "--users",
                              users, "--epsilon", "4", "--seed", "2026", "--iterations", "200",
                              "--out", "/dev/null"]))
    rows.append(("MLE, `pinhole analyze consistency --method mle` (%s users, 200 steps): "
                 "wall / CPU s (median)" % users,
                 "%.2f / %.2f" % (statistics.median(w for w, _ in m_old),
                                  statistics.median(c for _, c in m_old)),
                 "%.2f / %.2f" % (statistics.median(w for w, _ in m_new),
                                  statistics.median(c for _, c in m_new)), ""))
    bm = os.path.join(new, "tests/bench/bench_mle")
    if os.path.exists(bm):
        j = run_json([bm, "--users", users, "--repeat", "3"])
        rows.append(("  inline MLE alone (bench_mle: histogram + 200-step MLE, kept workspace): "
                     "wall median / CPU s", "", "%.3f / %.3f" % (j["median_seconds"],
                                                                j["cpu_seconds"]), "< 1 s"))
        rows.append(("  its run: iterations, gap (nats), converged", "",
                     "%d, %.4g, %s" % (j["iterations"], j["gap"], j["converged"]), ""))
    inc = lambda b: os.path.join(b, "tests/bench/bench_incidence")
    if os.path.exists(inc(old)) and os.path.exists(inc(new)):
        rows.append(("  one incidence product on doubles, instructions (callgrind, k 74286, eps 4)",
                     callgrind([inc(old), "74286", "4"], ["pinhole_pgr_incidence"]),
                     callgrind([inc(new), "74286", "4"], ["pinhole_pgr_incidence_ex"]), ""))

    print("load average after: %s" % load(), flush=True)
    w = max(len(r[0]) for r in rows)
    print("| %-*s | %s | %s | %s |" % (w, "figure", "old (baseline)", "new", "target"))
    print("|%s|---|---|---|" % ("-" * (w + 2)))
    for r in rows:
        print("| %-*s | %s | %s | %s |" % (w, r[0], r[1], r[2], r[3]))


if __name__ == "__main__":
    main()
