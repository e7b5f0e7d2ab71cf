"""The baseline of the dispatch benchmark: the receiver's rate under a plain load generator.

``load_ceiling`` starts as many generator processes as the run has dispatcher workers. Each
signs its requests beforehand (unique webhook-ids, so the receiver verifies and de-duplicates
every one as in the fan-out), opens its keep-alive connections with one warm-up request per
connection, reports ready and waits; all are then released at once, so their loads overlap
(an unsynchronised start measured the processes' start-up skew: the same machine gave 4k to
16k/s). Each sends through the dispatcher's own transport (WebhookChannel's pooled aiohttp
session on uvloop) with the dispatcher's concurrency. The ceiling of a round is requests /
(last answer - first send) over all processes; the best of ``rounds`` is kept (a ceiling is
what the receiver can take). Busy CPU of the whole machine per request is measured too.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

from dispatch_common import MASTER, PY, REPO, machine_busy_s

from bolo.dispatch.channels.webhook import WebhookChannel
from bolo.dispatch.receiver.server import derived_secret
from bolo.dispatch.signing import HmacKey, sign_headers

BODY = json.dumps({"title": "x" * 60, "text": "y" * 300}).encode()


def load_ceiling(
    port: int, requests: int, concurrency: int, processes: int, rounds: int = 2
) -> tuple[float, list[float], float]:
    """(best rate in requests per second, every round's rate, machine busy CPU milliseconds
    per request over all rounds) of ``processes`` synchronised generators."""
    rates = []
    busy = 0.0
    for round_no in range(rounds):
        rate, busy_s = _round(port, requests // processes, concurrency, processes, round_no)
        rates.append(rate)
        busy += busy_s
    return max(rates), rates, 1000 * busy / (rounds * (requests // processes) * processes)


def requests_per_round(requests: int, concurrency: int, processes: int) -> int:
    """Requests the receiver gets in one round: the load and one warm-up per connection."""
    return (requests // processes) * processes + concurrency * processes


def _round(
    port: int, each: int, concurrency: int, processes: int, round_no: int
) -> tuple[float, float]:
    stamp = int(time.time())
    cmds = [
        [
            PY,
            str(Path(__file__).resolve()),
            str(port),
            str(each),
            str(concurrency),
            f"{stamp}-{round_no}-{i}",
        ]
        for i in range(processes)
    ]
    children = [
        subprocess.Popen(c, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE) for c in cmds
    ]
    try:
        for child in children:
            if _line(child) != b"ready":
                raise RuntimeError("a load generator failed to start")
        busy0 = machine_busy_s()
        for child in children:
            assert child.stdin is not None
            child.stdin.write(b"go\n")
            child.stdin.flush()
        # The span line comes before the generator's teardown, which is not counted.
        spans = [json.loads(_line(child)) for child in children]
        busy = machine_busy_s() - busy0
    finally:
        for child in children:
            if child.poll() is None and child.stdin is not None:
                child.stdin.close()
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    if any(c.returncode for c in children):
        raise RuntimeError("a load generator failed")
    first = min(s[0] for s in spans)
    last = max(s[1] for s in spans)
    return each * processes / (last - first), busy


def _line(child: subprocess.Popen[bytes]) -> bytes:
    assert child.stdout is not None
    return child.stdout.readline().strip()


def _signed(port: int, requests: int, tag: str) -> list[tuple[str, dict[str, str]]]:
    stamp = int(time.time())
    jobs = []
    for i in range(requests):
        post = f"lp{i % 500}"
        headers = sign_headers(
            msg_id=f"load-{tag}-{i}",
            timestamp=stamp,
            body=BODY,
            keys=[HmacKey(derived_secret(MASTER, post))],
        )
        headers["content-type"] = "application/json"
        jobs.append((f"http://127.0.0.1:{port}/hook/{post}", headers))
    return jobs


async def _generate(port: int, requests: int, concurrency: int, tag: str) -> None:
    jobs = _signed(port, requests, tag)
    warmup = _signed(port, concurrency, f"warm-{tag}")
    channel = WebhookChannel(timeout_s=30, max_connections=concurrency)
    session = channel.session()

    async def one_lane(todo: list[tuple[str, dict[str, str]]]) -> None:
        for url, headers in todo:
            async with session.post(url, data=BODY, headers=headers) as response:
                await response.read()
                if response.status != 204:
                    raise RuntimeError(f"receiver answered {response.status}")

    try:
        # One request per lane opens the pool's connections before the clock starts.
        await asyncio.gather(*(one_lane([job]) for job in warmup))
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        lanes = [jobs[i::concurrency] for i in range(concurrency)]
        first = time.time()
        await asyncio.gather(*(one_lane(lane) for lane in lanes))
        print(json.dumps([first, time.time()]), flush=True)  # before closing the pool
    finally:
        await channel.aclose()


def main() -> None:
    """One generator process: ``PORT REQUESTS CONCURRENCY TAG``; prints ``ready``, waits for a
    line on stdin, sends, prints [first send, last answer] (Unix seconds) as JSON."""
    import uvloop

    port, requests, concurrency, tag = sys.argv[1:5]
    uvloop.run(_generate(int(port), int(requests), int(concurrency), tag))


if __name__ == "__main__":
    main()
