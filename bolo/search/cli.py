"""`bolo search ...` and `bolo simulate`: rank posts for a case file, compare strategies."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from bolo.search.case import CaseError, SearchCase, parse_case
from bolo.search.picture import DEFAULT_PARTICLES, SearchPicture, Strategy

app = typer.Typer(
    help="The search picture: where the suspects can be, which posts to alert.",
    no_args_is_help=True,
)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _load_network(name: str) -> Any:
    from bolo.network import NetworkError, load

    try:
        return load(name)
    except NetworkError as exc:
        _fail(str(exc))


def _read_case(path: Path) -> SearchCase:
    """The case in JSON file ``path``, or exit 1 saying what is wrong with the file."""
    try:
        return parse_case(json.loads(path.read_bytes()))
    except RecursionError:  # a sender's nesting, deeper than the parser goes
        _fail(f"cannot read case file {path}: JSON nested too deeply")
    except CaseError as exc:
        _fail(f"case file {path}: {exc}")
    except (OSError, ValueError) as exc:
        _fail(f"cannot read case file {path}: {exc}")


@app.command("rank")
def rank_command(
    network: Annotated[str, typer.Option(help="Network name (e.g. dprk, or an imported one).")],
    case: Annotated[Path, typer.Option(help="Case JSON file (see docs/search-api.md).")],
    at: Annotated[str, typer.Option(help="ISO 8601 time with offset to rank for.")],
    budget: Annotated[int, typer.Option(min=1, help="Number of posts to alert (K).")] = 10,
    strategy: Annotated[Strategy, typer.Option(help="particle, reachability or radius.")] = (
        Strategy.PARTICLE
    ),
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same picture).")] = 0,
    particles: Annotated[int, typer.Option(min=10, help="Particle count.")] = DEFAULT_PARTICLES,
    horizon: Annotated[float, typer.Option(help="Forecast horizon, hours.")] = 2.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Rank the posts to alert for a case at a time."""
    data = _read_case(case)  # before the network's slow load
    net = _load_network(network)
    try:
        pic = SearchPicture(
            net, data, strategy.value, seed, particles=particles, horizon_hours=horizon
        )
        pic.advance(at)
        ranked = pic.rank(budget)
    except (CaseError, ValueError) as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "network": network,
                    "at": pic.now.isoformat(),
                    "strategy": strategy.value,
                    "posts": ranked,
                },
                indent=2,
            )
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{strategy.value} ranking at {pic.now.isoformat()}")
    for col in ("#", "post", "probability", "eta", "reason"):
        table.add_column(col)
    for i, r in enumerate(ranked, 1):
        table.add_row(str(i), r["post_id"], f"{r['probability']:.3f}", r["eta"] or "-", r["reason"])
    Console().print(table)


def simulate_command(
    network: Annotated[str, typer.Option(help="Network name (imported or bundled).")],
    cases: Annotated[int, typer.Option(min=1, help="Number of simulated abductions.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the simulation.")] = 0,
    budget: Annotated[int, typer.Option(min=1, help="Active posts at a time (K).")] = 10,
    particles: Annotated[int, typer.Option(min=10, help="Particles of the filter.")] = 1000,
    rail: Annotated[bool, typer.Option(help="Let suspects and models use rail too.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Write interception over time (PNG).")] = None,
    truth: Annotated[
        str,
        typer.Option(
            help="Behaviour model of the suspects: bolo or evasive (independent of the filter)."
        ),
    ] = "bolo",
) -> None:
    """Simulate abductions and compare radius, reachability and particle at the same budget."""
    from bolo.search.sim.compare import compare
    from bolo.search.sim.scenario import TRUTH_MODELS

    if truth not in TRUTH_MODELS:
        _fail(f"unknown --truth {truth!r}: one of {', '.join(TRUTH_MODELS)}")
    net = _load_network(network)
    if not net.posts:
        _fail(f"network {network!r} has no posts")
    modes = ("road", "rail") if rail else ("road",)

    def progress(done: int) -> None:
        if not as_json:
            print(f"\r{done}/{cases} cases", end="", file=sys.stderr, flush=True)

    comp = compare(
        net,
        cases=cases,
        seed=seed,
        budget=budget,
        particles=particles,
        modes=modes,
        progress=progress,
        truth=truth,
    )
    summary = comp.summary()
    if plot is not None:
        from bolo.search.sim.plot import plot_interception

        plot_interception(comp, plot)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    print(file=sys.stderr)
    _print_summary(summary)


def _print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{summary['network']}: {summary['cases']} cases, K={summary['budget']},"
        f" seed {summary['seed']}, truth {summary['truth']}"
    )
    for col in (
        "strategy",
        "intercepted",
        "95% CI",
        "median min",
        "search cost",
        "MapScore",
        "x radius",
        "x reachability",
    ):
        table.add_column(col)
    s = summary["strategies"]
    for name, m in s.items():

        def ratio(other: str, rate: float = m["interception_rate"]) -> str:
            base = s.get(other, {}).get("interception_rate", 0.0)
            return f"{rate / base:.2f}" if base else "-"

        med = m["median_minutes_to_interception"]
        cost = m["search_cost_median"]
        ms = m["mapscore"]
        table.add_row(
            name,
            f"{m['interception_rate']:.3f}",
            f"[{m['ci95'][0]:.3f}, {m['ci95'][1]:.3f}]",
            "-" if med is None else f"{med:.0f}",
            "-" if cost is None else f"{cost:.3f}",
            "-" if ms is None else f"{ms:.3f}",
            ratio("radius"),
            ratio("reachability"),
        )
    Console().print(table)


app.command("simulate")(simulate_command)
