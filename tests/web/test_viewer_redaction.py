"""A viewer's console pages never show the child's name, the suspects or the narrative."""

from __future__ import annotations

from tests.security.world import PERSONAL, World
from tests.web.conftest import ClientFor

# The last-known place is shown to every staff role (the case list, the map): not checked here.
PLACE = ("Zorbinski",)


def _leaks(text: str) -> list[str]:
    return [word for word in PERSONAL if word in text and word not in PLACE]


def test_viewer_forms_and_alert_page_are_redacted(client_for: ClientFor, world: World) -> None:
    viewer = client_for("viewer")
    for path in (f"/console/cases/{world.case_id}/alerts/new",
                 f"/console/alerts/{world.alert_id}/update",
                 f"/console/alerts/{world.alert_id}",
                 f"/console/cases/{world.case_id}"):
        answer = viewer.get(path)
        assert answer.status_code == 200, (path, answer.text[:300])
        assert _leaks(answer.text) == [], path
        assert "[restricted]" in answer.text, path


def test_coordinator_still_sees_the_names_on_the_forms(client_for: ClientFor,
                                                        world: World) -> None:
    coordinator = client_for("coordinator")
    for path in (f"/console/cases/{world.case_id}/alerts/new",
                 f"/console/alerts/{world.alert_id}/update"):
        answer = coordinator.get(path)
        assert answer.status_code == 200, path
        assert "Quillane Vextrambo" in answer.text, path
