"""Kill the dispatcher with SIGKILL at random points of a fan-out; count what is lost.

    .venv/bin/python bench/dispatch_faults.py --posts 2000 --kills 3 [--backend inprocess|nats]
        [--database-url postgresql://...] [--seed 1] [--json]

With --backend nats the run uses its own nats-server (temporary storage, free port), which is
also restarted once in the middle. A loopback `bolo post-receiver` counts every arrival:
`duplicates` are arrivals of a webhook-id already received (the in-flight window: sent, but the
attempt not yet recorded when the process died), `duplicates_after_dedup` are those that got
through the receiver's de-duplication (webhook-id). Baseline: `in_flight_bound`, kills times
the in-flight window (--window, for either backend), the most the design
allows.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from dispatch_bench import (
    MASTER,
    Procs,
    bolo_cmd,
    database,
    delivered_in_db,
    free_port,
    issue,
    receiver_json,
    seed,
    show,
    wait_port,
)


def start_nats(tmp: Path, port: int) -> subprocess.Popen[bytes]:
    """A private JetStream server storing in ``tmp``."""
    proc = subprocess.Popen(
        ["nats-server", "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(tmp / "nats")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_port(port)
    return proc


def start_workers(
    procs: Procs,
    args: argparse.Namespace,
    db_url: str,
    broker: str,
    suffix: str,
    env: dict[str, str],
) -> list[subprocess.Popen[bytes]]:
    """The dispatcher process(es) to be killed: the worker, and for NATS also the relay."""
    common = ["--database-url", db_url, "--concurrency", str(args.concurrency)]
    if args.backend == "nats":
        return [
            procs.start(
                bolo_cmd(
                    "relay",
                    "--database-url",
                    db_url,
                    "--broker-url",
                    broker,
                    "--stream-suffix",
                    suffix,
                ),
                env,
            ),
            procs.start(
                bolo_cmd(
                    "dispatcher",
                    "--backend",
                    "nats",
                    "--broker-url",
                    broker,
                    "--stream-suffix",
                    suffix,
                    *common,
                ),
                env,
            ),
        ]
    return [procs.start(bolo_cmd("dispatcher", "--backend", "inprocess", *common), env)]


def unique_since(port: int, base: int) -> int:
    """Webhooks accepted by the receiver since ``base``."""
    return int(receiver_json(port, "/_stats")["unique"]) - base


def run(args: argparse.Namespace) -> dict[str, Any]:
    """One fault run."""
    rng = random.Random(args.seed)
    procs = Procs()
    nats_proc: subprocess.Popen[bytes] | None = None
    kills_during_fanout = 0
    with (
        tempfile.TemporaryDirectory() as tmp_name,
        database(args.database_url, Path(tmp_name)) as (engine, db_url),
    ):
        tmp = Path(tmp_name)
        try:
            port = free_port()
            procs.start(
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
            nats_port = free_port()
            broker = f"nats://127.0.0.1:{nats_port}"
            if args.backend == "nats":
                nats_proc = start_nats(tmp, nats_port)
            env = {
                "BOLO_DATA_DIR": tmp_name,
                "BOLO_DISPATCH_LEASE_S": "10",
                "BOLO_DISPATCH_ACK_WAIT_S": "5",
                "BOLO_DISPATCH_REQUEUE_AFTER_S": "20",
                "BOLO_DISPATCH_IN_FLIGHT_WINDOW": str(args.window),
                "BOLO_SECURITY_ALLOW_NETWORKS": "127.0.0.0/8",
            }
            suffix = uuid.uuid4().hex[:8]
            version_id = seed(engine, args.posts, port)
            workers = start_workers(procs, args, db_url, broker, suffix, env)
            time.sleep(args.warmup_s)
            base = receiver_json(port, "/_stats")
            issue(engine, version_id)
            for kill in range(args.kills):
                time.sleep(rng.uniform(0.5, args.max_gap_s))
                if unique_since(port, base["unique"]) < args.posts:
                    kills_during_fanout += 1
                for proc in workers:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                if nats_proc is not None and kill == args.kills // 2:
                    nats_proc.terminate()
                    nats_proc.wait()
                    nats_proc = start_nats(tmp, nats_port)
                workers = start_workers(procs, args, db_url, broker, suffix, env)
            deadline = time.monotonic() + args.timeout_s
            while time.monotonic() < deadline and unique_since(port, base["unique"]) < args.posts:
                time.sleep(0.5)
            stats = receiver_json(port, "/_stats")
            arrivals = receiver_json(port, "/_arrivals")
            recorded = delivered_in_db(engine)
        finally:
            procs.stop_all()
            if nats_proc is not None:
                nats_proc.terminate()
                nats_proc.wait()
    delivered = sum(1 for k in arrivals if not k.startswith("load-"))
    return {
        "backend": args.backend,
        "posts": args.posts,
        "kills": args.kills,
        "kills_during_fanout": kills_during_fanout,
        "delivered": delivered,
        "lost": args.posts - delivered,
        "duplicates": stats["duplicates"] - base["duplicates"],
        "duplicates_after_dedup": (stats["unique"] - base["unique"]) - delivered,
        "in_flight_bound": args.kills * args.window,
        "recorded_delivered": recorded,
    }


def main() -> None:
    """Parse options, run, print."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--posts", type=int, default=2000)
    p.add_argument("--kills", type=int, default=3)
    p.add_argument("--backend", choices=["inprocess", "nats"], default="inprocess")
    p.add_argument("--database-url", default="")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--window", type=int, default=256, help="in-flight window (either backend)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-gap-s", type=float, default=4.0)
    p.add_argument("--warmup-s", type=float, default=3.0)
    p.add_argument("--timeout-s", type=float, default=600.0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    result = run(args)
    keys = ["posts", "kills", "delivered", "lost", "duplicates", "duplicates_after_dedup"]
    if args.json:
        print(json.dumps({k: result[k] for k in keys} | result))
    else:
        show(result, f"dispatcher killed {args.kills} times during a fan-out to {args.posts}")


if __name__ == "__main__":
    sys.exit(main())
