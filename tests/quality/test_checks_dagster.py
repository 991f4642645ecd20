"""The checks inside Dagster: the demo passes with no ERROR; a malformed record is quarantined and the run
goes on; a blocking failure stops what is downstream and the check result says why.
(No ``from __future__ import annotations``: Dagster reads the ``context`` annotation.)"""

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from finsync_dagster.assets.checks import ANOMALY_CHECK, SCHEMA_CHECK, build_quality_checks, staging_specs
from finsync_dagster.resources import WarehouseResource
from finsync_dagster.resources.settings import SettingsResource
from finsync_dagster.settings import PairConfig, QualityConfig, ScheduleConfig, Settings
from finsync_dagster.staging import freshbooks_tables as fb
from tests.quality.builders import invoice, stage

PAIR = "acme"


def _run(home: Path, threshold: float) -> dg.ExecuteInProcessResult:
    partitions = dg.StaticPartitionsDefinition([PAIR])
    staged_key = dg.AssetKey(["staging", "freshbooks_payments"])

    @dg.asset(key=staged_key, partitions_def=partitions)
    def staged(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> None:
        good = [
            {"id": n, "invoiceid": 1, "amount": {"amount": f"{n}.00", "code": "USD"}, "date": "2026-10-01"}
            for n in range(1, 9)
        ]
        wrong_type = {
            "id": 9,
            "invoiceid": "not-a-number",
            "amount": {"amount": "5.00", "code": "USD"},
            "date": "2026-10-01",
        }
        no_id = {"invoiceid": 1, "amount": {"amount": "5.00", "code": "USD"}}
        with warehouse.connect(context.partition_key) as con:
            stage(con, fb.INVOICES, [invoice(1)], fb.INVOICE_LINES_CHILD)
            stage(con, fb.PAYMENTS, [*good, wrong_type, no_id])

    @dg.asset(key=dg.AssetKey(["core", "payments"]), deps=[staged_key], partitions_def=partitions)
    def core_payments() -> None:
        return None

    checks = [
        c for c in build_quality_checks(partitions) if staged_key in {k.asset_key for k in c.check_keys}
    ]
    settings = Settings(
        config_path=home / "finsync.yaml",
        home=home,
        ledger_url="sqlite://",
        pairs=(PairConfig(name=PAIR, sandbox_dir="x"),),
        schedules=ScheduleConfig(),
        quality=QualityConfig(quarantine_threshold=threshold),
    )
    defs = dg.Definitions(
        assets=[staged, core_payments],
        asset_checks=checks,
        jobs=[
            dg.define_asset_job(
                "read",
                selection=dg.AssetSelection.assets(staged, core_payments),
                executor_def=dg.in_process_executor,
            )
        ],
        resources={"warehouse": WarehouseResource(home=str(home)), "settings": SettingsResource.of(settings)},
    )
    return defs.resolve_job_def("read").execute_in_process(partition_key=PAIR, raise_on_error=False)


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def test_malformed_record_is_quarantined_and_the_run_goes_on(tmp_path: Path) -> None:
    result = _run(tmp_path, threshold=0.2)
    assert result.success
    assert _materialized(result) == {"staging/freshbooks_payments", "core/payments"}
    check = _checks(result)[SCHEMA_CHECK]
    assert check.passed
    assert check.description == "staging.freshbooks_payments: 1 of 9 rows quarantined (11.1%)"
    with duckdb.connect(str(tmp_path / "warehouse" / f"{PAIR}.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT record_id, rule FROM quality.quarantine ORDER BY rule").fetchall()
    assert (None, "record_has_id") in rows  # the staging writer's, for the record without an id
    assert ("9", "value_has_its_type") in rows and ("9", "required_value") in rows
    assert _checks(result)[ANOMALY_CHECK].passed


def test_blocking_failure_stops_the_downstream_assets_and_says_why(tmp_path: Path) -> None:
    result = _run(tmp_path, threshold=0.05)
    check = _checks(result)[SCHEMA_CHECK]
    assert not check.passed
    assert check.severity is dg.AssetCheckSeverity.ERROR
    assert check.description == (
        "staging.freshbooks_payments: 1 of 9 rows quarantined (11.1%), above the 5% threshold"
    )
    assert "value_has_its_type" in check.metadata["failures_by_rule"].value
    assert _materialized(result) == {"staging/freshbooks_payments"}
    assert not result.success
    failures = [e for e in result.all_events if e.is_step_failure]
    assert [e.step_key for e in failures] == ["staging__freshbooks_payments_schema_and_integrity"]
    assert "1 blocking asset check failed with ERROR severity" in failures[0].step_failure_data.error.message


@pytest.mark.slow
def test_demo_passes_with_no_error_and_flags_only_planted_anomalies(sync) -> None:
    result = sync()
    checks = [c for c in result.checks if c.name in (SCHEMA_CHECK, ANOMALY_CHECK)]
    assert len(checks) == 2 * len(staging_specs())  # both checks of every staging table ran
    assert [c for c in checks if c.severity == "ERROR" and not c.passed] == []
    warned = {c.asset: c.description for c in checks if not c.passed}
    assert warned == {
        "staging/infor_invoices": "currency_differs_from_customer: 1",
        "staging/infor_orders": "currency_differs_from_customer: 1",
        "staging/infor_payments": "duplicate_suspected: 2",
    }
    assert any(a.key.startswith("core/") for a in result.assets)
