"""A pair's latest reconciliation and what is open in it, cached per report folder (folders never change)."""

from __future__ import annotations

from finsync_dagster.console import snapshots
from finsync_dagster.console.queue import Queue, build_queue
from finsync_dagster.console.snapshots import Snapshot
from finsync_dagster.console.web import Console

_CACHE = "snapshots"
_KEEP = 16


def latest_snapshot(console: Console, pair: str) -> Snapshot | None:
    folder = snapshots.latest_folder(console.settings, pair)
    if folder is None:
        return None
    return snapshot_of(console, pair, folder.name)


def snapshot_of(console: Console, pair: str, run: str) -> Snapshot | None:
    cache: dict[tuple[str, str], Snapshot] = console.caches.setdefault(_CACHE, {})
    found = cache.get((pair, run))
    if found is None:
        folder = console.settings.reports_dir(pair) / run
        if not snapshots.RUN_FOLDER.match(run) or not folder.is_dir():
            return None
        found = snapshots.load(pair, folder)
        if len(cache) >= _KEEP:
            cache.pop(next(iter(cache)))
        cache[(pair, run)] = found
    return found


def open_queue(console: Console, pair: str) -> tuple[Snapshot | None, Queue]:
    snapshot = latest_snapshot(console, pair)
    if snapshot is None:
        return None, Queue()
    ledger = console.ledger
    return snapshot, build_queue(snapshot.items, ledger.links(pair), ledger.decisions(pair))
