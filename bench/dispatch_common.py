"""What the dispatch benchmarks share: processes, a migrated database, seeding N webhook posts,
the loopback receiver's figures, CPU accounting (Linux /proc)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, func, insert, select, text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bolo.alerts.model import Alert, AlertTarget, AlertVersion  # noqa: E402
from bolo.cases.model import Case  # noqa: E402
from bolo.dispatch.model import Delivery, DeliveryStatus, PostKey  # noqa: E402
from bolo.dispatch.outbox import enqueue_version  # noqa: E402
from bolo.dispatch.receiver.server import derived_secret  # noqa: E402
from bolo.posts.model import Post  # noqa: E402
from bolo.store.db import engine_for, session_scope, upgrade_database  # noqa: E402

PY = sys.executable
MASTER = "bench-master-secret"
NATS_URL = os.environ.get("BOLO_BROKER_URL", "nats://127.0.0.1:4222")


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout_s: float = 20.0) -> None:
    """Block until something listens on ``port``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def bolo_cmd(*args: str) -> list[str]:
    """Run the dispatch sub-app in a fresh interpreter."""
    return [PY, "-m", "bolo.dispatch.cli", *args]


@dataclass
class Procs:
    """Child processes of one run, stopped at the end."""

    items: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start ``cmd`` with output to a log file in the temp dir."""
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.items.append(proc)
        return proc

    def stop_all(self) -> None:
        """SIGTERM, then SIGKILL what is left."""
        for proc in self.items:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.items:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def database(url: str, workdir: Path) -> Iterator[tuple[Engine, str]]:
    """A migrated database: a fresh SQLite file, or a fresh schema in PostgreSQL."""
    os.environ["BOLO_DATA_DIR"] = str(workdir)
    if not url:
        db_url = f"sqlite:///{workdir / 'bench.db'}"
        engine = engine_for(db_url)
        upgrade_database(engine)
        yield engine, db_url
        engine.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = engine_for(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = engine_for(url, schema=schema)
    try:
        upgrade_database(engine)
        sep = "&" if "?" in url else "?"
        yield engine, f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def seed(engine: Engine, posts: int, port: int) -> str:
    """N posts (each with its own secret and webhook URL) and an approved alert version
    addressed to all of them; return the version id (outbox not yet written)."""
    now = datetime.now(UTC)
    ids = [f"bp{i:06d}" for i in range(posts)]
    with session_scope(engine) as s:
        s.execute(
            insert(Post),
            [
                {
                    "id": p,
                    "kind": "checkpoint",
                    "name": p,
                    "lat": 40.0,
                    "lon": 127.0,
                    "mode": "road",
                    "region": f"r{i % 20}",
                    "active": True,
                    "created_at": now,
                    "channels": [{"kind": "webhook", "url": f"http://127.0.0.1:{port}/hook/{p}"}],
                }
                for i, p in enumerate(ids)
            ],
        )
        s.execute(
            insert(PostKey),
            [{"post_id": p, "secret": derived_secret(MASTER, p), "rotated_at": now} for p in ids],
        )
        case = Case(
            reference=uuid.uuid4().hex[:12],
            last_known_lat=40.0,
            last_known_lon=127.0,
            last_seen_earliest=now,
            last_seen_latest=now,
            reported_at=now,
            created_by="bench",
        )
        s.add(case)
        s.flush()
        alert = Alert(case_id=case.id, cap_status="Exercise", state="active", created_by="bench")
        s.add(alert)
        s.flush()
        version = AlertVersion(
            alert_id=alert.id,
            seq=1,
            msg_type="Alert",
            identifier=f"bench-{alert.id}",
            sent=now,
            content={
                "headline": "AMBER alert (benchmark)",
                "description": "Girl, 7, taken from Songchon by car.",
            },
            cap_xml="<alert/>",
            sha256="0" * 64,
            state="issued",
            author_id="bench",
        )
        s.add(version)
        s.flush()
        s.execute(insert(AlertTarget), [{"version_id": version.id, "post_id": p} for p in ids])
        return version.id


def issue(engine: Engine, version_id: str) -> tuple[int, float]:
    """Write the outbox in one transaction, as the approval does; return (rows, commit time)."""
    with session_scope(engine) as s:
        rows = enqueue_version(s, version_id=version_id)
    return rows, time.time()


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_s(pids: list[int]) -> float:
    """CPU seconds used so far by these processes and their live children (Linux /proc)."""
    total = 0.0
    todo = list(pids)
    while todo:
        pid = todo.pop()
        try:
            total += process_cpu_s(pid)
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


_POLL = httpx.Client(timeout=60)  # one client: a new one per poll costs an SSL context (~5 ms)


def receiver_json(port: int, path: str) -> Any:
    """GET a JSON document from the receiver."""
    return _POLL.get(f"http://127.0.0.1:{port}{path}").json()


def wait_delivered(port: int, target: int, base: int, timeout_s: float) -> None:
    """Wait until ``target`` unique webhooks arrived beyond ``base``, or the timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if receiver_json(port, "/_stats")["unique"] - base >= target:
            return
        time.sleep(0.2)


def retried_in_db(engine: Engine) -> int:
    """Rows that needed more than one attempt."""
    with session_scope(engine) as s:
        return int(
            s.scalar(select(func.count()).select_from(Delivery).where(Delivery.attempts > 1)) or 0
        )


def delivered_in_db(engine: Engine) -> int:
    """Rows the dispatcher recorded as delivered."""
    with session_scope(engine) as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.status == DeliveryStatus.DELIVERED)
            )
            or 0
        )


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def named_cpu_s(names: tuple[str, ...]) -> dict[int, float]:
    """CPU seconds so far of every process whose command name is one of ``names``, by pid
    (e.g. the database server's backends; Linux /proc, needs permission to read them)."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if stat[stat.index("(") + 1 : stat.rindex(")")] in names:
            found[int(entry.name)] = process_cpu_s(int(entry.name))
    return found


def cpu_since(before: dict[int, float], names: tuple[str, ...]) -> float:
    """CPU seconds used by the ``names`` processes since ``before`` (new processes counted
    from zero, processes that ended since are left out)."""
    now = named_cpu_s(names)
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in now.items())


def machine_busy_s() -> float:
    """CPU seconds all cores spent busy (not idle, not waiting for I/O) since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def show(result: dict[str, Any], title: str) -> None:
    """A rich table of the figures."""
    table = Table(title=title)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, str(value))
    Console().print(table)
