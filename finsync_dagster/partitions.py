"""Integration pairs as Dagster partitions: each pair has its own DuckDB file and runs alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from finsync_dagster.settings import Settings

if TYPE_CHECKING:
    import dagster as dg

PAIR_TAG = "finsync/pair"

# The pair a command means when none is named (`finsync sync --sandbox`, `finsync connect`), and the one
# partition of a project that declares no pairs yet.
DEFAULT_PAIR = "sandbox"


def pairs_partitions(settings: Settings) -> dg.StaticPartitionsDefinition:
    # Dagster is imported here, not above: the CLI reads DEFAULT_PAIR and should not pay for loading it.
    import dagster as dg

    return dg.StaticPartitionsDefinition(settings.pair_names or [DEFAULT_PAIR])
