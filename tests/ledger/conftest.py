"""The ``ledger`` fixture: a migrated ledger on SQLite, and on PostgreSQL where the server is there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from finsync_dagster.ledger import Ledger


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_database")["url"]
    store = Ledger(url, token_key=Fernet.generate_key().decode())  # as FINSYNC_TOKEN_KEY would give it
    store.migrate()
    yield store
    store.engine.dispose()
