"""Fan-out of one alert to N signed-webhook posts through the real dispatcher.

    .venv/bin/python bench/dispatch_bench.py --posts 1000 [--backend inprocess|nats]
        [--database-url postgresql://postgres@127.0.0.1:5432/test] [--workers 2] [--json]

A loopback `bolo post-receiver` (verifying every signature, de-duplicating by webhook-id) runs
in its own process. The baseline `ceiling_per_s` is that receiver's rate under a plain load
generator measured in the same run: as many processes as dispatcher workers, each with the
same concurrency, through the dispatcher's own transport (WebhookChannel's pooled aiohttp
session on uvloop), every request signed beforehand (unique ids), no database; the rate is
requests / (last answer - first send). It is the same HTTP path without the dispatch work; the
generator's client CPU (~0.25 ms a request) is what limits it, not the receiver (its CPU per
request is printed as `receiver_cpu_ms_load`). Latency is from the commit of the outbox rows to
the first arrival at the receiver (seconds); `deliveries_per_s` is deliveries / the last
latency; `dispatcher_cpu_ms` is the CPU per delivery of the dispatcher processes (with the NATS
relay and any children). Linux only (/proc for CPU times).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
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
from bolo.dispatch.channels.webhook import WebhookChannel  # noqa: E402
from bolo.dispatch.model import Delivery, DeliveryStatus, PostKey  # noqa: E402
from bolo.dispatch.outbox import enqueue_version  # noqa: E402
from bolo.dispatch.receiver_server import derived_secret  # noqa: E402
from bolo.dispatch.signing import HmacKey, sign_headers  # noqa: E402
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
        proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **(env or {})},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
        s.execute(insert(Post), [
            {"id": p, "kind": "checkpoint", "name": p, "lat": 40.0, "lon": 127.0, "mode": "road",
             "region": f"r{i % 20}", "active": True, "created_at": now,
             "channels": [{"kind": "webhook", "url": f"http://127.0.0.1:{port}/hook/{p}"}]}
            for i, p in enumerate(ids)])
        s.execute(insert(PostKey), [{"post_id": p, "secret": derived_secret(MASTER, p),
                                     "rotated_at": now} for p in ids])
        case = Case(reference=uuid.uuid4().hex[:12], last_known_lat=40.0, last_known_lon=127.0,
                    last_seen_earliest=now, last_seen_latest=now, reported_at=now,
                    created_by="bench")
        s.add(case)
        s.flush()
        alert = Alert(case_id=case.id, cap_status="Exercise", state="active", created_by="bench")
        s.add(alert)
        s.flush()
        version = AlertVersion(
            alert_id=alert.id, seq=1, msg_type="Alert", identifier=f"bench-{alert.id}",
            sent=now, content={"headline": "AMBER alert (benchmark)",
                               "description": "Girl, 7, taken from Songchon by car."},
            cap_xml="<alert/>", sha256="0" * 64, state="issued", author_id="bench")
        s.add(version)
        s.flush()
        s.execute(insert(AlertTarget), [{"version_id": version.id, "post_id": p} for p in ids])
        return version.id


def issue(engine: Engine, version_id: str) -> tuple[int, float]:
    """Write the outbox in one transaction, as the approval does; return (rows, commit time)."""
    with session_scope(engine) as s:
        rows = enqueue_version(s, version_id=version_id)
    return rows, time.time()


def load_ceiling(port: int, requests: int, concurrency: int, processes: int) -> float:
    """Requests per second the receiver takes from a plain load generator: ``processes``
    processes (as many as dispatcher workers), each with ``concurrency`` requests in flight
    through the dispatcher's own transport (WebhookChannel's pooled aiohttp session), requests
    signed beforehand, unique ids, no database. The baseline."""
    stamp = int(time.time())
    cmds = [[PY, str(Path(__file__).resolve()), "--_load", str(port), str(requests // processes),
             str(concurrency), f"{stamp}-{i}"] for i in range(processes)]
    children = [subprocess.Popen(c, cwd=REPO, stdout=subprocess.PIPE) for c in cmds]
    firsts, lasts = [], []
    for child in children:
        out, _ = child.communicate()
        first, last = json.loads(out)
        firsts.append(first)
        lasts.append(last)
    if any(c.returncode for c in children):
        raise RuntimeError("a load generator failed")
    return (requests // processes) * processes / (max(lasts) - min(firsts))


def _load_generator(port: int, requests: int, concurrency: int, tag: str) -> None:
    """One load-generator process: sign everything first, then send; print the wall-clock
    (Unix seconds) of the first send and of the last answer as JSON."""
    import uvloop

    body = json.dumps({"title": "x" * 60, "text": "y" * 300}).encode()
    stamp = int(time.time())
    jobs = []
    for i in range(requests):
        post = f"lp{i % 500}"
        headers = sign_headers(msg_id=f"load-{tag}-{i}", timestamp=stamp, body=body,
                               keys=[HmacKey(derived_secret(MASTER, post))])
        headers["content-type"] = "application/json"
        jobs.append((f"http://127.0.0.1:{port}/hook/{post}", headers))

    async def run() -> tuple[float, float]:
        channel = WebhookChannel(timeout_s=30, max_connections=concurrency)
        session = channel.session()
        todo = iter(jobs)

        async def one_lane() -> None:
            for url, headers in todo:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 204:
                        raise RuntimeError(f"receiver answered {response.status}")

        try:
            first = time.time()
            await asyncio.gather(*(one_lane() for _ in range(concurrency)))
            return first, time.time()
        finally:
            await channel.aclose()

    print(json.dumps(uvloop.run(run())))


def receiver_cpu_s(pid: int) -> float:
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
            total += receiver_cpu_s(pid)
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
        return int(s.scalar(select(func.count()).select_from(Delivery)
                            .where(Delivery.attempts > 1)) or 0)


def delivered_in_db(engine: Engine) -> int:
    """Rows the dispatcher recorded as delivered."""
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(Delivery)
                            .where(Delivery.status == DeliveryStatus.DELIVERED)) or 0)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def start_dispatchers(procs: Procs, backend: str, workers: int, db_url: str, suffix: str,
                      concurrency: int, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    """Start the dispatcher worker(s) (and for NATS the relay); return the workers."""
    common = ["--database-url", db_url, "--concurrency", str(concurrency)]
    if backend == "nats":
        procs.start(bolo_cmd("relay", "--database-url", db_url, "--broker-url", NATS_URL,
                             "--stream-suffix", suffix), env)
        return [procs.start(bolo_cmd("dispatcher", "--backend", "nats", "--broker-url",
                                     NATS_URL, "--stream-suffix", suffix, "--name", f"w{i}",
                                     *common), env) for i in range(workers)]
    return [procs.start(bolo_cmd("dispatcher", "--backend", "inprocess", "--name", f"w{i}",
                                 *common), env) for i in range(workers)]


def delete_stream(suffix: str, url: str = NATS_URL) -> None:
    """Remove the run's JetStream stream."""
    from bolo.dispatch.nats_backend import Names, connect

    async def run() -> None:
        nc = await connect(url)
        try:
            await nc.jetstream().delete_stream(Names.with_suffix(suffix).stream)
        finally:
            await nc.close()

    asyncio.run(run())


