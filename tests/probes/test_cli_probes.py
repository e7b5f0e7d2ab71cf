"""The command line given bad files, options and ids: a non-zero exit with a one-line error,
never a Python traceback, and nothing written. Each bad input is tried on the commands that
read that kind of input (JSON reports, case files, network names)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from bolo.auth.model import Role
from bolo.auth.service import create_user
from bolo.cli import app as bolo_app
from bolo.search.case import CaseError, parse_case
from bolo.store.db import session_scope
from tests.probes.checks import content_digest

runner = CliRunner()
LAST_KNOWN = {"lat": 39.2, "lon": 126.2, "time_earliest": "2026-12-07T08:00:00Z"}
# What a file can hold that is not the JSON object a command reads.
BAD_FILES: dict[str, bytes] = {
    "empty": b"",
    "binary": b"\xff\xfe\x00\x01\x80\x81",
    "latin-1": '{"children": [{"name": "Bébé"}]}'.encode("latin-1"),
    "not json": b"children: [Kim]\n",
    "nested too deeply": b"[" * 100_000 + b"]" * 100_000,
    "a list": b"[1, 2]",
    "a string": b'"case"',
    "NaN": b'{"children": [{"name": "A"}], "last_known": {"lat": NaN, "lon": 1}}',
}


def _fails_cleanly(args: list[str], what: str) -> str:
    result = runner.invoke(bolo_app, args)
    assert result.exit_code != 0, f"{what}: exit 0\n{result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{what}: {result.exception!r}\n{result.output}"
    )
    assert "Traceback" not in result.output, f"{what}: {result.output}"
    return result.output


@pytest.fixture()
def coordinator(sqlite_engine: Engine) -> str:
    with session_scope(sqlite_engine) as db:
        create_user(db, username="coord", role=Role.COORDINATOR, actor=None)
        create_user(db, username="boss", role=Role.ADMIN, actor=None)
    return "coord"


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_json_reading_commands_refuse_bad_files(
    sqlite_engine: Engine, coordinator: str, tmp_path: Path, kind: str
) -> None:
    file = tmp_path / "input.json"
    file.write_bytes(BAD_FILES[kind])
    before = content_digest(sqlite_engine)
    commands = (
        ["case", "open", str(file), "--as", coordinator],
        ["alert", "draft", "no-such-case", str(file), "--as", coordinator],
        ["post", "add", str(file)],
        ["case", "hint", "no-such-case", str(file), "--as", coordinator],
    )
    for args in commands:
        output = _fails_cleanly(args, f"{args[:2]} with a {kind} file")
        assert "error" in output.lower(), output
    assert content_digest(sqlite_engine) == before


def test_a_binary_report_names_the_encoding(
    sqlite_engine: Engine, coordinator: str, tmp_path: Path
) -> None:
    # read_text raised UnicodeDecodeError, a traceback; the nesting, RecursionError.
    file = tmp_path / "case.json"
    file.write_bytes(BAD_FILES["latin-1"])
    assert "not UTF-8" in _fails_cleanly(
        ["case", "open", str(file), "--as", coordinator], "latin-1"
    )
    file.write_bytes(BAD_FILES["nested too deeply"])
    assert "nested too deeply" in _fails_cleanly(["post", "add", str(file)], "deep")


def test_missing_and_folder_files_are_named(
    sqlite_engine: Engine, coordinator: str, tmp_path: Path
) -> None:
    for path in (tmp_path / "absent.json", tmp_path):
        output = _fails_cleanly(["case", "open", str(path), "--as", coordinator], str(path))
        assert "cannot read" in output


@pytest.mark.parametrize("name", ["../../etc", "/etc", ".hidden", "a\x00b", "no-such-network"])
def test_network_names_that_are_no_network(
    sqlite_engine: Engine, tmp_path: Path, name: str
) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"last_known": LAST_KNOWN}), encoding="utf-8")
    at = "2026-12-07T10:00:00Z"
    for args in (
        ["search", "rank", "--network", name, "--case", str(case), "--at", at],
        ["network", "info", name],
        ["post", "load-network", name],
    ):
        output = _fails_cleanly(args, f"{args[:2]} {name!r}")
        assert "network" in output


SEARCH_CASES: dict[str, object] = {
    "a list": [1],
    "hints not a list": {"last_known": LAST_KNOWN, "hints": 5},
    "a hint not an object": {"last_known": LAST_KNOWN, "hints": [1]},
    "evidence not objects": {"last_known": LAST_KNOWN, "evidence": [[]]},
    "NaN latitude": {"last_known": {**LAST_KNOWN, "lat": float("nan")}},
    "infinite longitude": {"last_known": {**LAST_KNOWN, "lon": float("inf")}},
    "latitude 91": {"last_known": {**LAST_KNOWN, "lat": 91}},
    "longitude -181": {"last_known": {**LAST_KNOWN, "lon": -181}},
    "modes of lists": {"last_known": LAST_KNOWN, "modes": [[1]]},
    "a destination off the globe": {
        "last_known": LAST_KNOWN,
        "hints": [{"kind": "destination", "lat": 0, "lon": 999}],
    },
    "a sighting at NaN": {
        "last_known": LAST_KNOWN,
        "evidence": [
            {"kind": "sighting", "time": LAST_KNOWN["time_earliest"], "lat": float("nan"), "lon": 1}
        ],
    },
}


@pytest.mark.parametrize("kind", sorted(SEARCH_CASES))
def test_search_case_files_that_are_wrong_are_case_errors(kind: str) -> None:
    # AttributeError/TypeError before; NaN and 91 degrees ranked posts and exited 0.
    with pytest.raises(CaseError):
        parse_case(SEARCH_CASES[kind])  # type: ignore[arg-type]


def test_search_rank_refuses_a_bad_case_before_loading_the_network(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    for kind in ("a list", "NaN latitude", "a hint not an object"):
        case.write_text(json.dumps(SEARCH_CASES[kind]), encoding="utf-8")
        args = ["search", "rank", "--network", "no-such-network", "--case", str(case)]
        output = _fails_cleanly([*args, "--at", "2026-12-07T10:00:00Z"], kind)
        assert f"case file {case}" in output and "no network" not in output
    case.write_bytes(BAD_FILES["nested too deeply"])
    output = _fails_cleanly([*args, "--at", "2026-12-07T10:00:00Z"], "deep")
    assert "nested too deeply" in output


@pytest.mark.parametrize(
    "args",
    [
        ["case", "show", "no-such-case"],
        ["case", "show", "../../etc/passwd"],
        ["case", "close", "C-20260101-ZZZZZZ", "--as", "boss"],
        ["alert", "show", "no-such-alert"],
        ["alert", "cap", "no-such-version"],
        ["alert", "cancel", "no-such-alert", "--reason", "x", "--as", "boss"],
        ["alert", "approve", "no-such-version", "--sha256", "0" * 64, "--as", "boss"],
        ["report", "list", "--case", "no-such-case"],
        ["report", "evidence", "--case", "\x00"],
        ["user", "token", "nobody"],
        ["user", "disable", "nobody"],
        ["user", "add", "", "viewer"],
        ["user", "add", "x" * 500, "viewer"],
        ["user", "add", "someone", "officer"],
        ["user", "add", "someone", "viewer", "--post", "no-such-post"],
        ["db", "restore", "/no/such/backup.db", "--yes"],
        ["security", "check-url", "file:///etc/passwd"],
        ["network", "isochrone", "no-such-network", "--from", "91,0", "--minutes", "10"],
    ],
)
def test_unknown_ids_and_bad_options_exit_non_zero(
    sqlite_engine: Engine, coordinator: str, args: list[str]
) -> None:
    before = content_digest(sqlite_engine)
    _fails_cleanly(args, " ".join(args)[:60])
    assert content_digest(sqlite_engine) == before


GOLDEN = Path(__file__).resolve().parent.parent / "alerts" / "golden" / "alert-plain.xml"


@pytest.mark.parametrize("expires", ["9999-12-31T23:59:59-14:00", "9999-12-31T23:30:00-00:31"])
def test_a_cap_time_beyond_year_9999_in_utc_is_refused(
    sqlite_engine: Engine, tmp_path: Path, expires: str
) -> None:
    # Valid xs:dateTime, but year 10000 in UTC: the import's database write raised
    # OverflowError (a traceback from `bolo cap import`, the same from a subscribed feed).
    text = GOLDEN.read_text(encoding="utf-8")
    text = text.replace("<msgType>Update</msgType>", "<msgType>Alert</msgType>")
    text = text.replace(
        "<references>bolo@example.org,bolo-first,2026-03-01T11:30:00+00:00</references>", ""
    )
    file = tmp_path / "far.xml"
    file.write_text(text.replace("2026-03-02T12:30:00+00:00", expires), encoding="utf-8")
    before = content_digest(sqlite_engine)
    output = _fails_cleanly(["cap", "import", str(file)], expires)
    assert "outside the years 1-9999" in output
    assert content_digest(sqlite_engine) == before
