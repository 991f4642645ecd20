"""Core assets: ``core.<entity>`` per integration pair, built from both systems' staging by the mapping specs.

Thin on purpose: read the pair's warehouse, call ``mapping.build_core``, write the table and the rows the
specs refused (``core.mapping_rejects``), and report counts, the specs in force and a check that nothing
was refused. The translation itself lives in the YAML specs under ``finsync_dagster/mapping/specs``.
(No ``from __future__ import annotations`` here: Dagster reads the ``context`` annotation at definition.)
"""

import dagster as dg
import pyarrow.compute as pc

from finsync_dagster.core import model as core_model
from finsync_dagster.core.store import replace_core_table, replace_rejects
from finsync_dagster.mapping.engine import build_core
from finsync_dagster.mapping.spec import Spec
from finsync_dagster.resources import WarehouseResource
from finsync_dagster.warehouse.schemas import CORE

REJECT_CHECK = "mapping_refused_no_rows"
_SAMPLE = 5


def _column_schema(entity: str) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(f.name, f.sql_type, description=f.description)
            for f in core_model.entity(entity).fields.values()
        ]
    )


def _build(entity: str, specs: list[Spec], partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    key = dg.AssetKey([CORE, entity])
    sources = sorted({s.source for s in specs})
    schema = core_model.entity(entity)

    @dg.asset(
        key=key,
        deps=[dg.AssetKey(table.split(".")) for table in sources],
        group_name="core",
        kinds={"duckdb"},
        owners=["team:finance-data"],
        description=f"{schema.description} Mapped from {', '.join(sources)} by {', '.join(s.name for s in specs)}.",
        partitions_def=partitions,
        metadata={"dagster/column_schema": _column_schema(entity)},
        check_specs=[
            dg.AssetCheckSpec(
                REJECT_CHECK, asset=key, description="Every staged row passed its mapping spec."
            )
        ],
    )
    def _core(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect(context.partition_key) as connection:
            build = build_core(entity, connection, specs)
            rows = replace_core_table(connection, entity, build.table)
            refused = replace_rejects(connection, entity, build.rejects)
        sample = build.rejects.slice(0, _SAMPLE).to_pylist()
        counted = pc.value_counts(build.table.column("source")).to_pylist()
        by_source = {source: 0 for source in core_model.SOURCES} | {c["values"]: c["counts"] for c in counted}
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": dg.MetadataValue.int(rows),
                **{f"rows_from_{source}": dg.MetadataValue.int(n) for source, n in by_source.items()},
                "refused": dg.MetadataValue.int(refused),
                "specs": dg.MetadataValue.json({s.name: s.version for s in specs}),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name=REJECT_CHECK,
                    passed=refused == 0,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={"refused": refused, "sample": dg.MetadataValue.json(sample)},
                )
            ],
        )

    return _core


def build_core_assets(partitions: dg.PartitionsDefinition, specs: list[Spec]) -> list[dg.AssetsDefinition]:
    """One asset per core entity, from the specs read once when definitions load."""
    return [
        _build(entity, [s for s in specs if s.target.kind == "core" and s.target.name == entity], partitions)
        for entity in core_model.ENTITIES
    ]
