"""Shop orders into FreshBooks, the first step of order-to-cash: planned from the pair's staged shop orders.

Each shop order with no FreshBooks invoice yet (none in the crosswalk, no staged FreshBooks invoice with
the order's name in ``po_number``, no create of it done) gets two actions: the buyer's client, one per
e-mail address (found by e-mail when the push runs, created only if FreshBooks has none), and the invoice,
which waits for that client. The invoice's lines are the order's line items, then a discount, a shipping
and a tax line in the shop's own figures in the buyer's currency, so the FreshBooks total is the order's
total to the cent, whatever FreshBooks' own tax rounding would have made of it; a payload whose lines do
not add up to the order's total is refused, never sent.

Test orders and cancelled orders are not invoiced. Edits, refunds and cancellations after the invoice
exists belong to later steps (credit notes), not this one. Once the invoice exists, the FreshBooks -> M3
rules carry the order on.

The crosswalk keeps shop pairings in its two id columns: ``freshbooks_id`` the FreshBooks record,
``infor_id`` the shop's (the order id; for a client, the buyer's e-mail address).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import duckdb

from finsync_dagster.core import TABLES as CORE_TABLES
from finsync_dagster.ledger import Link, State
from finsync_dagster.warehouse import table_exists

ORDERS = "staging.shop_orders"
LINES = "staging.shop_order_lines"
CLIENT = "freshbooks.client.from_shop"
INVOICE = "freshbooks.invoice.from_shop"
INVOICE_SPEC = "freshbooks_shop_invoice"
LINE_SPEC = "freshbooks_shop_invoice_line"
CLIENT_SPEC = "freshbooks_shop_client"
CENT = Decimal("0.01")
# The names of the lines finsync adds: words with a space, never taken for an item number downstream
# (the FreshBooks -> M3 order lines send such text as M3's generic item).
DISCOUNT, SHIPPING, TAX = "Shop discount", "Shop shipping", "Shop tax"


def order_link(invoice_id: str, shop_order_id: str) -> Link:
    return Link("shop_orders", freshbooks_id=invoice_id, infor_id=shop_order_id)


def client_link(client_id: str, email: str) -> Link:
    return Link("shop_customers", freshbooks_id=client_id, infor_id=email)


def money(value: Decimal) -> str:
    return format(value.quantize(CENT), "f")


def plan_shop_orders(
    con: duckdb.DuckDBPyConnection, context: Any, result: Any, ids: Sequence[str] | None = None
) -> None:
    """Add the client and invoice actions of every shop order still without a FreshBooks invoice."""
    # The planner's helpers, imported here: ``planner`` imports this module to list it among its steps.
    from finsync_dagster.writeback.planner import Left, mapped_payloads, new_action, refused_payload

    orders = _orders(con, context, ids)
    if not orders:
        return
    heads, refused_heads = mapped_payloads(con, context, INVOICE_SPEC, orders, m3=False)
    clients, refused_clients = mapped_payloads(con, context, CLIENT_SPEC, orders, m3=False)
    lines, refused_lines = _lines(con, context, orders)
    known = _known_clients(con, context)
    client_actions: dict[str, Any] = {}
    for order_id, order in orders.items():
        email = order["email"]
        if not email:
            result.left.append(
                Left("shop_orders", "shop", order_id, order["name"], INVOICE,
                     "the order has no e-mail address to find or create its FreshBooks client by")
            )  # fmt: skip
            continue
        customerid, waiting_for = known.get(email, (None, None))
        if customerid is None and waiting_for is None:
            if email not in client_actions:
                body = clients.get(order_id)
                payload = (
                    {"email": email, "body": {**_billing_address(order), **body}}
                    if body is not None
                    else refused_payload("shop_customers", "shop", email,
                                          refused_clients.get(order_id, "not mapped"))
                )  # fmt: skip
                client_actions[email] = new_action(
                    context, CLIENT, email, order["version"], payload, stamp=email
                )
                result.actions.append(client_actions[email])
            waiting_for = client_actions[email].key
        reason = refused_heads.get(order_id) or refused_lines.get(order_id)
        if reason is None and not lines.get(order_id):
            reason = "the order has no line items"
        if reason is None:
            body = {k: v for k, v in heads[order_id].items() if k != "customerid"}
            body["lines"] = [*lines[order_id], *_extra_lines(order)]
            reason = _total_differs(order, body["lines"])
        if reason is not None:
            payload = refused_payload("shop_orders", "shop", order_id, reason)
        else:
            payload = {"body": body, "customerid": customerid, "client_action": waiting_for, "email": email}
        result.actions.append(
            new_action(context, INVOICE, order_id, order["version"], payload, stamp=order["name"],
                     depends_on=waiting_for)
        )  # fmt: skip


def _orders(
    con: duckdb.DuckDBPyConnection, context: Any, ids: Sequence[str] | None
) -> dict[str, dict[str, Any]]:
    """The orders to invoice: staged, live, not test, not cancelled, without a FreshBooks invoice."""
    if not table_exists(con, ORDERS):
        return {}
    wanted = "" if ids is None else "AND id IN (SELECT unnest($ids))"
    relation = con.sql(
        f"""SELECT id, name, lower(trim(coalesce(customer_email, email))) AS email, presentment_currency,
                   subtotal_price_presentment AS subtotal, total_shipping_presentment AS shipping,
                   total_tax_presentment AS tax, total_price_presentment AS total, taxes_included,
                   CAST(updated_at AS VARCHAR) AS version, _raw AS raw
            FROM {ORDERS}
            WHERE NOT _deleted AND NOT coalesce(test, false) AND cancelled_at IS NULL {wanted}
            ORDER BY id""",
        params={"ids": list(ids)} if ids is not None else None,
    )
    names = relation.columns
    orders = {str(row[0]): dict(zip(names, row, strict=True)) for row in relation.fetchall()}
    linked = {str(link["infor_id"]) for link in context.links if link["entity"] == "shop_orders"}
    done = {
        source_id
        for (action, source_id), planned in context.creates.items()
        if action == INVOICE and planned.state == State.DONE
    }
    stamped = _stamped(con, [str(o["name"]) for o in orders.values()])
    return {
        order_id: order
        for order_id, order in orders.items()
        if order_id not in linked and order_id not in done and order["name"] not in stamped
    }


def _stamped(con: duckdb.DuckDBPyConnection, names: Sequence[str]) -> set[str]:
    """Order names some staged FreshBooks invoice already carries in its po_number."""
    table = CORE_TABLES["invoices"]
    if not names or not table_exists(con, table):
        return set()
    rows = con.sql(
        f"SELECT DISTINCT po_number FROM {table} WHERE source = 'freshbooks' "
        "AND po_number IN (SELECT unnest($names))",
        params={"names": list(names)},
    ).fetchall()
    return {str(row[0]) for row in rows}


def _known_clients(con: duckdb.DuckDBPyConnection, context: Any) -> dict[str, tuple[str | None, str | None]]:
    """e-mail -> (FreshBooks client id, or the key of the action that finds or creates it)."""
    known: dict[str, tuple[str | None, str | None]] = {}
    for (action, email), planned in context.creates.items():
        if action != CLIENT or planned.state == State.CANCELLED:
            continue
        if planned.state == State.DONE and planned.target_id:
            known[email] = (planned.target_id, None)
        elif planned.state != State.DEAD:
            known[email] = (None, planned.key)
    for link in context.links:
        if link["entity"] == "shop_customers":
            known[str(link["infor_id"])] = (str(link["freshbooks_id"]), None)
    return known


def _lines(
    con: duckdb.DuckDBPyConnection, context: Any, orders: Mapping[str, Any]
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """Each order's line items as invoice lines, in line order, and why an order with a refused line is refused."""
    from finsync_dagster.writeback.planner import mapped_payloads

    parents = {
        str(line_id): str(order_id)
        for line_id, order_id in con.sql(
            f"SELECT id, order_id FROM {LINES} WHERE NOT _deleted AND order_id IN (SELECT unnest($ids))",
            params={"ids": list(orders)},
        ).fetchall()
    }
    bodies, refused = mapped_payloads(con, context, LINE_SPEC, parents, m3=False)
    found: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for line_id, body in bodies.items():
        order_id = parents[line_id]
        currency = orders[order_id]["presentment_currency"]
        line = {**body, "unit_cost": {**body.get("unit_cost", {}), "code": currency}}
        found.setdefault(order_id, []).append((int(line_id) if line_id.isdigit() else 0, line))
    why = {parents[line_id]: f"line {line_id}: {reason}" for line_id, reason in refused.items()}
    return {k: [line for _, line in sorted(v, key=lambda item: item[0])] for k, v in found.items()}, why


