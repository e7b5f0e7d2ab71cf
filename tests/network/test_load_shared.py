"""bolo.network.load_shared: one Network object per stored copy, and only a few kept."""

from __future__ import annotations

from pathlib import Path

import pytest

import bolo.network
from bolo.settings import reset_settings


def test_the_shared_networks_are_few_however_many_data_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(bolo.network._SHARED_MAX + 3):
        monkeypatch.setenv("BOLO_DATA_DIR", str(tmp_path / str(number)))
        reset_settings()
        bolo.network.load_shared("dprk")
    assert len(bolo.network._shared) <= bolo.network._SHARED_MAX
    reset_settings()


def test_the_same_copy_is_one_object_and_a_new_copy_is_read_again(data_dir: Path) -> None:
    first, identity = bolo.network.load_shared("dprk")
    again, same = bolo.network.load_shared("dprk")
    assert again is first and same == identity
    bolo.network.store.save_network(first, bolo.network.networks_root())  # a new import
    fresh, other = bolo.network.load_shared("dprk")
    assert fresh is not first and other != identity
