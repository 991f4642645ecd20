"""``finsync mapping preview`` shows records beside their mapped form; the package's public surface is pinned."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

import finsync_dagster.core as core
import finsync_dagster.mapping as mapping
from finsync_dagster.cli import cli
from tests.mapping.test_core_assets import _pair_warehouse


def test_preview_prints_source_fields_beside_core_fields_and_refusals(tmp_path: Path) -> None:
    path = _pair_warehouse(tmp_path, "demo")
    result = CliRunner().invoke(
        cli, ["mapping", "preview", "customers", "--limit", "1", "--warehouse", str(path)], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    assert "freshbooks_customers v1" in result.output and "infor_customers v1" in result.output
    assert "organization: Northwind Traders" in result.output and "name: Northwind Traders" in result.output
    assert "CUNM: Contoso Ltd" in result.output and "country_code: SE" in result.output


def test_preview_without_staged_data_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--config", str(tmp_path / "none.yaml"), "mapping", "preview", "customers"]
    )
    assert result.exit_code != 0
    assert "preview needs staged data: give --pair or --warehouse (run `finsync sync` first)" in str(
        result.exception
    )


def test_public_surface() -> None:
    assert sorted(mapping.__all__) == sorted(
        [
            "SPECS_DIR", "CoreBuild", "MappingResult", "Spec", "SpecError", "Suggestion", "build_core",
            "check_data", "check_spec", "freshbooks_bodies", "load_spec", "load_specs", "m3_records", "preview",
            "run_spec", "specs_for", "staging_from_frames", "suggest",
        ]
    )  # fmt: skip
    assert all(hasattr(mapping, name) for name in mapping.__all__)


def test_core_model_surface() -> None:
    assert sorted(core.__all__) == sorted(
        ["ENTITIES", "SOURCES", "TABLES", "arrow_schema", "entity", "replace_core_table", "replace_rejects"]
    )
    assert all(hasattr(core, name) for name in core.__all__)
