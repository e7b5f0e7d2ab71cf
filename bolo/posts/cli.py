"""`bolo post ...`: add, list, load a network's posts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bolo.cli_support import console, handle_errors, read_model
from bolo.posts import service
from bolo.posts.schemas import PostIn
from bolo.store.db import session_scope

app = typer.Typer(help="Posts: the units that receive alerts.", no_args_is_help=True)


@app.command("add")
@handle_errors
def add(file: Annotated[Path, typer.Argument(help="Post JSON ('-' for stdin).")]) -> None:
    """Create or update a post from JSON."""
    data = read_model(file, PostIn)
    with session_scope() as db:
        service.upsert_post(db, data=data, actor_id=None)
    console.print(f"post {data.id} saved")


@app.command("load-network")
@handle_errors
def load_network(name: Annotated[str, typer.Argument(help="Network name, e.g. dprk.")]) -> None:
    """Store every post of an imported network (keeping channels already set)."""
    from bolo.network import load

    network = load(name)
    with session_scope() as db:
        count = service.import_network_posts(db, network=network, actor_id=None)
    console.print(f"{count} posts of network {name} stored")


@app.command("import")
@handle_errors
def import_csv(
    file: Annotated[Path, typer.Argument(help="CSV: id, kind, lat, lon[, name, mode].")],
    network: Annotated[str, typer.Option(help="Network to snap the posts to.")] = "dprk",
) -> None:
    """Import posts from CSV, each snapped to the nearest node of its mode; all or nothing."""
    from bolo.network import load
    from bolo.network.posts import read_posts_csv

    net = load(network)
    posts = read_posts_csv(file, net)
    with session_scope() as db:
        count = service.import_network_posts(db, network=net, posts=posts, actor_id=None)
    console.print(f"{count} posts imported from {file}")


@app.command("list")
@handle_errors
def list_() -> None:
    """List posts."""
    table = Table("id", "kind", "name", "lat", "lon", "channels")
    with session_scope() as db:
        for p in service.list_posts(db):
            table.add_row(p.id, p.kind, p.name, f"{p.lat:.4f}", f"{p.lon:.4f}",
                          str(len(p.channels)))
    console.print(table)
