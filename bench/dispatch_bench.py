"""Fan-out of one alert to N signed-webhook posts through the real dispatcher.

    .venv/bin/python bench/dispatch_bench.py --posts 1000 [--backend inprocess|nats]
        [--database-url postgresql://postgres@127.0.0.1:5432/test] [--workers 2] [--json]

A loopback `bolo post-receiver` (verifying every signature, de-duplicating by webhook-id) runs
in its own process. The baseline `ceiling_per_s` is that receiver's rate under a plain load
generator measured in the same run (bench/dispatch_ceiling.py: as many synchronised processes
as dispatcher workers, the dispatcher's own aiohttp transport and concurrency, requests signed
beforehand, no database; best of two rounds, both printed as `ceiling_rounds`). Latency is
from the commit of the outbox rows to the first arrival at the receiver (seconds);
`deliveries_per_s` is deliveries / the last latency; `dispatcher_cpu_ms` is the CPU per
delivery of the dispatcher processes (with the NATS relay and any children);
`machine_cpu_ms` is the busy CPU of the whole machine (database, broker, receiver included)
per delivery, beside `ceiling_machine_cpu_ms` per request of the ceiling: when both saturate
the cores, their quotient bounds the ratio. Linux only (/proc for CPU times).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from dispatch_ceiling import load_ceiling, requests_per_round
from dispatch_common import (
    MASTER,
    NATS_URL,
    Procs,
    bolo_cmd,
    cpu_since,
    database,
    delivered_in_db,
    free_port,
    issue,
    machine_busy_s,
    named_cpu_s,
    percentile,
    process_cpu_s,
    receiver_json,
    retried_in_db,
    seed,
    show,
    tree_cpu_s,
    wait_delivered,
    wait_port,
)
from sqlalchemy import Engine

SERVERS = ("postgres", "nats-server")


def start_dispatchers(
    procs: Procs,
    backend: str,
    workers: int,
    db_url: str,
    suffix: str,
    concurrency: int,
    env: dict[str, str],
) -> list[subprocess.Popen[bytes]]:
    """Start the dispatcher worker(s) (and for NATS the relay); return the workers."""
    common = ["--database-url", db_url, "--concurrency", str(concurrency)]
    if backend == "nats":
        procs.start(
            bolo_cmd(
                "relay",
                "--database-url",
                db_url,
                "--broker-url",
                NATS_URL,
                "--stream-suffix",
                suffix,
            ),
            env,
        )
        return [
            procs.start(
                bolo_cmd(
                    "dispatcher",
                    "--backend",
                    "nats",
                    "--broker-url",
                    NATS_URL,
                    "--stream-suffix",
                    suffix,
                    "--name",
                    f"w{i}",
                    *common,
                ),
                env,
            )
            for i in range(workers)
        ]
    return [
        procs.start(
            bolo_cmd("dispatcher", "--backend", "inprocess", "--name", f"w{i}", *common), env
        )
        for i in range(workers)
    ]


def delete_stream(suffix: str, url: str = NATS_URL) -> None:
    """Remove the run's JetStream stream."""
    from bolo.dispatch.nats.connection import Names, connect

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
    return {
        "posts": posts,
        "delivered": delivered,
        "lost": posts - delivered,
        "duplicates": stats["duplicates"] - base["duplicates"],
        "p50_s": round(percentile(times, 0.5), 3),
        "p99_s": round(percentile(times, 0.99), 3),
        "deliveries_per_s": round(delivered / span, 1) if times else 0.0,
    }