def _extra_lines(order: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The order's discount, shipping and tax as lines of their own (quantity 1, the shop's amounts)."""
    raw = json.loads(order["raw"]) if isinstance(order["raw"], str) else (order["raw"] or {})
    currency = order["presentment_currency"]
    items = sum(
        (
            Decimal(str(_presentment(line, "price"))) * int(line.get("quantity") or 0)
            for line in raw.get("line_items", [])
        ),
        Decimal(0),
    )
    extra = []
    discount = items - Decimal(order["subtotal"] or 0)
    if discount > 0:
        codes = ", ".join(str(c.get("code")) for c in raw.get("discount_codes", []) if c.get("code"))
        extra.append(_line(DISCOUNT, codes or "order discount", -discount, currency))
    shipping = Decimal(order["shipping"] or 0)
    if shipping > 0:
        titles = ", ".join(str(s.get("title")) for s in raw.get("shipping_lines", []) if s.get("title"))
        extra.append(_line(SHIPPING, titles or "shipping", shipping, currency))
    tax = Decimal(order["tax"] or 0)
    if tax > 0 and not order["taxes_included"]:
        rates = ", ".join(
            f"{t.get('title')} {Decimal(str(t.get('rate'))) * 100:.4g}%" for t in raw.get("tax_lines", [])
        )
        extra.append(_line(TAX, rates or "tax", tax, currency))
    return extra


def _billing_address(order: Mapping[str, Any]) -> dict[str, str]:
    """The client's address fields from the order's billing address (its shipping address for want of one),
    with the names on it, which a guest's order has no customer record for (the spec's names win)."""
    raw = json.loads(order["raw"]) if isinstance(order["raw"], str) else (order["raw"] or {})
    address = raw.get("billing_address") or raw.get("shipping_address") or {}
    fields = {"fname": "first_name", "lname": "last_name", "p_street": "address1", "p_street2": "address2",
              "p_city": "city", "p_province": "province_code", "p_code": "zip"}  # fmt: skip
    return {target: str(address[source]).strip() for target, source in fields.items() if address.get(source)}


def _presentment(record: Mapping[str, Any], field: str) -> Any:
    money_set = record.get(f"{field}_set") or {}
    return (money_set.get("presentment_money") or {}).get("amount") or record.get(field) or "0"


def _line(name: str, description: str, amount: Decimal, currency: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "qty": "1",
        "unit_cost": {"amount": money(amount), "code": currency},
    }


def _total_differs(order: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> str | None:
    """Why the lines would not make the order's total in FreshBooks, or None when they do to the cent."""
    total = sum(
        (
            (Decimal(str(line.get("qty", 1))) * Decimal(str(line["unit_cost"]["amount"]))).quantize(CENT)
            for line in lines
        ),
        Decimal(0),
    )
    expected = Decimal(order["total"] or 0)
    if total != expected:
        return f"the invoice lines add up to {money(total)}, the shop order's total is {money(expected)}"
    return None
