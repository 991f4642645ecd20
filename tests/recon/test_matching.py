"""The matching rules on small hand-written warehouses: every status, the tolerances, fuzzy blocking."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from finsync_dagster.recon import (
    Tolerances,
    match_customers,
    match_invoices,
    match_payments,
    replace_match_table,
)
from finsync_dagster.recon.customers import fuzzy_pairs, match_customer_frames
from tests.recon.core_db import core_db

D = Decimal


def _fb_invoice(number: str, total: str, **extra) -> dict:
    return {"source": "freshbooks", "source_id": f"fb-{number}", "invoice_number": number, "customer_source_id": "1",
            "issue_date": date(2026, 5, 1), "due_date": date(2026, 5, 31), "currency_code": "USD",
            "total_amount": D(total), "status": "sent", **extra}  # fmt: skip


def _order(orno: str, cuor: str, total: str, status: str = "invoiced", **extra) -> dict:
    return {"source": "infor", "source_id": orno, "order_number": orno, "customer_source_id": "10001",
            "customer_reference": cuor, "order_date": date(2026, 5, 1), "currency_code": "USD",
            "total_amount": D(total), "status": status, **extra}  # fmt: skip


def _ar(cino: str, orno: str, total: str) -> dict:
    return {"source": "infor", "source_id": f"2026-{cino}", "invoice_number": cino, "customer_source_id": "10001",
            "issue_date": date(2026, 5, 1), "due_date": date(2026, 5, 31), "currency_code": "USD",
            "total_amount": D(total), "status": "sent", "order_number": orno}  # fmt: skip


def _by_reference(table) -> dict[str, dict]:
    return {row["reference"]: row for row in table.to_pylist()}


def test_invoice_statuses_from_orders_and_ar_invoices() -> None:
    con = core_db(
        invoices=[
            _fb_invoice("INV-1", "100.00"), _fb_invoice("INV-2", "100.00"), _fb_invoice("INV-3", "50.00"),
            _fb_invoice("INV-4", "70.00"), _fb_invoice("INV-5", "20.00"),
            _ar("501", "O1", "100.00"), _ar("502", "O2", "100.01"),
        ],
        orders=[
            _order("O1", "INV-1", "100.00"), _order("O2", "INV-2", "100.01"), _order("O4", "INV-4", "70.00", "delivered"),
            _order("O5", "INV-5", "20.00", "confirmed"), _order("O6", "INV-5", "20.00", "confirmed"),
            _order("O9", "WEB-9", "12.00"),
        ],
    )  # fmt: skip
    rows = _by_reference(match_invoices(con))
    assert rows["INV-1"]["status"] == "matched" and rows["INV-1"]["infor_invoice_id"] == "2026-501"
    assert rows["INV-2"]["status"] == "matched_with_differences"
    assert rows["INV-3"]["status"] == "missing_in_infor" and rows["INV-3"]["amount_at_stake"] == D("50.00")
    assert rows["INV-4"]["status"] == "matched" and "not invoiced yet" in rows["INV-4"]["note"]
    assert rows["WEB-9"]["status"] == "missing_in_freshbooks" and rows["WEB-9"]["infor_order_id"] == "O9"
    duplicates = [r for r in match_invoices(con).to_pylist() if r["status"] == "duplicate_suspected"]
    assert [(r["freshbooks_id"], r["infor_id"]) for r in duplicates] == [("fb-INV-5", "O6")]


def test_money_differences_are_exact_to_the_cent_with_currency() -> None:
    con = core_db(
        invoices=[_fb_invoice("INV-2", "100.00")], orders=[_order("O2", "INV-2", "100.01", "delivered")]
    )
    (row,) = match_invoices(con).to_pylist()
    assert json.loads(row["differences"]) == [
        {
            "field": "order_total",
            "freshbooks": "100.00",
            "infor": "100.01",
            "difference": "0.01",
            "currency": "USD",
        }
    ]
    assert row["amount_at_stake"] == D("0.01")


def test_the_amount_tolerance_comes_from_configuration() -> None:
    con = core_db(
        invoices=[_fb_invoice("INV-2", "100.00")], orders=[_order("O2", "INV-2", "100.01", "delivered")]
    )
    (row,) = match_invoices(con, Tolerances(amount_tolerance=D("0.01"))).to_pylist()
    assert row["status"] == "matched"


def _payment(source: str, pid: str, invoice: str, amount: str, day: int, ref: str | None = None) -> dict:
    return {"source": source, "source_id": pid, "invoice_source_id": invoice, "customer_source_id": "1",
            "payment_date": date(2026, 6, day), "amount": D(amount), "currency_code": "USD", "reference": ref}  # fmt: skip


def test_payments_instalments_splits_duplicates_and_missing() -> None:
    con = core_db(
        invoices=[_fb_invoice("INV-1", "100.00"), _fb_invoice("INV-2", "100.00"), _fb_invoice("INV-3", "100.00"),
                  _ar("501", "O1", "100.00"), _ar("502", "O2", "100.00"), _ar("503", "O3", "100.00")],
        orders=[_order("O1", "INV-1", "100.00"), _order("O2", "INV-2", "100.00"), _order("O3", "INV-3", "100.00")],
        payments=[
            # INV-1: two instalments on both sides
            _payment("freshbooks", "f1", "fb-INV-1", "40.00", 1), _payment("freshbooks", "f2", "fb-INV-1", "60.00", 15),
            _payment("infor", "i1", "2026-501", "40.00", 2), _payment("infor", "i2", "2026-501", "60.00", 15),
            # INV-2: one payment in FreshBooks, entered in two parts in Infor
            _payment("freshbooks", "f3", "fb-INV-2", "100.00", 5),
            _payment("infor", "i3", "2026-502", "30.00", 5), _payment("infor", "i4", "2026-502", "70.00", 5),
            # INV-3: recorded twice in FreshBooks; and a payment Infor never got
            _payment("freshbooks", "f5", "fb-INV-3", "50.00", 9, "CHK-77"), _payment("freshbooks", "f6", "fb-INV-3", "50.00", 9),
            _payment("infor", "i5", "2026-503", "50.00", 9, "CHK-77"),
            _payment("freshbooks", "f7", "fb-INV-3", "25.00", 20),
        ],
    )  # fmt: skip
    replace_match_table(con, "invoices", match_invoices(con))
    rows = {(r["freshbooks_id"], r["infor_id"]): r for r in match_payments(con).to_pylist()}
    assert {k: (r["status"], r["rule"]) for k, r in rows.items()} == {
        ("f1", "i1"): ("matched", "amount_and_date"),
        ("f2", "i2"): ("matched", "amount_and_date"),
        ("f3", "i3"): ("matched", "split"),
        ("f3", "i4"): ("matched", "split"),
        ("f5", "i5"): ("matched", "reference"),
        ("f6", "i5"): ("duplicate_suspected", None),
        ("f7", None): ("missing_in_infor", None),
    }


def _customer(source: str, cid: str, name: str, **extra) -> dict:
    return {"source": source, "source_id": cid, "name": name, "currency_code": "USD", **extra}


def test_customers_pair_by_email_then_name_and_postcode_then_fuzzy() -> None:
    con = core_db(
        customers=[
            _customer("freshbooks", "1", "Acme Widgets", email="ap@acme.example"),
            _customer("infor", "10001", "ACME WIDGETS INC", email="AP@acme.example"),
            _customer("freshbooks", "2", "Blue Harbor Foods Ltd", postal_code="02108"),
            _customer("infor", "10002", "Blue Harbor Foods Limited", postal_code="02108"),
            _customer("freshbooks", "3", "Cedar and Pine Design Studio", address_line1="12 King St", postal_code="M5V"),
            _customer("infor", "10003", "Cedar & Pine Design Studios", address_line1="12 King Street", postal_code="M5V 1"),
            _customer("freshbooks", "4", "Zephyr Bikes"),
        ]
    )  # fmt: skip
    rows = {r["freshbooks_id"] or r["infor_id"]: r for r in match_customers(con).to_pylist()}
    assert (rows["1"]["rule"], rows["1"]["status"]) == ("email", "matched")  # "Inc" is no difference
    assert (rows["2"]["rule"], rows["2"]["status"]) == ("name_and_postcode", "matched")
    assert rows["3"]["rule"] == "fuzzy_name_address" and rows["3"]["infor_id"] == "10003"
    assert 0.75 <= rows["3"]["confidence"] < 1.0
    assert rows["4"]["status"] == "missing_in_infor"


def test_a_close_second_candidate_makes_a_fuzzy_match_a_suggestion() -> None:
    import pandas as pd

    fb = pd.DataFrame([_customer("freshbooks", "1", "Northstar Consulting")])
    inf = pd.DataFrame(
        [
            _customer("infor", "10001", "Northstar Consulting East"),
            _customer("infor", "10002", "Northstar Consulting West"),
        ]
    )
    for frame in (fb, inf):
        for column in (
            "email",
            "phone",
            "address_line1",
            "city",
            "postal_code",
            "country_code",
            "vat_number",
        ):
            frame[column] = None
    table = match_customer_frames(fb[list(inf.columns.drop("source"))], inf.drop(columns="source"))
    (row,) = [r for r in table.to_pylist() if r["freshbooks_id"] == "1"]
    assert row["status"] == "ambiguous" and row["suggestion"] is True


def test_fuzzy_matching_only_compares_customers_that_share_a_block() -> None:
    import pandas as pd

    from finsync_dagster.recon.customers import _keyed

    def side(names: list[str]) -> pd.DataFrame:
        frame = pd.DataFrame({"source_id": [str(i) for i in range(len(names))], "name": names})
        for column in (
            "email",
            "phone",
            "address_line1",
            "city",
            "postal_code",
            "country_code",
            "currency_code",
            "vat_number",
        ):
            frame[column] = None
        return _keyed(frame)

    # "Qvortrup" and "Kvortrup" are one letter apart but share no word and no postcode: never compared.
    pairs = fuzzy_pairs(
        side(["Qvortrup Holding", "Lumen Optics"]), side(["Kvortrup Holdings", "Lumen Optic"]), Tolerances()
    )
    assert pairs[["freshbooks_id", "infor_id"]].values.tolist() == [["1", "1"]]
