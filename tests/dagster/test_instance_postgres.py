"""The production deploy/dagster.yaml against a real PostgreSQL: a run and its events land in PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from finsync_dagster.assets.operations import ledger_schema
from finsync_dagster.ledger import LATEST_VERSION
from finsync_dagster.resources import LedgerResource
from finsync_dagster.settings import load_settings

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.postgres


def test_production_instance_runs_and_reads_back_from_postgres(
    postgres_database: dict[str, str], finsync_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", dagster_home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    monkeypatch.setenv("DAGSTER_PG_HOST", postgres_database["host"])
    monkeypatch.setenv("DAGSTER_PG_PORT", postgres_database["port"])
    monkeypatch.setenv("DAGSTER_PG_USER", postgres_database["user"])
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", postgres_database["password"])
    monkeypatch.setenv("DAGSTER_PG_DB", postgres_database["database"])
    monkeypatch.setenv("FINSYNC_LEDGER_URL", postgres_database["url"])

    settings = load_settings(REPO / "finsync.yaml")
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = dg.materialize(
            [ledger_schema], instance=instance, resources={"ledger": LedgerResource(url=settings.ledger_url)}
        )
        assert result.success
        run_id = result.run_id

    # Read the run and its events straight from PostgreSQL, not through the instance that wrote them.
    engine = sa.create_engine(postgres_database["url"])
    with engine.connect() as connection:
        status = connection.execute(
            sa.text("select status from runs where run_id = :id"), {"id": run_id}
        ).scalar()
        events = (
            connection.execute(
                sa.text("select dagster_event_type from event_logs where run_id = :id"), {"id": run_id}
            )
            .scalars()
            .all()
        )
        ledger_version = connection.execute(sa.text("select max(version) from ledger_schema")).scalar()
    engine.dispose()
    assert status == "SUCCESS"
    # Dagster stores RUN_SUCCESS under its legacy name.
    assert {"ASSET_MATERIALIZATION", "PIPELINE_SUCCESS"} <= set(events)
    assert ledger_version == LATEST_VERSION  # the ledger shares the server, as the design says
