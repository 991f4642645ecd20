"""The two instance configs: the root dagster.yaml is the embedded default a newcomer's `dagster dev` reads
(SQLite, no environment needed), and deploy/dagster.yaml is the same instance on PostgreSQL storage.

If they drifted apart, the run queue a developer tries locally would not be the one production runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
EMBEDDED = REPO / "dagster.yaml"
PRODUCTION = REPO / "deploy" / "dagster.yaml"


def test_production_is_the_embedded_default_plus_postgres_storage() -> None:
    embedded = yaml.safe_load(EMBEDDED.read_text(encoding="utf-8"))
    production = yaml.safe_load(PRODUCTION.read_text(encoding="utf-8"))
    assert "storage" not in embedded
    assert list(production.pop("storage")) == ["postgres"]
    assert production == embedded


def test_the_embedded_default_needs_no_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DAGSTER_PG_HOST",
        "DAGSTER_PG_PORT",
        "DAGSTER_PG_USER",
        "DAGSTER_PG_PASSWORD",
        "DAGSTER_PG_DB",
    ):
        monkeypatch.delenv(name, raising=False)
    shutil.copy(EMBEDDED, tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.run_monitoring_enabled
        assert not instance.telemetry_enabled
        queue = instance.get_concurrency_config().run_queue_config
        assert queue is not None
        one_run_per_pair = {"key": "finsync/pair", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
        assert one_run_per_pair in queue.tag_concurrency_limits
        # Op-level pools work on SQLite storage too, so the API pools behave as in production.
        assert instance.event_log_storage.supports_global_concurrency_limits
