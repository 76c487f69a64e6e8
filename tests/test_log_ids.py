"""assistant/log/ids.py: ids and timestamps made before the write."""

from __future__ import annotations

import re

from assistant.log.ids import new_id, pick_ticket_id, utc_now


def test_new_ids_are_uuid4_hex_and_distinct():
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_utc_now_has_milliseconds_and_sorts_as_text():
    first, second = utc_now(), utc_now()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first)
    assert first <= second


def test_ticket_ids_avoid_taken_ones_then_fall_back_to_a_uuid():
    taken: set[str] = set()
    for _ in range(50):
        tid = pick_ticket_id(taken.__contains__)
        assert re.fullmatch(r"T-\d{5}", tid) and tid not in taken
        taken.add(tid)
    assert re.fullmatch(r"[0-9a-f]{32}", pick_ticket_id(lambda tid: True))
