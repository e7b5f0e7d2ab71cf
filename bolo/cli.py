"""The `bolo` command: assembles every domain's sub-commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bolo.alerts.cli import app as alert_app
from bolo.audit.cli import app as audit_app
from bolo.auth.cli import app as user_app
from bolo.cases.cli import app as case_app
from bolo.cli_support import console, handle_errors
from bolo.posts.cli import app as post_app

app = typer.Typer(help="bolo: be on the lookout. Child-abduction emergency alerting.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database.", no_args_is_help=True)
replay_app = typer.Typer(help="Replay a reference incident.", no_args_is_help=True)

app.add_typer(db_app, name="db")
app.add_typer(case_app, name="case")
app.add_typer(alert_app, name="alert")
app.add_typer(post_app, name="post")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(replay_app, name="replay")

OUT = Annotated[Path, typer.Option(help="Where to write every CAP message.")]


@db_app.command("upgrade")
@handle_errors
def db_upgrade() -> None:
    """Apply every migration to the configured database."""
    from bolo.store.db import upgrade_database

    upgrade_database()
    console.print("database is up to date")


@app.command()
@handle_errors
def serve(port: int = 8000, host: str = "127.0.0.1") -> None:
    """Migrate the database and serve the API and pages."""
    import uvicorn

    from bolo.api import create_app
    from bolo.store.db import upgrade_database

    upgrade_database()
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


@replay_app.command("seed-incident")
@handle_errors
def replay_seed(out: OUT = Path("demo-out")) -> None:
    """Replay the Songch'on -> Kilju incident through the service layer."""
    from bolo.scenarios.seed_run import run_replay

    run_replay(out=out)


@app.command()
@handle_errors
def demo(
    out: OUT = Path("demo-out"),
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
    port: int = 8000,
) -> None:
    """Replay the reference incident on a fresh embedded database, then serve it."""
    from bolo.scenarios.seed_run import demo_logins, run_replay

    run_replay(out=out, fresh=True)
    if serve_after:
        console.print(f"Console: http://127.0.0.1:{port}/console   Post page: /post   "
                      f"Public: /alerts   API docs: /docs")
        for username, password in demo_logins().items():
            console.print(f"  sign in as [bold]{username}[/bold] / {password}", highlight=False)
        serve(port=port)


def _import_store() -> object:
    """The database store `bolo cap import` writes to (migrated first)."""
    from bolo.alerts.external import DatabaseImportStore
    from bolo.store.db import upgrade_database

    upgrade_database()
    return DatabaseImportStore()


def _mount_domains() -> None:
    """Mount the sub-apps that the pure-core and dissemination domains bring."""
    from bolo.cap.cli import app as cap_app
    from bolo.cap.cli import register_import_store
    from bolo.dispatch.cli import app as dispatch_app
    from bolo.network.cli import app as network_app
    from bolo.reports.cli import app as report_app
    from bolo.search.cli import app as search_app
    from bolo.search.cli import simulate_command
    from bolo.security.cli import app as security_app

    app.add_typer(cap_app, name="cap")
    register_import_store(_import_store)  # type: ignore[arg-type]
    app.add_typer(network_app, name="network")
    app.add_typer(search_app, name="search")
    app.add_typer(report_app, name="report")
    app.add_typer(security_app, name="security")
    app.command("simulate", help="Compare search strategies on simulated abductions.")(
        simulate_command)
    # `bolo dispatcher`, `bolo relay`, `bolo post-receiver` are top-level commands.
    app.registered_commands.extend(dispatch_app.registered_commands)


_mount_domains()


def main() -> None:
    """Entry point of the `bolo` script."""
    app()
