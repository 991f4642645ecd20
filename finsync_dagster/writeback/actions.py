"""The writes finsync knows how to make, named once: what each writes, where, and how it is keyed.

A name reads ``<target>.<record>.<verb>``. A create is one action per source record, whatever its version;
an update is keyed by the source version too, so a newer one supersedes it. The pushers (``push.m3``,
``push.freshbooks``) implement each name; the planner (``writeback.planner``) decides when each is due.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ActionKind:
    name: str
    target: str  # the system written
    entity: str  # the core entity it is about (and the crosswalk entity its result links)
    source_system: str
    versioned: bool  # an update (keyed by version) rather than a create
    spec: str  # the mapping spec that builds its payload
    description: str


KINDS: dict[str, ActionKind] = {
    kind.name: kind
    for kind in (
        ActionKind(
            "m3.customer.add", "infor", "customers", "freshbooks", False, "m3_customer_add",
            "create the FreshBooks client as an M3 customer (CRS610MI/Add)",
        ),
        ActionKind(
            "m3.customer.change", "infor", "customers", "freshbooks", True, "m3_customer_change",
            "set the M3 customer's fields that FreshBooks owns (CRS610MI/ChgBasicData)",
        ),
        ActionKind(
            "m3.order.add", "infor", "invoices", "freshbooks", False, "m3_order_head",
            "enter the FreshBooks invoice as a confirmed M3 customer order (OIS100MI batch entry)",
        ),
        ActionKind(
            "m3.payment.add", "infor", "payments", "freshbooks", False, "m3_payment_line",
            "apply the FreshBooks payment to the M3 AR invoice of its order (ARS040MI payment batch)",
        ),
        ActionKind(
            "m3.gl.add", "infor", "expenses", "freshbooks", False, "m3_expense_posting",
            "post the FreshBooks expense to the general ledger (GLS840MI batch, balanced)",
        ),
        ActionKind(
            "m3.supplier.add", "infor", "suppliers", "freshbooks", False, "m3_supplier_add",
            "create the FreshBooks bill vendor as an M3 supplier (CRS620MI/AddSupplier)",
        ),
        ActionKind(
            "m3.supplier_invoice.add", "infor", "bills", "freshbooks", False, "m3_supplier_invoice_head",
            "enter the FreshBooks bill as an M3 supplier invoice and approve it (APS450MI batch, balanced)",
        ),
        ActionKind(
            "freshbooks.client.create", "freshbooks", "customers", "infor", False, "freshbooks_client_payload",
            "create the M3 customer as a FreshBooks client",
        ),
        ActionKind(
            "freshbooks.client.update", "freshbooks", "customers", "infor", True, "freshbooks_client_payload",
            "set the FreshBooks client's fields that M3 owns",
        ),
        ActionKind(
            "freshbooks.invoice.mark_sent", "freshbooks", "invoices", "infor", True, "freshbooks_invoice_m3_reference",
            "mark the FreshBooks invoice sent, with M3's order, delivery and invoice numbers on it",
        ),
        ActionKind(
            "freshbooks.client.from_shop", "freshbooks", "shop_customers", "shop", False, "freshbooks_shop_client",
            "find the shop buyer's FreshBooks client by e-mail (filling its empty fields), or create it",
        ),
        ActionKind(
            "freshbooks.invoice.from_shop", "freshbooks", "shop_orders", "shop", False, "freshbooks_shop_invoice",
            "create the shop order as a FreshBooks invoice, the order's name in its po_number",
        ),
    )
}  # fmt: skip


def kind(name: str) -> ActionKind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown write-back action {name!r} (known: {', '.join(KINDS)})") from None


def m3_number(key: str, digits: int) -> str:
    """A number of ``digits`` digits derived from an action key, for M3 batch ids the caller chooses
    (ARS040MI ``PBID``): a second attempt names the same batch, so M3 itself refuses a duplicate."""
    value = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    low = 10 ** (digits - 1)
    return str(low + value % (9 * low))
