#!/usr/bin/env python3
"""Plot and tabulate the accuracy benchmark (tests/bench/bench_accuracy.c output).

usage: plot_accuracy.py CSV [CSV ...] --svg OUT.svg --markdown OUT.md

One column per CSV (data set): measured MSE per item against epsilon, one line per mechanism,
log scale, with the optimum n * 4e^eps/(e^eps - 1)^2 dashed; below, the same as a ratio to the optimum. The SVG is written directly (no
plotting library needed). The Markdown file holds one table per data set and the PGR checks."""
import csv
import math
import sys

COLORS = {"pgr": "#d62728", "grr": "#7f7f7f", "oue": "#1f77b4", "sue": "#17becf", "olh": "#2ca02c",
          "hr": "#9467bd", "ss": "#ff7f0e", "hpgr": "#8c564b"}


def read(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def panel(rows, x0, y0, w, h, col="mse"):
    out = []
    eps = sorted({float(r["epsilon"]) for r in rows})
    ratio = col != "mse"
    vals = [float(r[col]) for r in rows] + ([1.0] if ratio else [float(r["optimum"]) for r in rows])
    lo, hi = math.floor(math.log10(min(vals))), math.ceil(math.log10(max(vals)))
    ex0, ex1 = 0.0, max(eps)
    X = lambda e: x0 + 60 + (e - ex0) / (ex1 - ex0) * (w - 80)
    Y = lambda v: y0 + h - 40 - (math.log10(v) - lo) / (hi - lo) * (h - 70)
    r0 = rows[0]
    title = "MSE / optimum" if ratio else "MSE per item"
    out.append(f'<text x="{x0 + w / 2}" y="{y0 + 18}" text-anchor="middle" font-size="14">'
               f'{r0["dataset"]}: k = {int(r0["k"]):,}, n = {int(r0["n"]):,}, mean of {r0["runs"]} runs: {title}</text>')
    out.append(f'<rect x="{X(ex0)}" y="{Y(10 ** hi)}" width="{X(ex1) - X(ex0)}" height="{Y(10 ** lo) - Y(10 ** hi)}" '
               'fill="none" stroke="#333"/>')
    for d in range(lo, hi + 1):
        out.append(f'<line x1="{X(ex0)}" x2="{X(ex1)}" y1="{Y(10 ** d)}" y2="{Y(10 ** d)}" stroke="#ddd"/>')
        out.append(f'<text x="{X(ex0) - 5}" y="{Y(10 ** d) + 4}" text-anchor="end" font-size="11">1e{d}</text>')
    for e in eps:
        out.append(f'<text x="{X(e)}" y="{Y(10 ** lo) + 15}" text-anchor="middle" font-size="11">{e:g}</text>')
    out.append(f'<text x="{X((ex0 + ex1) / 2)}" y="{y0 + h - 5}" text-anchor="middle" font-size="12">epsilon</text>')
    out.append(f'<text x="{x0 + 14}" y="{y0 + h / 2}" text-anchor="middle" font-size="12" '
               f'transform="rotate(-90 {x0 + 14} {y0 + h / 2})">{"MSE / optimum" if ratio else "MSE per item (counts^2)"}</text>')
    opt = sorted({(float(r["epsilon"]), 1.0 if ratio else float(r["optimum"])) for r in rows})
    pts = " ".join(f"{X(e):.1f},{Y(v):.1f}" for e, v in opt)
    out.append(f'<polyline points="{pts}" fill="none" stroke="#000" stroke-dasharray="5,4" stroke-width="1.5"/>')
    mechs = []
    for r in rows:
        if r["mechanism"] not in mechs:
            mechs.append(r["mechanism"])
    for i, m in enumerate(mechs):
        pts = sorted((float(r["epsilon"]), float(r[col])) for r in rows if r["mechanism"] == m)
        c = COLORS.get(m, "#000")
        out.append(f'<polyline points="{" ".join(f"{X(e):.1f},{Y(v):.1f}" for e, v in pts)}" fill="none" '
                   f'stroke="{c}" stroke-width="{2.5 if m == "pgr" else 1.5}"/>')
        for e, v in pts:
            out.append(f'<circle cx="{X(e):.1f}" cy="{Y(v):.1f}" r="2.5" fill="{c}"/>')
        ly = y0 + 40 + 16 * i
        out.append(f'<line x1="{X(ex1) - 95}" x2="{X(ex1) - 75}" y1="{ly}" y2="{ly}" stroke="{c}" stroke-width="2"/>')
        out.append(f'<text x="{X(ex1) - 70}" y="{ly + 4}" font-size="11">{m}</text>')
    ly = y0 + 40 + 16 * len(mechs)
    out.append(f'<line x1="{X(ex1) - 95}" x2="{X(ex1) - 75}" y1="{ly}" y2="{ly}" stroke="#000" stroke-dasharray="5,4"/>')
    out.append(f'<text x="{X(ex1) - 70}" y="{ly + 4}" font-size="11">optimum</text>')
    return out


def markdown(rows):
    r0 = rows[0]
    lines = [f'### {r0["dataset"]}: k = {int(r0["k"]):,}, n = {int(r0["n"]):,}, {r0["runs"]} runs per row', "",
             "| mechanism | eps | mode | MSE per item | ± s.e. | theory | MSE/theory | MSE/optimum | bits | client µs/report | server s (accumulate + estimate) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (float(r["epsilon"]), r["mechanism"])):
        srv = f'{float(r["server_accumulate_s"]):.3g} + {float(r["server_estimate_s"]):.3g}'
        if r["mode"] == "marginal":
            srv += " (accumulate extrapolated)"
        lines.append(f'| {r["mechanism"]} | {r["epsilon"]} | {r["mode"]} | {float(r["mse"]):.6g} | {float(r["mse_se"]):.3g} | '
                     f'{float(r["theory"]):.6g} | {float(r["mse_over_theory"]):.4f} | {float(r["mse_over_optimum"]):.4f} | '
                     f'{r["bits"]} | {float(r["client_us_per_report"]):.3g} | {srv} |')
    eps = sorted({r["epsilon"] for r in rows}, key=float)
    mechs = []
    for r in rows:
        if r["mechanism"] not in mechs:
            mechs.append(r["mechanism"])
    by = {(r["mechanism"], r["epsilon"]): r for r in rows}
    lines += ["", "Measured MSE / optimum (n 4e^eps/(e^eps-1)^2), and measured MSE / exact theory:", "",
              "| mechanism | " + " | ".join(f"eps {e}" for e in eps) + " |", "|---|" + "---|" * len(eps)]
    for m in mechs:
        cells = []
        for e in eps:
            r = by.get((m, e))
            cells.append(f'{float(r["mse_over_optimum"]):.4g} ({float(r["mse_over_theory"]):.3f})' if r else "")
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    lines += ["", "PGR checks (measured MSE against its theory and against Subset Selection's measured MSE):", ""]
    for e in sorted({r["epsilon"] for r in rows}, key=float):
        p, s = by.get(("pgr", e)), by.get(("ss", e))
        if not p:
            continue
        rp = float(p["mse_se"]) / float(p["mse"])
        t = float(p["mse"]) / float(p["theory"]) - 1
        line = f'- eps {e}: PGR/theory {t:+.2%} ± {rp:.2%} s.e. ({"within" if abs(t) <= 0.03 else "OUTSIDE"} 3%)'
        if s:
            d = float(p["mse"]) / float(s["mse"]) - 1
            rd = math.hypot(rp, float(s["mse_se"]) / float(s["mse"]))
            line += f'; PGR/SS {d:+.2%} ± {rd:.2%} s.e. ({"within" if abs(d) <= 0.03 else "OUTSIDE"} 3%)'
        lines.append(line)
    return lines + [""]


def main():
    args = sys.argv[1:]
    svg = args[args.index("--svg") + 1] if "--svg" in args else None
    md = args[args.index("--markdown") + 1] if "--markdown" in args else None
    csvs = [a for i, a in enumerate(args) if not a.startswith("--") and (i == 0 or args[i - 1] not in ("--svg", "--markdown"))]
    data = [read(p) for p in csvs]
    W, H = 560, 420
    if svg:
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W * len(data)}" height="{2 * H}" '
                 'font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/>']
        for i, rows in enumerate(data):
            parts += panel(rows, i * W, 0, W, H)
            parts += panel(rows, i * W, H, W, H, "mse_over_optimum")
        parts.append("</svg>")
        with open(svg, "w") as f:
            f.write("\n".join(parts) + "\n")
    if md:
        with open(md, "w") as f:
            for rows in data:
                f.write("\n".join(markdown(rows)) + "\n")


if __name__ == "__main__":
    main()
