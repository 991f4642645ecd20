"""The core assets materialize a pair's core tables from its staging tables, with a check on refused rows."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from finsync_dagster.assets.core import REJECT_CHECK, build_core_assets
from finsync_dagster.mapping import load_specs
from finsync_dagster.resources import WarehouseResource
from tests.mapping.staging import sample_warehouse


def _pair_warehouse(home: Path, pair: str) -> Path:
    path = home / "warehouse" / f"{pair}.duckdb"
    path.parent.mkdir(parents=True)
    source = sample_warehouse()
    source.execute(f"ATTACH '{path}' AS pair_db")
    source.execute("CREATE SCHEMA pair_db.staging")
    for (table,) in source.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'staging'"
    ).fetchall():
        source.execute(f"CREATE TABLE pair_db.staging.{table} AS SELECT * FROM staging.{table}")
    source.execute("DETACH pair_db")
    source.close()
    return path


def test_core_assets_write_every_entity_and_report_refused_rows(tmp_path: Path) -> None:
    path = _pair_warehouse(tmp_path, "demo")
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE staging.freshbooks_invoices SET status = 42 WHERE id = '5002'")
    partitions = dg.StaticPartitionsDefinition(["demo"])
    assets = build_core_assets(partitions, load_specs())
    result = dg.materialize(
        assets, partition_key="demo", resources={"warehouse": WarehouseResource(home=str(tmp_path))}
    )
    assert result.success
    with duckdb.connect(str(path), read_only=True) as con:
        counts = dict(con.execute("SELECT 'customers', count(*) FROM core.customers UNION ALL "
                                  "SELECT 'invoices', count(*) FROM core.invoices").fetchall())  # fmt: skip
        refused = con.execute("SELECT entity, source_id, errors FROM core.mapping_rejects").fetchall()
    assert counts == {"customers": 3, "invoices": 2}
    assert refused == [("invoices", "5002", "status (invoices.yaml:21): no 'map' entry for 42")]
    checks = {
        c.asset_key.path[-1]: c for c in result.get_asset_check_evaluations() if c.check_name == REJECT_CHECK
    }
    assert not checks["invoices"].passed and checks["customers"].passed
    invoices = next(
        m
        for m in result.get_asset_materialization_events()
        if m.asset_key == dg.AssetKey(["core", "invoices"])
    ).materialization.metadata
    assert (
        invoices["rows_from_freshbooks"].value,
        invoices["rows_from_infor"].value,
        invoices["refused"].value,
    ) == (1, 1, 1)
