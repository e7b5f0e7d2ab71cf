"""``bolo network ...``: import networks, inspect them, draw isochrones."""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="Transport networks: import, inspect, isochrones.", no_args_is_help=True)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


# Two weeks: longer than any alert runs (an alert expires within 14 days); a time beyond it is a
# typing mistake, and an infinite or NaN one would silently mean "no limit".
MAX_MINUTES = 14 * 24 * 60.0


def _minutes(value: float, option: str) -> float:
    """``value`` minutes as seconds; exits 1 with one line when it is not a finite number from
    0 to MAX_MINUTES."""
    if not (math.isfinite(value) and 0 <= value <= MAX_MINUTES):
        _fail(f"{option} must be a number of minutes from 0 to {MAX_MINUTES:g}, got {value:g}")
    return value * 60


@contextmanager
def _errors() -> Iterator[None]:
    from bolo.network.errors import NetworkError

    try:
        yield
    except (NetworkError, ValueError, OSError) as exc:
        _fail(str(exc))


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str], None]]:
    if not enabled:
        yield lambda _msg: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    stages = [
        "hashing",
        "reading OSM",
        "splitting ways",
        "pruning islands",
        "assembling",
        "posts and exits",
        "contracting chains",
        "place names",
        "saving",
    ]
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("importing", total=len(stages))

        def step(message: str) -> None:
            done = stages.index(message) if message in stages else len(stages)
            bar.update(task, completed=done, description=message)

        yield step


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="An .osm.pbf extract.")],
    name: Annotated[str, typer.Option("--name", help="Name to store the network under.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import an OpenStreetMap extract (cached by file hash: a re-import is near-instant)."""
    with _errors():
        from bolo.network.osm import import_osm

        with _progress(sys.stderr.isatty()) as step:
            network = import_osm(file, name=name, progress=step)
        _print_info(network, as_json)


@app.command("import-corridors")
def import_corridors_cmd(
    directory: Annotated[Path, typer.Argument(help="Folder with nodes.csv, edges.csv, ...")],
    name: Annotated[str, typer.Option("--name")] = "dprk",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Import a corridor table (the DPRK reference network) as a network."""
    with _errors():
        from bolo.network import networks_root
        from bolo.network.corridors import load_corridors
        from bolo.network.store import save_network

        network = load_corridors(directory, name=name)
        save_network(network, networks_root())
        _print_info(network, as_json)


def summary(network: Any) -> dict[str, Any]:
    """Counts of a network: nodes and arcs per mode, posts by kind, exits by kind."""
    import numpy as np

    from bolo.network.graph import ModeCode

    tails = np.repeat(np.arange(network.n_nodes), np.diff(network.indptr))
    per_mode = {}
    for code in ModeCode:
        arcs = network.arc_mode == code
        nodes = np.unique(np.concatenate((tails[arcs], network.indices[arcs])))
        per_mode[code.mode().value] = {"nodes": int(nodes.size), "arcs": int(arcs.sum())}
    return {
        "name": network.name,
        "nodes": network.n_nodes,
        "arcs": network.n_arcs,
        "modes": per_mode,
        "posts": dict(Counter(p.kind.value for p in network.posts)),
        "exits": dict(Counter(e.kind for e in network.exits)),
        "attribution": network.attribution,
    }


def _print_info(network: Any, as_json: bool) -> None:
    info = summary(network)
    if as_json:
        typer.echo(json.dumps(info, ensure_ascii=False))
        return
    typer.echo(f"{info['name']}: {info['nodes']} nodes, {info['arcs']} arcs")
    for mode, c in info["modes"].items():
        if c["arcs"]:
            typer.echo(f"  {mode:<9} {c['nodes']:>9} nodes {c['arcs']:>9} arcs")
    typer.echo("  posts:  " + ", ".join(f"{k} {v}" for k, v in sorted(info["posts"].items())))
    typer.echo("  exits:  " + ", ".join(f"{k} {v}" for k, v in sorted(info["exits"].items())))
    typer.echo(f"  data:   {info['attribution']}")


@app.command("info")
def info_cmd(
    name: Annotated[str, typer.Argument()],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Nodes and arcs per mode, posts by kind, exits."""
    with _errors():
        from bolo.network import load

        _print_info(load(name), as_json)


@app.command("posts")
def posts_cmd(
    name: Annotated[str, typer.Argument()],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every post of the network (id, kind, lat, lon, mode, name, node)."""
    with _errors():
        from bolo.network import load

        network = load(name)
        rows = [
            {
                "id": p.post_id,
                "kind": p.kind.value,
                "lat": p.lat,
                "lon": p.lon,
                "mode": p.mode.value,
                "name": p.name,
                "node": p.node,
            }
            for p in network.posts
        ]
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False))
            return
        for r in rows:
            typer.echo(
                f"{r['id']:<40} {r['kind']:<16} {r['lat']:>10.5f} {r['lon']:>11.5f} "
                f"{r['mode']:<5} {r['name']}"
            )


def parse_lat_lon(text: str) -> tuple[float, float]:
    """ "LAT,LON" in WGS84 degrees; ValueError with a clear message otherwise."""
    try:
        lat_s, lon_s = text.split(",")
        lat, lon = float(lat_s), float(lon_s)
    except ValueError:
        raise ValueError(f"--from must be LAT,LON (degrees), got {text!r}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"--from out of range: {text!r}")
    return lat, lon


@app.command("isochrone")
def isochrone_cmd(
    name: Annotated[str, typer.Argument()],
    origin: Annotated[str, typer.Option("--from", help="LAT,LON of the start.")],
    minutes: Annotated[float, typer.Option("--minutes", min=0)],
    geojson: Annotated[
        bool,
        typer.Option("--geojson", "--json", help="GeoJSON Feature (default: CAP polygon text)."),
    ] = False,
    mode: Annotated[
        list[str] | None, typer.Option("--mode", help="road, rail, foot (repeatable; default all)")
    ] = None,
    max_snap_km: Annotated[float, typer.Option("--max-snap-km")] = 10.0,
) -> None:
    """The area reachable within M minutes, as a GeoJSON Feature or CAP <polygon> text (one
    line per polygon: two when the area crosses the antimeridian)."""
    with _errors():
        from bolo.network import load
        from bolo.network.graph import Mode
        from bolo.network.isochrone import cap_polygon_text, isochrone_geojson, isochrone_rings

        lat, lon = parse_lat_lon(origin)
        modes = [Mode(m) for m in mode] if mode else None
        network = load(name)
        seconds, snap = _minutes(minutes, "--minutes"), max_snap_km * 1000
        if geojson:
            feature = isochrone_geojson(
                network, lat=lat, lon=lon, seconds=seconds, modes=modes, max_snap_metres=snap
            )
            typer.echo(json.dumps(feature, ensure_ascii=False))
        else:
            rings = isochrone_rings(
                network, lat=lat, lon=lon, seconds=seconds, modes=modes, max_snap_metres=snap
            )
            for ring in rings:  # two across the antimeridian: one CAP <polygon> each
                typer.echo(cap_polygon_text(ring))


@app.command("rank")
def rank_cmd(
    name: Annotated[str, typer.Argument()],
    origin: Annotated[str, typer.Option("--from", help="LAT,LON of the last-known place.")],
    elapsed_minutes: Annotated[
        float, typer.Option("--elapsed-minutes", min=0, help="Minutes since the last sighting.")
    ],
    budget: Annotated[int, typer.Option("--budget", min=1)] = 10,
    max_snap_km: Annotated[float, typer.Option("--max-snap-km")] = 10.0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The posts the suspects can reach first that they cannot have passed yet (baseline)."""
    with _errors():
        from bolo.network import load
        from bolo.network.ranking import rank_posts_by_arrival

        lat, lon = parse_lat_lon(origin)
        elapsed = _minutes(elapsed_minutes, "--elapsed-minutes")
        ranked = rank_posts_by_arrival(
            load(name),
            lat=lat,
            lon=lon,
            start_earliest=0.0,
            now=elapsed,
            budget=budget,
            max_snap_metres=max_snap_km * 1000,
        )
        rows = [
            {
                "id": a.post.post_id,
                "kind": a.post.kind.value,
                "earliest_minutes": round(a.earliest_seconds / 60, 1),
            }
            for a in ranked
        ]
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False))
            return
        if not rows:
            typer.echo(
                "no post ahead of the suspects: they may have passed every post they can "
                f"reach within {elapsed_minutes:g} minutes, or can reach none"
            )
        for r in rows:
            typer.echo(f"{r['earliest_minutes']:>8.1f} min  {r['id']:<40} {r['kind']}")
