"""Suggested field pairs are scored against pairs a finance-systems analyst labelled by hand.

The labels are the mappings the shipped specs use, restricted to fields with one clear counterpart
(ORNO and PBID, which M3 hands out at run time, and CUTM, a configuration choice, are left out). The
engine must pick the labelled source as its one suggestion for at least 80 % of the targets.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from finsync_dagster.cli import cli
from finsync_dagster.contracts import m3_catalog
from finsync_dagster.mapping.loader import load_spec
from finsync_dagster.mapping.staging_schemas import declared_schema
from finsync_dagster.mapping.suggest import suggest
from finsync_dagster.mapping.suggest.profile import profile_table

LABELLED = {
    ("staging.freshbooks_clients", "CRS610MI/Add"): {
        "CUNM": "organization", "CUA1": "p_street", "CUA2": "p_street2", "TOWN": "p_city", "PONO": "p_code",
        "CSCD": "p_country", "ECAR": "p_province", "PHNO": "bus_phone", "PHN2": "mob_phone", "MAIL": "email",
        "LNCD": "language",
    },
    ("staging.freshbooks_invoices", "OIS100MI/AddBatchHead"): {
        "CUNO": "customerid", "CUCD": "currency_code", "ORDT": "create_date", "CUOR": "po_number",
    },
    ("staging.freshbooks_invoice_lines", "OIS100MI/AddBatchLine"): {
        "ITNO": "name", "ITDS": "description", "ORQT": "qty", "SAPR": "unit_cost",
    },
    ("staging.freshbooks_payments", "ARS040MI/AddBatchLine"): {
        "CINO": "invoiceid", "CUNO": "clientid", "PYAM": "amount", "CUCD": "amount_code", "LPDT": "date",
        "PYTP": "type",
    },
}  # fmt: skip


def _accuracy(warehouse, *, with_profiles: bool) -> tuple[float, list[str]]:
    right, misses = 0, []
    for (source, transaction), labels in LABELLED.items():
        schema = declared_schema(source)
        profiles = profile_table(warehouse, source, schema) if with_profiles else None
        chosen = {
            s.target: s.source for s in suggest(schema, m3_catalog.transaction(transaction).inputs, profiles)
        }
        for target, expected in labels.items():
            if chosen.get(target) == expected:
                right += 1
            else:
                misses.append(f"{transaction} {target}: wanted {expected}, got {chosen.get(target)}")
    return right / sum(len(labels) for labels in LABELLED.values()), misses


@pytest.mark.parametrize("with_profiles", [True, False], ids=["with-value-profiles", "names-only"])
def test_top1_accuracy_on_labelled_pairs_is_at_least_80_percent(warehouse, with_profiles: bool) -> None:
    accuracy, misses = _accuracy(warehouse, with_profiles=with_profiles)
    assert accuracy >= 0.8, misses


def test_value_profiles_tell_an_email_column_from_a_phone_column(warehouse) -> None:
    schema = declared_schema("staging.freshbooks_clients")
    profiles = profile_table(warehouse, "staging.freshbooks_clients", schema)
    assert (profiles["email"].kind, profiles["bus_phone"].kind, profiles["currency_code"].kind) == (
        "email",
        "phone",
        None,
    )
    chosen = {s.target: s for s in suggest(schema, m3_catalog.transaction("CRS610MI/Add").inputs, profiles)}
    assert "values look like email" in chosen["MAIL"].reason
    assert "values up to 60 chars exceed 36" in chosen["CUA1"].reason


def test_suggest_command_prints_one_line_per_pair_and_writes_a_loadable_draft(tmp_path: Path) -> None:
    draft = tmp_path / "draft.yaml"
    result = CliRunner().invoke(
        cli,
        ["mapping", "suggest", "--source", "staging.freshbooks_payments", "--target", "ARS040MI/AddBatchLine",
         "--write", str(draft)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    pairs = [line.split() for line in result.output.splitlines() if not line.startswith("#")]
    assert pairs[[p[0] for p in pairs].index("PYAM")][:3] == ["PYAM", "<-", "amount"]
    assert all(0 < float(p[3]) <= 1 for p in pairs)
    spec = load_spec(draft)
    assert spec.fields["PYAM"].producer.name == "amount"  # type: ignore[union-attr]
    assert (spec.source, str(spec.target)) == ("staging.freshbooks_payments", "m3:ARS040MI/AddBatchLine")
