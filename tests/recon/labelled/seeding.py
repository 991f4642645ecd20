"""Write a :class:`~.cases.Draw` into running sandboxes through their public APIs, as a user's tools would.

FreshBooks: its REST API over plain httpx with a token from the authorization-code flow, calls sent
concurrently (the sandbox's rate limit is turned off through ``PUT /sandbox/settings`` first). M3:
finsync's own :class:`~finsync_dagster.resources.infor.M3Client`, in bulk POSTs of 100 transactions
(CRS610MI customers; OIS100MI heads, lines and Confirm; ARS040MI payment batches; GLS840MI vouchers),
and the sandbox's lifecycle endpoints to deliver and invoice orders, as a warehouse and billing run would.

Returns the ids each system gave; M3 payments and GL lines get theirs only when staged, so they are told
apart by what :func:`infor_payment_key` and :func:`infor_expense_tag` read back from ``core.*``.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from finsync_dagster.ledger import Ledger
from finsync_dagster.resources.infor import InforResource, M3Client, MiCall, MiOutcome
from tests.recon.labelled.cases import CATEGORIES, Draw, Expense, Invoice, _alpha

_THREADS = 8


@dataclass
class Seeded:
    """Record key -> the id its system gave (FreshBooks ids, M3 CUNO and ORNO, M3 payment and GL tags)."""

    freshbooks: dict[str, str] = field(default_factory=dict)
    infor: dict[str, str] = field(default_factory=dict)
    # M3 payments and GL lines: a tag read back from core.* (see infor_payment_key / infor_expense_tag).
    infor_tags: dict[str, str] = field(default_factory=dict)


def seed(draw: Draw, sandbox_dir: Path) -> Seeded:
    info = json.loads((sandbox_dir / "sandbox.json").read_text(encoding="utf-8"))
    seeded = Seeded()
    with httpx.Client(timeout=60) as http:
        _seed_freshbooks(draw, info["freshbooks"], http, seeded)
        _seed_infor(draw, info["infor"], http, seeded)
    return seeded


# -- FreshBooks ---------------------------------------------------------------------------------------


def _token(http: httpx.Client, fb: dict[str, Any]) -> str:
    redirect = http.get(
        f"{fb['auth_url']}/oauth/authorize",
        params={"client_id": fb["client_id"], "response_type": "code", "redirect_uri": fb["redirect_uri"]},
    )
    code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]
    response = http.post(
        f"{fb['api_url']}/auth/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": fb["client_id"],
            "client_secret": fb["client_secret"],
            "redirect_uri": fb["redirect_uri"],
        },
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _seed_freshbooks(draw: Draw, fb: dict[str, Any], http: httpx.Client, seeded: Seeded) -> None:
    http.put(f"{fb['api_url']}/sandbox/settings", json={"rate_limit_per_minute": 0}).raise_for_status()
    base = f"{fb['api_url']}/accounting/account/{fb['account_id']}"
    headers = {"Authorization": f"Bearer {_token(http, fb)}"}

    def create(path: str, kind: str, items: Iterable[tuple[str, dict[str, Any]]]) -> None:
        def one(item: tuple[str, dict[str, Any]]) -> tuple[str, str]:
            key, body = item
            response = http.post(f"{base}/{path}", json={kind: body}, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"FreshBooks refused {kind} {key}: {response.text}")
            return key, str(response.json()["response"]["result"][kind]["id"])

        with ThreadPoolExecutor(_THREADS) as pool:
            seeded.freshbooks.update(pool.map(one, list(items)))

    side, ids = draw.freshbooks, seeded.freshbooks
    listing = http.get(f"{base}/expenses/categories", params={"per_page": 100}, headers=headers).json()
    category_ids = {c["category"]: c["id"] for c in listing["response"]["result"]["categories"]}
    create(
        "users/clients",
        "client",
        (
            (c.key, {"organization": c.name, "email": c.email, "p_street": c.street, "p_city": c.city,
                     "p_code": c.postcode, "p_country": "United States", "currency_code": "USD"})
            for c in side.customers
        ),
    )  # fmt: skip
    create("invoices/invoices", "invoice", ((i.key, _freshbooks_invoice(i, ids)) for i in side.invoices))
    create(
        "payments/payments",
        "payment",
        (
            (p.key, {"invoiceid": ids[p.invoice], "amount": {"amount": str(p.amount)}, "date": p.paid.isoformat(),
                     "type": "Check", "transactionid": p.reference})
            for p in side.payments
        ),
    )  # fmt: skip
    create(
        "expenses/expenses",
        "expense",
        (
            (e.key, {"categoryid": category_ids[e.category], "staffid": 1, "date": e.spent.isoformat(),
                     "amount": {"amount": str(e.amount), "code": e.currency}, "vendor": e.vendor,
                     "notes": f"Receipt {e.reference}" if e.reference else "Card purchase"})
            for e in side.expenses
        ),
    )  # fmt: skip


def _freshbooks_invoice(invoice: Invoice, ids: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customerid": ids[invoice.customer],
        "invoice_number": invoice.number,
        "create_date": invoice.issued.isoformat(),
        "due_offset_days": 30,
        "currency_code": invoice.currency,
        "lines": [
            {"name": "Goods", "qty": invoice.quantity,
             "unit_cost": {"amount": str(invoice.price), "code": invoice.currency}}
        ],
    }  # fmt: skip
    if not invoice.draft:
        body["status"] = 2  # sent; created without it, an invoice stays a draft
    return body


# -- Infor M3 -----------------------------------------------------------------------------------------


def _require(outcomes: list[MiOutcome], what: str) -> list[MiOutcome]:
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise RuntimeError(f"M3 refused {len(failed)} of {len(outcomes)} {what}; first: {failed[0].error}")
    return outcomes


def _seed_infor(draw: Draw, section: dict[str, Any], http: httpx.Client, seeded: Seeded) -> None:
    resource = InforResource(
        company=str(section["company"]),
        division=str(section.get("division") or ""),
        ionapi_file=str(section["ionapi_file"]),
        max_concurrency=_THREADS,
        token_key="labelled-seeding",
    )
    ledger = Ledger(f"sqlite:///{Path(tempfile.mkdtemp()) / 'ledger.sqlite'}")  # the seeder's own token
    ledger.migrate()
    defaults, control = section["defaults"], f"{section['base_url']}/sandbox"
    side, ids = draw.infor, seeded.infor
    with resource.get_client(ledger) as m3:
        bulk = _bulk(m3)
        bulk("CRS630MI", [MiCall("AddAccountID", {"AITP": "1", "AITM": a, "TX40": a}) for a in set(CATEGORIES.values())], strict=False)  # fmt: skip
        for n, customer in enumerate(side.customers):
            ids[customer.key] = f"L{n:07d}"
        bulk(
            "CRS610MI",
            [
                MiCall("Add", {"CUTM": defaults["CUTM"], "CUNO": ids[c.key], "CUNM": c.name[:36], "CUA1": c.street,
                               "TOWN": c.city, "PONO": c.postcode, "MAIL": c.email, "CSCD": "US"})
                for c in side.customers
            ],
        )  # fmt: skip
        _orders(bulk, side.invoices, defaults, ids)
        invoiced = _deliver_and_invoice(http, control, [i for i in side.invoices if i.invoiced], ids)
        _payments(bulk, draw, defaults, ids, invoiced, seeded)
        _vouchers(bulk, str(section["company"]), side.expenses, seeded)


Bulk = Callable[..., list[MiOutcome]]


def _bulk(m3: M3Client) -> Bulk:
    def run(program: str, calls: list[MiCall], *, strict: bool = True) -> list[MiOutcome]:
        outcomes = m3.execute_bulk(program=program, calls=calls)
        return _require(outcomes, f"{program} calls") if strict else outcomes

    return run


def _orders(bulk: Bulk, invoices: list[Invoice], defaults: dict[str, Any], ids: dict[str, str]) -> None:
    heads = bulk(
        "OIS100MI",
        [
            MiCall("AddBatchHead", {"CUNO": ids[i.customer], "ORTP": defaults["ORTP"], "WHLO": defaults["WHLO"],
                                    "CUOR": i.number or None, "ORDT": i.issued, "CUCD": i.currency})
            for i in invoices
        ],
    )  # fmt: skip
    temporary = [h.record["ORNO"] for h in heads]
    bulk(
        "OIS100MI",
        [
            MiCall("AddBatchLine", {"ORNO": orno, "ITNO": defaults["ITNO"], "ORQT": Decimal(i.quantity), "SAPR": i.price,
                                    "WHLO": defaults["WHLO"]})
            for orno, i in zip(temporary, invoices, strict=True)
        ],
    )  # fmt: skip
    confirmed = bulk("OIS100MI", [MiCall("Confirm", {"ORNO": orno}) for orno in temporary])
    for invoice, outcome in zip(invoices, confirmed, strict=True):
        ids[invoice.key] = str(outcome.record["ORNO"])


def _deliver_and_invoice(
    http: httpx.Client, control: str, invoices: list[Invoice], ids: dict[str, str]
) -> dict[str, tuple[str, str]]:
    """Invoice key -> (CINO, YEA4) of the AR invoice M3 raised on the issue date."""

    def one(invoice: Invoice) -> tuple[str, tuple[str, str]]:
        orno, day = ids[invoice.key], {"date": invoice.issued.isoformat()}
        http.post(f"{control}/orders/{orno}/deliver", json=day).raise_for_status()
        response = http.post(f"{control}/orders/{orno}/invoice", json=day)
        response.raise_for_status()
        body = response.json()
        return invoice.key, (str(body["CINO"]), str(body["YEA4"]))

    with ThreadPoolExecutor(_THREADS) as pool:
        return dict(pool.map(one, invoices))


def infor_payment_key(cino: str, paid: date, amount: Decimal) -> str:
    """What tells M3 payments apart in ``core.payments``: the invoice, the day and the amount."""
    return f"{cino}|{paid.isoformat()}|{amount:.2f}"


def _payments(
    bulk: Bulk,
    draw: Draw,
    defaults: dict[str, Any],
    ids: dict[str, str],
    invoiced: dict[str, tuple[str, str]],
    seeded: Seeded,
) -> None:
    customer_of = {i.key: i.customer for i in draw.infor.invoices}
    payments = draw.infor.payments
    for batch_number, start in enumerate(range(0, len(payments), 500), start=1):
        batch = payments[start : start + 500]
        pbid = str(700 + batch_number)
        bulk("ARS040MI", [MiCall("AddBatchHead", {"PBID": pbid, "BOPE": defaults["BOPE"]})])
        lines = []
        for trno, payment in enumerate(batch, start=1):
            cino, year = invoiced[payment.invoice]
            seeded.infor_tags[payment.key] = infor_payment_key(cino, payment.paid, payment.amount)
            lines.append(
                MiCall("AddBatchLine", {"PBID": pbid, "TRNO": str(trno), "CINO": cino, "INYR": year,
                                        "CUNO": ids[customer_of[payment.invoice]], "PYAM": payment.amount,
                                        "LPDT": payment.paid, "CKNO": payment.reference})
            )  # fmt: skip
        bulk("ARS040MI", lines)
        bulk("ARS040MI", [MiCall("ControlBatch", {"PBID": pbid})])


def infor_expense_tag(number: int) -> str:
    return f"Expense {_alpha(number)}"


def _vouchers(bulk: Bulk, cono: str, expenses: list[Expense], seeded: Seeded) -> None:
    heads, lines, posts = [], [], []
    for number, expense in enumerate(expenses):
        key1, tag = f"LB{number}", infor_expense_tag(number)
        description = f"{expense.reference} {tag}" if expense.reference else tag
        seeded.infor_tags[expense.key] = description
        heads.append(
            MiCall("AddBatchHead", {"CONO": cono, "KEY1": key1, "INTN": "LABELS", "DESC": description})
        )
        day = expense.spent.strftime("%Y%m%d")
        for line, (account, amount) in enumerate(
            ((expense.gl_account, expense.amount), ("1100", -expense.amount)), 1
        ):
            parm = (
                f"AIT1={account};ACDT={day};CUAM={amount:.2f};CUCD={expense.currency};VTXT={expense.vendor}"
            )
            lines.append(
                MiCall("AddBatchLine", {"CONO": cono, "KEY1": key1, "LINE": str(line), "PARM": parm})
            )
        posts.append(MiCall("UpdBatch", {"CONO": cono, "KEY1": key1}))
    for calls in (heads, lines, posts):
        bulk("GLS840MI", calls)
