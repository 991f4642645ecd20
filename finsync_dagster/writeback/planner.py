"""From a reconciliation to the writes that resolve it: which differences become outbox actions, and how.

Pure over the pair's warehouse (``core.*`` and ``recon.*`` in DuckDB) plus what the ledger knows (the
crosswalk and the creates already planned): no Dagster, no HTTP. Payloads come from the shipped
``core_to_m3``/``core_to_freshbooks`` mapping specs, so a mapping change is a YAML change; the planner
only fills in what reconciliation knows and a spec cannot: which M3 customer a FreshBooks client is, and
which action must be done first.

Only clear outcomes are acted on: a record missing on one side (not a suggestion, not ambiguous, not a
suspected duplicate), and fields that differ on a matched pair where ``write_back.owners`` names the
field's owner. Money differences never become writes. Whatever a rule set to ``review`` would have done,
and whatever cannot be done yet, is returned as ``left`` with the reason, for the report and the console.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from finsync_dagster.core import TABLES as CORE_TABLES
from finsync_dagster.ledger import Action, PlannedAction, State
from finsync_dagster.mapping import Spec, freshbooks_bodies, m3_records, run_spec
from finsync_dagster.mapping.engine import columns_read
from finsync_dagster.recon.model import MATCH_TABLES, Status
from finsync_dagster.warehouse import table_exists
from finsync_dagster.writeback.actions import KINDS, kind
from finsync_dagster.writeback.config import WriteBackConfig
from finsync_dagster.writeback.shop_orders import plan_shop_orders

# M3 customer numbers finsync gives the FreshBooks clients it creates; such a customer without a
# FreshBooks partner had one, so it is never copied back.
FROM_FRESHBOOKS = "^FB[0-9]+$"


@dataclass(frozen=True)
class Left:
    """A difference no action was planned for, and why (for the report and the console)."""

    entity: str
    source_system: str
    source_id: str
    reference: str | None
    action: str  # what would resolve it
    reason: str


@dataclass
class Plan:
    actions: list[PlannedAction] = field(default_factory=list)
    left: list[Left] = field(default_factory=list)

    def count(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for action in self.actions:
            found[action.action] = found.get(action.action, 0) + 1
        return found


@dataclass(frozen=True)
class Context:
    """What the planner reads besides the warehouse."""

    pair: str
    config: WriteBackConfig
    specs: Mapping[str, Spec]
    company: str  # the pair's M3 company (CONO)
    links: Sequence[Mapping[str, Any]] = ()  # the crosswalk rows of the pair (ledger)
    creates: Mapping[tuple[str, str], Action] = field(default_factory=dict)  # outbox creates by (action, id)


def plan(con: duckdb.DuckDBPyConnection, context: Context) -> Plan:
    """Every write the latest reconciliation calls for, in dependency order."""
    result = Plan()
    rules = context.config.rules
    from finsync_dagster.writeback import procure  # it builds on this module's helpers

    customers = _CustomerLinks(con, context)
    suppliers = procure.SupplierLinks(con, context)
    steps: list[tuple[str, Callable[[], None]]] = [
        (rules.shop_orders_to_freshbooks, lambda: plan_shop_orders(con, context, result)),
        (rules.customers_to_m3, lambda: _customers_to_m3(con, context, customers, result)),
        (rules.suppliers_to_m3, lambda: procure.suppliers_to_m3(con, context, suppliers, result)),
        (rules.bills_to_m3, lambda: procure.bills_to_m3(con, context, suppliers, result)),
        (rules.invoices_to_m3, lambda: _invoices_to_m3(con, context, customers, result)),
        (rules.payments_to_m3, lambda: _payments_to_m3(con, context, customers, result)),
        (rules.expenses_to_m3, lambda: _expenses_to_m3(con, context, result)),
        (rules.customers_to_freshbooks, lambda: _customers_to_freshbooks(con, context, result)),
        (rules.invoice_status_to_freshbooks, lambda: _invoice_status_to_freshbooks(con, context, result)),
        (rules.field_changes, lambda: _field_changes(con, context, customers, result)),
    ]
    for mode, step in steps:
        if mode == "off":
            continue
        before = len(result.actions)
        step()
        if mode == "review":
            for action in result.actions[before:]:
                result.left.append(
                    Left(action.entity, action.source_system, action.source_id, action.stamp, action.action,
                         "the rule is set to review: a person decides")
                )  # fmt: skip
            del result.actions[before:]
    return result


def creates_for(
    con: duckdb.DuckDBPyConnection, context: Context, entity: str, source: str, ids: Sequence[str]
) -> Plan:
    """The creates of the named records of ``source`` in the other system, as a person asked for them
    (the console's "create in M3 / FreshBooks"): the rules' own builders, payload specs and dependencies,
    whatever reconciliation concluded about these records."""
    result = Plan()
    from finsync_dagster.writeback import procure  # it builds on this module's helpers

    customers = _CustomerLinks(con, context)
    suppliers = procure.SupplierLinks(con, context)
    builders: dict[tuple[str, str], Callable[[], None]] = {
        ("suppliers", "freshbooks"): lambda: procure.suppliers_to_m3(con, context, suppliers, result, ids),
        ("bills", "freshbooks"): lambda: procure.bills_to_m3(con, context, suppliers, result, ids),
        ("customers", "freshbooks"): lambda: _customers_to_m3(con, context, customers, result, ids),
        ("invoices", "freshbooks"): lambda: _invoices_to_m3(con, context, customers, result, ids),
        ("payments", "freshbooks"): lambda: _payments_to_m3(con, context, customers, result, ids),
        ("expenses", "freshbooks"): lambda: _expenses_to_m3(con, context, result, ids),
        ("customers", "infor"): lambda: _customers_to_freshbooks(con, context, result, ids),
        ("shop_orders", "shop"): lambda: plan_shop_orders(con, context, result, ids),
    }
    build = builders.get((entity, source))
    if build is None:
        for source_id in ids:
            result.left.append(
                Left(entity, source, source_id, None, "", f"finsync does not create {entity} from {source}")
            )
        return result
    build()
    return result


# -- what reconciliation says ----------------------------------------------------------------------


def rows_of(con: duckdb.DuckDBPyConnection, sql: str, **params: Any) -> list[dict[str, Any]]:
    relation = con.sql(sql, params=params or None)
    names = relation.columns
    return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]


def _missing(con: duckdb.DuckDBPyConnection, entity: str, side: str) -> list[dict[str, Any]]:
    """Match rows of ``entity`` whose record exists only on ``side``, clear enough to act on."""
    table = MATCH_TABLES[entity]
    if not table_exists(con, table):
        return []
    status = Status.MISSING_IN_INFOR if side == "freshbooks" else Status.MISSING_IN_FRESHBOOKS
    column = f"{side}_id"
    return rows_of(
        con,
        f"SELECT {column} AS id, reference, note FROM {table} "
        f"WHERE status = $status AND NOT coalesce(suggestion, false) AND {column} IS NOT NULL ORDER BY {column}",
        status=status.value,
    )


def wanted_records(
    con: duckdb.DuckDBPyConnection, entity: str, side: str, ids: Sequence[str] | None
) -> dict[str, dict[str, Any]]:
    """The records to create: those reconciliation calls missing, or the ones a person named."""
    if ids is None:
        return {str(row["id"]): row for row in _missing(con, entity, side)}
    return {str(source_id): {"id": str(source_id), "reference": None, "note": None} for source_id in ids}


def source_versions(
    con: duckdb.DuckDBPyConnection, entity: str, source: str, ids: Iterable[str]
) -> dict[str, str]:
    """Each record's change stamp (its ``updated_at``), the version an action is planned from."""
    wanted = list(ids)
    if not wanted or not table_exists(con, CORE_TABLES[entity]):
        return {}
    rows = con.sql(
        f"SELECT source_id, CAST(updated_at AS VARCHAR) FROM {CORE_TABLES[entity]} "
        "WHERE source = $source AND source_id IN (SELECT unnest($ids))",
        params={"source": source, "ids": wanted},
    ).fetchall()
    return {str(source_id): stamp or "" for source_id, stamp in rows}


def mapped_payloads(
    con: duckdb.DuckDBPyConnection, context: Context, spec_name: str, ids: Iterable[str], *, m3: bool
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The spec's payload for each wanted source key, and the reason for each one the spec refused."""
    wanted = set(ids)
    if not wanted:
        return {}, {}
    spec = context.specs[spec_name]
    result = run_spec(spec, con)
    keys = [str(k) for k in result.keys.to_pylist()]
    bodies: list[dict[str, Any]] = m3_records(result.table) if m3 else freshbooks_bodies(result.table)
    payloads = {key: body for key, body in zip(keys, bodies, strict=True) if key in wanted}
    refused = {
        str(key): f"{spec.path.name}: {errors}"
        for key, errors in zip(
            result.rejects.column("source_id").to_pylist(),
            result.rejects.column("errors").to_pylist(),
            strict=True,
        )
        if str(key) in wanted
    }
    return payloads, refused


def refused_payload(entity: str, source: str, source_id: str, reason: str) -> dict[str, Any]:
    """A payload the mapping refused: the action is planned so the refusal reaches the dead letters."""
    return {"_refused": reason, "_entity": entity, "_source": source, "_source_id": source_id}


def new_action(
    context: Context,
    action: str,
    source_id: str,
    version: str,
    payload: dict[str, Any],
    *,
    stamp: str | None,
    depends_on: str | None = None,
) -> PlannedAction:
    what = kind(action)
    return PlannedAction(
        pair=context.pair,
        action=action,
        target=what.target,
        entity=what.entity,
        source_system=what.source_system,
        source_id=source_id,
        source_version=version or _digest(payload),
        payload=payload,
        stamp=stamp,
        depends_on=depends_on,
        versioned=what.versioned,
    )


def _digest(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


# -- which M3 customer a FreshBooks client is ------------------------------------------------------


class _CustomerLinks:
    """FreshBooks client id -> (M3 customer number, the action creating it if it is not done yet).

    In order of trust: the crosswalk, a clear reconciliation match, a create finsync planned.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, context: Context) -> None:
        self.known: dict[str, tuple[str, str | None]] = {}
        self.confirmed: set[str] = set()  # linked by the crosswalk or a clear match, not by a create
        table = MATCH_TABLES["customers"]
        if table_exists(con, table):
            for row in rows_of(
                con,
                f"SELECT freshbooks_id, infor_id FROM {table} WHERE status IN ($a, $b) AND NOT coalesce(suggestion, false) "
                "AND freshbooks_id IS NOT NULL AND infor_id IS NOT NULL",
                a=Status.MATCHED.value,
                b=Status.MATCHED_WITH_DIFFERENCES.value,
            ):
                self.known[str(row["freshbooks_id"])] = (str(row["infor_id"]), None)
        for link in context.links:
            if link["entity"] == "customers":
                self.known[str(link["freshbooks_id"])] = (str(link["infor_id"]), None)
        self.confirmed = set(self.known)
        for (action, source_id), created in context.creates.items():
            if action != "m3.customer.add" or source_id in self.known or created.state == State.CANCELLED:
                continue
            waiting = None if created.state == State.DONE else created.key
            self.known[source_id] = (created.target_id or created.stamp or "", waiting)

    def planned(self, action: PlannedAction) -> None:
        if action.source_id not in self.confirmed:
            self.known[action.source_id] = (action.stamp or "", action.key)

    def of(self, freshbooks_id: str | None) -> tuple[str, str | None] | None:
        return None if freshbooks_id is None else self.known.get(str(freshbooks_id))


# -- FreshBooks -> M3 --------------------------------------------------------------------------------


def _customers_to_m3(
    con: duckdb.DuckDBPyConnection,
    context: Context,
    customers: _CustomerLinks,
    result: Plan,
    ids: Sequence[str] | None = None,
) -> None:
    missing = wanted_records(con, "customers", "freshbooks", ids)
    missing = {k: v for k, v in missing.items() if k not in customers.confirmed}
    payloads, refused = mapped_payloads(con, context, KINDS["m3.customer.add"].spec, missing, m3=True)
    versions = source_versions(con, "customers", "freshbooks", missing)
    for source_id in missing:
        payload = payloads.get(source_id) or refused_payload(
            "customers", "freshbooks", source_id, refused.get(source_id, "not mapped")
        )
        stamp = payload.get("CUNO") or f"FB{source_id}"
        action = new_action(
            context, "m3.customer.add", source_id, versions.get(source_id, ""), payload, stamp=stamp
        )
        customers.planned(action)
        result.actions.append(action)


def _invoices_to_m3(
    con: duckdb.DuckDBPyConnection,
    context: Context,
    customers: _CustomerLinks,
    result: Plan,
    ids: Sequence[str] | None = None,
) -> None:
    missing = wanted_records(con, "invoices", "freshbooks", ids)
    if not missing:
        return
    invoices = {
        str(r["source_id"]): r
        for r in rows_of(
            con,
            f"SELECT source_id, customer_source_id, invoice_number, status FROM {CORE_TABLES['invoices']} "
            "WHERE source = 'freshbooks' AND source_id IN (SELECT unnest($ids))",
            ids=list(missing),
        )
    }
    heads, refused_heads = mapped_payloads(con, context, KINDS["m3.order.add"].spec, missing, m3=True)
    lines, refused_lines = _lines(con, context, missing)
    versions = source_versions(con, "invoices", "freshbooks", missing)
    for source_id, match in missing.items():
        invoice = invoices.get(source_id, {})
        customer = customers.of(invoice.get("customer_source_id"))
        reference = invoice.get("invoice_number") or match.get("reference")
        if customer is None:
            result.left.append(
                Left("invoices", "freshbooks", source_id, reference, "m3.order.add",
                     "its client is not in M3 and finsync is not creating it: review the customer first")
            )  # fmt: skip
            continue
        cuno, waiting_for = customer
        reason = refused_heads.get(source_id) or refused_lines.get(source_id)
        if source_id in heads and not lines.get(source_id) and reason is None:
            reason = "the invoice has no lines; M3 cannot confirm an order without lines"
        if reason is not None:
            payload = refused_payload("invoices", "freshbooks", source_id, reason)
        else:
            payload = {"head": {**heads[source_id], "CUNO": cuno}, "lines": lines[source_id]}
        result.actions.append(
            new_action(
                context, "m3.order.add", source_id, versions.get(source_id, ""), payload,
                stamp=reference, depends_on=waiting_for,
            )
        )  # fmt: skip


def _lines(
    con: duckdb.DuckDBPyConnection, context: Context, invoice_ids: Iterable[str]
) -> tuple[dict[str, list[dict[str, str]]], dict[str, str]]:
    """Each invoice's order lines (in line order), and the reason for an invoice with a refused line."""
    wanted = set(invoice_ids)
    spec = context.specs["m3_order_line"]
    result = run_spec(spec, con)
    line_ids = [str(k) for k in result.keys.to_pylist()]
    records = m3_records(result.table)
    order = {
        str(source_id): (str(invoice), number or 0)
        for source_id, invoice, number in con.sql(
            f"SELECT source_id, invoice_source_id, line_number FROM {CORE_TABLES['invoice_lines']} "
            "WHERE source = 'freshbooks'"
        ).fetchall()
    }
    lines: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for line_id, record in zip(line_ids, records, strict=True):
        invoice = record.get("ORNO")
        if invoice in wanted:
            lines.setdefault(invoice, []).append((order.get(line_id, (invoice, 0))[1], record))
    refused: dict[str, str] = {}
    for line_id, errors in zip(
        result.rejects.column("source_id").to_pylist(),
        result.rejects.column("errors").to_pylist(),
        strict=True,
    ):
        invoice = order.get(str(line_id), (None, 0))[0]
        if invoice in wanted:
            refused.setdefault(invoice, f"{spec.path.name}: line {line_id}: {errors}")
    return {k: [r for _, r in sorted(v, key=lambda item: item[0])] for k, v in lines.items()}, refused


def _payments_to_m3(
    con: duckdb.DuckDBPyConnection,
    context: Context,
    customers: _CustomerLinks,
    result: Plan,
    ids: Sequence[str] | None = None,
) -> None:
    missing = wanted_records(con, "payments", "freshbooks", ids)
    if not missing:
        return
    payments = {
        str(r["source_id"]): r
        for r in rows_of(
            con,
            f"SELECT p.source_id, p.customer_source_id, p.invoice_source_id, i.invoice_number "
            f"FROM {CORE_TABLES['payments']} p LEFT JOIN {CORE_TABLES['invoices']} i "
            "ON i.source = 'freshbooks' AND i.source_id = p.invoice_source_id "
            "WHERE p.source = 'freshbooks' AND p.source_id IN (SELECT unnest($ids))",
            ids=list(missing),
        )
    }
    lines, refused = mapped_payloads(con, context, KINDS["m3.payment.add"].spec, missing, m3=True)
    versions = source_versions(con, "payments", "freshbooks", missing)
    orders = {(a.source_id): a for (name, _), a in context.creates.items() if name == "m3.order.add"}
    for source_id in missing:
        payment = payments.get(source_id, {})
        invoice_number = payment.get("invoice_number")
        customer = customers.of(payment.get("customer_source_id"))
        if invoice_number is None or customer is None:
            why = (
                "its invoice is unknown"
                if invoice_number is None
                else "its client is not linked to an M3 customer"
            )
            result.left.append(
                Left("payments", "freshbooks", source_id, invoice_number, "m3.payment.add", why)
            )
            continue
        order_action = orders.get(str(payment.get("invoice_source_id")))
        planned_order = next(
            (
                a
                for a in result.actions
                if a.action == "m3.order.add" and a.source_id == str(payment.get("invoice_source_id"))
            ),
            None,
        )
        waiting_for = (planned_order.key if planned_order else None) or (
            order_action.key if order_action is not None and order_action.state != State.DONE else None
        )
        if source_id in refused:
            payload = refused_payload("payments", "freshbooks", source_id, refused[source_id])
        else:
            record = {k: v for k, v in lines[source_id].items() if k not in ("PBID", "TRNO", "CINO", "INYR")}
            payload = {"line": {**record, "CUNO": customer[0]}, "invoice_reference": invoice_number}
        stamp = f"FBP{source_id}"[:15]
        result.actions.append(
            new_action(context, "m3.payment.add", source_id, versions.get(source_id, ""), payload,
                     stamp=stamp, depends_on=waiting_for)
        )  # fmt: skip


def _expenses_to_m3(
    con: duckdb.DuckDBPyConnection, context: Context, result: Plan, ids: Sequence[str] | None = None
) -> None:
    missing = wanted_records(con, "expenses", "freshbooks", ids)
    lines, refused = mapped_payloads(con, context, KINDS["m3.gl.add"].spec, missing, m3=True)
    versions = source_versions(con, "expenses", "freshbooks", missing)
    for source_id in missing:
        if source_id in refused:
            payload = refused_payload("expenses", "freshbooks", source_id, refused[source_id])
        else:
            payload = {
                "debit": lines[source_id]["PARM"],
                "offset_account": context.config.m3.expense_offset_account,
                "interface": context.config.m3.gl_interface,
                "company": context.company,
            }
        result.actions.append(
            new_action(
                context,
                "m3.gl.add",
                source_id,
                versions.get(source_id, ""),
                payload,
                stamp=f"FBE{source_id}"[:15],
            )
        )


# -- M3 -> FreshBooks --------------------------------------------------------------------------------


def _customers_to_freshbooks(
    con: duckdb.DuckDBPyConnection, context: Context, result: Plan, ids: Sequence[str] | None = None
) -> None:
    missing = wanted_records(con, "customers", "infor", ids)
    from_freshbooks = {k for k in missing if re.fullmatch(FROM_FRESHBOOKS, k)}
    for source_id in sorted(from_freshbooks):
        result.left.append(
            Left("customers", "infor", source_id, missing[source_id].get("reference"), "freshbooks.client.create",
                 "this M3 customer was created from a FreshBooks client that is gone: a person decides")
        )  # fmt: skip
    wanted = {k: v for k, v in missing.items() if k not in from_freshbooks}
    linked = {str(link["infor_id"]) for link in context.links if link["entity"] == "customers"}
    wanted = {k: v for k, v in wanted.items() if k not in linked}
    payloads, refused = mapped_payloads(
        con, context, KINDS["freshbooks.client.create"].spec, wanted, m3=False
    )
    versions = source_versions(con, "customers", "infor", wanted)
    for source_id in wanted:
        stamp = f"finsync M3 customer {source_id}"
        if source_id in payloads:
            body = payloads[source_id]
            note = body.get("note")
            payload = {**body, "note": f"{note}\n{stamp}" if note else stamp}
        else:
            payload = refused_payload("customers", "infor", source_id, refused.get(source_id, "not mapped"))
        result.actions.append(
            new_action(
                context,
                "freshbooks.client.create",
                source_id,
                versions.get(source_id, ""),
                payload,
                stamp=stamp,
            )
        )


def _invoice_status_to_freshbooks(con: duckdb.DuckDBPyConnection, context: Context, result: Plan) -> None:
    """Drafts M3 has delivered or invoiced: mark them sent, with M3's numbers on them."""
    table = MATCH_TABLES["invoices"]
    if not (table_exists(con, table) and table_exists(con, CORE_TABLES["orders"])):
        return
    rows = rows_of(
        con,
        f"""SELECT m.freshbooks_id, m.reference, o.source_id AS order_id, o.order_number, o.status AS m3_status,
                   ar.invoice_number AS m3_invoice, CAST(o.updated_at AS VARCHAR) AS m3_version
            FROM {table} m
            JOIN {CORE_TABLES["invoices"]} f ON f.source = 'freshbooks' AND f.source_id = m.freshbooks_id
            JOIN {CORE_TABLES["orders"]} o ON o.source = 'infor' AND o.customer_reference = f.invoice_number
            LEFT JOIN {CORE_TABLES["invoices"]} ar ON ar.source = 'infor' AND ar.order_number = o.order_number
            WHERE m.status IN ($a, $b) AND f.status = 'draft' AND o.status IN ('delivered', 'invoiced', 'closed')
            ORDER BY m.freshbooks_id""",
        a=Status.MATCHED.value,
        b=Status.MATCHED_WITH_DIFFERENCES.value,
    )
    if not rows:
        return
    notes, _refused = mapped_payloads(
        con, context, KINDS["freshbooks.invoice.mark_sent"].spec, {str(r["order_id"]) for r in rows}, m3=False
    )
    for row in rows:
        line = notes.get(str(row["order_id"]), {}).get("notes") or f"M3 order {row['order_number']} (finsync)"
        payload = {
            "invoiceid": str(row["freshbooks_id"]),
            "order_number": row["order_number"],
            "m3_invoice": row["m3_invoice"],
            "note_line": line,
        }
        version = f"{row['m3_status']}:{row['m3_invoice'] or ''}:{row['m3_version'] or ''}"
        result.actions.append(
            new_action(context, "freshbooks.invoice.mark_sent", str(row["freshbooks_id"]), version, payload,
                     stamp=row["reference"])
        )  # fmt: skip


# -- differences in fields with an owner ----------------------------------------------------------------


def _field_changes(
    con: duckdb.DuckDBPyConnection, context: Context, customers: _CustomerLinks, result: Plan
) -> None:
    table = MATCH_TABLES["customers"]
    if not table_exists(con, table):
        return
    rows = rows_of(
        con,
        f"SELECT freshbooks_id, infor_id, reference, differences FROM {table} "
        "WHERE status = $status AND NOT coalesce(suggestion, false) ORDER BY freshbooks_id",
        status=Status.MATCHED_WITH_DIFFERENCES.value,
    )
    to_m3: dict[str, tuple[str, set[str]]] = {}
    to_freshbooks: dict[str, tuple[str, set[str]]] = {}
    for row in rows:
        differing = {d["field"] for d in json.loads(row["differences"] or "[]")}
        for name in differing:
            owner = context.config.owner("customers", name)
            if owner == "freshbooks":
                to_m3.setdefault(str(row["freshbooks_id"]), (str(row["infor_id"]), set()))[1].add(name)
            elif owner == "infor":
                to_freshbooks.setdefault(str(row["infor_id"]), (str(row["freshbooks_id"]), set()))[1].add(
                    name
                )
    _changes(con, context, result, "m3.customer.change", "freshbooks", to_m3, m3=True)
    _changes(con, context, result, "freshbooks.client.update", "infor", to_freshbooks, m3=False)


def _changes(
    con: duckdb.DuckDBPyConnection,
    context: Context,
    result: Plan,
    action: str,
    source: str,
    wanted: Mapping[str, tuple[str, set[str]]],
    *,
    m3: bool,
) -> None:
    if not wanted:
        return
    spec = context.specs[kind(action).spec]
    payloads, refused = mapped_payloads(con, context, spec.name, wanted, m3=m3)
    versions = source_versions(con, "customers", source, wanted)
    for source_id, (partner, fields) in wanted.items():
        if source_id in refused:
            payload = refused_payload("customers", source, source_id, refused[source_id])
        else:
            body = payloads.get(source_id, {})
            targets = {name for name, used in _fields_reading(spec).items() if used & fields}
            payload = {name: value for name, value in body.items() if name in targets}
            if m3:
                payload = {"CUNO": partner, **{k: v for k, v in payload.items() if k != "CUNO"}}
            else:
                payload = {"clientid": partner, "fields": payload}
        result.actions.append(
            new_action(context, action, source_id, versions.get(source_id, ""), payload, stamp=partner)
        )


def _fields_reading(spec: Spec) -> dict[str, set[str]]:
    """For each target field of ``spec``, the source columns its rule reads."""
    return {name: columns_read(rule) for name, rule in spec.fields.items()}
