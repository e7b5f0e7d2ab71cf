"""Search quality on the matrix {behaviour model} x {OSM extract}, under the outside protocol.

    .venv/bin/python bench/search_quality.py [--cases 20] [--seed 0] [--budget 10]
        [--particles 1000] [--extracts andorra kbh ...] [--truth bolo evasive] [--json]

Extracts: every ``*.osm.pbf`` in ../shared/data/osm (imported once, cached under
BOLO_DATA_DIR/networks); a missing folder is reported and skipped. Behaviour models: bolo's
simulator and the independent "evasive" one (`bolo simulate --truth`). Protocol
(bolo.search.sim.harness): re-ranking every 30 minutes from the report, the top K posts
active for the epoch, a catch within 250 m with p = 0.7, fruitless-search reports from the
active posts, sightings and tips when known. Per cell and strategy: interception rate with a
95% Wilson interval, median minutes to interception, and calibration: how often the truth
lay inside the picture's 50% and 90% highest-probability regions (resolution-7 h3 cells) at
the re-rankings, the probability the picture gave those regions (whole cells: at least the
level, and all of it on a network of a few cells, so that is the share a calibrated picture
would show) and the share of the network's cells they covered.
``--post-offset M`` moves every post M metres in a random (seeded) direction and snaps it
anew, as an outside list gives posts beside the roads rather than on the network's nodes;
catches still count within 250 m of the moved post.
The process lowers its own priority (nice 10): the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bolo.network.graph import Network  # noqa: E402
from bolo.network.osm import import_osm  # noqa: E402
from bolo.network.posts import place_post, with_posts  # noqa: E402
from bolo.search.picture import Strategy  # noqa: E402
from bolo.search.sim.harness import LEVELS, HarnessResult, run_case  # noqa: E402
from bolo.search.sim.metrics import wilson_interval  # noqa: E402
from bolo.search.sim.scenario import TRUTH_MODELS, make_scenario  # noqa: E402

OSM_DIR = REPO.parent / "shared" / "data" / "osm"
MODES = ("road", "rail")


def extracts(console: Console, wanted: list[str] | None) -> dict[str, Network]:
    """The networks of the OSM extracts present (short names: the file stem's region)."""
    if not OSM_DIR.is_dir():
        console.log(f"{OSM_DIR} is absent: no extract to evaluate on")
        return {}
    out: dict[str, Network] = {}
    for path in sorted(OSM_DIR.glob("*.osm.pbf")):
        name = path.name.split("_", 1)[-1].split("-")[0].split("_")[0].removesuffix(".osm.pbf")
        name = name.lower()
        if wanted and name not in wanted:
            continue
        net = import_osm(path, name=name)
        if not net.posts:
            console.log(f"{path.name}: no posts, skipped")
            continue
        out[name] = net
    return out


def offset_posts(net: Network, metres: float, seed: int) -> Network:
    """``net`` with every post moved ``metres`` in a random direction and snapped anew."""
    if metres <= 0:
        return net
    rng = np.random.default_rng([seed, 4242])
    moved = []
    for p in net.posts:
        bearing = rng.uniform(0.0, 2 * np.pi)
        lat = p.lat + metres * np.cos(bearing) / 111_195.0
        lon = p.lon + metres * np.sin(bearing) / (111_195.0 * np.cos(np.radians(p.lat)))
        moved.append(
            place_post(
                net,
                post_id=p.post_id,
                kind=p.kind,
                lat=float(lat),
                lon=float(lon),
                mode=p.mode,
                name=p.name,
            )
        )
    return with_posts(net, moved)


def summarise(results: list[HarnessResult]) -> dict[str, Any]:
    """Rates, interval, median minutes and calibration of one strategy on one cell."""
    q0, q1 = LEVELS
    hits = [r.intercepted_minutes for r in results if r.intercepted_minutes is not None]
    lo, hi = wilson_interval(len(hits), len(results))
    out: dict[str, Any] = {
        "cases": len(results),
        "intercepted": len(hits),
        "interception_rate": len(hits) / len(results) if results else 0.0,
        "ci95": [lo, hi],
        "median_minutes_to_interception": float(np.median(hits)) if hits else None,
        "rerankings": sum(len(r.inside[LEVELS[0]]) for r in results),
        # Per case (re-rankings, inside the 50% region, inside the 90% region): the re-rankings
        # of one case are not independent draws, so intervals resample whole cases.
        "per_case": [[len(r.inside[q0]), sum(r.inside[q0]), sum(r.inside[q1])] for r in results],
    }
    for key, ci in zip(("50", "90"), case_intervals([out["per_case"]]), strict=True):
        out[f"inside_{key}_ci95"] = ci
    for q in LEVELS:
        inside = [x for r in results for x in r.inside[q]]
        share = [x for r in results for x in r.share[q]]
        mass = [x for r in results for x in r.mass[q]]
        key = f"{round(q * 100)}"
        out[f"inside_{key}"] = float(np.mean(inside)) if inside else None
        out[f"area_share_{key}"] = float(np.mean(share)) if share else None
        # What a calibrated picture's inside share would be: the region is whole cells, so it
        # holds at least the level (all of it on a network of a few cells).
        out[f"region_mass_{key}"] = float(np.mean(mass)) if mass else None
    return out


def case_intervals(groups: list[list[list[int]]], draws: int = 2000) -> list[list[float]]:
    """95% intervals of the pooled inside-50% and inside-90% shares by a bootstrap that
    resamples whole cases within each group (a cell), seeded: the same input, the same answer."""
    rng = np.random.default_rng(20261207)
    arrays = [np.asarray(g, dtype=np.float64).reshape(-1, 3) for g in groups if g]
    if not arrays or sum(float(a[:, 0].sum()) for a in arrays) == 0:
        return [[math.nan, math.nan], [math.nan, math.nan]]
    totals = np.zeros((draws, 3))
    for a in arrays:
        pick = rng.integers(0, a.shape[0], size=(draws, a.shape[0]))
        totals += a[pick].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = totals[:, 1:] / totals[:, :1]
    lo, hi = np.nanpercentile(shares, [2.5, 97.5], axis=0)
    return [[float(lo[0]), float(hi[0])], [float(lo[1]), float(hi[1])]]


def run_cell(
    net: Network, truth: str, args: argparse.Namespace, strategies: list[Strategy]
) -> dict[str, Any]:
    """Every strategy on the same ``args.cases`` cases of one (extract, model) cell."""
    res: dict[str, list[HarnessResult]] = {s.value: [] for s in strategies}
    start = time.perf_counter()
    for i in range(args.cases):
        sc = make_scenario(net, args.seed, i, MODES, truth)
        for s in strategies:
            res[s.value].append(
                run_case(
                    net,
                    sc,
                    s,
                    budget=args.budget,
                    seed=args.seed,
                    particles=args.particles,
                    horizon_hours=args.horizon_hours,
                )
            )
    return {
        "network": net.name,
        "truth": truth,
        "posts": len(net.posts),
        "nodes": net.n_nodes,
        "seconds": time.perf_counter() - start,
        "strategies": {k: summarise(v) for k, v in res.items()},
    }


def overall(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """Pooled rates over the matrix, the ratios of the goals, and per-cell checks."""
    pooled: dict[str, float] = {}
    for name in ("particle", "reachability", "radius"):
        n = sum(c["strategies"][name]["cases"] for c in cells if name in c["strategies"])
        k = sum(c["strategies"][name]["intercepted"] for c in cells if name in c["strategies"])
        pooled[name] = k / n if n else 0.0
    p, r, d = pooled["particle"], pooled["reachability"], pooled["radius"]
    below = [
        f"{c['network']}/{c['truth']}"
        for c in cells
        if c["strategies"]["particle"]["ci95"][1] < c["strategies"]["reachability"]["ci95"][0]
    ]
    return {
        "pooled_rate": pooled,
        "calibration": calibration(cells),
        "particle_over_reachability": p / r if r else None,
        "particle_over_radius": p / d if d else None,
        "cells_particle_interval_below_reachability": below,
    }


def calibration(cells: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per behaviour model, the particle picture's inside shares and region masses pooled over
    every re-ranking of its cells (each cell weighed by its re-rankings)."""
    out: dict[str, dict[str, Any]] = {}
    for truth in sorted({c["truth"] for c in cells}):
        stats = [c["strategies"]["particle"] for c in cells if c["truth"] == truth]
        n = sum(m["rerankings"] for m in stats)
        pooled: dict[str, Any] = {"rerankings": n}
        for key in ("inside_50", "inside_90", "region_mass_50", "region_mass_90"):
            known = [(m[key], m["rerankings"]) for m in stats if m[key] is not None]
            total = sum(k for _, k in known)
            pooled[key] = sum(x * k for x, k in known) / total if total else None
        ci50, ci90 = case_intervals([m["per_case"] for m in stats])
        pooled["inside_50_ci95"], pooled["inside_90_ci95"] = ci50, ci90
        out[truth] = pooled
    return out


def print_table(out: dict[str, Any]) -> None:
    """The matrix as a table."""
    t = Table(
        title=f"search quality: {out['cases']} cases per cell, K={out['budget']}, "
        f"seed {out['seed']}, {out['particles']} particles"
    )
    for col in (
        "extract",
        "truth",
        "strategy",
        "rate [95% CI]",
        "median min",
        "in 50%",
        "in 90%",
        "mass 50%",
        "mass 90%",
        "area 50%",
        "area 90%",
    ):
        t.add_column(col)
    for c in out["cells"]:
        for name, m in c["strategies"].items():

            def f(x: float | None) -> str:
                return "-" if x is None else f"{x:.2f}"

            med = m["median_minutes_to_interception"]
            t.add_row(
                f"{c['network']} ({c['posts']} posts)",
                c["truth"],
                name,
                f"{m['interception_rate']:.2f} [{m['ci95'][0]:.2f}, {m['ci95'][1]:.2f}]",
                "-" if med is None else f"{med:.0f}",
                f(m["inside_50"]),
                f(m["inside_90"]),
                f(m["region_mass_50"]),
                f(m["region_mass_90"]),
                f(m["area_share_50"]),
                f(m["area_share_90"]),
            )
    Console(width=170).print(t)
    Console(width=170).print(out["overall"])


def main() -> None:
    """Run the matrix and print it (table or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20, help="cases per cell")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=10)
    parser.add_argument("--particles", type=int, default=1000)
    parser.add_argument("--extracts", nargs="*", help="short names (default: all present)")
    parser.add_argument("--truth", nargs="*", default=list(TRUTH_MODELS), choices=TRUTH_MODELS)
    parser.add_argument(
        "--strategies",
        nargs="*",
        default=[s.value for s in Strategy],
        choices=[s.value for s in Strategy],
    )
    parser.add_argument(
        "--post-offset",
        type=float,
        default=0.0,
        metavar="METRES",
        help="move every post this far off its place (random direction)",
    )
    parser.add_argument(
        "--horizon-hours",
        type=float,
        default=2.0,
        help="the pictures' horizon, which they rank for (default SearchPicture's, as an "
        "outside harness that sets none; 0.5: the 30-minute epoch alone)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.cases < 1:
        parser.error("--cases must be >= 1")
    os.nice(10)
    console = Console(stderr=True)
    strategies = [Strategy(s) for s in args.strategies]
    cells = []
    for name, net in extracts(console, args.extracts).items():
        net = offset_posts(net, args.post_offset, args.seed)
        for truth in args.truth:
            console.log(f"{name} x {truth}: {args.cases} cases")
            cells.append(run_cell(net, truth, args, strategies))
    out: dict[str, Any] = {
        "cases": args.cases,
        "seed": args.seed,
        "budget": args.budget,
        "particles": args.particles,
        "post_offset_metres": args.post_offset,
        "horizon_hours": args.horizon_hours,
        "load": os.getloadavg(),
        "cells": cells,
    }
    if cells and len(strategies) == len(Strategy):
        out["overall"] = overall(cells)
    if args.json:
        print(json.dumps(out, indent=1))
    elif cells:
        out.setdefault("overall", {})
        print_table(out)


if __name__ == "__main__":
    main()