def fan_out(
    engine: Engine,
    version_id: str,
    port: int,
    dispatchers: list[int],
    receiver_pid: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Approve (write the outbox), wait for every post, and measure latency and CPU."""
    base = receiver_json(port, "/_stats")
    cpu0, dcpu0 = process_cpu_s(receiver_pid), tree_cpu_s(dispatchers)
    mcpu0 = sum(process_cpu_s(p) for p in dispatchers)
    servers0 = named_cpu_s(SERVERS)
    busy0 = machine_busy_s()
    _, t0 = issue(engine, version_id)
    wait_delivered(port, args.posts, base["unique"], args.timeout_s)
    busy = machine_busy_s() - busy0
    servers = cpu_since(servers0, SERVERS)
    cpu_run = process_cpu_s(receiver_pid) - cpu0
    dcpu_run = tree_cpu_s(dispatchers) - dcpu0
    mcpu_run = sum(process_cpu_s(p) for p in dispatchers) - mcpu0
    result = summarise(port, args.posts, t0, base)
    per = 1000 / max(1, args.posts)
    result["recorded_delivered"] = delivered_in_db(engine)
    result["retried"] = retried_in_db(engine)
    result["receiver_cpu_ms_run"] = round(cpu_run * per, 3)
    # Dispatcher processes (and relay, database children) CPU per delivery.
    result["dispatcher_cpu_ms"] = round(dcpu_run * per, 3)
    # Of which the started processes themselves (workers; for NATS also the relay),
    # without their database child processes.
    result["dispatcher_main_cpu_ms"] = round(mcpu_run * per, 3)
    # The database server (PostgreSQL backends) and the NATS server, when on this machine.
    result["servers_cpu_ms"] = round(servers * per, 3)
    # Everything: dispatcher, database server, broker, receiver, anything else running.
    result["machine_cpu_ms"] = round(busy * per, 3)
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    """One benchmark run."""
    procs = Procs()
    suffix = uuid.uuid4().hex[:8]
    with (
        tempfile.TemporaryDirectory() as tmp,
        database(args.database_url, Path(tmp)) as (engine, db_url),
    ):
        try:
            port = free_port()
            receiver = procs.start(
                bolo_cmd(
                    "post-receiver",
                    "--derive-from",
                    MASTER,
                    "--port",
                    str(port),
                    "--record-arrivals",
                    "--quiet",
                )
            )
            wait_port(port)
            load = min(args.posts, args.ceiling_requests)
            cpu0 = process_cpu_s(receiver.pid)
            ceiling, rounds, ceiling_machine_ms = load_ceiling(
                port, load, args.concurrency, args.workers
            )
            # The receiver's own CPU per request: 1000 / this is what one core could take.
            receiver_ms = (
                1000
                * (process_cpu_s(receiver.pid) - cpu0)
                / (len(rounds) * requests_per_round(load, args.concurrency, args.workers))
            )
            version_id = seed(engine, args.posts, port)
            env = {
                "BOLO_DATA_DIR": tmp,
                "BOLO_DISPATCH_LEASE_S": str(args.lease_s),
                "BOLO_SECURITY_ALLOW_NETWORKS": "127.0.0.0/8",
            }
            before = len(procs.items)
            start_dispatchers(
                procs, args.backend, args.workers, db_url, suffix, args.concurrency, env
            )
            time.sleep(args.warmup_s)  # workers are up before the approval, as in service
            result = fan_out(
                engine, version_id, port, [p.pid for p in procs.items[before:]], receiver.pid, args
            )
        finally:
            procs.stop_all()
            if args.backend == "nats":
                delete_stream(suffix)
    result.update(
        backend=args.backend,
        ceiling_per_s=round(ceiling, 1),
        ceiling_rounds=[round(r, 1) for r in rounds],
        ceiling_machine_cpu_ms=round(ceiling_machine_ms, 3),
        receiver_cpu_ms_load=round(receiver_ms, 3),
        database="postgresql" if args.database_url else "sqlite",
        workers=args.workers,
    )
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
    p.add_argument("--ceiling-requests", type=int, default=10000)
    p.add_argument("--warmup-s", type=float, default=3.0)
    p.add_argument("--timeout-s", type=float, default=300.0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.workers is None:
        args.workers = 2 if args.backend == "nats" else 1
    return args


def main() -> None:
    """Run once and print the figures."""
    args = parse()
    result = run(args)
    keys = [
        "backend",
        "posts",
        "delivered",
        "lost",
        "duplicates",
        "p50_s",
        "p99_s",
        "deliveries_per_s",
        "ceiling_per_s",
    ]
    if args.json:
        print(json.dumps({k: result[k] for k in keys} | result))
    else:
        show(result, f"dispatch fan-out, {args.posts} webhook posts ({args.backend})")


if __name__ == "__main__":
    main()
