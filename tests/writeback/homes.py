"""One end-to-end module's own finsync home: its ledger, its Dagster instance, its working directory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def finsync_home(home: Path) -> Iterator[pytest.MonkeyPatch]:
    """``home`` as ``FINSYNC_HOME`` and working directory, with a Dagster instance of its own and the
    default ledger inside it (never one named by the caller's environment)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINSYNC_HOME", str(home))
        patch.setenv("DAGSTER_HOME", str(home / "dagster"))
        patch.delenv("FINSYNC_LEDGER_URL", raising=False)
        (home / "dagster").mkdir()
        patch.chdir(home)
        yield patch
