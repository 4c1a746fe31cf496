#!/usr/bin/env python3
"""Plot and tabulate the discovery benchmark (tests/bench/bench_discovery.c output, JSON lines).

usage: plot_discovery.py RESULTS.jsonl --svg OUT.svg --markdown OUT.md

One panel per number of devices: recall of the true top-100 against epsilon, one line per method (precision dashed).
The SVG is written directly (no plotting library needed); the Markdown file holds the side-by-side table."""
import json
import math
import sys

COLORS = {"pgr": "#d62728", "grr": "#7f7f7f", "olh": "#2ca02c", "pem": "#1f77b4", "closed": "#000000"}
NAMES = {"pgr": "PGR rounds", "grr": "k-RR rounds", "olh": "OLH rounds", "pem": "PEM (OLH)",
         "closed": "closed PGR (true dictionary)"}


def panel(rows, devices, x0, y0, w, h):
    out = []
    eps = sorted({r["epsilon"] for r in rows})
    X = lambda e: x0 + 60 + (math.log2(e) - math.log2(eps[0])) / (math.log2(eps[-1]) - math.log2(eps[0])) * (w - 90)
    Y = lambda v: y0 + h - 40 - v * (h - 75)
    out.append(f'<text x="{x0 + w / 2}" y="{y0 + 18}" text-anchor="middle" font-size="14">'
               f'N = {devices:,.0f} devices: top-100 recall (solid), precision (dashed)</text>')
    for v in [0, 0.25, 0.5, 0.75, 0.9, 1.0]:
        out.append(f'<line x1="{X(eps[0])}" x2="{X(eps[-1])}" y1="{Y(v)}" y2="{Y(v)}" stroke="#ddd"/>')
        out.append(f'<text x="{X(eps[0]) - 6}" y="{Y(v) + 4}" text-anchor="end" font-size="11">{v:g}</text>')
    for e in eps:
        out.append(f'<text x="{X(e)}" y="{y0 + h - 22}" text-anchor="middle" font-size="11">{e:g}</text>')
    out.append(f'<text x="{x0 + w / 2}" y="{y0 + h - 6}" text-anchor="middle" font-size="12">epsilon</text>')
    for m in COLORS:
        pts = sorted((r["epsilon"], r["recall"], r["precision"]) for r in rows if r["method"] == m and "recall" in r)
        if not pts:
            continue
        rec = " ".join(f"{X(e):.1f},{Y(v):.1f}" for e, v, _ in pts)
        pre = " ".join(f"{X(e):.1f},{Y(p):.1f}" for e, _, p in pts)
        out.append(f'<polyline points="{rec}" fill="none" stroke="{COLORS[m]}" stroke-width="2"/>')
        out.append(f'<polyline points="{pre}" fill="none" stroke="{COLORS[m]}" stroke-width="1" '
                   f'stroke-dasharray="4 3"/>')
        for e, v, _ in pts:
            out.append(f'<circle cx="{X(e):.1f}" cy="{Y(v):.1f}" r="3" fill="{COLORS[m]}"/>')
    return out


def main():
    args = sys.argv[1:]
    src = args[0]
    svg = args[args.index("--svg") + 1]
    md = args[args.index("--markdown") + 1]
    rows = [json.loads(l) for l in open(src) if l.strip()]
    devs = sorted({r["devices"] for r in rows})
    W, H = 480, 330
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W * len(devs)}" height="{H + 30}" '
             f'font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>']
    for i, d in enumerate(devs):
        parts += panel([r for r in rows if r["devices"] == d], d, i * W, 0, W, H)
    x = 20
    for m in COLORS:
        parts.append(f'<rect x="{x}" y="{H + 12}" width="14" height="4" fill="{COLORS[m]}"/>')
        parts.append(f'<text x="{x + 18}" y="{H + 19}" font-size="12">{NAMES[m]}</text>')
        x += 40 + 7 * len(NAMES[m])
    parts.append("</svg>")
    open(svg, "w").write("\n".join(parts) + "\n")
    with open(md, "w") as f:
        f.write("| devices | epsilon | method | recall top-100 | precision top-100 | reported | rounds | "
                "server s per round | devices per round | wall s |\n")
        f.write("| ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | --- | ---: |\n")
        for r in sorted(rows, key=lambda r: (r["devices"], r["epsilon"], list(COLORS).index(r["method"]))):
            if "recall" not in r:
                f.write(f"| {r['devices']:,.0f} | {r['epsilon']:g} | {NAMES[r['method']]} | error: {r['error']} |"
                        " | | | | | |\n")
                continue
            rs = ", ".join(f"{s:.3f}" for s in r["round_seconds"])
            rd = ", ".join(f"{d:,}" for d in sorted(set(r["round_devices"])))
            f.write(f"| {r['devices']:,.0f} | {r['epsilon']:g} | {NAMES[r['method']]} | {100 * r['recall']:.0f}% | "
                    f"{100 * r['precision']:.0f}% | {r['reported']} | {r['rounds']} | {rs} | {rd} | "
                    f"{r['seconds']:.1f} |\n")


if __name__ == "__main__":
    main()
