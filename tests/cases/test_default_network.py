"""A case that names no network is on the installation's own: BOLO_DEFAULT_NETWORK, else the only
imported network, else the bundled corridors. (Cases of an organisation with its own country fell
back to "dprk" from the API and the console form.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bolo.auth.model import Role
from bolo.auth.service import create_user
from bolo.cases.schemas import CaseCreate
from bolo.cases.service import open_case
from bolo.network import default_network
from bolo.settings import get_settings
from bolo.store.db import session_scope

CASE = {
    "children": [{"name": "N"}],
    "last_known": {
        "lat": 42.5,
        "lon": 1.52,
        "time_earliest": "2026-01-01T10:00:00Z",
        "time_latest": "2026-01-01T11:00:00Z",
    },
}


def _import_meta(name: str) -> None:
    """A network folder as `bolo network import` leaves it (only what is_known reads)."""
    from bolo.network.store import FORMAT_VERSION, network_dir

    folder = network_dir(get_settings().networks_dir(), name)
    folder.mkdir(parents=True)
    (folder / "meta.json").write_text(json.dumps({"name": name, "format": FORMAT_VERSION}))


def test_the_default_follows_the_installation(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BOLO_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BOLO_DEFAULT_NETWORK", raising=False)
    get_settings.cache_clear()
    assert default_network() == "dprk"
    _import_meta("andorra")
    assert default_network() == "andorra"
    _import_meta("monaco")
    assert default_network() == "dprk"  # two imported: no guess
    monkeypatch.setenv("BOLO_DEFAULT_NETWORK", "monaco")
    get_settings.cache_clear()
    assert default_network() == "monaco"
    get_settings.cache_clear()


def test_a_case_without_a_network_is_on_the_only_imported_one(
    monkeypatch: pytest.MonkeyPatch, sqlite_engine: Engine
) -> None:
    monkeypatch.delenv("BOLO_DEFAULT_NETWORK", raising=False)
    get_settings.cache_clear()
    _import_meta("andorra")
    with session_scope(sqlite_engine) as db:
        user = create_user(db, username="c", role=Role.COORDINATOR, actor=None)
        case = open_case(db, data=CaseCreate.model_validate(CASE), actor=user)
        assert case.network == "andorra"
