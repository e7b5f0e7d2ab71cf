"""Fixtures of the posts tests: the Andorra OSM extract imported once, copied into each test's
data folder (a fresh ``BOLO_DATA_DIR``), and the organisation's own posts CSV for it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bolo.network import Network, load

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ANDORRA_PBF = FIXTURES / "vh_andorra-latest.osm.pbf"
ANDORRA_POSTS = FIXTURES / "andorra_posts.csv"


@pytest.fixture(scope="session")
def andorra_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A networks folder holding the Andorra extract imported as network ``andorra``."""
    from bolo.network.osm import import_osm

    root = tmp_path_factory.mktemp("andorra-networks")
    import_osm(ANDORRA_PBF, name="andorra", root=root)
    return root


@pytest.fixture()
def andorra(andorra_store: Path, data_dir: Path) -> Network:
    """The ``andorra`` network in this test's data folder (as `bolo network import` leaves it)."""
    from bolo.settings import get_settings

    shutil.copytree(andorra_store / "andorra", get_settings().networks_dir() / "andorra")
    return load("andorra")
