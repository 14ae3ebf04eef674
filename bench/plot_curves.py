#!/usr/bin/env python3
"""Plots learning curves (stream_train --csv files) as an SVG: the mean training
return of the last 10 episodes against env steps, one line per file.
Uses only the standard library. Other CSVs name their columns
(swarm_train --curve: --x agent_step --y success_rate --window 50).
With --mean_by_label, files that share a label (--labels, one per file) are
drawn as one line, their mean, over a band from their lowest to their
highest value (spo_bench --csv_prefix: five seeds per learner).

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


def averaged(curves, labels, points=200):
    """Files with the same label -> (mean curve, (low, high) band) on a common
    grid of x values: each file's value at x is its last one at or before x
    (grid points before every file of a label has started are left out)."""
    xmax = max(max(s) for s, _ in curves if s)
    grid = [xmax * (i + 1) / points for i in range(points)]
    distinct = list(dict.fromkeys(labels))
    means, bands = [], []
    for label in distinct:
        members = [c for c, l in zip(curves, labels) if l == label]
        xs, mean, low, high = [], [], [], []
        idx = [0] * len(members)
        for g in grid:
            values = []
            for k, (s, r) in enumerate(members):
                while idx[k] < len(s) and s[idx[k]] <= g:
                    idx[k] += 1
                if idx[k] > 0:
                    values.append(r[idx[k] - 1])
            if len(values) == len(members):
                xs.append(g)
                mean.append(sum(values) / len(values))
                low.append(min(values))
                high.append(max(values))
        means.append((xs, mean))
        bands.append((xs, low, high))
    return means, bands, distinct


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
    p.add_argument("--mean_by_label", action="store_true",
                   help="one line per distinct label: the mean of its files, with a min-max band")
    p.add_argument("csvs", nargs="+")
    a = p.parse_args()
    curves = [smoothed(c, a.window, a.x, a.y) for c in a.csvs]
    bands = []
    if a.mean_by_label:
        file_labels = a.labels.split(",")
        if len(file_labels) != len(a.csvs):
            p.error("--mean_by_label needs one label per file")
        curves, bands, distinct = averaged(curves, file_labels)
        a.labels = ",".join(distinct)
    curves = [(s, r) for s, r in curves if s]
    xmax = max(max(s) for s, _ in curves)
    ymin = min([min(r) for _, r in curves] + [min(lo) for _, lo, _ in bands if lo])
    ymax = max([max(r) for _, r in curves] + [max(hi) for _, _, hi in bands if hi])
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
    for i, (xs, low, high) in enumerate(bands):
        if not xs:
            continue
        pts = [f"{X(x):.1f},{Y(y):.1f}" for x, y in zip(xs, high)]
        pts += [f"{X(x):.1f},{Y(y):.1f}" for x, y in reversed(list(zip(xs, low)))]
        svg.append(f'<polygon fill="{colors[i % len(colors)]}" fill-opacity="0.15" stroke="none" '
                   f'points="{" ".join(pts)}"/>')
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
