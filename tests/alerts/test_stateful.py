"""Random action sequences never break the two-person rule or the reference chain."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select

from bolo.alerts import service, takedown
from bolo.alerts.model import Alert, AlertVersion, CapStatus, VersionState
from bolo.auth.model import Role
from bolo.auth.service import create_user
from bolo.cap.codec import decode
from bolo.errors import BoloError
from bolo.store.db import engine_for, session_scope, upgrade_database
from tests.alerts.factories import ATTESTED, a_case, content, draft


class AlertMachine(RuleBasedStateMachine):
    """Three users try every action in any order; the service must keep the rules."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.engine = engine_for(f"sqlite:///{Path(self.tmp.name) / 'm.db'}")
        upgrade_database(self.engine)
        with session_scope(self.engine) as db:
            self.users = [
                create_user(db, username=n, role=r, actor=None)
                for n, r in (
                    ("c1", Role.COORDINATOR),
                    ("c2", Role.COORDINATOR),
                    ("a1", Role.APPROVER),
                )
            ]
            self.case_id = a_case(db, self.users[0]).id
        self.alert_ids: list[str] = []

    def teardown(self) -> None:
        self.engine.dispose()
        self.tmp.cleanup()

    def _try(self, fn: object) -> None:
        with session_scope(self.engine) as db:
            try:
                fn(db)  # type: ignore[operator]
            except BoloError:
                db.rollback()

    @rule(user=st.integers(0, 2), status=st.sampled_from(["Actual", "Exercise"]))
    def draft_alert(self, user: int, status: str) -> None:
        def act(db: object) -> None:
            v = service.draft_alert(
                db,
                case_id=self.case_id,
                data=draft([], status),  # type: ignore[arg-type]
                author=self.users[user],
            )
            self.alert_ids.append(v.alert_id)

        self._try(act)

    def _version(self, db: object, pick: int) -> AlertVersion | None:
        versions = list(db.execute(select(AlertVersion).order_by(AlertVersion.id)).scalars())  # type: ignore[attr-defined]
        return versions[pick % len(versions)] if versions else None

    @rule(user=st.integers(0, 2), pick=st.integers(0, 50), headline=st.sampled_from(["A", "B"]))
    def edit(self, user: int, pick: int, headline: str) -> None:
        def act(db: object) -> None:
            v = self._version(db, pick)
            if v is not None:
                service.edit_version(
                    db,
                    version_id=v.id,
                    content=content([], headline),  # type: ignore[arg-type]
                    author=self.users[user],
                )

        self._try(act)

    @rule(user=st.integers(0, 2), pick=st.integers(0, 50))
    def submit(self, user: int, pick: int) -> None:
        def act(db: object) -> None:
            v = self._version(db, pick)
            if v is not None:
                service.submit_for_approval(
                    db, version_id=v.id, author=self.users[user], attestation=ATTESTED
                )  # type: ignore[arg-type]

        self._try(act)

    @rule(user=st.integers(0, 2), pick=st.integers(0, 50), stale=st.booleans())
    def approve(self, user: int, pick: int, stale: bool) -> None:
        def act(db: object) -> None:
            v = self._version(db, pick)
            if v is not None:
                sha = "0" * 64 if stale else v.sha256
                service.approve(db, version_id=v.id, sha256=sha, approver=self.users[user])  # type: ignore[arg-type]

        self._try(act)

    @precondition(lambda self: bool(self.alert_ids))
    @rule(user=st.integers(0, 2), pick=st.integers(0, 50))
    def update(self, user: int, pick: int) -> None:
        alert_id = self.alert_ids[pick % len(self.alert_ids)]
        self._try(
            lambda db: service.update_alert(
                db, alert_id=alert_id, content=content([]), author=self.users[user]
            )
        )

    @precondition(lambda self: bool(self.alert_ids))
    @rule(user=st.integers(0, 2), pick=st.integers(0, 50))
    def cancel(self, user: int, pick: int) -> None:
        alert_id = self.alert_ids[pick % len(self.alert_ids)]
        self._try(
            lambda db: takedown.cancel_alert(
                db, alert_id=alert_id, reason="r", actor=self.users[user]
            )
        )

    @invariant()
    def live_versions_had_two_people(self) -> None:
        with session_scope(self.engine) as db:
            for alert in db.execute(select(Alert)).scalars():
                for v in service.issued_versions(db, alert_id=alert.id):
                    assert v.approved_sha256 == v.sha256
                    if alert.cap_status == CapStatus.ACTUAL and v.msg_type != "Cancel":
                        assert v.approved_by_id is not None and v.approved_by_id != v.author_id

    @invariant()
    def each_issued_version_references_all_earlier(self) -> None:
        with session_scope(self.engine) as db:
            for alert in db.execute(select(Alert)).scalars():
                issued = [
                    v
                    for v in service.versions_of(db, alert_id=alert.id)
                    if v.state == VersionState.ISSUED
                ]
                for i, v in enumerate(issued):
                    refs = {r.identifier for r in decode(v.cap_xml.encode()).references}
                    assert refs == {e.identifier for e in issued[:i]}


AlertMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestAlertMachine = AlertMachine.TestCase
