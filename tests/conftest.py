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


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Console passwords hashed with argon2id's cheapest parameters in tests: the real ones take close to a
    second per hash on a busy 2-core machine, and the console tests sign in hundreds of times."""
    from argon2 import PasswordHasher, profiles

    monkeypatch.setattr(
        "finsync_dagster.ledger.users.HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST)
    )
