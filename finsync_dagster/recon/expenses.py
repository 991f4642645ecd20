"""Expenses: FreshBooks expenses against M3 GL postings on the account their category maps to.

``core.expenses`` carries the GL account for both sides (FreshBooks through the category lookup), so
the account is the group, and within it expenses pair by reference, then amount and date (see
:mod:`pairing`). Who was paid is FreshBooks' vendor; an M3 GL line has no vendor field, and the supplier
is written in its voucher text (VTXT, ``description`` in core). Leftovers on an account pair only when
those name the same party (see ``parties_must_agree`` in :func:`pairing.pair_amounts`).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from finsync_dagster.core import TABLES as CORE_TABLES
from finsync_dagster.recon.model import DEFAULT_TOLERANCES, Tolerances
from finsync_dagster.recon.pairing import pair_amounts
from finsync_dagster.recon.sources import fill, relation
from finsync_dagster.recon.sqlparts import party_key, reference_token

_SIDE = """(
    SELECT source_id AS id, gl_account AS grp, __PARTY__ AS party, currency_code, amount,
        expense_date AS on_date, __REF__ AS ref,
        coalesce(category, description, source_id) || ' (account ' || coalesce(gl_account, '?') || ')' AS label,
        coalesce(vendor, description) AS customer
    FROM __EXPENSES__ WHERE source = '__SOURCE__'
)"""
_PARTY = {"freshbooks": "vendor", "infor": "coalesce(vendor, description)"}


def match_expenses(con: duckdb.DuckDBPyConnection, tolerances: Tolerances = DEFAULT_TOLERANCES) -> pa.Table:
    """``recon.expense_matches`` rows for ``core.expenses`` in ``con``."""
    ref = reference_token("coalesce(category, '') || ' ' || coalesce(description, '')")
    sides = {
        source: fill(
            _SIDE,
            PARTY=party_key(_PARTY[source]),
            REF=ref,
            EXPENSES=relation(con, CORE_TABLES["expenses"]),
            SOURCE=source,
        )
        for source in ("freshbooks", "infor")
    }
    return pair_amounts(
        con,
        sides["freshbooks"],
        sides["infor"],
        tolerances,
        amount_field="amount",
        date_field="expense_date",
        parties_must_agree=True,
    )
