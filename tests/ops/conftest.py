"""Fixtures of the operator tests: a FINSYNC_HOME whose ledger holds the write side's leftovers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from finsync_dagster.ledger import Ledger
from tests.ops.ledger_state import build

PAIR = "acme"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "finsync.yaml"
    path.write_text("version: 1\npairs:\n  - name: acme\n    sandbox_dir: sandbox\n", encoding="utf-8")
    return path


@pytest.fixture
def filled(finsync_home: Path, config: Path) -> Iterator[tuple[Ledger, dict[str, str]]]:
    """The home's ledger with done, planned, in-doubt and dead actions of pair acme (``ledger_state``)."""
    ledger = Ledger(f"sqlite:///{finsync_home / 'ledger.sqlite'}")
    ledger.migrate()
    keys = build(ledger, PAIR)
    yield ledger, keys
    ledger.engine.dispose()