def summarise(port: int, posts: int, t0: float, base: dict[str, int]) -> dict[str, Any]:
    """Latency and loss figures from the receiver's arrival log."""
    arrivals = receiver_json(port, "/_arrivals")
    times = [t - t0 for k, t in arrivals.items() if not k.startswith("load-")]
    stats = receiver_json(port, "/_stats")
    delivered = len(times)
    span = max(times) if times else float("nan")
    return {"posts": posts, "delivered": delivered, "lost": posts - delivered,
            "duplicates": stats["duplicates"] - base["duplicates"],
            "p50_s": round(percentile(times, 0.5), 3), "p99_s": round(percentile(times, 0.99), 3),
            "deliveries_per_s": round(delivered / span, 1) if times else 0.0}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """One benchmark run."""
    procs = Procs()
    suffix = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as tmp, database(args.database_url, Path(tmp)) as (
            engine, db_url):
        try:
            port = free_port()
            receiver = procs.start(bolo_cmd("post-receiver", "--derive-from", MASTER,
                                            "--port", str(port), "--record-arrivals", "--quiet"))
            wait_port(port)
            load = min(args.posts, args.ceiling_requests)
            cpu0 = receiver_cpu_s(receiver.pid)
            ceiling = load_ceiling(port, load, args.concurrency, args.workers)
            cpu_load = receiver_cpu_s(receiver.pid) - cpu0
            version_id = seed(engine, args.posts, port)
            env = {"BOLO_DATA_DIR": tmp, "BOLO_DISPATCH_LEASE_S": str(args.lease_s),
                   "BOLO_SECURITY_ALLOW_NETWORKS": "127.0.0.0/8"}
            before = len(procs.items)
            start_dispatchers(procs, args.backend, args.workers, db_url, suffix,
                              args.concurrency, env)
            dispatchers = [p.pid for p in procs.items[before:]]
            time.sleep(args.warmup_s)  # workers are up before the approval, as in service
            base = receiver_json(port, "/_stats")
            cpu0, dcpu0 = receiver_cpu_s(receiver.pid), tree_cpu_s(dispatchers)
            mcpu0 = sum(receiver_cpu_s(p) for p in dispatchers)
            _, t0 = issue(engine, version_id)
            wait_delivered(port, args.posts, base["unique"], args.timeout_s)
            cpu_run = receiver_cpu_s(receiver.pid) - cpu0
            dcpu_run = tree_cpu_s(dispatchers) - dcpu0
            mcpu_run = sum(receiver_cpu_s(p) for p in dispatchers) - mcpu0
            result = summarise(port, args.posts, t0, base)
            result["recorded_delivered"] = delivered_in_db(engine)
            result["retried"] = retried_in_db(engine)
            # The receiver's own CPU per request: 1000 / this is what one core could take.
            result["receiver_cpu_ms_load"] = round(1000 * cpu_load / load, 3)
            result["receiver_cpu_ms_run"] = round(1000 * cpu_run / max(1, args.posts), 3)
            # Dispatcher processes (and relay, database children) CPU per delivery.
            result["dispatcher_cpu_ms"] = round(1000 * dcpu_run / max(1, args.posts), 3)
            # Of which the started processes themselves (workers; for NATS also the relay),
            # without their database child processes.
            result["dispatcher_main_cpu_ms"] = round(1000 * mcpu_run / max(1, args.posts), 3)
        finally:
            procs.stop_all()
            if args.backend == "nats":
                delete_stream(suffix)
    result.update(backend=args.backend, ceiling_per_s=round(ceiling, 1),
                  database="postgresql" if args.database_url else "sqlite",
                  workers=args.workers)
    result["ratio_to_ceiling"] = round(result["deliveries_per_s"] / ceiling, 3)
    return result


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--posts", type=int, default=1000)
    p.add_argument("--backend", choices=["inprocess", "nats"], default="inprocess")
    p.add_argument("--database-url", default="", help="PostgreSQL URL; default a SQLite file")
    p.add_argument("--workers", type=int, default=None, help="default 1 in-process, 2 nats")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--lease-s", type=float, default=30.0)
    p.add_argument("--ceiling-requests", type=int, default=5000)
    p.add_argument("--warmup-s", type=float, default=3.0)
    p.add_argument("--timeout-s", type=float, default=300.0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.workers is None:
        args.workers = 2 if args.backend == "nats" else 1
    return args


def show(result: dict[str, Any], title: str) -> None:
    """A rich table of the figures."""
    table = Table(title=title)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, str(value))
    Console().print(table)


def main() -> None:
    """Run once and print (``--_load PORT N CONCURRENCY TAG``: one load-generator process)."""
    if len(sys.argv) == 6 and sys.argv[1] == "--_load":
        _load_generator(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
        return
    args = parse()
    result = run(args)
    keys = ["backend", "posts", "delivered", "lost", "duplicates", "p50_s", "p99_s",
            "deliveries_per_s", "ceiling_per_s"]
    if args.json:
        print(json.dumps({k: result[k] for k in keys} | result))
    else:
        show(result, f"dispatch fan-out, {args.posts} webhook posts ({args.backend})")


if __name__ == "__main__":
    main()
