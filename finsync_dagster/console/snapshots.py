"""Reconciliation results as the console reads them: a pair's report folders, never its warehouse.

A report folder (``reports.writer``) is renamed into place whole and never changed after, so a
:class:`Snapshot` of one is cached by its folder name and read without any lock while syncs run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from finsync_dagster.errors import ConfigError
from finsync_dagster.reports.review_files import RECORDS_FILE, REVIEW_FILE
from finsync_dagster.reports.writer import latest_report
from finsync_dagster.settings import Settings

RUN_FOLDER = re.compile(r"^(\d{8}T\d{6}Z)-[A-Za-z0-9_-]{1,64}$")
SUGGESTION_STATUSES = ("ambiguous",)


@dataclass(frozen=True)
class ReviewItem:
    """One exception row of a match table."""

    entity: str
    status: str
    freshbooks_id: str | None
    infor_id: str | None
    confidence: float | None
    rule: str | None
    suggestion: bool
    differences: tuple[dict[str, Any], ...]
    reference: str | None
    customer: str | None
    currency_code: str | None
    freshbooks_amount: Decimal | None
    infor_amount: Decimal | None
    amount_at_stake: Decimal | None
    item_date: date | None
    note: str | None

    @property
    def is_suggestion(self) -> bool:
        """A pairing for a person to confirm: both records are there, and a matcher proposed them."""
        both = self.freshbooks_id is not None and self.infor_id is not None
        return both and (self.suggestion or self.status in SUGGESTION_STATUSES)

    @property
    def only_in(self) -> str | None:
        """The one system that has the record, for a record missing in the other."""
        if self.freshbooks_id is not None and self.infor_id is None:
            return "freshbooks"
        if self.infor_id is not None and self.freshbooks_id is None:
            return "infor"
        return None

    @property
    def differing_fields(self) -> set[str]:
        return {str(d.get("field")) for d in self.differences}


@dataclass(frozen=True)
class Record:
    """A core record of one system, its fields as text (money exact)."""

    source: str
    kind: str
    source_id: str
    fields: dict[str, str | None]


@dataclass(frozen=True)
class Snapshot:
    pair: str
    run: str
    folder: Path
    written_at: datetime
    items: tuple[ReviewItem, ...]
    complete: bool  # False for a report written before the console's files existed

    def records(self, entity: str, source: str, ids: list[str]) -> dict[str, Record]:
        """The records of ``source`` with these ids (an order before an AR invoice of the same id)."""
        if not ids or not self.complete:
            return {}
        rows = _query(
            self.folder / RECORDS_FILE,
            "SELECT source, kind, source_id, record FROM read_parquet($file) "
            "WHERE entity = $entity AND source = $source AND source_id IN (SELECT unnest($ids)) "
            "ORDER BY kind = 'order' DESC",
            entity=entity,
            source=source,
            ids=ids,
        )
        found: dict[str, Record] = {}
        for row in rows:
            found.setdefault(row[2], _record(row))
        return found

    def search(self, entity: str, source: str, text: str, limit: int = 25) -> list[Record]:
        """Records of ``source`` whose fields contain every word of ``text`` (any case)."""
        if not self.complete:
            return []
        words = [w.lower() for w in text.split() if w][:8]
        every_word = (
            "AND list_bool_and(list_transform($words, lambda w: contains(lower(source_id || ' ' || record), w))) "
            if words
            else ""
        )
        rows = _query(
            self.folder / RECORDS_FILE,
            "SELECT source, kind, source_id, record FROM read_parquet($file) "
            f"WHERE entity = $entity AND source = $source {every_word}ORDER BY source_id LIMIT $limit",
            entity=entity,
            source=source,
            limit=limit,
            **({"words": words} if words else {}),
        )
        return [_record(row) for row in rows]


def _query(file: Path, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with duckdb.connect() as con:
        return con.execute(sql, {"file": str(file), **params}).fetchall()


def _record(row: tuple[Any, ...]) -> Record:
    return Record(source=row[0], kind=row[1], source_id=row[2], fields=json.loads(row[3]))


def run_time(run: str) -> datetime | None:
    match = RUN_FOLDER.match(run)
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def latest_folder(settings: Settings, pair: str) -> Path | None:
    """The pair's newest report folder, refused if it resolves outside ``$FINSYNC_HOME``."""
    paths = latest_report(settings.reports_dir(pair))
    if paths is None:
        return None
    try:
        folder = settings.inside_home(paths.directory)
    except ConfigError:
        return None
    return folder if folder.is_dir() and RUN_FOLDER.match(folder.name) else None


def load(pair: str, folder: Path) -> Snapshot:
    review = folder / REVIEW_FILE
    complete = review.exists() and (folder / RECORDS_FILE).exists()
    items: list[ReviewItem] = []
    if review.exists():
        with duckdb.connect() as con:
            rows = (
                con.sql("SELECT * FROM read_parquet($file)", params={"file": str(review)})
                .to_arrow_table()
                .to_pylist()
            )
        for row in rows:
            items.append(
                ReviewItem(
                    entity=row["entity"],
                    status=row["status"],
                    freshbooks_id=row["freshbooks_id"],
                    infor_id=row["infor_id"],
                    confidence=row["confidence"],
                    rule=row["rule"],
                    suggestion=bool(row["suggestion"]),
                    differences=tuple(json.loads(row["differences"] or "[]")),
                    reference=row["reference"],
                    customer=row["customer"],
                    currency_code=row["currency_code"],
                    freshbooks_amount=row["freshbooks_amount"],
                    infor_amount=row["infor_amount"],
                    amount_at_stake=row["amount_at_stake"],
                    item_date=row["item_date"],
                    note=row["note"],
                )
            )
    items.sort(key=lambda i: (-(i.amount_at_stake or Decimal(0)), i.entity, i.reference or ""))
    written = run_time(folder.name) or datetime.fromtimestamp(folder.stat().st_mtime, UTC)
    return Snapshot(pair, folder.name, folder, written, tuple(items), complete)


def run_folders(settings: Settings, pair: str) -> list[Path]:
    """Every finished report folder of the pair, newest first."""
    root = settings.reports_dir(pair)
    if not root.is_dir():
        return []
    return sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and RUN_FOLDER.match(p.name)),
        key=lambda p: p.name,
        reverse=True,
    )
