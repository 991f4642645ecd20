"""The crosswalk is reconciliation's first rule: a pairing finsync created or a person confirmed holds,
even where names, e-mails and addresses would never have paired the two records."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from finsync_dagster.assets.recon import build_recon_assets, match_asset_key
from finsync_dagster.ledger import Ledger, Link
from finsync_dagster.resources import LedgerResource, WarehouseResource
from finsync_dagster.resources.settings import SettingsResource
from finsync_dagster.settings import load_settings
from tests.recon.core_db import core_db


def test_a_confirmed_pairing_is_matched_by_the_crosswalk(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse" / "acme.duckdb"
    warehouse.parent.mkdir()
    built = core_db(customers=[
        {"source": "freshbooks", "source_id": "101", "name": "Fjord Fisk AS", "email": "a@fjord.example"},
        {"source": "infor", "source_id": "C0042", "name": "Havbruk Holding", "email": "post@havbruk.example"},
    ])  # fmt: skip
    built.execute(f"ATTACH '{warehouse}' AS pair_db; COPY FROM DATABASE memory TO pair_db; DETACH pair_db")
    ledger_url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    ledger = Ledger(ledger_url)
    ledger.migrate()
    ledger.link("acme", Link("customers", "101", "C0042"), by="ana")
    config = tmp_path / "finsync.yaml"
    config.write_text("version: 1\n", encoding="utf-8")
    settings = load_settings(config, env={"FINSYNC_HOME": str(tmp_path)})
    [customers] = [
        a
        for a in build_recon_assets(dg.StaticPartitionsDefinition(["acme"]))
        if a.key == match_asset_key("customers")
    ]
    result = dg.materialize(
        [customers],
        partition_key="acme",
        resources={
            "warehouse": WarehouseResource(home=str(tmp_path)),
            "settings": SettingsResource.of(settings),
            "ledger": LedgerResource(url=ledger_url),
        },
    )
    assert result.success
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.sql(
            "SELECT freshbooks_id, infor_id, status, rule, confidence FROM recon.customer_matches"
        ).fetchall()
    assert rows == [("101", "C0042", "matched_with_differences", "crosswalk", 1.0)]
