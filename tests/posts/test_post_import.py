"""`bolo post import` / `bolo post export` and POST /api/v1/posts/import: the organisation's own
posts from CSV or JSON lines, snapped to the network, all or nothing with every bad row named,
and written back so that importing the export gives the same posts."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from bolo.api import create_app
from bolo.auth.model import Role
from bolo.auth.service import create_user, issue_token
from bolo.cli import app as cli_app
from bolo.dispatch.signing import new_secret
from bolo.network import Network
from bolo.posts.model import Post
from bolo.store.db import session_scope

HOOK = "https://93.184.216.34/hooks/{}"  # public IP literals: the SSRF guard needs no DNS
BROKER = "mqtts://93.184.216.35:8883"
SECRET = new_secret()
HEADER = (
    "id,kind,lat,lon,name,mode,region,supervisor,language,webhook_url,webhook_secret,"
    "apprise_url,mqtt_url"
)
# Points on Andorra's main roads; the supervisor of the first row is defined further down.
GOOD_CSV = f"""{HEADER}
rb-sant-julia,checkpoint,42.46448,1.4947,"Roadblock CG-1, Sant Julia",road,Sant Julia,hq-andorra,ca,{HOOK.format(1)},{SECRET},tgram://123456:abcdef/987,
rb-encamp,checkpoint,42.53412,1.58068,,,Encamp,hq-andorra,fr-AD,,,,{BROKER}
hq-andorra,police,42.5063,1.5218,Police HQ,,Andorra la Vella,,,{HOOK.format(3)},,,
"""


def _run(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(cli_app, list(args), input=stdin)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _stored() -> dict[str, dict[str, Any]]:
    with session_scope() as db:
        return {
            p.id: {
                "kind": p.kind,
                "name": p.name,
                "lat": p.lat,
                "lon": p.lon,
                "mode": p.mode,
                "network": p.network,
                "node": p.node,
                "region": p.region,
                "supervisor_id": p.supervisor_id,
                "language": p.language,
                "channels": p.channels,
            }
            for p in db.scalars(select(Post))
        }


def _count() -> int:
    with session_scope() as db:
        return int(db.scalar(select(func.count()).select_from(Post)) or 0)


def test_csv_import_stores_every_column_snapped_to_the_network(
    sqlite_engine: Engine, andorra: Network, tmp_path: Path
) -> None:
    result = _run(
        "post",
        "import",
        str(_write(tmp_path, "posts.csv", GOOD_CSV)),
        "--network",
        "andorra",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "file": str(tmp_path / "posts.csv"),
        "network": "andorra",
        "format": "csv",
        "posts": 3,
        "created": 3,
        "updated": 0,
    }
    posts = _stored()
    julia = posts["rb-sant-julia"]
    assert julia["name"] == "Roadblock CG-1, Sant Julia" and julia["region"] == "Sant Julia"
    assert julia["supervisor_id"] == "hq-andorra" and julia["language"] == "ca"
    assert (
        julia["network"] == "andorra"
        and andorra.node_has_mode(andorra.posts[0].mode)[julia["node"]]
    )
    assert julia["channels"] == [
        {"kind": "webhook", "url": HOOK.format(1), "secret": SECRET},
        {"kind": "apprise", "url": "tgram://123456:abcdef/987"},
    ]
    assert posts["rb-encamp"]["name"] == "rb-encamp"  # no name: the id
    assert posts["rb-encamp"]["channels"] == [{"kind": "mqtt", "url": BROKER}]
    assert posts["hq-andorra"]["mode"] == "road"  # Andorra has no rail: road by default


def test_every_bad_row_is_named_and_nothing_is_stored(
    sqlite_engine: Engine, andorra: Network, tmp_path: Path
) -> None:
    bad = f"""{HEADER}
