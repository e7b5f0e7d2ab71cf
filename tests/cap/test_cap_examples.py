"""The shared example messages: every valid one validates, every invalid one is refused for the
right reason, and the XXE attack is refused before anything is resolved or read."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from bolo.cap.codec import decode, encode
from bolo.cap.errors import CapRefused
from bolo.cap.schema import schema_errors
from bolo.cap.validate import validate

pytestmark = pytest.mark.shared

INVALID_REASONS = {
    "invalid.cap": ("decode", "missing required element scope"),
    "canada_errors.cap": ("references-missing", "references is empty"),
    "xee.cap": ("dtd", "DTD forbidden"),
}


def _examples(shared_dir: Path, kind: str) -> list[Path]:
    files = sorted((shared_dir / "cap" / "examples" / kind).iterdir())
    assert files, f"no {kind} examples"
    return files


def test_every_valid_example_validates(shared_dir: Path) -> None:
    for path in _examples(shared_dir, "valid"):
        result = validate(path.read_bytes())
        assert result.ok, (path.name, result.errors)
        assert result.version == "1.2"


def test_every_invalid_example_is_refused_with_its_reason(shared_dir: Path) -> None:
    files = _examples(shared_dir, "invalid")
    assert {p.name for p in files} == set(INVALID_REASONS)
    for path in files:
        result = validate(path.read_bytes())
        assert not result.ok
        first = next(f for f in result.findings if f.level == "error")
        rule, reason = INVALID_REASONS[path.name]
        assert (first.rule, first.message[: len(reason)]) == (rule, reason), result.errors


def test_valid_examples_round_trip_through_the_model(shared_dir: Path) -> None:
    for path in _examples(shared_dir, "valid"):
        alert = decode(path.read_bytes())
        again = encode(alert)
        assert schema_errors(again) == [], path.name
        assert decode(again) == alert, path.name


class _Listener:
    """A TCP listener on 127.0.0.1 that counts every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def test_xxe_is_refused_without_resolving_or_reading(shared_dir: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    listener = _Listener()
    try:
        original = (shared_dir / "cap" / "examples" / "invalid" / "xee.cap").read_text()
        attack = original.replace("localhost:8080", f"127.0.0.1:{listener.port}").replace(
            "file:///etc/passwd", secret.as_uri()
        )
        attack = attack.replace("&xxe;", "&xxe;&file;")
        for data in (original.encode(), attack.encode()):
            with pytest.raises(CapRefused) as refused:
                decode(data)
            assert refused.value.reason == "DTD forbidden"
            result = validate(data)
            assert result.errors == ["DTD forbidden"]
            assert "TOP-SECRET" not in repr(result)
    finally:
        listener.close()
    assert listener.connections == 0
