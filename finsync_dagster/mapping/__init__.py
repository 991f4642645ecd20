"""Declarative mapping: YAML specs translate staging rows into the core model and core rows into API inputs.

Pure logic over DuckDB: no Dagster, no HTTP. ``build_core`` is what the core assets call; ``run_spec`` maps
one spec; ``load_specs`` reads and checks the shipped specs; ``suggest`` drafts a new one.
"""

from finsync_dagster.mapping.engine import (
    CoreBuild,
    MappingResult,
    build_core,
    check_data,
    preview,
    run_spec,
    staging_from_frames,
)
from finsync_dagster.mapping.loader import load_spec
from finsync_dagster.mapping.payloads import freshbooks_bodies, m3_records
from finsync_dagster.mapping.registry import SPECS_DIR, load_specs, specs_for
from finsync_dagster.mapping.spec import Spec, SpecError
from finsync_dagster.mapping.suggest import Suggestion, suggest
from finsync_dagster.mapping.validate import check_spec

__all__ = [
    "SPECS_DIR",
    "CoreBuild",
    "MappingResult",
    "Spec",
    "SpecError",
    "Suggestion",
    "build_core",
    "check_data",
    "check_spec",
    "freshbooks_bodies",
    "load_spec",
    "load_specs",
    "m3_records",
    "preview",
    "run_spec",
    "specs_for",
    "staging_from_frames",
    "suggest",
]
