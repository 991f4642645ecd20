"""Procure-to-pay writes: FreshBooks bill vendors become M3 suppliers, their bills M3 supplier invoices.

The twin of the customer and order steps in :mod:`planner`. A supplier is created with the number finsync
chooses (``FBV`` + vendor id, from the ``m3_supplier_add`` spec); a bill is entered as one APS450MI batch
(head, its cost lines, approve) built by the ``m3_supplier_invoice_head``/``_line`` specs, and waits for
its supplier's create (blocked, not dead) when that is not done yet. A bill whose supplier finsync is not
creating, or two FreshBooks bills of one vendor with the same number (M3 would take them for one), are
left to a person.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import duckdb

from finsync_dagster.core import TABLES as CORE_TABLES
from finsync_dagster.ledger import State
from finsync_dagster.mapping import m3_records, run_spec
from finsync_dagster.recon.model import MATCH_TABLES, Status
from finsync_dagster.warehouse import table_exists
from finsync_dagster.writeback.actions import KINDS
from finsync_dagster.writeback.planner import (
    Context,
    Left,
    Plan,
    mapped_payloads,
    new_action,
    refused_payload,
    rows_of,
    source_versions,
    wanted_records,
)

SUPPLIER_ADD = "m3.supplier.add"
BILL_ADD = "m3.supplier_invoice.add"
LINE_SPEC = "m3_supplier_invoice_line"


class SupplierLinks:
    """FreshBooks vendor id -> (M3 supplier number, the create it waits for if not done yet).

    In order of trust: the crosswalk, a clear reconciliation match, a create finsync planned.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, context: Context) -> None:
        self.known: dict[str, tuple[str, str | None]] = {}
        table = MATCH_TABLES["suppliers"]
        if table_exists(con, table):
            for row in rows_of(
                con,
                f"SELECT freshbooks_id, infor_id FROM {table} WHERE status IN ($a, $b) "
                "AND freshbooks_id IS NOT NULL AND infor_id IS NOT NULL",
                a=Status.MATCHED.value,
                b=Status.MATCHED_WITH_DIFFERENCES.value,
            ):
                self.known[str(row["freshbooks_id"])] = (str(row["infor_id"]), None)
        for link in context.links:
            if link["entity"] == "suppliers":
                self.known[str(link["freshbooks_id"])] = (str(link["infor_id"]), None)
        self.confirmed = set(self.known)
        for (action, source_id), created in context.creates.items():
            if action != SUPPLIER_ADD or source_id in self.known or created.state == State.CANCELLED:
                continue
            waiting = None if created.state == State.DONE else created.key
            self.known[source_id] = (created.target_id or created.stamp or "", waiting)

    def planned(self, source_id: str, suno: str, key: str) -> None:
        if source_id not in self.confirmed:
            self.known[source_id] = (suno, key)

    def of(self, vendor_id: str | None) -> tuple[str, str | None] | None:
        return None if vendor_id is None else self.known.get(str(vendor_id))


def suppliers_to_m3(
    con: duckdb.DuckDBPyConnection,
    context: Context,
    suppliers: SupplierLinks,
    result: Plan,
    ids: Sequence[str] | None = None,
) -> None:
    missing = {
        k: v
        for k, v in wanted_records(con, "suppliers", "freshbooks", ids).items()
        if k not in suppliers.confirmed
    }
    payloads, refused = mapped_payloads(con, context, KINDS[SUPPLIER_ADD].spec, missing, m3=True)
    versions = source_versions(con, "suppliers", "freshbooks", missing)
    for source_id in missing:
        payload = payloads.get(source_id) or refused_payload(
            "suppliers", "freshbooks", source_id, refused.get(source_id, "not mapped")
        )
        suno = str(payload.get("SUNO") or f"FBV{source_id}")
        action = new_action(
            context, SUPPLIER_ADD, source_id, versions.get(source_id, ""), payload, stamp=suno
        )
        suppliers.planned(source_id, suno, action.key)
        result.actions.append(action)


