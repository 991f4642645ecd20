"""Integration pairs as Dagster partitions: each pair has its own DuckDB file and runs alone."""

from __future__ import annotations

import dagster as dg

from finsync_dagster.settings import Settings

PAIR_TAG = "finsync/pair"


def pairs_partitions(settings: Settings) -> dg.StaticPartitionsDefinition:
    return dg.StaticPartitionsDefinition(settings.pair_names or ["sandbox"])
