"""Invariants of every matcher and of the report writers, on generated ``core.*`` tables (hypothesis).

The generated books are small but hostile: empty sides, one side only, single rows, records that share
every key with every other (small pools of names, numbers and amounts make collisions the rule), blank
and NULL values in every nullable column, Unicode and very long names, zero, negative and huge amounts,
several currencies. For any of them, each matcher must:

- not raise;
- account for every FreshBooks and every M3 record of its entity exactly once. How a record is counted:
  in a paired row (matched, matched with differences, ambiguous) both ids count, and the single record of
  a ``split`` / ``covers_several`` pairing counts once however many parts it pairs with; in a missing or
  ``unmatched_expected`` row the present id counts; in a ``duplicate_suspected`` row the duplicate counts,
  while the other id only cites the twin's partner (it counts in its own paired row). For invoices an M3
  record is an order or an AR invoice (``infor_order_id`` / ``infor_invoice_id``);
- never assert the same pair twice, and name no record that is not in the input;
- give money as exact decimals (every ``difference`` in ``differences`` is infor minus FreshBooks, to the
  cent), statuses from :data:`STATUSES`, confidence within [0, 1], money at stake never negative.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finsync_dagster.recon import (
    STATUSES,
    Tolerances,
    match_customers,
    match_expenses,
    match_invoices,
    match_payments,
    replace_match_table,
)
from finsync_dagster.reports import write_report
from tests.recon.core_db import core_db

_PROFILE = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)

_NAMES = ["Acme Widgets", "ACME WIDGETS L.L.C.", "Acme", "Bjørnstad Sjømat AS", "Bjoernstad Sjoemat",
          "東京貿易株式会社", "Ωmega Σ Ltd", "Straße & Söhne GmbH", "x" * 300, "Acme " * 60, " ", "e\u0301clair",
          "🚀 Rockets Inc", "Pinecrest Dental", "Pinecrest Rental"]  # fmt: skip
_TEXT = st.one_of(st.none(), st.sampled_from(["", "  ", "A", "12 King St", "Bergen", "0150", "ap@acme.example",
                                              "AP@ACME.EXAMPLE", "NO123", "ø", "x" * 200]))  # fmt: skip
_NUMBERS = st.one_of(st.none(), st.sampled_from(["", " ", "INV-1", "INV-2", "inv-1", "INV-1 ", "FS-0000001"]))
_AMOUNTS = st.sampled_from(
    [
        Decimal(v)
        for v in (
            "0",
            "0.00",
            "0.01",
            "-0.01",
            "100.00",
            "100.01",
            "-1500.00",
            "1712.77",
            "1713.77",
            "9999999999999999.99",
            "-9999999999999999.99",
        )
    ]
)
_CURRENCIES = st.sampled_from(["USD", "EUR", "NOK", "JPY", "GBP"])
_DATES = st.sampled_from([date(2026, 1, 1) + timedelta(days=d) for d in (0, 1, 3, 4, 21, 365)])
_OPTIONAL_DATES = st.one_of(st.none(), _DATES)
_STATUS_WORDS = st.one_of(st.none(), st.sampled_from(["draft", "void", "sent", "paid", "partial", "confirmed",
                                                      "delivered", "invoiced", ""]))  # fmt: skip
_SMALL = {"max_size": 5}


@st.composite
def _books(draw: st.DrawFn) -> dict[str, list[dict]]:
    tables: dict[str, list[dict]] = {
        e: [] for e in ("customers", "invoices", "orders", "payments", "expenses")
    }
    for source in ("freshbooks", "infor"):
        prefix = "fb" if source == "freshbooks" else "m3"
        for n in range(draw(st.integers(0, 5))):
            tables["customers"].append(
                {"source": source, "source_id": f"{prefix}c{n}", "name": draw(st.sampled_from(_NAMES)),
                 "email": draw(_TEXT), "address_line1": draw(_TEXT), "city": draw(_TEXT),
                 "postal_code": draw(_TEXT), "vat_number": draw(_TEXT), "currency_code": draw(_CURRENCIES)}
            )  # fmt: skip
        for n in range(draw(st.integers(0, 5))):
            tables["invoices"].append(
                {"source": source, "source_id": f"{prefix}i{n}", "invoice_number": draw(_NUMBERS) or "",
                 "customer_source_id": draw(st.sampled_from([f"{prefix}c0", f"{prefix}c1"])),
                 "issue_date": draw(_DATES), "due_date": draw(_OPTIONAL_DATES), "currency_code": draw(_CURRENCIES),
                 "total_amount": draw(_AMOUNTS), "tax_amount": draw(st.one_of(st.none(), _AMOUNTS)),
                 "status": draw(_STATUS_WORDS),
                 "order_number": draw(st.one_of(st.none(), st.sampled_from(["O0", "O1", "O2"])))
                 if source == "infor" else None}
            )  # fmt: skip
        for n in range(draw(st.integers(0, 5))):
            tables["payments"].append(
                {"source": source, "source_id": f"{prefix}p{n}",
                 "invoice_source_id": draw(st.one_of(st.none(), st.sampled_from([f"{prefix}i0", f"{prefix}i1"]))),
                 "customer_source_id": draw(st.one_of(st.none(), st.just(f"{prefix}c0"))),
                 "payment_date": draw(_DATES), "amount": draw(_AMOUNTS), "currency_code": draw(_CURRENCIES),
                 "reference": draw(st.one_of(st.none(), st.sampled_from(["", "CHK-77", "P0008", "cash"])))}
            )  # fmt: skip
        for n in range(draw(st.integers(0, 5))):
            tables["expenses"].append(
                {"source": source, "source_id": f"{prefix}e{n}", "expense_date": draw(_DATES),
                 "vendor": draw(_TEXT), "description": draw(_TEXT),
                 "category": draw(st.one_of(st.none(), st.sampled_from(["Office", "Travel 2026"]))),
                 "gl_account": draw(st.one_of(st.none(), st.sampled_from(["6100", "6200"]))),
                 "amount": draw(_AMOUNTS), "currency_code": draw(_CURRENCIES)}
            )  # fmt: skip
    for n in range(draw(st.integers(0, 4))):
        tables["orders"].append(
            {"source": "infor", "source_id": f"O{n}", "order_number": f"O{n}",
             "customer_source_id": draw(st.sampled_from(["m3c0", "m3c1"])), "customer_reference": draw(_NUMBERS),
             "order_date": draw(_DATES), "currency_code": draw(_CURRENCIES), "total_amount": draw(_AMOUNTS),
             "tax_amount": draw(st.one_of(st.none(), _AMOUNTS)), "status": draw(_STATUS_WORDS)}
        )  # fmt: skip
    return tables


_PAIRED = {"matched", "matched_with_differences", "ambiguous"}
_SUMS = {"split", "covers_several"}


def _records(books: dict[str, list[dict]], entity: str) -> tuple[set[str], set[str]]:
    tables = {"customers": ["customers"], "invoices": ["invoices", "orders"], "payments": ["payments"],
              "expenses": ["expenses"]}[entity]  # fmt: skip
    rows = [row for table in tables for row in books[table]]
    fb = {r["source_id"] for r in rows if r["source"] == "freshbooks"}
    infor = {r["source_id"] for r in rows if r["source"] == "infor"}
    return fb, infor


def _infor_ids(row: dict, entity: str) -> list[str]:
    if entity == "invoices":
        return [i for i in (row["infor_order_id"], row["infor_invoice_id"]) if i is not None]
    return [row["infor_id"]] if row["infor_id"] is not None else []


def _check(table: pa.Table, books: dict[str, list[dict]], entity: str) -> None:
    for column in ("freshbooks_amount", "infor_amount", "amount_at_stake"):
        assert pa.types.is_decimal(table.schema.field(column).type), column
    rows = table.to_pylist()
    fb_records, infor_records = _records(books, entity)
    paired_fb = {r["freshbooks_id"] for r in rows if r["status"] in _PAIRED}
    paired_infor = {i for r in rows if r["status"] in _PAIRED for i in _infor_ids(r, entity)}
    fb_count: Counter[str] = Counter()
    infor_count: Counter[str] = Counter()
    sum_rows: set[tuple[str, str]] = set()
    for row in rows:
        assert row["status"] in STATUSES
        assert row["confidence"] is not None and 0.0 <= row["confidence"] <= 1.0
        assert row["amount_at_stake"] is None or row["amount_at_stake"] >= 0
        fb_id, infor_ids = row["freshbooks_id"], _infor_ids(row, entity)
        if row["status"] in _PAIRED and row["rule"] in _SUMS:  # the one record of a sum counts once
            for side, ident in [("fb", fb_id)] + [("infor", i) for i in infor_ids]:
                if (side, ident) not in sum_rows:
                    sum_rows.add((side, ident))
                    (fb_count if side == "fb" else infor_count)[ident] += 1
            continue
        if row["status"] == "duplicate_suspected" and fb_id is not None and infor_ids:
            cites_fb = fb_id in paired_fb and not all(i in paired_infor for i in infor_ids)
            if cites_fb:
                infor_count.update(infor_ids)
            else:
                fb_count[fb_id] += 1
            continue
        if fb_id is not None:
            fb_count[fb_id] += 1
        infor_count.update(infor_ids)
        for item in json.loads(row["differences"]):
            if item.get("difference") is not None and item.get("currency") is not None:
                assert Decimal(item["difference"]) == Decimal(item["infor"]) - Decimal(item["freshbooks"])
    assert dict(fb_count) == dict.fromkeys(fb_records, 1), entity
    assert dict(infor_count) == dict.fromkeys(infor_records, 1), entity
    pairs = [(r["freshbooks_id"], r["infor_id"]) for r in rows if r["status"] in _PAIRED]
    assert len(pairs) == len(set(pairs)), "a pair asserted twice"


def _reconciled(books: dict[str, list[dict]]):
    con = core_db(**books)
    tolerances = Tolerances(draft_without_order_is_exception=True)
    tables = {}
    for entity, matcher in (("customers", match_customers), ("invoices", match_invoices),
                            ("payments", match_payments), ("expenses", match_expenses)):  # fmt: skip
        tables[entity] = matcher(con, tolerances)
        replace_match_table(con, entity, tables[entity])
    return con, tables


@_PROFILE
@given(_books())
def test_every_matcher_accounts_for_every_record_once(books: dict[str, list[dict]]) -> None:
    _con, tables = _reconciled(books)
    for entity, table in tables.items():
        _check(table, books, entity)


@_PROFILE
@given(_books())
def test_customer_matching_holds_when_every_customer_is_everyones_candidate(books) -> None:
    same = [{**row, "name": "Acme Widgets", "postal_code": "0150"} for row in books["customers"]]
    con = core_db(customers=same)
    _check(match_customers(con), {**books, "customers": same}, "customers")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(_books())
def test_any_match_tables_render_as_html_xlsx_and_csv(books: dict[str, list[dict]]) -> None:
    con, _tables = _reconciled(books)
    with tempfile.TemporaryDirectory() as folder:
        _data, paths = write_report(con, Path(folder), pair="p", run_id="run-00000000")
        assert Path(paths.html).stat().st_size > 0 and Path(paths.xlsx).stat().st_size > 0
        assert Path(paths.summary).read_text(encoding="utf-8").strip()
        assert all(Path(p).exists() for p in paths.csvs)
