"""A broken spec is refused when it is loaded, and every problem names the file, the line and the field.

An analyst edits these files without Python; the error is the only guide they get, so it must point at the
exact place and say what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from finsync_dagster.cli import cli
from finsync_dagster.mapping.engine import check_data
from finsync_dagster.mapping.loader import load_spec
from finsync_dagster.mapping.registry import load_specs, spec_files
from finsync_dagster.mapping.spec import Spec, SpecError
from finsync_dagster.mapping.validate import check_spec
from finsync_dagster.writeback import KINDS

GOOD = """\
version: 1
source: staging.freshbooks_clients
target: {core: customers}
fields:
  source: {value: freshbooks}
  source_id: id
  name: organization
"""


def _problems(write_spec: Callable[..., Spec], text: str) -> list[tuple[int, str, str]]:
    spec = write_spec(text)
    return [(p.loc.line, p.loc.field, p.message) for p in check_spec(spec)]


def test_the_shipped_specs_are_valid_offline_and_against_staged_data(warehouse) -> None:
    specs = load_specs()
    assert len(specs) == len(spec_files())  # every file loads
    # every write-back action builds its payload with a shipped spec
    assert {kind.spec for kind in KINDS.values()} <= {spec.name for spec in specs}
    directions = {(s.source.split(".")[0], s.target.kind) for s in specs}
    # Shop orders are not reconciled, so they have no core tables: they go to FreshBooks from staging.
    assert directions == {
        ("staging", "core"),
        ("core", "m3"),
        ("core", "freshbooks"),
        ("staging", "freshbooks"),
    }
    assert {s.source for s in specs if s.source.startswith("staging.") and s.target.kind == "freshbooks"} == {
        "staging.shop_orders", "staging.shop_order_lines",
    }  # fmt: skip
    assert {s.target.name for s in specs if s.source.startswith("staging.freshbooks")} == {
        "customers", "invoices", "invoice_lines", "payments", "expenses", "gl_accounts", "items", "suppliers",
        "bills", "bill_lines",
    }  # fmt: skip
    assert [str(p) for s in specs for p in check_data(s, warehouse)] == []


def test_unknown_source_field_names_file_line_field_and_a_close_match(write_spec) -> None:
    assert _problems(write_spec, GOOD.replace("name: organization", "name: organisation")) == [
        (7, "name", "unknown source field 'organisation': staging.freshbooks_clients has no such column "
         "(did you mean 'organization'?)"),
    ]  # fmt: skip


def test_unknown_target_field_is_refused(write_spec) -> None:
    (problem,) = _problems(write_spec, GOOD + "  nickname: fname\n")
    assert problem[:2] == (8, "nickname") and "unknown target field 'nickname'" in problem[2]


def test_type_mismatch_says_how_to_convert(write_spec) -> None:
    (problem,) = _problems(write_spec, GOOD + "  updated_at: email\n")
    assert problem[:2] == (8, "updated_at")
    assert (
        "type mismatch: updated_at is timestamp but the rule produces text; add `type: timestamp`"
        in problem[2]
    )


def test_required_target_field_left_unmapped_points_at_fields(write_spec) -> None:
    (problem,) = _problems(write_spec, GOOD.replace("  name: organization\n", ""))
    assert problem == (4, "fields", "required target field 'name' (Customer name: the organisation, or the "
                       "person's full name) is left unmapped")  # fmt: skip


def test_m3_required_fields_and_lengths_come_from_the_catalog(write_spec) -> None:
    text = """\
version: 1
source: core.customers
target: {m3: CRS610MI/Add}
fields:
  CUNM: {from: name, max_length: 40}
  CUA1: address_line1
"""
    problems = _problems(write_spec, text)
    assert (5, "CUNM", "max_length 40 exceeds m3:CRS610MI/Add's 36 for CUNM") in problems
    assert any(
        line == 4 and "required target field 'CUTM' (Customer template)" in m for line, _, m in problems
    )


def test_structural_errors_are_all_reported_at_once_with_lines(write_spec) -> None:
    text = GOOD + "  email: {from: email, case: title, trimm: true}\n  phone: {from: bus_phone, value: x}\n"
    with pytest.raises(SpecError) as caught:
        write_spec(text)
    lines = [(p.loc.line, p.loc.field) for p in caught.value.problems]
    assert lines == [(8, "email"), (8, "email"), (9, "phone")]
    message = str(caught.value)
    assert "spec.yaml, line 8, field 'email': unknown rule key 'trimm'" in message
    assert "'case' is one of upper, lower, got 'title'" in message
    assert "a rule needs exactly one of from, value" in message


def test_lookup_table_with_a_duplicate_key_points_at_the_csv_line(write_spec) -> None:
    text = GOOD.replace("fields:", "lookups:\n  c: {csv: lookups/c.csv, key: k, value: v}\nfields:")
    with pytest.raises(SpecError, match=r"c\.csv, line 3, field 'lookups.c': key 'US' appears twice"):
        write_spec(text, c="k,v\nUS,United States\nUS,USA\n")


def test_a_lookup_name_that_is_not_snake_case_is_refused_before_it_reaches_sql(write_spec) -> None:
    text = GOOD.replace(
        "fields:", 'lookups:\n  "c ON true --": {csv: lookups/c.csv, key: k, value: v}\nfields:'
    )
    with pytest.raises(
        SpecError, match=r"line 5, field 'lookups.c ON true --': lookup name .* lower_snake_case"
    ):
        write_spec(text, c="k,v\nUS,United States\n")


def test_invalid_yaml_names_its_line(write_spec) -> None:
    with pytest.raises(
        SpecError, match=r"spec.yaml, line 4: not valid YAML: .* \(in what starts on line 3\)"
    ):
        write_spec("version: 1\nfields:\n  a: [unclosed\n")


def test_a_missing_lookup_key_in_staged_data_is_reported_by_mapping_check(tmp_path: Path, warehouse) -> None:
    specs = tmp_path / "specs"
    (specs / "lookups").mkdir(parents=True)
    (specs / "lookups" / "country.csv").write_text("country,iso2\nCanada,CA\n", encoding="utf-8")
    (specs / "clients.yaml").write_text(
        GOOD.replace(
            "fields:", "lookups:\n  country: {csv: lookups/country.csv, key: country, value: iso2}\nfields:"
        )
        + "  country_code: {lookup: {table: country, from: p_country}}\n",
        encoding="utf-8",
    )
    database = tmp_path / "warehouse.duckdb"
    warehouse.execute(f"ATTACH '{database}' AS file_db")
    warehouse.execute("CREATE SCHEMA file_db.staging")
    warehouse.execute(
        "CREATE TABLE file_db.staging.freshbooks_clients AS SELECT * FROM staging.freshbooks_clients"
    )
    warehouse.execute("DETACH file_db")
    result = CliRunner().invoke(
        cli, ["mapping", "check", "--specs", str(specs), "--warehouse", str(database)], catch_exceptions=True
    )
    assert result.exit_code != 0
    problem = str(result.exception)
    assert (
        "clients.yaml, line 10, field 'country_code': lookup 'country' (country.csv) has no key for"
        in problem
    )
    assert "'United States'" in problem  # the deleted client's 'Atlantis' is not staged data in use


def test_the_loaded_spec_keeps_its_version_and_description() -> None:
    spec = load_spec(
        Path(__file__).parents[2] / "finsync_dagster/mapping/specs/freshbooks_to_core/customers.yaml"
    )
    assert (spec.name, spec.version, spec.target.name) == ("freshbooks_customers", 1, "customers")
    assert "CRM" in spec.description
