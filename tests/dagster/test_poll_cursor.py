"""The pollers' cursor: every change reported once, across cursor boundaries and stamp ties.

Generated histories: changes with stamps (many sharing one), each becoming visible at some poll, late by
at most the overlap; at each poll the source answers each record's current version at or after the floor
(and, like M3's LMDT and FreshBooks' day-wide ``updated_min``, some older ones too). Whatever the history,
every version a poll sees is reported by that poll, and none twice.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from finsync_dagster.automation.poll_cursor import (
    PollCursor,
    advance,
    cursors_from_json,
    cursors_to_json,
)

OVERLAP = 5


def stamp(n: int) -> str:
    return f"{max(n, 0):06d}"


def floor(watermark: str) -> str:
    return stamp(int(watermark) - OVERLAP)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[tuple[str, int, int]], int]:
    """(key, stamp, the poll from which it is visible); late by at most the overlap."""
    polls = draw(st.integers(1, 8))
    changes: list[tuple[str, int, int]] = []
    newest = -1
    for poll in range(polls):
        low = max(0, newest - OVERLAP)
        for _ in range(draw(st.integers(0, 5))):
            key = draw(st.sampled_from(["c1", "c2", "c3", f"k{len(changes)}"]))
            changes.append((key, draw(st.integers(low, low + 12)), poll))
        newest = max([newest, *(value for _key, value, at in changes if at == poll)])
    return changes, polls


@given(histories(), st.randoms(use_true_random=False))
def test_each_version_is_reported_once_and_by_the_poll_that_first_sees_it(history, rng) -> None:
    changes, polls = history
    cursor = PollCursor()
    reported: list[tuple[str, str]] = []
    for poll in range(polls):
        # the source shows each record's current version: its newest visible stamp
        current: dict[str, int] = {}
        for key, value, at in changes:
            if at <= poll:
                current[key] = max(current.get(key, value), value)
        visible = [(key, stamp(value)) for key, value in current.items()]
        lowest = floor(cursor.watermark) if cursor.watermark else stamp(0)
        answer = [change for change in visible if change[1] >= lowest]
        answer += [change for change in visible if change[1] < lowest and rng.random() < 0.5]  # coarse query
        rng.shuffle(answer)
        new, cursor = advance(cursor, answer, floor=floor)
        reported += new
        cursor = cursors_from_json(cursors_to_json({"p/e": cursor}))["p/e"]  # survives the sensor's JSON
        assert set(visible) <= set(reported)  # nothing visible is missed
    assert len(reported) == len(set(reported))  # nothing reported twice


def test_a_tie_at_the_watermark_read_in_two_polls_is_reported_once_each() -> None:
    first, cursor = advance(PollCursor(), [("a", "000010")], floor=floor)
    second, cursor = advance(cursor, [("a", "000010"), ("b", "000010")], floor=floor)
    third, cursor = advance(cursor, [("a", "000010"), ("b", "000010"), ("a", "000011")], floor=floor)
    assert (first, second, third) == ([("a", "000010")], [("b", "000010")], [("a", "000011")])
    assert cursor.watermark == "000011"


def test_nothing_new_keeps_the_cursor() -> None:
    _, cursor = advance(PollCursor(), [("a", "000010")], floor=floor)
    assert advance(cursor, [], floor=floor) == ([], cursor)
