"""Deterministic ``--scale N``: N customer orders with lines, in every state, for benchmarks and load tests.

Rows are written straight into the tables (no MI round trips), so 5,000 orders seed in well under a second.
Customers are ``SC00001``.., items ``SCITEM001``..; every third order is delivered, every third invoiced,
and every other invoiced order is paid.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from finsync_dagster.sandbox.infor.configuration import DEFAULTS, add_item
from finsync_dagster.sandbox.infor.lifecycle import SeedLine, deliver, invoice, seed_order
from finsync_dagster.sandbox.infor.models import Company, money
from finsync_dagster.sandbox.infor.postings import apply_payment

_START = date(2026, 1, 5)


def seed_scale(company: Company, orders: int) -> None:
    rng = random.Random(orders)
    customers = max(10, orders // 20)
    template = company.settings.customer_templates[DEFAULTS["CUTM"]]
    for n in range(1, customers + 1):
        stamp = datetime.combine(_START, time(8), tzinfo=UTC)
        row = {
            **template,
            "CONO": company.cono,
            "DIVI": "",
            "CUNO": f"SC{n:05d}",
            "CUNM": f"Scale customer {n}",
            "CUA1": f"{n} Scale Street",
            "TOWN": "Springfield",
            "PYNO": "",
        }
        company.table("OCUSMA").insert(company.touch(row, new=True, when=stamp))
    items = [f"SCITEM{n:03d}" for n in range(1, 21)]
    for n, itno in enumerate(items, start=1):
        add_item(company, itno, f"Scale item {n}", money(Decimal(n) * Decimal("3.25")), Decimal(10**6))
    for n in range(1, orders + 1):
        day = _START + timedelta(days=n % 300)
        stamp = datetime.combine(day, time(9), tzinfo=UTC) + timedelta(milliseconds=n)
        cuno = f"SC{rng.randint(1, customers):05d}"
        lines = []
        for _ in range(rng.randint(1, 4)):
            item = company.table("MITMAS").get(company.cono, rng.choice(items))
            assert item is not None  # every scale item was added above
            lines.append(SeedLine(item["ITNO"], item["ITDS"], Decimal(rng.randint(1, 9)), item["SAPR"]))
        orno = seed_order(
            company, cuno=cuno, cuor=f"SCALE-{n:06d}", day=day, currency="USD", lines=lines, stamp=stamp,
            ortp=DEFAULTS["ORTP"], whlo=DEFAULTS["WHLO"],
        )  # fmt: skip
        if n % 3 >= 1:
            deliver(company, orno, day, stamp)
        if n % 3 == 2:
            billed = invoice(company, orno, day, stamp)
            if n % 2 == 0:
                apply_payment(
                    company,
                    cuno=cuno,
                    cino=billed["CINO"],
                    inyr=billed["YEA4"],
                    amount=Decimal(billed["amount"]),
                    currency="USD",
                    on=day + timedelta(days=10),
                    stamp=stamp,
                )
