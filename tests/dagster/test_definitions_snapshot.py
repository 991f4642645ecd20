"""The definitions match the committed snapshot: renaming an asset, moving a check, regrouping or
re-partitioning, or changing a schedule shows up as a diff of tests/dagster/definitions.snapshot.json.

After an intended change: ``python -m tests.dagster.snapshot``, then review and commit the diff.
"""

from __future__ import annotations

from pathlib import Path

from tests.dagster.snapshot import SNAPSHOT, describe, render, repository_definitions


def test_the_definitions_match_the_committed_snapshot(finsync_home: Path) -> None:
    current = render(describe(repository_definitions()))
    assert current == SNAPSHOT.read_text(encoding="utf-8"), (
        "the definitions changed; if intended, run `python -m tests.dagster.snapshot` and commit the diff"
    )
