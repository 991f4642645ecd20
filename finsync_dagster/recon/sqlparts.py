"""SQL fragments the matchers share: field-by-field differences as a JSON list, built inside DuckDB.

Field names and column expressions come from the matchers' own constants; values (tolerances) are bound
as named parameters (``$amount_tolerance``, ``$date_tolerance_days``). Money is compared and printed as
DECIMAL, so a difference of three cents reads "0.03", never "0.030000000000001".

Each difference is a condition and the struct it reports; :func:`difference_list` tests the cheap
conditions first and builds structs only for the rows that differ (at a million agreeing pairs, building
and filtering a list per row was most of the invoice matcher's time). Amounts and dates are first
compared for equality, which is exact and cheap; the distance is computed only for those that differ.
"""

from __future__ import annotations

from typing import NamedTuple

_ROW = "{{'field': '{field}', 'freshbooks': {fb}, 'infor': {infor}, 'difference': {diff}, 'currency': {cur}}}"


class Difference(NamedTuple):
    when: str  # SQL condition: true when the field differs
    row: str  # SQL struct {field, freshbooks, infor, difference, currency}


def money_difference(field: str, fb: str, infor: str, currency: str) -> Difference:
    """A difference when both amounts are known, in the same currency, and further apart than allowed."""
    row = _ROW.format(
        field=field,
        fb=f"CAST({fb} AS VARCHAR)",
        infor=f"CAST({infor} AS VARCHAR)",
        diff=f"CAST({infor} - {fb} AS VARCHAR)",
        cur=f"CAST({currency} AS VARCHAR)",
    )
    return Difference(f"({fb} <> {infor} AND abs({fb} - {infor}) > $amount_tolerance)", row)


def text_difference(field: str, fb: str, infor: str) -> Difference:
    """A difference when the two texts disagree, treating NULL and '' alike."""
    row = _ROW.format(
        field=field, fb=f"CAST({fb} AS VARCHAR)", infor=f"CAST({infor} AS VARCHAR)", diff="NULL", cur="NULL"
    )
    return Difference(f"coalesce(CAST({fb} AS VARCHAR), '') <> coalesce(CAST({infor} AS VARCHAR), '')", row)


def date_difference(field: str, fb: str, infor: str, days: str) -> Difference:
    """A difference when both dates are known and further apart than ``days`` (a SQL parameter)."""
    row = _ROW.format(
        field=field,
        fb=f"CAST({fb} AS VARCHAR)",
        infor=f"CAST({infor} AS VARCHAR)",
        diff=f"CAST(date_diff('day', {fb}, {infor}) AS VARCHAR) || ' days'",
        cur="NULL",
    )
    return Difference(f"({fb} <> {infor} AND abs(date_diff('day', {fb}, {infor})) > {days})", row)


def any_difference(*items: Difference) -> str:
    """True when any item differs, false otherwise (NULL compares as agreeing).

    A CASE condition is evaluated with selection vectors, so each test after the first runs only on the
    rows still undecided, and the distance behind an inequality only where the values differ.
    """
    return f"CASE WHEN {_either(items)} THEN true ELSE false END"


def _either(items: tuple[Difference, ...]) -> str:
    return " OR ".join(f"({d.when})" for d in items)


def differing_items(*items: Difference) -> str:
    """The differing items as a list of structs; meant for rows where :func:`any_difference` holds."""
    rows = ", ".join(f"CASE WHEN {d.when} THEN {d.row} END" for d in items)
    return f"list_filter([{rows}], lambda d: d IS NOT NULL)"


def difference_list(*items: Difference) -> str:
    """The differing items as a list of structs (empty when everything agrees; NULL compares as agreeing)."""
    return f"CASE WHEN {_either(items)} THEN {differing_items(*items)} ELSE [] END"


REFERENCE_TOKEN = r"[A-Za-z0-9]*[0-9][A-Za-z0-9_-]*"


def reference_token(expr: str) -> str:
    """The first word with a digit in it (a cheque number, a transaction id, 'P0008'), or NULL."""
    return f"nullif(regexp_extract(coalesce({expr}, ''), '{REFERENCE_TOKEN}'), '')"


def party_key(expr: str) -> str:
    """Who paid or was paid, for comparison: lower case letters and digits between single spaces, or NULL."""
    return f"nullif(trim(regexp_replace(lower(strip_accents(coalesce({expr}, ''))), '[^a-z0-9]+', ' ', 'g')), '')"
