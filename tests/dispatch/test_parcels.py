"""Parcels: several outbox rows to a JetStream message, with a stable de-duplication id."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bolo.dispatch.nats.parcels import PickedRow, parcel_of, parcels, rows_of

ROW = st.builds(PickedRow, st.uuids().map(str), st.integers(1, 8), st.text(min_size=1, max_size=40))


@given(st.lists(ROW, min_size=1, max_size=60), st.integers(1, 20))
def test_parcels_carry_every_row_once_in_order(rows: list[PickedRow], size: int) -> None:
    cut = list(parcels(rows, rows_per_message=size))
    assert all(1 <= len(p.rows) <= size for p in cut)
    carried = [pair for p in cut for pair in rows_of(p.body)]
    assert carried == [(row.delivery_id, row.attempt) for row in rows]


@given(st.lists(ROW, min_size=1, max_size=20))
def test_the_same_rows_give_the_same_msg_id(rows: list[PickedRow]) -> None:
    assert parcel_of(rows).msg_id == parcel_of(list(rows)).msg_id


def test_another_publication_of_a_row_gets_another_msg_id() -> None:
    first = parcel_of([PickedRow("d1", 1, "d1:1:0"), PickedRow("d2", 1, "d2:1:0")])
    requeued = parcel_of([PickedRow("d1", 1, "d1:1:1700000000000"), PickedRow("d2", 1, "d2:1:0")])
    retried = parcel_of([PickedRow("d1", 2, "d1:2:0"), PickedRow("d2", 1, "d2:1:0")])
    assert len({first.msg_id, requeued.msg_id, retried.msg_id}) == 3


def test_one_row_messages_of_earlier_versions_are_read() -> None:
    assert rows_of(json.dumps({"id": "d1", "attempt": 3}).encode()) == [("d1", 3)]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'"rows"',
        b'{"rows": [["d1"]]}',
        b'{"rows": [["d1", "x"]]}',
        b'{"id": "d1"}',
        b"{}",
    ],
)
def test_a_body_that_is_no_dispatch_message_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError, match="not a dispatch message"):
        rows_of(body)


def test_rows_per_message_must_be_positive() -> None:
    with pytest.raises(ValueError):
        list(parcels([PickedRow("d", 1, "m")], rows_per_message=0))
