"""What the poll sensors ask each system: which records changed at or after a stamp, as ``(key, stamp)``.

Cheap on purpose (a sensor tick has 60 s): only the key and the change stamp of the records the write
rules act on, never the records themselves; the run the sensor launches reads them.

- M3: ``EXPORTMI`` on the table, ``LMDT >= the floor's date`` (LMDT is a date: the answer holds the whole
  day, which the cursor's ``seen`` set takes care of); the stamp is ``LMTS`` (``yyyyMMddHHmmssfff``, UTC).
- FreshBooks: ``updated_min`` (honoured to the Eastern day, contract §3.4); the stamp is ``updated``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from finsync_dagster.automation.poll_cursor import Change

# How late a change may be committed after a newer one was read, and still be found.
OVERLAP = timedelta(minutes=10)

INFOR_ENTITIES = {"customers": ("OCUSMA", "OK", "CUNO"), "orders": ("OOHEAD", "OA", "ORNO")}
FRESHBOOKS_ENTITIES = ("clients", "invoices", "payments", "expenses")

_LMTS = "%Y%m%d%H%M%S"
_UPDATED = "%Y-%m-%d %H:%M:%S"


def infor_floor(stamp: str) -> str:
    moment = datetime.strptime(stamp[:14], _LMTS) - OVERLAP
    return moment.strftime(_LMTS) + stamp[14:17].ljust(3, "0")


def freshbooks_floor(stamp: str) -> str:
    return (datetime.strptime(stamp[:19], _UPDATED) - OVERLAP).strftime(_UPDATED)


def infor_changes(client: Any, entity: str, floor: str | None) -> Iterator[Change]:
    table, prefix, key = INFOR_ENTITIES[entity]
    since = _lmts_date(floor) if floor else datetime.now(UTC).date() - timedelta(days=1)
    columns = [prefix + key, prefix + "LMTS", prefix + "LMDT"]
    for rows in client.iter_export(
        table=table, columns=columns, where=[(prefix + "LMDT", ">=", since)], typed=False
    ):
        for row in rows:
            stamp = (
                str(row.get(prefix + "LMTS") or "").strip() or str(row.get(prefix + "LMDT", "")) + "000000000"
            )
            yield str(row.get(prefix + key, "")).strip(), stamp


def freshbooks_changes(client: Any, entity: str, floor: str | None) -> Iterator[Change]:
    since = datetime.strptime(floor[:19], _UPDATED) if floor else datetime.now(UTC) - timedelta(days=1)
    for record in client.iter_records(entity, updated_min=since):
        updated = record.get("updated")
        if updated:
            yield str(record.get("id")), str(updated)[:19]


def _lmts_date(stamp: str) -> date:
    return datetime.strptime(stamp[:8], "%Y%m%d").date()
