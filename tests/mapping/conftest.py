"""Fixtures for the mapping tests: a sample warehouse, and specs written on the fly."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from finsync_dagster.mapping.loader import load_spec
from finsync_dagster.mapping.spec import Spec
from tests.mapping.staging import sample_warehouse


@pytest.fixture
def warehouse() -> Iterator[duckdb.DuckDBPyConnection]:
    con = sample_warehouse()
    yield con
    con.close()


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[..., Spec]:
    """Write YAML (dedented) to a spec file beside a ``lookups`` folder and load it."""
    (tmp_path / "lookups").mkdir(exist_ok=True)

    def write(text: str, name: str = "spec.yaml", **csvs: str) -> Spec:
        for filename, content in csvs.items():
            (tmp_path / "lookups" / f"{filename}.csv").write_text(
                textwrap.dedent(content).lstrip(), encoding="utf-8"
            )
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return load_spec(path)

    return write