def bills_to_m3(
    con: duckdb.DuckDBPyConnection,
    context: Context,
    suppliers: SupplierLinks,
    result: Plan,
    ids: Sequence[str] | None = None,
) -> None:
    missing = wanted_records(con, "bills", "freshbooks", ids)
    if not missing:
        return
    bills = {
        str(r["source_id"]): r
        for r in rows_of(
            con,
            f"SELECT source_id, supplier_source_id, bill_number, count(*) OVER "
            f"(PARTITION BY supplier_source_id, bill_number) AS same_number FROM {CORE_TABLES['bills']} "
            "WHERE source = 'freshbooks' QUALIFY source_id IN (SELECT unnest($ids))",
            ids=list(missing),
        )
    }
    heads, refused_heads = mapped_payloads(con, context, KINDS[BILL_ADD].spec, missing, m3=True)
    lines, refused_lines = _bill_lines(con, context, missing)
    versions = source_versions(con, "bills", "freshbooks", missing)
    for source_id, match in missing.items():
        bill = bills.get(source_id, {})
        reference = bill.get("bill_number") or match.get("reference")
        supplier = suppliers.of(bill.get("supplier_source_id"))
        if supplier is None:
            result.left.append(
                Left("bills", "freshbooks", source_id, reference, BILL_ADD,
                     "its vendor is not an M3 supplier and finsync is not creating it: review the supplier first")
            )  # fmt: skip
            continue
        if (bill.get("same_number") or 1) > 1:
            result.left.append(
                Left("bills", "freshbooks", source_id, reference, BILL_ADD,
                     f"another FreshBooks bill of this vendor is numbered {reference!r}: M3 would take them for one")
            )  # fmt: skip
            continue
        suno, waiting_for = supplier
        reason = refused_heads.get(source_id) or refused_lines.get(source_id)
        if reason is None and not lines.get(source_id):
            reason = "the bill has no lines; M3 approves no supplier invoice without them"
        if reason is None:
            reason = unbalanced(heads[source_id], lines[source_id])
        if reason is not None:
            payload = refused_payload("bills", "freshbooks", source_id, reason)
        else:
            head = {**heads[source_id], "SUNO": suno, "SPYN": suno}
            payload = {"head": head, "lines": lines[source_id]}
        result.actions.append(
            new_action(context, BILL_ADD, source_id, versions.get(source_id, ""), payload,
                     stamp=reference, depends_on=waiting_for)
        )  # fmt: skip


def unbalanced(head: dict[str, Any], lines: Sequence[dict[str, Any]]) -> str | None:
    """Why M3 would refuse to approve the batch (gross is not lines plus tax), or None: such a bill is
    never entered, so no batch is left entered but unapproved."""
    net = sum((Decimal(str(line.get("NLAM") or 0)) for line in lines), Decimal("0"))
    tax = Decimal(str(head.get("VTAM") or 0))
    gross = Decimal(str(head.get("CUAM") or 0))
    if net + tax == gross:
        return None
    return f"the bill does not balance: lines {net} plus tax {tax} is not its total {gross}"


def _bill_lines(
    con: duckdb.DuckDBPyConnection, context: Context, bill_ids: Iterable[str]
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """Each bill's cost lines in line order (INBN left out: the batch number is M3's), and the reason
    for a bill with a refused line."""
    wanted = set(bill_ids)
    spec = context.specs[LINE_SPEC]
    mapped = run_spec(spec, con)
    records = m3_records(mapped.table)
    lines: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        bill = str(record.get("INBN"))
        if bill in wanted:
            lines.setdefault(bill, []).append({k: v for k, v in record.items() if k != "INBN"})
    owner = {
        str(source_id): str(bill)
        for source_id, bill in con.sql(
            f"SELECT source_id, bill_source_id FROM {CORE_TABLES['bill_lines']} WHERE source = 'freshbooks'"
        ).fetchall()
    }
    refused: dict[str, str] = {}
    for line_id, errors in zip(
        mapped.rejects.column("source_id").to_pylist(),
        mapped.rejects.column("errors").to_pylist(),
        strict=True,
    ):
        owning = owner.get(str(line_id))
        if owning is not None and owning in wanted:
            refused.setdefault(owning, f"{spec.path.name}: line {line_id}: {errors}")
    return {k: sorted(v, key=lambda r: int(r.get("TRNO") or 0)) for k, v in lines.items()}, refused
