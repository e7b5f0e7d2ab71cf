"""Run a Markdown guide's ```bash blocks, in order, in one bash session.

Each block runs in the same shell (variables and background jobs carry over), with `set -euo
pipefail`; a block that fails ends the session and names the block. Lines of the form
`export NAME=value` whose NAME is in `overrides` get the test's value instead, so that the guide
shows the values a reader would type (port 8000, their extract) while the test uses free ports
and the fixture extract.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

_FENCE = re.compile(r"^```bash[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_HEADING = re.compile(r"^#{1,6} +(.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Block:
    """One ```bash block: the heading above it and its text."""

    heading: str
    text: str


def bash_blocks(markdown: str) -> list[Block]:
    """Every ```bash block of `markdown`, in order, with the nearest heading above it."""
    blocks = []
    for match in _FENCE.finditer(markdown):
        headings = _HEADING.findall(markdown, 0, match.start())
        blocks.append(Block(headings[-1] if headings else "", match.group(1)))
    return blocks


def apply_overrides(text: str, overrides: dict[str, str]) -> str:
    """`text` with each `export NAME=...` line of an overridden NAME set to the given value."""
    for name, value in overrides.items():
        text = re.sub(
            rf"^export {re.escape(name)}=.*$",
            f"export {name}={_quote(value)}",
            text,
            flags=re.MULTILINE,
        )
    return text


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


class GuideFailed(AssertionError):
    """A block of the guide exited non-zero (its heading, status and output are in the message)."""


class BashSession:
    """One bash process that runs blocks one after the other and reports each block's output."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd = cwd
        self._log = cwd / ".guide-session.log"
        self._proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=self._log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._send("set -euo pipefail\n")

    def _send(self, text: str) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(text.encode())
        self._proc.stdin.flush()

    def run(self, block: Block, timeout_s: float = 300.0) -> str:
        """Run one block; return what it printed. Raises GuideFailed when it fails."""
        marker = f"__block_done_{uuid.uuid4().hex}__"
        start = self._log.stat().st_size
        # The block runs in the session itself so that its variables and jobs stay.
        self._send(f"{block.text}\necho {marker}\n")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            output = self._log.read_bytes()[start:].decode(errors="replace")
            if marker in output:
                return output.split(marker, 1)[0]
            if self._proc.poll() is not None:
                raise GuideFailed(
                    f"the block under '{block.heading}' failed (exit "
                    f"{self._proc.returncode}):\n{block.text}\n--- output ---\n"
                    f"{output[-4000:]}"
                )
            time.sleep(0.05)
        raise GuideFailed(
            f"the block under '{block.heading}' did not finish in {timeout_s} s:"
            f"\n{block.text}\n--- output ---\n"
            f"{self._log.read_bytes()[start:].decode(errors='replace')[-4000:]}"
        )

    def close(self) -> None:
        """End the shell and everything it started in the background."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGTERM)
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
