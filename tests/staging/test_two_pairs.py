"""Two integration pairs sync at the same time, each into its own DuckDB file, sharing one ledger."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from finsync_dagster.sandbox.demo_business import demo_business
from tests.staging.helpers import start_demo

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_pairs_sync_in_parallel(tmp_path: Path, finsync_home: Path) -> None:
    running = [start_demo(tmp_path / name) for name in ("alpha", "beta")]
    try:
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "DAGSTER_HOME": str(tmp_path / "dagster")}
        (tmp_path / "dagster").mkdir()
        # The operator's Dagster instance exists before runs start (Dagster's SQLite storage is created
        # by the first process that opens it, and two creating it at once collide).
        subprocess.run(
            [sys.executable, "-c", "import dagster; dagster.DagsterInstance.get()"], env=env, check=True
        )
        processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "finsync_dagster.cli",
                    "--config",
                    str(REPO / "finsync.yaml"),
                    "sync",
                    "--pair",
                    sandbox.dir.name,
                    "--sandbox",
                    str(sandbox.dir),
                ],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for sandbox in running
        ]
        outputs = [process.communicate(timeout=300)[0] for process in processes]
    finally:
        for sandbox in running:
            sandbox.stop()
            sandbox.state("freshbooks").webhooks.close()
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output[-3000:]
    seeded_invoices = len(demo_business().freshbooks.invoices)
    for name in ("alpha", "beta"):
        with duckdb.connect(str(finsync_home / "warehouse" / f"{name}.duckdb"), read_only=True) as connection:
            assert (
                connection.execute("SELECT count(*) FROM staging.freshbooks_invoices").fetchone()[0]
                == seeded_invoices
            )
            assert connection.execute("SELECT count(*) FROM staging.infor_orders").fetchone()[0] > 0
