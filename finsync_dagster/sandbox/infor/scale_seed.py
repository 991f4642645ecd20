"""Deterministic ``--scale N``: N customer orders with lines, in every state, for benchmarks and load tests.

Rows are written straight into the tables (no MI round trips), so 5,000 orders seed in well under a second.
Customers are ``SC00001``.., items ``SCITEM001``..; every third order is delivered, every third invoiced,
and every other invoiced order is paid.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from finsync_dagster.sandbox.infor.lifecycle import CONFIRMED, deliver, invoice, set_head_status
from finsync_dagster.sandbox.infor.models import Company, money
from finsync_dagster.sandbox.infor.postings import apply_payment
from finsync_dagster.sandbox.infor.seed import DEFAULTS, add_item

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
        orno = str(company.next_number("ORNO"))
        cuno = f"SC{rng.randint(1, customers):05d}"
        head = {
            "CONO": company.cono,
            "DIVI": company.divi,
            "ORNO": orno,
            "ORTP": DEFAULTS["ORTP"],
            "FACI": company.settings.facility,
            "WHLO": DEFAULTS["WHLO"],
            "CUNO": cuno,
            "PYNO": cuno,
            "CUOR": f"SCALE-{n:06d}",
            "ORDT": day,
            "RLDT": day,
            "CUCD": "USD",
            "TEPY": "30",
            "YREF": "",
            "ORSL": CONFIRMED,
            "ORST": CONFIRMED,
            "VTCD": "00",
        }
        company.table("OOHEAD").insert(company.touch(head, new=True, when=stamp))
        lines = []
        for ponr in range(1, rng.randint(1, 4) + 1):
            itno = rng.choice(items)
            item = company.table("MITMAS").get(company.cono, itno)
            quantity = Decimal(rng.randint(1, 9))
            line = {
                "CONO": company.cono,
                "DIVI": company.divi,
                "ORNO": orno,
                "PONR": ponr,
                "POSX": 0,
                "ITNO": itno,
                "ITDS": item["ITDS"][:30],
                "WHLO": DEFAULTS["WHLO"],
                "ORQT": quantity,
                "ALQT": quantity,
                "DLQT": Decimal(0),
                "IVQT": Decimal(0),
                "SAPR": item["SAPR"],
                "NLAM": money(quantity * item["SAPR"]),
                "VTCD": "00",
                "VTP1": Decimal(0),
                "CUCD": "USD",
                "DWDT": day,
                "ORST": CONFIRMED,
            }
            lines.append(company.table("OOLINE").insert(company.touch(line, new=True, when=stamp)))
        set_head_status(company, head, lines, stamp)
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
