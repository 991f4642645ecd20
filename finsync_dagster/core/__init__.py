"""The canonical finance model (``core.*``) that mapping writes and reconciliation and write-back read.

``model`` declares the entities and their column types; ``store`` replaces a built entity in the
warehouse in one transaction. Pure logic over DuckDB: no Dagster, no HTTP.
"""

from finsync_dagster.core.model import ENTITIES, SOURCES, TABLES, arrow_schema, entity
from finsync_dagster.core.store import replace_core_table, replace_rejects

__all__ = ["ENTITIES", "SOURCES", "TABLES", "arrow_schema", "entity", "replace_core_table", "replace_rejects"]
