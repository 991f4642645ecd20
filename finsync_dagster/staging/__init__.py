"""Staging: typed copies of each source entity, upserted by id, with the raw record kept beside them.

Pure logic over DuckDB connections; the Dagster assets that drive it live in ``finsync_dagster.assets``.
Import from the modules (``columns``, the two table registries, ``writer``, ``load``); the package itself
exports nothing.
"""

__all__: list[str] = []
