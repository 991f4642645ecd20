"""Core records mapped to M3 inputs pass the catalog's rules, and the Infor sandbox accepts them.

Write-back sends exactly these records; a field too long or a required one missing would only surface
as a 400 from M3 in production, so both checks run before anything is planned in the outbox.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pyarrow as pa
import pytest

from finsync_dagster.contracts import m3_catalog
from finsync_dagster.core.model import ENTITIES
from finsync_dagster.core.store import replace_core_table
from finsync_dagster.mapping.engine import build_core, run_spec
from finsync_dagster.mapping.payloads import freshbooks_bodies, m3_records
from finsync_dagster.mapping.registry import load_specs, specs_for
from finsync_dagster.sandbox.runner import RunningSandboxes
from tests.sandbox.infor.mi_http import MI, mi_client


@pytest.fixture
def core(warehouse: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    for entity in ENTITIES:
        replace_core_table(warehouse, entity, build_core(entity, warehouse).table)
    return warehouse


def _records(con: duckdb.DuckDBPyConnection, spec_name: str) -> list[dict[str, str]]:
    (spec,) = specs_for(load_specs(), spec_name)
    result = run_spec(spec, con, strict=True)
    return m3_records(result.table)


@pytest.mark.parametrize(
    ("spec_name", "transaction", "count"),
    [
        ("m3_customer_add", "CRS610MI/Add", 2),
        ("m3_order_head", "OIS100MI/AddBatchHead", 2),
        ("m3_order_line", "OIS100MI/AddBatchLine", 3),
        ("m3_payment_line", "ARS040MI/AddBatchLine", 2),
    ],
)
def test_mapped_records_pass_the_catalogs_input_rules(
    core, spec_name: str, transaction: str, count: int
) -> None:
    records = _records(core, spec_name)
    assert len(records) == count
    assert m3_catalog.check_inputs(transaction, records) == []


def test_the_catalog_check_catches_what_m3_would_refuse() -> None:
    problems = m3_catalog.check_inputs("CRS610MI/Add", [{"CUTM": "T", "CUNM": "x" * 37, "CONO": "1A"}])
    assert problems == [
        "record 0: CRS610MI/Add requires CUA1 (Customer address 1)",
        "record 0: CUNM is 37 characters, M3 allows 36",
        "record 0: CONO must be numeric, got '1A'",
    ]


def test_customer_record_carries_wrapped_street_and_the_crosswalk_number(core) -> None:
    records = {r["CUNO"]: r for r in _records(core, "m3_customer_add")}
    grace = records["FB102"]
    assert (grace["CUA1"], grace["CUA2"], grace["ECAR"], grace["CSCD"]) == (
        "1 Very Long Industrial Estate Road", "Near The Old Harbour Gate", "MA", "US",
    )  # fmt: skip
    assert records["FB101"]["CUTM"] == "TKEY" and records["FB101"]["YREF"] == "Ada Lovelace"


def test_payment_line_finds_invoice_number_and_year_in_core_invoices(core) -> None:
    lines = {r["TRNO"]: r for r in _records(core, "m3_payment_line")}
    assert lines["9001"] == {
        "PBID": "1", "TRNO": "9001", "CINO": "INV-0001", "INYR": "2024", "CUNO": "FB101", "PYAM": "20.00",
        "CUCD": "CAD", "LPDT": "20240210", "CKNO": "CHK-1001",
    }  # fmt: skip


def test_freshbooks_bodies_nest_money_and_reject_unknown_customers(core) -> None:
    (clients,) = specs_for(load_specs(), "freshbooks_client_payload")
    (body,) = freshbooks_bodies(run_spec(clients, core).table)
    assert (body["organization"], body["fname"], body["p_country"]) == ("Contoso Ltd", "Lars", "Sweden")
    core.execute("INSERT INTO core.payments (source, source_id, invoice_number, payment_date, amount, currency_code, method) "
                 "VALUES ('infor', 'P-2', 'INV-0002', DATE '2024-03-05', 12.30, 'USD', 'BTR')")  # fmt: skip
    (payments,) = specs_for(load_specs(), "freshbooks_payment_payload")
    result = run_spec(payments, core)
    assert freshbooks_bodies(result.table) == [
        {
            "invoiceid": 5002,
            "amount": {"amount": "12.30", "code": "USD"},
            "date": "2024-03-05",
            "type": "Bank Transfer",
        }
    ]
    assert result.rejects.column("source_id").to_pylist() == [
        "2024-9-1"
    ]  # INV 330001 is not a FreshBooks invoice
    (invoices,) = specs_for(load_specs(), "freshbooks_invoice_payload")
    rejected = run_spec(invoices, core).rejects.column("errors").to_pylist()
    assert "customer is not in FreshBooks yet" in rejected[0]


@pytest.fixture(scope="module")
def mi(infor_sandbox_empty: RunningSandboxes) -> Iterator[MI]:
    with mi_client(infor_sandbox_empty) as client:
        yield client


def test_the_infor_sandbox_accepts_mapped_customers_and_orders(core, mi: MI) -> None:
    defaults = mi.info["defaults"]
    # The sandbox company knows one customer template and one item; point the core rows at them.
    core.execute("UPDATE core.customers SET customer_template = ?", [defaults["CUTM"]])
    core.execute("UPDATE core.invoice_lines SET item_code = ?", [defaults["ITNO"]])
    customers = _records(core, "m3_customer_add")
    for record in customers:
        assert mi.one("CRS610MI/Add", **record)["CUNO"] == record["CUNO"]
    stored = mi.one("CRS610MI/GetBasicData", CUNO="FB102")
    assert (stored["CUNM"], stored["CUA2"], stored["TOWN"]) == (
        "Grace Hopper",
        "Near The Old Harbour Gate",
        "Boston",
    )
    heads = {r["CUOR"]: r for r in _records(core, "m3_order_head")}
    lines = _records(core, "m3_order_line")
    head = heads["INV-0001"]
    temporary = mi.one("OIS100MI/AddBatchHead", ORTP=defaults["ORTP"], **head)["ORNO"]
    for line in (line for line in lines if line["ORNO"] == "5001"):
        added = mi.one("OIS100MI/AddBatchLine", **{**line, "ORNO": temporary})
        assert added["PONR"]
    confirmed = mi.one("OIS100MI/Confirm", ORNO=temporary)
    order = mi.one("OIS100MI/GetHead", ORNO=confirmed["ORNO"])
    assert (order["CUNO"], order["CUOR"], order["CUCD"], order["NTAM"]) == (
        "FB101",
        "INV-0001",
        "CAD",
        "44.00",
    )


def test_money_arrives_as_decimal_not_float_after_the_duckdb_hop(core) -> None:
    table = core.sql("SELECT total_amount FROM core.invoices").to_arrow_table()
    assert table.schema.field("total_amount").type == pa.decimal128(18, 2)
