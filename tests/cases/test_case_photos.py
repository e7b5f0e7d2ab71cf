"""A child's photo: uploaded with the report, cleaned, carried by the CAP message, shown to the
public only while an alert is active, and gone after the purge."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from bolo.alerts.model import AlertVersion
from bolo.alerts.service import approve, draft_alert, submit_for_approval
from bolo.alerts.takedown import cancel_alert
from bolo.api import create_app
from bolo.auth.model import Role, User
from bolo.auth.passwords import hash_password
from bolo.auth.service import create_user, issue_token
from bolo.cases.model import Case, CasePhoto, CaseState
from bolo.cases.service import purge_case
from bolo.cli import app
from bolo.store.db import session_scope
from tests.alerts.factories import ATTESTED, a_case, draft, some_posts, staff


def jpeg_with_gps() -> bytes:
    """A small JPEG whose EXIF holds a GPS position and a camera name."""
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0110] = "Secret Camera Model"
    exif.get_ifd(0x8825).update({1: "N", 2: (39.0, 12.0, 0.0), 3: "E", 4: (126.0, 6.0, 0.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


@dataclass
class World:
    client: TestClient
    engine: Engine
    case_id: str
    coordinator: dict[str, str]
    viewer: dict[str, str]


@pytest.fixture()
def world(db_engine: Engine) -> World:
    with session_scope(db_engine) as db:
        coord, _approver = staff(db)
        case = a_case(db, coord)
        viewer = create_user(db, username="viewer", role=Role.VIEWER, actor=None)
        tokens = {
            name: {"Authorization": f"Bearer {issue_token(db, user_id=u.id, actor=None)}"}
            for name, u in (("coord", coord), ("viewer", viewer))
        }
        case_id = case.id
    return World(
        TestClient(create_app(timers=False)), db_engine, case_id, tokens["coord"], tokens["viewer"]
    )


def _upload(
    w: World,
    data: bytes,
    index: int = 0,
    headers: dict[str, str] | None = None,
    mime: str = "image/jpeg",
) -> tuple[int, dict[str, str]]:
    answer = w.client.post(
        f"/api/v1/cases/{w.case_id}/children/{index}/photo",
        files={"photo": ("child.jpg", data, mime)},
        headers=headers if headers is not None else w.coordinator,
    )
    return answer.status_code, answer.json()


def _media_path(url: str) -> str:
    return url[url.index("/media/") :]


def _issue(w: World) -> str:
    with session_scope(w.engine) as db:
        coord = db.execute(select(User).where(User.username == "coord")).scalar_one()
        approver = db.execute(select(User).where(User.username == "approver")).scalar_one()
        version = draft_alert(db, case_id=w.case_id, data=draft(some_posts(db)), author=coord)
        submit_for_approval(db, version_id=version.id, author=coord, attestation=ATTESTED)
        approve(db, version_id=version.id, sha256=version.sha256, approver=approver)
        return version.alert_id


def test_upload_strips_metadata_and_sets_the_childs_photo(world: World) -> None:
    status, body = _upload(world, jpeg_with_gps())
    assert status == 201, body
    with session_scope(world.engine) as db:
        photo = db.execute(select(CasePhoto)).scalar_one()
        stored = Image.open(io.BytesIO(photo.data))
        assert stored.format == "JPEG" and not stored.getexif()
        assert b"Secret Camera Model" not in photo.data
        case = db.get(Case, world.case_id)
        assert case is not None and case.children[0]["photo_url"] == body["photo_url"]
    # Staff see it at once; the public does not, until an alert is out.
    path = _media_path(body["photo_url"])
    assert world.client.get(path, headers=world.viewer).status_code == 200
    assert world.client.get(path).status_code == 404


def test_photo_is_public_while_the_alert_is_active_only(world: World) -> None:
    _status, body = _upload(world, jpeg_with_gps())
    alert_id = _issue(world)
    path = _media_path(body["photo_url"])
    shown = world.client.get(path)
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    with session_scope(world.engine) as db:
        cap = db.execute(select(AlertVersion.cap_xml)).scalar_one()
        assert body["photo_url"] in cap  # the CAP message carries the photo as a resource
        approver = db.execute(select(User).where(User.username == "approver")).scalar_one()
        cancel_alert(db, alert_id=alert_id, reason="child found safe", actor=approver)
    assert world.client.get(path).status_code == 404
    assert world.client.get(path, headers=world.viewer).status_code == 200


@pytest.mark.parametrize(
    ("data", "mime", "status", "words"),
    [
        (b"not an image at all", "image/jpeg", 415, "JPEG, PNG or WebP"),
        (b"\xff\xd8" + b"0" * (5 * 1024 * 1024 + 10), "image/jpeg", 413, "larger than"),
        (b"", "image/jpeg", 422, "empty"),
    ],
)
def test_bad_photos_are_refused_clearly(
    world: World, data: bytes, mime: str, status: int, words: str
) -> None:
    got, body = _upload(world, data, mime=mime)
    assert got == status and words in body["detail"]
    with session_scope(world.engine) as db:
        assert db.execute(select(CasePhoto)).first() is None


def test_wrong_child_wrong_role_and_closed_case(world: World) -> None:
    got, body = _upload(world, jpeg_with_gps(), index=3)
    assert got == 422 and "out of range" in body["detail"]
    assert _upload(world, jpeg_with_gps(), headers=world.viewer)[0] == 403
    with session_scope(world.engine) as db:
        case = db.get(Case, world.case_id)
        assert case is not None
        case.state = CaseState.CLOSED
    got, body = _upload(world, jpeg_with_gps())
    assert got == 409 and "while open" in body["detail"]


def test_purge_deletes_the_photo(world: World) -> None:
    _status, body = _upload(world, jpeg_with_gps())
    with session_scope(world.engine) as db:
        case = db.get(Case, world.case_id)
        assert case is not None
        case.state = CaseState.CLOSED
        purge_case(db, case_id=world.case_id, actor_id=None)
    with session_scope(world.engine) as db:
        assert db.execute(select(CasePhoto)).first() is None
    assert world.client.get(_media_path(body["photo_url"]), headers=world.viewer).status_code == 404


def test_console_upload_form(world: World) -> None:
    with session_scope(world.engine) as db:
        user = db.execute(select(User).where(User.username == "coord")).scalar_one()
        user.password_hash = hash_password("console password 123")
    client = world.client
    signed = client.post(
        "/login",
        data={"username": "coord", "password": "console password 123"},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    case_page = client.get(f"/console/cases/{world.case_id}")
    assert 'enctype="multipart/form-data"' in case_page.text
    token = case_page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    sent = client.post(
        f"/console/cases/{world.case_id}/photo",
        data={"csrf_token": token, "child_index": "0"},
        files={"photo": ("child.jpg", jpeg_with_gps(), "image/jpeg")},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    shown = client.get(f"/console/cases/{world.case_id}")
    assert 'src="/media/case-photos/' in shown.text
    refused = client.post(
        f"/console/cases/{world.case_id}/photo",
        data={"csrf_token": token, "child_index": "0"},
        files={"photo": ("notes.txt", b"hello", "text/plain")},
        headers={"Accept": "text/html"},
        follow_redirects=False,
    )
    assert refused.status_code == 415 and "JPEG, PNG or WebP" in refused.text


def test_cli_attaches_a_photo_and_refuses_a_missing_file(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    with session_scope(sqlite_engine) as db:
        coord, _approver = staff(db)
        case_id = a_case(db, coord).id
    photo = tmp_path / "child.jpg"
    photo.write_bytes(jpeg_with_gps())
    done = CliRunner().invoke(app, ["case", "photo", case_id, str(photo), "--as", "coord"])
    assert done.exit_code == 0, done.output
    assert "/media/case-photos/" in done.output
    missing = CliRunner().invoke(
        app, ["case", "photo", case_id, str(tmp_path / "none.jpg"), "--as", "coord"]
    )
    assert missing.exit_code != 0 and "no such file" in missing.output
    assert "Traceback" not in missing.output


def test_an_exercise_never_makes_the_photo_public(world: World) -> None:
    _status, body = _upload(world, jpeg_with_gps())
    with session_scope(world.engine) as db:
        coord = db.execute(select(User).where(User.username == "coord")).scalar_one()
        targets = some_posts(db)
        officer = create_user(
            db, username="officer", role=Role.POST_OFFICER, post_id=targets[0], actor=None
        )
        officer_token = {
            "Authorization": f"Bearer {issue_token(db, user_id=officer.id, actor=None)}"
        }
        version = draft_alert(
            db, case_id=world.case_id, data=draft(targets, status="Exercise"), author=coord
        )
        submit_for_approval(db, version_id=version.id, author=coord)
        approve(db, version_id=version.id, sha256=version.sha256, approver=coord)
    path = _media_path(body["photo_url"])
    assert world.client.get(path).status_code == 404
    assert world.client.get(path, headers=officer_token).status_code == 200
    assert world.client.get(path, headers=world.viewer).status_code == 200
