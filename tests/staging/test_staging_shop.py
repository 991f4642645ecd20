"""Shop orders in staging: what a user finds in DuckDB after syncing the sandbox pair (the demo shop's
orders and lines, typed, in UTC, exact to the cent), that a second run writes nothing, that a change to an
old order comes back through the incremental cursor, and that a pair without a shop gets empty tables
with a note instead of an error."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import httpx
import pytest

from finsync_dagster.assets.staging_shop import build_shop_staging
from finsync_dagster.definitions import build_definitions
from finsync_dagster.partitions import pairs_partitions
from finsync_dagster.sandbox.runner import RunningSandboxes
from finsync_dagster.settings import load_settings
from tests.staging.test_staging_sandbox import counts_by_asset, query

NO_SHOP = """\
version: 1
pairs:
  - name: acme-us
    freshbooks:
      account_id: ABC123
    infor:
      company: "100"
      ionapi_env: ACME_IONAPI
"""


@pytest.mark.slow
def test_the_demo_shop_is_staged_once_then_only_what_changed(sync, sandboxes: RunningSandboxes) -> None:
    first = sync()
    truth = sandboxes.state("shop").truth
    staged = counts_by_asset(first)
    assert staged["shop_orders"]["inserted"] == truth["orders"] == 36
    assert staged["shop_order_lines"]["inserted"] == truth["lines"]
    assert all(c.passed for c in first.checks if c.asset.startswith("staging/shop_")), [
        c.description for c in first.checks if not c.passed
    ]
    settings = sync.settings
    name, total, presentment, currency, created, customer = query(
        settings,
        "SELECT name, total_price, total_price_presentment, presentment_currency, created_at, customer_email "
        "FROM staging.shop_orders WHERE name = 'WEB-1001'",
    )[0]
    assert (name, total, presentment, currency) == ("WEB-1001", Decimal("76.48"), Decimal("104.79"), "CAD")
    assert isinstance(total, Decimal) and created.utcoffset() == UTC.utcoffset(None)
    assert customer == "olivia@cedarpinedesign.example"
    assert query(settings, "SELECT count(DISTINCT presentment_currency) FROM staging.shop_orders") == [(2,)]

    again = counts_by_asset(sync())
    for table in ("shop_orders", "shop_order_lines"):
        meta = again[table]
        assert meta["inserted"] == meta["updated"] == meta["deleted"] == 0, (table, meta)

    shop = sandboxes.state("shop")
    oldest = next(iter(shop.store.orders.values()))
    control = sandboxes.info["shop"]["control_url"]
    assert httpx.post(f"{control}/orders/{oldest.name}/refund", json={"amount": "2.00"}).status_code == 200
    third = counts_by_asset(sync())
    assert (third["shop_orders"]["updated"], third["shop_orders"]["inserted"]) == (1, 0)
    assert third["shop_orders"]["received"] < 36  # incremental: only what changed, and the overlap
    assert query(settings, f"SELECT financial_status FROM staging.shop_orders WHERE id = '{oldest.id}'") == [
        ("partially_refunded",)
    ]


def test_a_pair_without_a_shop_gets_empty_tables_and_a_note(tmp_path: Path, finsync_home: Path) -> None:
    config = tmp_path / "finsync.yaml"
    config.write_text(NO_SHOP, encoding="utf-8")
    settings = load_settings(config)
    asset = build_shop_staging(pairs_partitions(settings))[0]
    result = dg.materialize([asset], partition_key="acme-us", resources=build_definitions(settings).resources)
    assert result.success
    materialized = {
        str(event.asset_key.to_user_string() if event.asset_key else ""): (
            event.step_materialization_data.materialization.metadata
        )
        for event in result.get_asset_materialization_events()
    }
    assert set(materialized) == {"staging/shop_orders", "staging/shop_order_lines"}
    note = materialized["staging/shop_orders"]["shop"].value
    assert "has no shop: section" in str(note)
    assert materialized["staging/shop_orders"]["dagster/row_count"].value == 0
    with duckdb.connect(str(settings.warehouse_path("acme-us")), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM staging.shop_order_lines").fetchall() == [(0,)]
