"""Working from the console: the activation gate on the drafting form, an approver's rejection
that the author reads, editing a draft, hints, sightings, resolving and closing a case. Every
refusal names what to fix, never a 500."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.security.factories import World
from tests.web.conftest import ClientFor

OVERRIDE = "The child is younger than it looks and the family is in hiding."
FORM = {
    "cap_status": "Actual",
    "en_headline": "Boy taken near Songchon",
    "en_description": "A boy, 7, red coat.",
    "en_instruction": "Check cars.",
    "area_description": "Songchon",
    "expires_in_hours": "24",
    "post": "cp-1",
}


def _alert_id(answer: object) -> str:
    location = answer.headers["location"]  # type: ignore[attr-defined]
    match = re.fullmatch(r"/console/alerts/([0-9a-f-]{36})", location)
    assert match, location
    return match.group(1)


def _draft(coordinator: TestClient, world: World, **extra: str) -> str:
    answer = coordinator.post(f"/console/cases/{world.case_id}/alerts", data={**FORM, **extra})
    assert answer.status_code == 303, answer.text[:2000]
    return _alert_id(answer)


def test_the_drafting_form_refuses_an_unjustified_live_alert(
    client_for: ClientFor, world: World
) -> None:
    coordinator = client_for("coordinator")
    form = coordinator.get(f"/console/cases/{world.case_id}/alerts/new")
    assert "Activation criteria" in form.text and "Met: a child under 18" in form.text
    refused = coordinator.post(f"/console/cases/{world.case_id}/alerts", data=FORM)
    assert refused.status_code == 422
    assert "confirm that an abduction is believed" in refused.text
    assert 'value="Boy taken near Songchon"' in refused.text  # what was typed is kept
    alert_id = _draft(coordinator, world, risk_of_harm="yes", override_reason=OVERRIDE)
    approval = client_for("approver").get(f"/console/alerts/{alert_id}")
    assert "Activation criteria NOT met" in approval.text and OVERRIDE in approval.text
    met = _draft(coordinator, world, risk_of_harm="yes", abduction_believed="yes")
    assert "Activation criteria met" in client_for("approver").get(f"/console/alerts/{met}").text


def test_a_rejected_draft_goes_back_to_its_author_who_edits_it(
    client_for: ClientFor, world: World
) -> None:
    coordinator, approver = client_for("coordinator"), client_for("approver")
    alert_id = _draft(coordinator, world, risk_of_harm="yes", abduction_believed="yes")
    empty = approver.post(f"/console/alerts/{alert_id}/reject", data={"reason": " "})
    assert empty.status_code == 422 and "say why" in empty.text
    done = approver.post(
        f"/console/alerts/{alert_id}/reject",
        data={"reason": "Give the plate number in the headline."},
    )
    assert done.status_code == 303
    page = coordinator.get(f"/console/alerts/{alert_id}")
    assert "Sent back by u-approver" in page.text
    assert "Give the plate number in the headline." in page.text
    assert "Drafts sent back by an approver" in coordinator.get("/console").text
    form = coordinator.get(f"/console/alerts/{alert_id}/edit")
    assert form.status_code == 200 and "Give the plate number" in form.text
    assert 'value="Boy taken near Songchon"' in form.text and "checked" in form.text
    bad = coordinator.post(
        f"/console/alerts/{alert_id}/edit",
        data={**FORM, "en_headline": "", "risk_of_harm": "yes", "abduction_believed": "yes"},
    )
    assert bad.status_code == 422 and "headline" in bad.text
    saved = coordinator.post(
        f"/console/alerts/{alert_id}/edit",
        data={
            **FORM,
            "en_headline": "Boy taken near Songchon, plate PX-7731-QZ",
            "risk_of_harm": "yes",
            "abduction_believed": "yes",
        },
    )
    assert saved.status_code == 303
    again = approver.get(f"/console/alerts/{alert_id}")
    assert "plate PX-7731-QZ" in again.text and 'id="approve"' in again.text
    assert "Sent back earlier" in again.text
    viewer = client_for("viewer")
    assert (
        viewer.post(f"/console/alerts/{alert_id}/reject", data={"reason": "no"}).status_code == 403
    )


def test_hints_and_sightings_arrive_later(client_for: ClientFor, world: World) -> None:
    coordinator = client_for("coordinator")
    missing = coordinator.post(
        f"/console/cases/{world.case_id}/hints",
        data={"hint_kind": "heading", "hint_text": "driver"},
    )
    assert missing.status_code == 422 and "needs bearing_deg" in missing.text
    added = coordinator.post(
        f"/console/cases/{world.case_id}/hints",
        data={
            "hint_kind": "destination",
            "hint_lat": "40.1",
            "hint_lon": "127.2",
            "hint_text": "cousin's farm",
        },
    )
    assert added.status_code == 303
    assert (
        "hint: destination cousin&#39;s farm"
        in coordinator.get(f"/console/cases/{world.case_id}").text
    )
    unknown = coordinator.post(
        f"/console/cases/{world.case_id}/sightings",
        data={"post_id": "nowhere", "seen_at": "2020-01-01T10:00", "text": "a boy"},
    )
    assert unknown.status_code in (404, 422) and "nowhere" in unknown.text
    no_time = coordinator.post(
        f"/console/cases/{world.case_id}/sightings",
        data={"post_id": "cp-0", "seen_at": "yesterday", "text": "a boy"},
    )
    assert no_time.status_code == 422 and "seen_at" in no_time.text
    from bolo.clock import now

    seen = now().strftime("%Y-%m-%dT%H:%M")
    ok = coordinator.post(
        f"/console/cases/{world.case_id}/sightings",
        data={"post_id": "cp-0", "seen_at": seen, "text": "boy in a red coat at the barrier"},
    )
    assert ok.status_code == 303
    assert re.search(
        r"sighting R?-?[A-Z0-9-]* ?.* at ", coordinator.get(f"/console/cases/{world.case_id}").text
    )


def test_resolve_and_close_from_the_case_page(client_for: ClientFor, world: World) -> None:
    coordinator = client_for("coordinator")
    case = f"/console/cases/{world.case_id}"
    assert coordinator.post(f"{case}/resolve", data={"outcome": "lost"}).status_code == 422
    live = coordinator.post(f"{case}/resolve", data={"outcome": "found_safe"})
    assert live.status_code == 409 and "cancel it first" in live.text
    early = coordinator.post(f"{case}/close")
    assert early.status_code == 409 and "not resolved" in early.text
    cancelled = coordinator.post(
        f"/console/alerts/{world.alert_id}/cancel", data={"reason": "The child was found safe."}
    )
    assert cancelled.status_code == 303
    assert coordinator.post(f"{case}/resolve", data={"outcome": "found_safe"}).status_code == 303
    page = coordinator.get(case)
    assert "Outcome: found safe" in page.text and 'id="close-case"' in page.text
    assert client_for("viewer").post(f"{case}/close").status_code == 403
    assert coordinator.post(f"{case}/close").status_code == 303
    assert "state-closed" in coordinator.get(case).text
