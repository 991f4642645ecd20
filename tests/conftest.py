"""Shared fixtures. Each system's sandbox fixtures live in tests/fixtures/<system>.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures.freshbooks",
    "tests.fixtures.infor",
    "tests.fixtures.postgres",
    "tests.fixtures.shop",
]


@pytest.fixture
def finsync_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh FINSYNC_HOME with a SQLite ledger, isolated from the developer's own."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("FINSYNC_HOME", str(home))
    monkeypatch.delenv("FINSYNC_LEDGER_URL", raising=False)
    yield home