ok-1,checkpoint,42.5063,1.5218,,,,,,{HOOK.format(1)},,,
bad kind,checkpost,42.5,1.52,,,,,,,,,
far-away,checkpoint,43.6,1.44,,,,,,,,,
not-a-number,police,4x.5,1.5218,,,,,,,,,
orphan,police,42.5063,1.5218,,,,nobody,,,,,
secret-only,patrol,42.5063,1.5218,,,,,,,{SECRET},,
private,patrol,42.5063,1.5218,,,,,,http://10.1.2.3/hook,,,
train,station,42.5063,1.5218,,rail,,,,,,,
tongue,patrol,42.5063,1.5218,,,,,english please,,,,
unsigned,patrol,42.5063,1.5218,,,,,,{HOOK.format(2)},whsec_not-base64!,,
ok-1,checkpoint,42.5063,1.5218,,,,,,,,,
too,short
"""
    result = _run(
        "post", "import", str(_write(tmp_path, "bad.csv", bad)), "--network", "andorra", "--json"
    )
    assert result.exit_code == 1
    problems = {(p["line"], p["column"]) for p in json.loads(result.stdout)["problems"]}
    assert problems == {
        (3, "id"),
        (3, "kind"),
        (4, "lat/lon"),
        (5, "lat"),
        (6, "supervisor"),
        (7, "webhook_secret"),
        (8, "webhook_url"),
        (9, "mode"),
        (10, "language"),
        (11, "webhook_secret"),
        (12, "id"),
        (13, ""),
    }
    assert "line 4, column lat/lon: (43.60000, 1.44000) is 1" in result.stderr
    assert "line 6, column supervisor: no post 'nobody'" in result.stderr
    assert "nothing imported" in result.stderr and _count() == 0


@pytest.mark.parametrize(
    ("header", "column"),
    [("id,kind,lat", "lon"), ("id,kind,lat,lon,phone", "phone"), ("id,kind,lat,lon,id", "id")],
)
def test_a_bad_header_is_named(
    sqlite_engine: Engine, andorra: Network, tmp_path: Path, header: str, column: str
) -> None:
    path = _write(tmp_path, "h.csv", f"{header}\nx,police,42.5,1.52\n")
    result = _run("post", "import", str(path), "--network", "andorra")
    assert result.exit_code == 1 and f"line 1, column {column}:" in result.stderr


@pytest.mark.parametrize("name", ["posts.jsonl", "posts.txt", "-"])
def test_json_lines_are_read_by_extension_or_content(
    sqlite_engine: Engine, andorra: Network, tmp_path: Path, name: str
) -> None:
    lines = [
        {
            "id": "cp-1",
            "kind": "checkpoint",
            "name": "CP 1",
            "lat": 42.5063,
            "lon": 1.5218,
            "channels": [{"kind": "webhook", "url": HOOK.format(1), "secret": SECRET}],
            "language": "ca",
        },
        {
            "id": "cp-2",
            "kind": "patrol",
            "name": "CP 2",
            "lat": 42.53412,
            "lon": 1.58068,
            "supervisor_id": "cp-1",
            "network": "andorra",
        },
    ]
    text = "".join(json.dumps(x) + "\n" for x in lines)
    args = [
        "post",
        "import",
        "-" if name == "-" else str(_write(tmp_path, name, text)),
        "--network",
        "andorra",
    ]
    result = _run(*args, stdin=text if name == "-" else None)
    assert result.exit_code == 0, result.output
    posts = _stored()
    assert posts["cp-2"]["supervisor_id"] == "cp-1" and posts["cp-1"]["language"] == "ca"
    assert posts["cp-1"]["channels"][0]["secret"] == SECRET


def test_bad_json_lines_are_named_by_line_and_field(
    sqlite_engine: Engine, andorra: Network, tmp_path: Path
) -> None:
    text = (
        '{"id": "a", "kind": "police", "name": "A", "lat": 42.5063, "lon": 1.5218}\n'
        "not json\n"
        '{"id": "b", "kind": "police", "lat": 42.5063, "lon": 1.5218}\n'
        '{"id": "c", "kind": "police", "name": "C", "lat": 42.5, "lon": 1.52, '
        '"network": "dprk"}\n'
        "[1, 2]\n"
    )
    result = _run(
        "post", "import", str(_write(tmp_path, "p.jsonl", text)), "--network", "andorra", "--json"
    )
    assert result.exit_code == 1
    problems = [(p["line"], p["column"]) for p in json.loads(result.stdout)["problems"]]
    assert problems == [(2, ""), (3, "name"), (4, "network"), (5, "")]
    assert "line 3, field name: Field required" in result.stderr and _count() == 0


def test_export_then_import_gives_the_same_posts(
    sqlite_engine: Engine, andorra: Network, tmp_path: Path
) -> None:
    assert (
        _run(
            "post", "import", str(_write(tmp_path, "posts.csv", GOOD_CSV)), "--network", "andorra"
        ).exit_code
        == 0
    )
    before = _stored()
    exported = tmp_path / "export.csv"
    result = _run("post", "export", "--network", "andorra", str(exported), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["posts"] == 3 and json.loads(result.stdout)["incomplete"] == []
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600  # it holds the webhook secrets
    text = exported.read_text(encoding="utf-8")
    assert text.splitlines()[0] == HEADER
    with session_scope() as db:
        db.execute(Post.__table__.update().values(supervisor_id=None))
        db.execute(Post.__table__.delete())
    assert _run("post", "import", str(exported), "--network", "andorra").exit_code == 0
    assert _stored() == before
    again = _run("post", "export", "--network", "andorra")
    assert again.exit_code == 0 and again.stdout == text


def test_reimport_updates_the_columns_given_and_keeps_the_others(
    sqlite_engine: Engine, andorra: Network, tmp_path: Path
) -> None:
    assert (
        _run(
            "post", "import", str(_write(tmp_path, "posts.csv", GOOD_CSV)), "--network", "andorra"
        ).exit_code
        == 0
    )
    moved = "id,kind,lat,lon,name\nrb-encamp,checkpoint,42.56673,1.60018,Roadblock Canillo\n"
    result = _run(
        "post",
        "import",
        str(_write(tmp_path, "moved.csv", moved)),
        "--network",
        "andorra",
        "--json",
    )
    assert result.exit_code == 0 and json.loads(result.stdout)["updated"] == 1
    post = _stored()["rb-encamp"]
    assert (post["lat"], post["name"]) == (42.56673, "Roadblock Canillo")
    assert post["channels"] == [{"kind": "mqtt", "url": BROKER}] and post["region"] == "Encamp"


def test_channels_a_csv_cannot_hold_are_warned_and_kept_in_json_lines(
    sqlite_engine: Engine, andorra: Network, tmp_path: Path
) -> None:
    two_hooks = {
        "id": "cp-1",
        "kind": "checkpoint",
        "name": "CP 1",
        "lat": 42.5063,
        "lon": 1.5218,
        "channels": [
            {"kind": "webhook", "url": HOOK.format(1)},
            {"kind": "webhook", "url": HOOK.format(2)},
        ],
    }
    path = _write(tmp_path, "one.jsonl", json.dumps(two_hooks) + "\n")
    assert _run("post", "import", str(path), "--network", "andorra").exit_code == 0
    csv_out = _run("post", "export")
    assert csv_out.exit_code == 0 and "cannot hold every channel" in csv_out.stderr
    assert "cp-1" in csv_out.stderr
    jsonl = _run("post", "export", "--format", "jsonl")
    assert json.loads(jsonl.stdout)["channels"] == two_hooks["channels"]


def test_a_supervisor_cannot_become_public(
    sqlite_engine: Engine, andorra: Network, tmp_path: Path
) -> None:
    assert (
        _run(
            "post", "import", str(_write(tmp_path, "posts.csv", GOOD_CSV)), "--network", "andorra"
        ).exit_code
        == 0
    )
    public = "id,kind,lat,lon\nhq-andorra,public,42.5063,1.5218\n"
    result = _run(
        "post", "import", str(_write(tmp_path, "pub.csv", public)), "--network", "andorra"
    )
    assert result.exit_code == 1
    assert "line 2, column kind: post 'rb-encamp' is supervised by 'hq-andorra'" in result.stderr
    assert _stored()["hq-andorra"]["kind"] == "police"


def test_import_needs_an_imported_network(sqlite_engine: Engine, tmp_path: Path) -> None:
    result = _run(
        "post", "import", str(_write(tmp_path, "posts.csv", GOOD_CSV)), "--network", "atlantis"
    )
    assert result.exit_code == 1 and "atlantis" in result.stderr and _count() == 0


@pytest.fixture()
def admin(sqlite_engine: Engine, andorra: Network) -> tuple[TestClient, dict[str, str]]:
    headers = {}
    with session_scope(sqlite_engine) as db:
        for name, role in (("root", Role.ADMIN), ("ri", Role.COORDINATOR)):
            user = create_user(db, username=name, role=role, actor=None)
            headers[name] = f"Bearer {issue_token(db, user_id=user.id, actor=None)}"
    return TestClient(create_app(timers=False)), headers


def test_api_import_for_admins(admin: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = admin
    url = "/api/v1/posts/import?network=andorra"
    as_admin = {"Authorization": tokens["root"], "Content-Type": "text/csv"}
    answer = client.post(url, content=GOOD_CSV.encode(), headers=as_admin)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "network": "andorra",
        "format": "csv",
        "posts": 3,
        "created": 3,
        "updated": 0,
    }
    assert (
        client.post(
            url,
            content=GOOD_CSV.encode(),
            headers={"Authorization": tokens["ri"], "Content-Type": "text/csv"},
        ).status_code
        == 403
    )
    jsonl = '{"id": "x", "kind": "police", "name": "X", "lat": 42.5063, "lon": 1.5218}\n'
    answer = client.post(
        url,
        content=jsonl.encode(),
        headers={"Authorization": tokens["root"], "Content-Type": "application/x-ndjson"},
    )
    assert answer.status_code == 200 and answer.json()["format"] == "jsonl"


def test_api_import_problems_are_a_422_with_every_row(
    admin: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = admin
    headers = {"Authorization": tokens["root"], "Content-Type": "text/csv"}
    bad = "id,kind,lat,lon\nok,police,42.5063,1.5218\nfar,police,43.6,1.44\nx,nope,1,2\n"
    answer = client.post(
        "/api/v1/posts/import?network=andorra", content=bad.encode(), headers=headers
    )
    assert answer.status_code == 422
    assert [(p["line"], p["column"]) for p in answer.json()["problems"]] == [
        (3, "lat/lon"),
        (4, "kind"),
    ]
    assert "line 3, column lat/lon" in answer.json()["detail"] and _count() == 0
    for url, body in (
        ("/api/v1/posts/import?network=atlantis", b"id,kind,lat,lon\n"),
        ("/api/v1/posts/import?network=andorra", b"id,kind,lat,lon\n\xff\n"),
        ("/api/v1/posts/import", b"id,kind,lat,lon\n"),
    ):
        answer = client.post(url, content=body, headers=headers)
        assert answer.status_code == 422, (url, answer.text)
