"""Staging: typed copies of each source entity, upserted by id, with the raw record kept beside them.

Pure logic over DuckDB connections; the Dagster assets that drive it live in ``finsync_dagster.assets``.
"""
