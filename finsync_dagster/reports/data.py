"""What a report says, gathered once from the warehouse: counts, exceptions, ageing and anomalies."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import duckdb

from finsync_dagster.recon.model import EXCEPTION_STATUSES, MATCH_TABLES, STATUSES
from finsync_dagster.reports.text import visible_row
from finsync_dagster.warehouse import qualified, table_exists
from finsync_dagster.warehouse.schemas import ANOMALIES, QUARANTINE

ENTITY_TITLES = {
    "customers": "Customers",
    "invoices": "Invoices",
    "payments": "Payments",
    "expenses": "Expenses",
    "suppliers": "Suppliers",
    "bills": "Supplier bills",
}
STATUS_TITLES = {
    "matched": "Matched",
    "matched_with_differences": "Matched, with differences",
    "missing_in_infor": "Missing in Infor",
    "missing_in_freshbooks": "Missing in FreshBooks",
    "ambiguous": "Ambiguous (please confirm)",
    "duplicate_suspected": "Suspected duplicate",
    "unmatched_expected": "No counterpart yet, as expected (draft or void)",
}
AGEING_BUCKETS = ("0-30", "31-60", "61-90", "90+")
_MISSING = ("missing_in_infor", "missing_in_freshbooks")


def _exceptions_sql(table: str) -> str:
    """The rows of a match table that need a person (``$statuses``)."""
    return f"""
    SELECT status, reference, customer, currency_code, amount_at_stake, freshbooks_id, infor_id, confidence,
           suggestion, note, differences, item_date, rule
    FROM {table} WHERE list_contains($statuses, status)
    """


def _by_rule_sql(table: str) -> str:
    """How many pairs each rule of a match table made, with their confidence range."""
    return f"""
    SELECT rule, count(*), min(confidence), max(confidence) FROM {table}
    WHERE rule IS NOT NULL GROUP BY rule ORDER BY count(*) DESC, rule
    """


def _match_table(entity: str) -> str:
    """recon's name of the entity's match table, through the warehouse's identifier rule."""
    schema, _, name = MATCH_TABLES[entity].partition(".")
    return qualified(schema, name)


def confidence_range(row: dict[str, Any]) -> str:
    low, high = row["min_confidence"], row["max_confidence"]
    return f"{low:.2f}" if low == high else f"{low:.2f}-{high:.2f}"


@dataclass
class ReportData:
    pair: str
    run_id: str
    as_of: date
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # entity -> status -> rows
    exceptions: list[dict[str, Any]] = field(default_factory=list)  # most money at stake first
    ageing: dict[str, dict[str, int]] = field(default_factory=dict)  # entity -> bucket -> unmatched rows
    ageing_amounts: dict[str, dict[str, Decimal]] = field(
        default_factory=dict
    )  # currency -> bucket -> amount
    anomalies: list[dict[str, Any]] | None = None  # None: validation has not run for this pair
    quarantined: list[dict[str, Any]] = field(default_factory=list)  # every held record, with its reason
    # entity -> one row per rule that paired records: rule, pairs, lowest and highest confidence
    by_rule: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def reconciled(self) -> bool:
        return bool(self.counts)

    def exceptions_by_entity(self) -> dict[str, int]:
        return {e: sum(n for s, n in c.items() if s in EXCEPTION_STATUSES) for e, c in self.counts.items()}

    def at_stake(self) -> dict[str, Decimal]:
        """Money at stake in the exceptions, per currency (amounts in different currencies never add up)."""
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for row in self.exceptions:
            if row["amount_at_stake"] is not None and row["currency_code"]:
                totals[row["currency_code"]] += row["amount_at_stake"]
        return dict(sorted(totals.items()))

    def headline(self) -> str:
        if not self.reconciled:
            return "Reconciliation has not run for this pair yet."
        records = sum(sum(c.values()) for c in self.counts.values())
        n = len(self.exceptions)
        money = ", ".join(f"{cur} {amt:,.2f}" for cur, amt in self.at_stake().items()) or "no money"
        ignored = sum(1 for row in self.exceptions if row.get("ignored"))
        marked = f"; {ignored} of them ignored by a reviewer, with a reason" if ignored else ""
        return f"{records} records compared; {n} need attention ({money} at stake){marked}."

    def markdown(self) -> str:
        """The summary as Markdown, for the Dagster UI and the terminal."""
        lines = [f"**{self.headline()}**", ""]
        if self.reconciled:
            lines += [
                "| | " + " | ".join(STATUS_TITLES[s] for s in STATUSES) + " |",
                "|---" * (len(STATUSES) + 1) + "|",
            ]
            for entity, counts in self.counts.items():
                lines.append(
                    f"| {ENTITY_TITLES[entity]} | "
                    + " | ".join(str(counts.get(s, 0)) for s in STATUSES)
                    + " |"
                )
        if any(self.by_rule.values()):
            lines += [
                "",
                "How records were paired:",
                "",
                "| Record type | Rule | Pairs | Confidence |",
                "|---|---|---|---|",
            ]
            for entity, rules in self.by_rule.items():
                for r in rules:
                    lines.append(
                        f"| {ENTITY_TITLES[entity]} | {r['rule']} | {r['pairs']} | {confidence_range(r)} |"
                    )
        lines.append("")
        lines.append(self.anomaly_line())
        if self.quarantined:
            lines += ["", f"Held in quarantine: {len(self.quarantined)} records.", ""]
            lines += ["| Table | Record | Rule | Reason |", "|---|---|---|---|"]
            lines += [
                f"| {r['entity']} | {_cell(r['record_id'] or '(no id)')} | {r['rule']} | {_cell(r['reason'])} |"
                for r in self.quarantined
            ]
        return "\n".join(lines)

    def anomaly_line(self) -> str:
        if self.anomalies is None:
            return "Validation: no anomaly checks ran for this pair."
        return f"Validation: {len(self.anomalies)} anomalies flagged."


