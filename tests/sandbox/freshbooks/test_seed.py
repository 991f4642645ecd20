"""Seeds of the FreshBooks sandbox: the shared demo business, the empty account, and ``--scale N``.

The demo seed must say exactly what ``demo_business()`` says the FreshBooks side holds (reconciliation
tests compare against that truth), and the same seed must always give the same data.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from finsync_dagster.sandbox.demo_business import demo_business
from finsync_dagster.sandbox.freshbooks import FreshBooksSandbox
from finsync_dagster.sandbox.freshbooks.models import Query
from finsync_dagster.sandbox.freshbooks.shapes import RENDERERS
from finsync_dagster.sandbox.runner import SandboxOptions, running_sandboxes
from tests.fixtures.freshbooks import FreshBooksSandboxHandle


def _all(client: httpx.Client, url: str, plural: str, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    page = 1
    while True:
        result = client.get(url, params={"page": page, "per_page": 100, **params}).json()["response"][
            "result"
        ]
        out += result[plural]
        if page >= result["pages"]:
            return out
        page += 1


def test_demo_seed_matches_the_demo_business(freshbooks_sandbox: FreshBooksSandboxHandle) -> None:
    sb = freshbooks_sandbox
    fb = demo_business().freshbooks
    with sb.client() as client:
        invoices = _all(client, sb.accounting_url("invoices/invoices"), "invoices", **{"include[]": "lines"})
        clients = _all(client, sb.accounting_url("users/clients"), "clients")
        payments = _all(client, sb.accounting_url("payments/payments"), "payments")
        expenses = _all(client, sb.accounting_url("expenses/expenses"), "expenses")
        bills = _all(client, sb.accounting_url("bills/bills"), "bills")
    demo_invoices = {inv.number: inv for inv in fb.invoices}
    assert {inv["invoice_number"] for inv in invoices} == set(demo_invoices)
    assert {c["organization"] for c in clients} >= {c.organization for c in fb.customers}
    assert (
        len(payments) == len(fb.payments)
        and len(expenses) == len(fb.expenses)
        and len(bills) == len(fb.bills)
    )
    paid_by_number: dict[str, Decimal] = {}
    for payment in fb.payments:
        paid_by_number[payment.invoice_number] = (
            paid_by_number.get(payment.invoice_number, Decimal(0)) + payment.amount
        )
    for invoice in invoices:
        demo = demo_invoices[invoice["invoice_number"]]
        assert Decimal(invoice["amount"]["amount"]) == demo.total, demo.number
        assert invoice["currency_code"] == demo.currency
        assert invoice["create_date"] == demo.issue_date.isoformat()
        assert invoice["due_date"] == demo.due_date.isoformat()
        assert len(invoice["lines"]) == len(demo.lines)
        assert Decimal(invoice["paid"]["amount"]) == paid_by_number.get(demo.number, Decimal(0))
        expected = {"sent": "unpaid", "partial": "partial", "paid": "paid"}[demo.status]
        assert invoice["payment_status"] == expected, demo.number
    currencies = {inv["currency_code"] for inv in invoices}
    assert len(currencies) >= 3  # several currencies, as the issue asks


def test_demo_truth_file_is_written_beside_sandbox_json(freshbooks_sandbox: FreshBooksSandboxHandle) -> None:
    truth = json.loads((freshbooks_sandbox.dir / "freshbooks-truth.json").read_text())
    assert truth["planted"] == demo_business().truth()["planted"]
    ids = truth["freshbooks_ids"]
    first_invoice = demo_business().freshbooks.invoices[0]
    invoice = freshbooks_sandbox.state.account.get("invoices", ids["invoices"][first_invoice.number])
    assert invoice["invoice_number"] == first_invoice.number
    assert (freshbooks_sandbox.dir / "sandbox.json").exists()


def test_empty_seed_has_only_the_built_in_categories() -> None:
    fresh = FreshBooksSandbox(base_url="http://127.0.0.1:1", seed="empty")
    counts = {name: len(table) for name, table in fresh.account.tables.items()}
    assert counts.pop("categories") > 0
    assert set(counts.values()) == {0}


def _rendered(sandbox: FreshBooksSandbox, resource: str, page: int) -> list[dict[str, Any]]:
    rows, _ = sandbox.account.page(resource, Query(), page, 100)
    return [RENDERERS[resource](sandbox.account, rec, frozenset({"lines"})) for rec in rows]


@pytest.mark.parametrize("seed", ["demo", "scale"])
def test_same_seed_same_data(seed: str) -> None:
    scale = 1500 if seed == "scale" else None
    first = FreshBooksSandbox(base_url="http://x", scale=scale)
    second = FreshBooksSandbox(base_url="http://x", scale=scale)
    for resource in ("invoices", "clients", "payments"):
        assert _rendered(first, resource, 1) == _rendered(second, resource, 1)
        assert _rendered(first, resource, 5) == _rendered(second, resource, 5)


def test_scale_generates_n_invoices_with_lines_and_consistent_payments() -> None:
    sandbox = FreshBooksSandbox(base_url="http://x", scale=3000)
    account = sandbox.account
    invoices, payments = account.tables["invoices"], account.tables["payments"]
    assert len(invoices) == 3000
    assert len(account.tables["clients"]) == 30  # one per 100 invoices (at least 20)
    assert all(1 <= len(rec["lines"]) <= 4 for rec in invoices.rows.values())
    paid = {rec["invoiceid"]: rec["amount"] for rec in payments.rows.values()}
    for rec in invoices.rows.values():
        assert rec["paid"] == paid.get(rec["id"], 0)
        assert rec["amount"] == sum(line.amount + line.tax for line in rec["lines"])


def test_scaled_sandbox_lists_every_invoice_once_over_http(tmp_path: Path) -> None:
    with running_sandboxes(SandboxOptions(dir=tmp_path, scale=2500), ["freshbooks"]) as running:
        state: FreshBooksSandbox = running.state("freshbooks")
        info = running.info["freshbooks"]
        token = state.tokens.issue()["access_token"]
        url = f"{info['api_url']}/accounting/account/{info['account_id']}/invoices/invoices"
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
            invoices = _all(client, url, "invoices", **{"include[]": "lines"})
        assert info["scale"] == 2500
    assert len(invoices) == len({inv["id"] for inv in invoices}) == 2500
    assert all(inv["lines"] for inv in invoices)
