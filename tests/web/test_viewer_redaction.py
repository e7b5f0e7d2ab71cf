"""A viewer's console pages never show the child's name, the suspects or the narrative."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bolo.alerts import service
from bolo.alerts.activation import Attestation
from bolo.alerts.schemas import AlertDraft
from bolo.api import create_app
from bolo.auth.model import User
from bolo.store.db import session_scope
from tests.security.factories import CHILD, HINT_TEXT, PERSONAL, World
from tests.web.conftest import ClientFor

# The last-known place is shown to every staff role (the case list, the map): not checked here.
PLACE = ("Zorbinski",)
OVERRIDE = "Quillane's family says she is in danger; the age is not known."


def _leaks(text: str) -> list[str]:
    return [word for word in PERSONAL if word in text and word not in PLACE]


def test_viewer_forms_and_alert_page_are_redacted(client_for: ClientFor, world: World) -> None:
    viewer = client_for("viewer")
    for path in (
        f"/console/cases/{world.case_id}/alerts/new",
        f"/console/alerts/{world.alert_id}/update",
        f"/console/alerts/{world.alert_id}",
        f"/console/cases/{world.case_id}",
    ):
        answer = viewer.get(path)
        assert answer.status_code == 200, (path, answer.text[:300])
        assert _leaks(answer.text) == [], path
        assert "[restricted]" in answer.text, path


def test_coordinator_still_sees_the_names_on_the_forms(client_for: ClientFor, world: World) -> None:
    coordinator = client_for("coordinator")
    for path in (
        f"/console/cases/{world.case_id}/alerts/new",
        f"/console/alerts/{world.alert_id}/update",
    ):
        answer = coordinator.get(path)
        assert answer.status_code == 200, path
        assert "Quillane Vextrambo" in answer.text, path


def test_a_viewer_reads_no_draft_cap_nor_override_text_over_the_api(
    sqlite_engine: Engine, world: World
) -> None:
    with session_scope(sqlite_engine) as db:
        coordinator = db.get(User, world.users["coordinator"].id)
        assert coordinator is not None
        draft = AlertDraft.model_validate(
            {
                "texts": [
                    {
                        "headline": f"{CHILD} abducted",
                        "description": f"{CHILD}, red coat",
                        "instruction": "Search cars.",
                    }
                ],
                "area": {
                    "description": "Songchon",
                    "circles": [{"lat": 39.2, "lon": 126.2, "radius_km": 50}],
                },
            }
        )
        version = service.draft_alert(db, case_id=world.case_id, data=draft, author=coordinator)
        service.submit_for_approval(
            db,
            version_id=version.id,
            author=coordinator,
            attestation=Attestation(override_reason=OVERRIDE),
        )
        version_id, alert_id = version.id, version.alert_id
    client = TestClient(create_app(timers=False))
    viewer = {"Authorization": f"Bearer {world.tokens['viewer']}"}
    approver = {"Authorization": f"Bearer {world.tokens['approver']}"}
    assert client.get(f"/api/v1/alert-versions/{version_id}/cap", headers=viewer).status_code == 403
    assert CHILD in client.get(f"/api/v1/alert-versions/{version_id}/cap", headers=approver).text
    issued = client.get(f"/api/v1/alert-versions/{world.version_id}/cap", headers=viewer)
    assert issued.status_code == 200  # what the public was sent
    seen = client.get(f"/api/v1/alerts/{alert_id}", headers=viewer).text
    assert OVERRIDE not in seen and "[restricted]" in seen
    assert OVERRIDE in client.get(f"/api/v1/alerts/{alert_id}", headers=approver).text


def test_a_viewer_reads_no_hint_text_over_the_api(world: World) -> None:
    """The hints' free text can name people and places: the API redacts it for a viewer as the
    case page does, and keeps the hint's direction."""
    client = TestClient(create_app(timers=False))
    viewer = {"Authorization": f"Bearer {world.tokens['viewer']}"}
    coordinator = {"Authorization": f"Bearer {world.tokens['coordinator']}"}
    for path in (f"/api/v1/cases/{world.case_id}", "/api/v1/cases"):
        seen = client.get(path, headers=viewer)
        assert seen.status_code == 200, seen.text
        assert HINT_TEXT not in seen.text, path
        assert '"bearing_deg":0' in seen.text.replace(" ", "").replace(".0", ""), path
        assert HINT_TEXT in client.get(path, headers=coordinator).text, path
