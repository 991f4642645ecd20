"""The FreshBooks accounting resources finsync reads and writes, as data (contract §2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class ResourceSpec:
    """Where a resource lives under ``/accounting/account/{account_id}/`` and how its bodies are keyed.

    ``delete`` is how the official SDK deletes it: an HTTP DELETE, or a PUT of ``vis_state: 1``.
    ``writable`` is False for resources the API only lists (expense categories).
    """

    name: str
    path: str
    single: str
    plural: str
    id_field: str
    delete: Literal["http", "vis_state"] = "vis_state"
    writable: bool = True


RESOURCES: dict[str, ResourceSpec] = {
    spec.name: spec
    for spec in (
        ResourceSpec("clients", "users/clients", "client", "clients", "userid"),
        ResourceSpec("invoices", "invoices/invoices", "invoice", "invoices", "invoiceid", delete="http"),
        ResourceSpec("credit_notes", "credit_notes/credit_notes", "credit_note", "credit_notes", "creditid"),
        ResourceSpec("payments", "payments/payments", "payment", "payments", "logid"),
        ResourceSpec("expenses", "expenses/expenses", "expense", "expenses", "expenseid"),
        ResourceSpec(
            "expense_categories",
            "expenses/categories",
            "category",
            "categories",
            "categoryid",
            writable=False,
        ),
        ResourceSpec("items", "items/items", "item", "items", "itemid"),
        ResourceSpec("taxes", "taxes/taxes", "tax", "taxes", "taxid", delete="http"),
        ResourceSpec("bill_vendors", "bill_vendors/bill_vendors", "bill_vendor", "bill_vendors", "vendorid"),
        ResourceSpec("bills", "bills/bills", "bill", "bills", "id"),
    )
}


def spec_for(name: str) -> ResourceSpec:
    try:
        return RESOURCES[name]
    except KeyError:
        raise ValueError(f"unknown FreshBooks resource {name!r}; known: {', '.join(RESOURCES)}") from None
