"""Write a built core entity into the warehouse's ``core`` schema, replacing it in one transaction."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from finsync_dagster.core import model as core_model
from finsync_dagster.warehouse import columns_of, qualified, transaction
from finsync_dagster.warehouse.schemas import CORE, MAPPING_REJECTS, ensure_mapping_rejects, ensure_schema


def replace_core_table(con: duckdb.DuckDBPyConnection, entity: str, table: pa.Table) -> int:
    """``core.<entity>`` becomes exactly ``table``; readers never see it half written."""
    schema = core_model.entity(entity)
    target = qualified(CORE, entity)
    ensure_schema(con, CORE)
    existing = [column for column, _ in columns_of(con, target)]
    if existing and existing != list(schema.names):
        # The core model gained or lost a field since this table was built; it is rebuilt in full anyway.
        con.execute(f"DROP TABLE {target}")
    con.execute(core_model.create_table_sql(entity))
    columns = ", ".join(schema.names)
    with transaction(con, __core_rows=table.select(schema.names)):
        con.execute(f"DELETE FROM {target}")
        con.execute(f"INSERT INTO {target} ({columns}) SELECT {columns} FROM __core_rows")
    return int(table.num_rows)


def replace_rejects(con: duckdb.DuckDBPyConnection, entity: str, rejects: pa.Table) -> int:
    """``core.mapping_rejects`` holds, per entity, the rows the last build refused and why."""
    core_model.entity(entity)
    ensure_mapping_rejects(con)
    with transaction(con, __rejects=rejects):
        con.execute(f"DELETE FROM {MAPPING_REJECTS} WHERE entity = ?", [entity])
        con.execute(
            f"INSERT INTO {MAPPING_REJECTS} SELECT ?, spec, source_id, errors FROM __rejects", [entity]
        )
    return int(rejects.num_rows)
