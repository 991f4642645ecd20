"""One labelled measurement: empty sandboxes, the draw seeded through their APIs, ``finsync sync``'s read
side (:func:`finsync_dagster.pipeline.run_read_side`, after ``finsync connect``), and the score.

``FINSYNC_HOME`` must point at a scratch directory (the caller sets it): the ledger and the warehouse of
the ``labels`` pair are written there.
"""

from __future__ import annotations

import time
from pathlib import Path

import dagster as dg
import duckdb
from click.testing import CliRunner

from finsync_dagster.cli import cli
from finsync_dagster.pipeline import run_read_side
from finsync_dagster.sandbox.runner import SandboxOptions, running_sandboxes
from finsync_dagster.settings import PairConfig, load_settings
from tests.recon.labelled.cases import Draw, draw
from tests.recon.labelled.scoring import Score, score
from tests.recon.labelled.seeding import Seeded, seed

PAIR = "labels"
_REPO = Path(__file__).resolve().parents[3]


def measure(seed_value: int, per_entity: int, workdir: Path) -> tuple[Draw, Score]:
    cases = draw(seed_value, per_entity)
    sandbox_dir = workdir / "sandbox"
    with running_sandboxes(SandboxOptions(dir=sandbox_dir, seed="empty")) as running:
        started = time.perf_counter()
        seeded = seed(cases, sandbox_dir)
        seeding = time.perf_counter() - started
        settings = load_settings(_REPO / "finsync.yaml").with_pair(
            PairConfig(name=PAIR, sandbox_dir=str(sandbox_dir))
        )
        for system in ("freshbooks", "infor"):
            result = CliRunner().invoke(
                cli, ["connect", system, "--pair", PAIR, "--sandbox", str(sandbox_dir)]
            )
            if result.exit_code != 0:
                raise RuntimeError(f"finsync connect {system} failed:\n{result.output}")
        started = time.perf_counter()
        outcome = run_read_side(settings, PAIR, instance=dg.DagsterInstance.ephemeral())
        syncing = time.perf_counter() - started
        if not outcome.success:
            raise RuntimeError(
                f"finsync sync failed on the labelled draw (seed {seed_value}):\n{outcome.failure}"
            )
        running.state("freshbooks").webhooks.close()
    with duckdb.connect(str(settings.warehouse_path(PAIR)), read_only=True) as con:
        measured = score(cases, con, seeded.freshbooks, _infor_ids(con, seeded))
    measured.seconds = {"seeding": seeding, "sync": syncing}
    return cases, measured


def _infor_ids(con: duckdb.DuckDBPyConnection, seeded: Seeded) -> dict[str, str]:
    """CUNO and ORNO as seeded; payments and GL lines found in core.* by the tag seeding gave them."""
    by_tag = dict(
        con.sql(
            "SELECT invoice_number || '|' || strftime(payment_date, '%Y-%m-%d') || '|' || CAST(amount AS VARCHAR), "
            "source_id FROM core.payments WHERE source = 'infor'"
        ).fetchall()
    )
    by_tag.update(con.sql("SELECT category, source_id FROM core.expenses WHERE source = 'infor'").fetchall())
    ids = dict(seeded.infor)
    missing = []
    for key, tag in seeded.infor_tags.items():
        if tag in by_tag:
            ids[key] = by_tag[tag]
        else:
            missing.append(key)
    if missing:
        raise RuntimeError(f"{len(missing)} seeded M3 records not found in core.* (first: {missing[0]})")
    return ids