# (entity, FreshBooks id, Infor id) of an exception -> why a reviewer ignored it (the console's decisions).
Ignored = Mapping[tuple[str, str | None, str | None], str]


def collect(
    con: duckdb.DuckDBPyConnection, pair: str, run_id: str, as_of: date, ignored: Ignored | None = None
) -> ReportData:
    """Read the pair's match tables (and anomalies) from its warehouse; mark the exceptions in ``ignored``."""
    data = ReportData(pair=pair, run_id=run_id, as_of=as_of)
    ignored = ignored or {}
    for entity in MATCH_TABLES:
        table = _match_table(entity)
        if not table_exists(con, table):
            continue
        counts = dict(con.sql(f"SELECT status, count(*) FROM {table} GROUP BY status").fetchall())
        data.counts[entity] = {s: int(counts.get(s, 0)) for s in STATUSES}
        data.by_rule[entity] = [
            {"rule": rule, "pairs": int(n), "min_confidence": low, "max_confidence": high}
            for rule, n, low, high in con.sql(_by_rule_sql(table)).fetchall()
        ]
        exceptions = con.sql(_exceptions_sql(table), params={"statuses": list(EXCEPTION_STATUSES)})
        for row in exceptions.to_arrow_table().to_pylist():
            row["entity"] = entity
            row["age_days"] = (as_of - row["item_date"]).days if row["item_date"] else None
            row["differences_text"] = describe_differences(row["differences"])
            row["ignored"] = ignored.get((entity, row["freshbooks_id"], row["infor_id"]))
            data.exceptions.append(visible_row(row))
    data.exceptions.sort(
        key=lambda r: (-(r["amount_at_stake"] or Decimal(0)), r["entity"], r["reference"] or "")
    )
    _age(data)
    if table_exists(con, ANOMALIES):
        data.anomalies = (
            con.sql(
                f"SELECT entity, record_id, rule, score, explanation FROM {ANOMALIES} "
                "WHERE pair = $pair ORDER BY score DESC NULLS LAST, entity, record_id",
                params={"pair": pair},
            )
            .to_arrow_table()
            .to_pylist()
        )
        data.anomalies = [visible_row(row) for row in data.anomalies]
    if table_exists(con, QUARANTINE):
        held = con.sql(
            f"SELECT entity, record_id, rule, reason, first_seen FROM {QUARANTINE} "
            "WHERE pair = $pair ORDER BY entity, record_id NULLS FIRST, rule",
            params={"pair": pair},
        )
        data.quarantined = [visible_row(row) for row in held.to_arrow_table().to_pylist()]
    return data


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def bucket(age_days: int | None) -> str:
    if age_days is None or age_days <= 30:
        return "0-30"
    if age_days <= 60:
        return "31-60"
    if age_days <= 90:
        return "61-90"
    return "90+"


def _age(data: ReportData) -> None:
    for entity in data.counts:
        data.ageing[entity] = dict.fromkeys(AGEING_BUCKETS, 0)
    for row in data.exceptions:
        if row["status"] not in _MISSING:
            continue
        slot = bucket(row["age_days"])
        data.ageing[row["entity"]][slot] += 1
        if row["currency_code"] and row["amount_at_stake"] is not None:
            amounts = data.ageing_amounts.setdefault(
                row["currency_code"], dict.fromkeys(AGEING_BUCKETS, Decimal(0))
            )
            amounts[slot] += row["amount_at_stake"]


def describe_differences(differences: str | None) -> str:
    """'order_total: FreshBooks 405.89, Infor 405.92 (difference 0.03 USD)' from the JSON list."""
    if not differences:
        return ""
    parts = []
    for item in json.loads(differences):
        text = f"{item['field']}: FreshBooks {item.get('freshbooks') or '(empty)'}, Infor {item.get('infor') or '(empty)'}"
        if item.get("difference"):
            text += (
                f" (difference {item['difference']}{' ' + item['currency'] if item.get('currency') else ''})"
            )
        parts.append(text)
    return "; ".join(parts)
