"""Fixtures for the mapping tests: a sample warehouse, and specs written on the fly (helpers in ``specs``)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from finsync_dagster.mapping.spec import Spec
from tests.mapping import specs
from tests.mapping.staging import sample_warehouse


@pytest.fixture
def warehouse() -> Iterator[duckdb.DuckDBPyConnection]:
    con = sample_warehouse()
    yield con
    con.close()


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[..., Spec]:
    """``write_spec(text, name="spec.yaml", **csvs)`` in this test's folder."""
    return functools.partial(specs.write_spec, tmp_path)
