"""The DuckDB warehouse: one file per integration pair, so pairs never contend for a writer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb


class WarehouseResource(dg.ConfigurableResource):
    """Opens the pair's DuckDB file under ``$FINSYNC_HOME/warehouse``.

    ``memory_limit`` bounds DuckDB's buffer pool: beyond it DuckDB spills to disk instead of growing, so a
    large extraction runs in a steady few hundred megabytes.
    """

    home: str
    memory_limit: str = "1GB"

    def path(self, pair: str) -> Path:
        return Path(self.home) / "warehouse" / f"{pair}.duckdb"

    @contextmanager
    def connect(self, pair: str, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        path = self.path(pair)
        path.parent.mkdir(parents=True, exist_ok=True)
        if read_only and not path.exists():
            duckdb.connect(str(path)).close()
        connection = duckdb.connect(
            str(path), read_only=read_only, config={"memory_limit": self.memory_limit}
        )
        connection.execute("SET TimeZone = 'UTC'")
        try:
            yield connection
        finally:
            connection.close()
