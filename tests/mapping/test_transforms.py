"""Every transformation kind a spec can express, each with the error a user sees when data breaks it.

The rows go through DuckDB exactly as in production; a broken row is rejected with the spec file, line and
field of the rule it broke, and the good rows still come through.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest

from finsync_dagster.errors import MappingError
from finsync_dagster.mapping.engine import check_data, run_spec
from finsync_dagster.mapping.spec import Spec

# A core.invoices spec whose required fields are filled; each test adds or overrides one field.
BASE = """
name: t
version: 1
source: staging.rows
target: {{core: invoices}}
{extra}
fields:
  source: {{value: freshbooks}}
  source_id: id
  invoice_number: {{value: N-1}}
  customer_source_id: {{value: C-1}}
  issue_date: {{value: 2024-01-01}}
  currency_code: {{value: USD}}
  total_amount: {{value: 1.00}}
{fields}
"""


def _rows(con: duckdb.DuckDBPyConnection, **columns: list) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS staging")
    table = pa.table({"id": [str(i) for i in range(len(next(iter(columns.values()))))], **columns})
    con.register("input_rows", table)
    con.execute("CREATE OR REPLACE TABLE staging.rows AS SELECT * FROM input_rows")
    con.unregister("input_rows")


def _spec(write_spec: Callable[..., Spec], fields: str, extra: str = "", **csvs: str) -> Spec:
    return write_spec(BASE.format(fields=fields, extra=extra), **csvs)


def _mapped(result, column: str) -> dict[str, object]:
    return dict(zip(result.keys.to_pylist(), result.table.column(column).to_pylist(), strict=True))


def _errors(result) -> dict[str, str]:
    return dict(
        zip(
            result.rejects.column("source_id").to_pylist(),
            result.rejects.column("errors").to_pylist(),
            strict=True,
        )
    )


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def test_text_becomes_a_date_by_format_and_a_bad_date_rejects_its_row(con, write_spec) -> None:
    _rows(con, raw=["20240131", "2024-13-45", None])
    spec = _spec(write_spec, '  due_date: {from: raw, type: date, format: "%Y%m%d"}')
    result = run_spec(spec, con)
    assert _mapped(result, "due_date") == {"0": date(2024, 1, 31), "2": None}
    assert _errors(result) == {"1": "due_date (spec.yaml:14): not a date: 2024-13-45"}


def test_eastern_wall_clock_becomes_utc_across_daylight_saving(con, write_spec) -> None:
    _rows(con, raw=["2019-11-14 11:27:45", "2022-08-16 14:11:07", "yesterday"])
    spec = _spec(write_spec, "  updated_at: {from: raw, type: timestamp, timezone: America/New_York}")
    result = run_spec(spec, con)
    assert _mapped(result, "updated_at") == {
        "0": datetime(2019, 11, 14, 16, 27, 45, tzinfo=UTC),
        "1": datetime(2022, 8, 16, 18, 11, 7, tzinfo=UTC),
    }
    assert "not a timestamp: yesterday" in _errors(result)["2"]


def test_money_stays_exact_and_a_fraction_of_a_cent_is_rejected_unless_rounding_is_asked(
    con, write_spec
) -> None:
    _rows(con, raw=["12.50", "7.60133524082021936099189318", "abc"])
    exact = run_spec(_spec(write_spec, "  paid_amount: {from: raw, type: decimal}"), con)
    assert exact.table.schema.field("paid_amount").type == pa.decimal128(18, 2)
    assert _mapped(exact, "paid_amount") == {"0": Decimal("12.50")}
    errors = _errors(exact)
    assert "has more than 2 decimal places" in errors["1"] and "not a number: abc" in errors["2"]
    rounded = run_spec(_spec(write_spec, "  paid_amount: {from: raw, type: decimal, round: true}"), con)
    assert _mapped(rounded, "paid_amount")["1"] == Decimal("7.60")


def test_a_money_constant_keeps_every_digit_it_was_written_with(con, write_spec) -> None:
    _rows(con, raw=["x"])
    spec = _spec(write_spec, "  paid_amount: {value: 1234567890123456.78}")
    assert _mapped(run_spec(spec, con), "paid_amount") == {"0": Decimal("1234567890123456.78")}


def test_integers_parse_and_text_that_is_not_one_is_rejected(con, write_spec) -> None:
    _rows(con, raw=["42", "4x2", "12.5"])
    spec = write_spec(
        """
        version: 1
        source: staging.rows
        target: {core: invoice_lines}
        fields:
          source: {value: freshbooks}
          source_id: id
          invoice_source_id: {value: I-1}
          line_amount: {value: 0.00}
          line_number: {from: raw, type: integer}
        """
    )
    result = run_spec(spec, con)
    assert _mapped(result, "line_number") == {"0": 42}
    assert "not a whole number: 4x2" in _errors(result)["1"]
    assert "not a whole number: 12.5" in _errors(result)["2"]  # not rounded to 13


def test_strings_are_trimmed_cased_and_held_to_a_length_or_cut_when_truncation_is_written(
    con, write_spec
) -> None:
    _rows(con, raw=["  abc  ", "much too long"])
    limited = run_spec(
        _spec(write_spec, "  po_number: {from: raw, trim: true, case: upper, max_length: 5}"), con
    )
    assert _mapped(limited, "po_number") == {"0": "ABC"}
    assert "longer than 5 characters: MUCH TOO LONG" in _errors(limited)["1"]
    cut = run_spec(_spec(write_spec, "  po_number: {from: raw, max_length: 4, on_overflow: truncate}"), con)
    assert _mapped(cut, "po_number")["1"] == "much"


def test_lookup_translates_values_and_a_key_missing_from_the_table_is_named(con, write_spec) -> None:
    _rows(con, raw=["Check", "VISA", "Barter"])
    spec = _spec(
        write_spec,
        "  status: {lookup: {table: method, from: raw}}",
        extra="lookups:\n  method: {csv: lookups/methods.csv, key: payment, value: code, ignore_case: true}",
        methods="payment,code\ncheck,CHK\nVisa,CRD\n",
    )
    result = run_spec(spec, con)
    assert _mapped(result, "status") == {"0": "CHK", "1": "CRD"}
    assert "no entry in lookup 'method' (methods.csv) for barter" in _errors(result)["2"]
    (problem,) = check_data(spec, con)
    assert (problem.loc.file.name, problem.loc.line, problem.loc.field) == ("spec.yaml", 15, "status")
    assert "has no key for 'barter'" in problem.message


def test_mapping_check_asks_a_lookup_in_a_when_branch_only_for_the_rows_that_take_it(con, write_spec) -> None:
    _rows(con, raw=["Check", "Barter"], kind=["card", "cash"])
    spec = _spec(
        write_spec,
        "  status:\n    when:\n      - if: {field: kind, equals: card}\n"
        "        then: {lookup: {table: method, from: raw}}\n    else: {value: CSH}",
        extra="lookups:\n  method: {csv: lookups/methods.csv, key: payment, value: code}",
        methods="payment,code\nCheck,CHK\n",
    )
    assert _mapped(run_spec(spec, con), "status") == {"0": "CHK", "1": "CSH"}
    assert check_data(spec, con) == []  # 'Barter' is a cash row: it never reaches the lookup


def test_lookup_that_allows_misses_leaves_them_empty_for_the_default(con, write_spec) -> None:
    _rows(con, raw=["Check", "Barter"])
    spec = _spec(
        write_spec,
        "  status: {lookup: {table: method, from: raw, on_missing: null}, default: OTHER}",
        extra="lookups:\n  method: {csv: lookups/methods.csv, key: payment, value: code}",
        methods="payment,code\nCheck,CHK\n",
    )
    assert _mapped(run_spec(spec, con), "status") == {"0": "CHK", "1": "OTHER"}


def test_enrichment_from_a_csv_adds_a_third_systems_column(con, write_spec) -> None:
    _rows(con, email=["A@X.example", "b@y.example"])
    spec = _spec(
        write_spec,
        "  status: {from: crm.segment, default: UNCLASSIFIED}",
        extra="enrich:\n  crm: {csv: lookups/crm.csv, key: email, from: email, ignore_case: true}",
        crm="email,segment\na@x.example,SMB\n",
    )
    assert _mapped(run_spec(spec, con), "status") == {"0": "SMB", "1": "UNCLASSIFIED"}


def test_enrichment_from_a_warehouse_table_with_a_duplicate_key_is_refused(con, write_spec) -> None:
    _rows(con, cust=["c1"])
    con.execute(
        "CREATE SCHEMA crm; CREATE TABLE crm.segments AS SELECT * FROM (VALUES ('c1','SMB'), ('c1','KEY')) t(id, segment)"
    )
    spec = _spec(
        write_spec,
        "  status: crm.segment",
        extra="enrich:\n  crm: {table: crm.segments, key: id, from: cust}",
    )
    with pytest.raises(MappingError, match="enrichment 'crm' has more than one row for key 'c1'"):
        run_spec(spec, con)


def test_conditions_choose_a_value_and_an_error_branch_rejects_with_its_message(con, write_spec) -> None:
    _rows(con, kind=["SMB", "ENT", "GOV", None])
    spec = _spec(
        write_spec,
        """  status:
    when:
      - if: {field: kind, equals: SMB}
        then: {value: small}
      - if: {any: [{field: kind, in: [ENT, MID]}, {field: kind, matches: "^K"}]}
        then: {value: key}
      - if: {field: kind, is_null: true}
        then: {value: unknown}
    else: {error: "client type is not one we sell to"}""",
    )
    result = run_spec(spec, con)
    assert _mapped(result, "status") == {"0": "small", "1": "key", "3": "unknown"}
    assert _errors(result)["2"] == "status (spec.yaml:22): client type is not one we sell to"


def test_concatenation_skips_blanks_and_splitting_takes_the_parts_asked_for(con, write_spec) -> None:
    _rows(con, first=["Ada", None], last=["Lovelace", "Hopper"], full=["Grace Brewster Hopper", "Cher"])
    spec = write_spec(
        """
        version: 1
        source: staging.rows
        target: {core: customers}
        fields:
          source: {value: freshbooks}
          source_id: id
          name: {concat: [first, last]}
          first_name: {split: {from: full, separator: " ", part: first}}
          last_name: {split: {from: full, separator: " ", part: rest}}
          city: {split: {from: full, separator: " ", part: last}}
        """
    )
    result = run_spec(spec, con)
    assert _mapped(result, "name") == {"0": "Ada Lovelace", "1": "Hopper"}
    assert _mapped(result, "first_name") == {"0": "Grace", "1": "Cher"}
    assert _mapped(result, "last_name") == {"0": "Brewster Hopper", "1": None}
    assert _mapped(result, "city") == {"0": "Hopper", "1": "Cher"}


def test_a_long_street_wraps_onto_the_next_line_and_one_too_long_for_both_is_rejected(
    con, write_spec
) -> None:
    street = "1 Very Long Industrial Estate Road Near The Old Harbour Gate"
    _rows(con, street=[street, street * 2])
    spec = write_spec(
        """
        version: 1
        source: staging.rows
        target: {m3: CRS610MI/Add}
        fields:
          CUTM: {value: T}
          CUNM: {value: N}
          CUA1: {split: {from: street, width: 36, part: 1, max_parts: 2}}
          CUA2: {split: {from: street, width: 36, part: 2}}
        """
    )
    result = run_spec(spec, con)
    assert _mapped(result, "CUA1") == {"0": "1 Very Long Industrial Estate Road"}
    assert _mapped(result, "CUA2") == {"0": "Near The Old Harbour Gate"}
    assert "CUA1 (spec.yaml:7): has more than 2 parts" in _errors(result)["1"]


def test_defaults_fill_gaps_and_a_required_field_left_empty_rejects_the_row(con, write_spec) -> None:
    _rows(con, cur=["EUR", None], number=["N-9", None])
    spec = write_spec(
        BASE.format(extra="", fields="")
        .replace("{value: USD}", "{from: cur, default: USD}")
        .replace("invoice_number: {value: N-1}", "invoice_number: number")
    )
    result = run_spec(spec, con)
    assert _mapped(result, "currency_code") == {"0": "EUR"}
    assert _errors(result) == {"1": "invoice_number (spec.yaml:9): required but empty"}


def test_value_map_translates_codes_and_an_unmapped_code_is_rejected(con, write_spec) -> None:
    _rows(con, code=[1, 4, 9])
    spec = _spec(write_spec, "  status: {from: code, map: {1: draft, 4: paid}}")
    result = run_spec(spec, con)
    assert _mapped(result, "status") == {"0": "draft", "1": "paid"}
    assert "no 'map' entry for 9" in _errors(result)["2"]


def test_negate_flips_credits_and_filters_and_deleted_rows_keep_rows_out(con, write_spec) -> None:
    _rows(
        con,
        amt=[Decimal("-5.00"), Decimal("-7.00"), Decimal("-9.00")],
        code=["20", "10", "20"],
        _deleted=[False, False, True],
    )
    spec = _spec(
        write_spec, "  paid_amount: {from: amt, negate: true}", extra='filter: {field: code, equals: "20"}'
    )
    assert _mapped(run_spec(spec, con), "paid_amount") == {"0": Decimal("5.00")}


def test_strict_mode_raises_with_the_rows_and_reasons(con, write_spec) -> None:
    _rows(con, raw=["bad"])
    spec = _spec(write_spec, "  due_date: {from: raw, type: date}")
    with pytest.raises(
        MappingError, match=r"1 row\(s\) of staging.rows failed the mapping:\n  id=0: due_date"
    ):
        run_spec(spec, con, strict=True)
