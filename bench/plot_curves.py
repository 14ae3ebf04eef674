#!/usr/bin/env python3
"""Plots learning curves (stream_train --csv files) as an SVG: the mean training
return of the last 10 episodes against env steps, one line per file.
Uses only the standard library. Other CSVs name their columns
(swarm_train --curve: --x agent_step --y success_rate --window 50).

  bench/plot_curves.py --title "Stream AC, CartPole-v1" --out docs/img/x.svg a.csv b.csv
"""
import argparse
import csv


def smoothed(path, window=10, x="env_step", y="return"):
    steps, rets, out = [], [], []
    with open(path) as f:
        for row in csv.DictReader(f):
            steps.append(int(row[x]))
            rets.append(float(row[y]))
            recent = rets[-window:]
            out.append(sum(recent) / len(recent))
    return steps, out


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--title", default="")
    p.add_argument("--out", required=True)
    p.add_argument("--target", type=float, default=None)
    p.add_argument("--x", default="env_step", help="x column")
    p.add_argument("--y", default="return", help="y column")
    p.add_argument("--window", type=int, default=10, help="moving average over rows")
    p.add_argument("--x_label", default="env steps")
    p.add_argument("--labels", default="", help="comma-separated legend, one per file")
    p.add_argument("csvs", nargs="+")
    a = p.parse_args()
    curves = [smoothed(c, a.window, a.x, a.y) for c in a.csvs]
    xmax = max(max(s) for s, _ in curves)
    ymin = min(min(r) for _, r in curves)
    ymax = max(max(r) for _, r in curves)
    if a.target is not None:
        ymin, ymax = min(ymin, a.target), max(ymax, a.target)
    W, H, L, R, T, B = 640, 360, 60, 20, 30, 40

    def X(x):
        return L + (W - L - R) * x / xmax

    def Y(y):
        return T + (H - T - B) * (1 - (y - ymin) / ((ymax - ymin) or 1))

    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W/2}" y="18" text-anchor="middle" font-size="13">{a.title}</text>',
           f'<line x1="{L}" y1="{H-B}" x2="{W-R}" y2="{H-B}" stroke="black"/>',
           f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H-B}" stroke="black"/>']
    for i in range(6):
        xv = xmax * i / 5
        yv = ymin + (ymax - ymin) * i / 5
        xt = f"{xv/1e6:.0f}M" if xmax >= 5e6 else f"{xv/1000:.0f}k"
        yt = f"{yv:.2f}" if ymax - ymin < 5 else f"{yv:.0f}"
        svg.append(f'<text x="{X(xv)}" y="{H-B+15}" text-anchor="middle">{xt}</text>')
        svg.append(f'<text x="{L-5}" y="{Y(yv)+4}" text-anchor="end">{yt}</text>')
    svg.append(f'<text x="{W/2}" y="{H-5}" text-anchor="middle">{a.x_label}</text>')
    labels = [l for l in a.labels.split(",") if l]
    for i, label in enumerate(labels):
        svg.append(f'<text x="{L+10}" y="{T+14*(i+1)}" fill="{colors[i % len(colors)]}">{label}</text>')
    if a.target is not None:
        svg.append(f'<line x1="{L}" y1="{Y(a.target)}" x2="{W-R}" y2="{Y(a.target)}" '
                   f'stroke="gray" stroke-dasharray="4"/>')
    for i, (s, r) in enumerate(curves):
        keep = max(1, len(s) // 400)  # at most ~400 points per line
        pts = " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in list(zip(s, r))[::keep])
        svg.append(f'<polyline fill="none" stroke="{colors[i % len(colors)]}" '
                   f'stroke-width="1.5" points="{pts}"/>')
    svg.append("</svg>")
    with open(a.out, "w") as f:
        f.write("\n".join(svg))


if __name__ == "__main__":
    main()
