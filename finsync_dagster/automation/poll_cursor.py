"""A poller's cursor: the newest change stamp seen, and which changes near it were already reported.

A source is asked for the changes stamped at or after ``floor(watermark)``, an overlap behind the newest
stamp seen, so a change committed a little late, or sharing its stamp with one already read (ties: M3's
``LMDT`` is a date, FreshBooks' ``updated_min`` a day), is still in the next answer; the ``seen`` set,
``key@stamp`` of every change at or after the floor, keeps an overlap from reporting a change twice. A
change is reported again only when its stamp moves (it changed again). What the cursor cannot see is a
change committed more than the overlap after a newer one was read; the nightly full refresh covers that.

Stamps are strings that sort in time order (M3's ``yyyyMMddHHmmssfff``, FreshBooks' ``YYYY-MM-DD
HH:MM:SS``); the caller supplies ``floor``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Change = tuple[str, str]  # (key, stamp)


@dataclass(frozen=True)
class PollCursor:
    watermark: str | None = None
    seen: frozenset[str] = field(default_factory=frozenset)

    def to_json(self) -> dict[str, object]:
        return {"watermark": self.watermark, "seen": sorted(self.seen)}

    @classmethod
    def from_json(cls, raw: dict[str, object] | None) -> PollCursor:
        if not raw:
            return cls()
        watermark = raw.get("watermark")
        seen = raw.get("seen")
        tokens = frozenset(str(token) for token in seen) if isinstance(seen, list) else frozenset()
        return cls(watermark if isinstance(watermark, str) else None, tokens)


def advance(
    cursor: PollCursor, observed: Iterable[Change], *, floor: Callable[[str], str]
) -> tuple[list[Change], PollCursor]:
    """The changes in ``observed`` not reported before, and the cursor after them.

    ``observed`` is what the source answered for "changed at or after ``floor(watermark)``" (it may say
    more, older changes too: they are taken as already reported, unless there is no watermark yet).
    """
    lowest = floor(cursor.watermark) if cursor.watermark is not None else None
    new: list[Change] = []
    reported = set(cursor.seen)
    for key, stamp in sorted(set(observed), key=lambda change: (change[1], change[0])):
        token = f"{key}@{stamp}"
        if token in reported or (lowest is not None and stamp < lowest):
            continue
        reported.add(token)
        new.append((key, stamp))
    stamps = [stamp for _key, stamp in new]
    if cursor.watermark is not None:
        stamps.append(cursor.watermark)
    if not stamps:
        return new, cursor
    watermark = max(stamps)
    kept = floor(watermark)
    return new, PollCursor(watermark, frozenset(t for t in reported if t.rsplit("@", 1)[1] >= kept))


def cursors_from_json(raw: str | None) -> dict[str, PollCursor]:
    """A sensor's cursor: one :class:`PollCursor` per ``pair/entity``."""
    data = json.loads(raw) if raw else {}
    return {name: PollCursor.from_json(value) for name, value in data.items()}


def cursors_to_json(cursors: dict[str, PollCursor]) -> str:
    return json.dumps({name: cursor.to_json() for name, cursor in sorted(cursors.items())}, sort_keys=True)
