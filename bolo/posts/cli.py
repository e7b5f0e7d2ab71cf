"""`bolo post ...`: add, list, load a network's posts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bolo.cli_support import JSON_OUT, emit, emit_rows, handle_errors, read_model
from bolo.posts import service
from bolo.posts.schemas import PostIn
from bolo.store.db import session_scope

app = typer.Typer(help="Posts: the units that receive alerts.", no_args_is_help=True)


@app.command("add")
@handle_errors
def add(file: Annotated[Path, typer.Argument(help="Post JSON ('-' for stdin).")],
        as_json: JSON_OUT = False) -> None:
    """Create or update a post from JSON."""
    data = read_model(file, PostIn)
    with session_scope() as db:
        post = service.upsert_post(db, data=data, actor_id=None)
        emit(as_json, {"id": post.id, "kind": post.kind, "name": post.name,
                       "channels": len(post.channels)}, f"post {data.id} saved")


@app.command("load-network")
@handle_errors
def load_network(name: Annotated[str, typer.Argument(help="Network name, e.g. dprk.")],
                 as_json: JSON_OUT = False) -> None:
    """Store every post of an imported network (keeping channels already set)."""
    from bolo.network import load

    network = load(name)
    with session_scope() as db:
        count = service.import_network_posts(db, network=network, actor_id=None)
    emit(as_json, {"network": name, "posts": count}, f"{count} posts of network {name} stored")


@app.command("import")
@handle_errors
def import_csv(
    file: Annotated[Path, typer.Argument(help="CSV: id, kind, lat, lon[, name, mode].")],
    network: Annotated[str, typer.Option(help="Network to snap the posts to.")] = "dprk",
    as_json: JSON_OUT = False,
) -> None:
    """Import posts from CSV, each snapped to the nearest node of its mode; all or nothing."""
    from bolo.network import load
    from bolo.network.posts import read_posts_csv

    net = load(network)
    posts = read_posts_csv(file, net)
    with session_scope() as db:
        count = service.import_network_posts(db, network=net, posts=posts, actor_id=None)
    emit(as_json, {"network": network, "posts": count}, f"{count} posts imported from {file}")


@app.command("list")
@handle_errors
def list_(as_json: JSON_OUT = False) -> None:
    """List posts."""
    with session_scope() as db:
        rows = [{"id": p.id, "kind": p.kind, "name": p.name, "lat": round(p.lat, 6),
                 "lon": round(p.lon, 6), "region": p.region, "channels": len(p.channels)}
                for p in service.list_posts(db)]
    emit_rows(as_json, rows, ("id", "kind", "name", "lat", "lon", "channels"))
