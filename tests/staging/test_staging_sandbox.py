"""Staging against running sandboxes, through Dagster: what a user sees in DuckDB after each sync.

Seeded records land once with the right types; changes made through the APIs appear after the next
incremental run; a run with no changes writes nothing; injected faults change nothing in the result.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.sandbox.demo_business import demo_business
from finsync_dagster.sandbox.faults import FaultPlan
from finsync_dagster.sandbox.runner import RunningSandboxes


def query(settings, sql: str, pair: str = "sandbox"):
    with duckdb.connect(str(settings.warehouse_path(pair)), read_only=True) as connection:
        connection.execute("SET TimeZone = 'UTC'")
        return connection.execute(sql).fetchall()


def counts_by_asset(result) -> dict[str, dict]:
    return {a.key.removeprefix("staging/"): a.metadata for a in result.assets if "inserted" in a.metadata}


@pytest.mark.slow
def test_every_seeded_record_is_staged_once_with_types(sync) -> None:
    result = sync()
    business = demo_business()
    fb = business.freshbooks
    expected = {
        "freshbooks_clients": len(fb.customers),
        "freshbooks_invoices": len(fb.invoices),
        "freshbooks_invoice_lines": sum(len(i.lines) for i in fb.invoices),
        "freshbooks_payments": len(fb.payments),
        "freshbooks_expenses": len(fb.expenses),
    }
    staged = counts_by_asset(result)
    for table, count in expected.items():
        assert staged[table]["inserted"] == count, table
        assert query(sync.settings, f"SELECT count(*), count(DISTINCT id) FROM staging.{table}") == [
            (count, count)
        ]

    invoice = fb.invoices[0]
    row = query(
        sync.settings,
        f"SELECT amount, amount_code, create_date, updated FROM staging.freshbooks_invoices "
        f"WHERE invoice_number = '{invoice.number}'",
    )[0]
    assert isinstance(row[0], Decimal) and row[0] == invoice.total
    assert row[1] == invoice.currency and row[2] == invoice.issue_date
    assert row[3].tzinfo is not None and row[3].utcoffset() == UTC.utcoffset(None)


@pytest.mark.slow
def test_second_run_with_no_changes_writes_nothing(sync) -> None:
    sync()
    again = counts_by_asset(sync())
    assert all(meta["inserted"] == meta["updated"] == meta["deleted"] == 0 for meta in again.values()), again


@pytest.mark.slow
def test_created_changed_and_deleted_records_show_up_after_the_next_run(
    sync, sandboxes: RunningSandboxes
) -> None:
    sync()
    with PairClients.of(sync.settings).freshbooks("sandbox") as client:
        created = client.create("clients", {"organization": "Brand New Co", "email": "new@brand.example"})
        invoice = next(iter(client.iter_records("invoices")))
        client.update("invoices", invoice["id"], {"notes": "changed by the staging test"})
        payment = next(iter(client.iter_records("payments")))
        client.delete("payments", payment["id"])

    staged = counts_by_asset(sync())
    assert staged["freshbooks_clients"]["inserted"] == 1
    assert staged["freshbooks_invoices"]["updated"] >= 1
    assert staged["freshbooks_payments"]["deleted"] == 1
    settings = sync.settings
    assert query(
        settings, f"SELECT organization FROM staging.freshbooks_clients WHERE id = '{created['id']}'"
    ) == [("Brand New Co",)]
    assert query(settings, f"SELECT notes FROM staging.freshbooks_invoices WHERE id = '{invoice['id']}'") == [
        ("changed by the staging test",)
    ]
    # Deleted at the source: flagged, kept.
    assert query(
        settings, f"SELECT _deleted FROM staging.freshbooks_payments WHERE id = '{payment['id']}'"
    ) == [(True,)]


@pytest.mark.slow
def test_injected_faults_leave_the_same_tables(sync, sandboxes: RunningSandboxes, tmp_path: Path) -> None:
    injectors = [sandboxes.state("freshbooks").faults, sandboxes.state("infor").injector]
    for injector in injectors:
        injector.set_plan(FaultPlan(rate=0.2, kinds=("500", "503", "429", "drop"), seed=3, retry_after=0))
    try:
        sync()
    finally:
        for injector in injectors:
            injector.set_plan(FaultPlan())
    faulty = snapshot(sync.settings)
    sync(full_refresh=True)
    assert snapshot(sync.settings) == faulty
    assert all(injector.injected > 0 for injector in injectors)


def snapshot(settings) -> dict[str, list]:
    tables = [
        name
        for (name,) in query(
            settings,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'staging' ORDER BY 1",
        )
    ]
    return {
        table: query(settings, f"SELECT id, CAST(_raw AS VARCHAR), _deleted FROM staging.{table} ORDER BY id")
        for table in tables
    }


@pytest.mark.slow
def test_infor_changes_arrive_incrementally_and_deletions_on_full_refresh(
    sync, sandboxes: RunningSandboxes
) -> None:
    defaults = sandboxes.info["infor"]["defaults"]

    def add_customer(m3, number: str, name: str) -> None:
        params = {
            "CUTM": defaults["CUTM"],
            "CUNO": number,
            "CUNM": name,
            "CUA1": "1 Test Street",
            "CUCD": "USD",
        }
        m3.execute(program="CRS610MI", transaction="Add", params=params)

    clients = PairClients.of(sync.settings)
    with clients.infor("sandbox") as m3:
        add_customer(m3, "SHORTLIVED", "Soon Gone Ltd")
    sync()
    with clients.infor("sandbox") as m3:
        add_customer(m3, "NEWCUST01", "Brand New Customer")
        m3.execute(program="CRS610MI", transaction="Delete", params={"CUNO": "SHORTLIVED"})

    staged = counts_by_asset(sync())
    assert staged["infor_customers"]["inserted"] == 1
    assert query(sync.settings, "SELECT CUNM FROM staging.infor_customers WHERE id = 'NEWCUST01'") == [
        ("Brand New Customer",)
    ]
    # M3 deletes rows outright: an incremental read cannot see it, the full refresh flags it.
    deleted = "SELECT _deleted FROM staging.infor_customers WHERE id = 'SHORTLIVED'"
    assert query(sync.settings, deleted) == [(False,)]
    full = counts_by_asset(sync(full_refresh=True))
    assert full["infor_customers"]["deleted"] == 1
    assert query(sync.settings, deleted) == [(True,)]


@pytest.mark.slow
def test_infor_values_are_typed(sync) -> None:
    sync()
    row = query(
        sync.settings,
        "SELECT CUAM, IVDT, RECO, _source_updated_at FROM staging.infor_invoices WHERE CUAM IS NOT NULL LIMIT 1",
    )[0]
    assert isinstance(row[0], Decimal) and row[1] is not None and row[3].tzinfo is not None
