"""Interception over time per strategy, drawn as a PNG with Pillow (no matplotlib needed)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from bolo.search.sim.compare import Comparison

_COLOURS = {"particle": (200, 40, 40), "reachability": (40, 90, 200), "radius": (90, 150, 60)}
W, H, PAD = 800, 500, 60


def plot_interception(comp: Comparison, path: Path) -> None:
    """Write a PNG: share of cases intercepted (y) against hours after the report (x, 0-24)."""
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    x0, y0, x1, y1 = PAD, H - PAD, W - PAD // 2, PAD // 2
    d.rectangle([x0, y1, x1, y0], outline="black")
    top = max(
        [1e-9]
        + [
            sum(r.intercepted_minutes is not None for r in res) / max(1, len(res))
            for res in comp.results.values()
        ]
    )
    y_max = min(1.0, max(0.1, top * 1.1))
    for h in range(0, 25, 4):
        x = x0 + (x1 - x0) * h / 24
        d.line([x, y0, x, y0 + 5], fill="black")
        d.text((x - 6, y0 + 8), f"{h}h", fill="black")
    for k in range(6):
        frac = y_max * k / 5
        y = y0 - (y0 - y1) * k / 5
        d.line([x0 - 5, y, x0, y], fill="black")
        d.text((5, y - 6), f"{frac:.0%}", fill="black")
    for i, (name, res) in enumerate(comp.results.items()):
        colour = _COLOURS.get(name, (0, 0, 0))
        mins = sorted(r.intercepted_minutes for r in res if r.intercepted_minutes is not None)
        pts: list[tuple[float, float]] = [(float(x0), float(y0))]
        for j, m in enumerate(mins):
            x = x0 + (x1 - x0) * min(m, 1440.0) / 1440.0
            pts.append((x, pts[-1][1]))
            pts.append((x, y0 - (y0 - y1) * ((j + 1) / len(res)) / y_max))
        pts.append((x1, pts[-1][1]))
        d.line(pts, fill=colour, width=2)
        d.text((x0 + 10, y1 + 10 + 14 * i), name, fill=colour)
    d.text(
        (x0, 8),
        f"{comp.network}: interception within 24 h, {comp.cases} cases, "
        f"K={comp.budget}, seed {comp.seed}",
        fill="black",
    )
    img.save(path, format="PNG")
