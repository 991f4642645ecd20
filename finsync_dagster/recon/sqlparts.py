"""SQL fragments the matchers share: field-by-field differences as a JSON list, built inside DuckDB.

Field names and column expressions come from the matchers' own constants; values (tolerances) are bound
as named parameters (``$amount_tolerance``, ``$date_tolerance_days``). Money is compared and printed as DECIMAL, so a
difference of three cents reads "0.03", never "0.030000000000001".
"""

from __future__ import annotations

_ROW = "{{'field': '{field}', 'freshbooks': {fb}, 'infor': {infor}, 'difference': {diff}, 'currency': {cur}}}"


def money_difference(field: str, fb: str, infor: str, currency: str) -> str:
    """A difference when both amounts are known, in the same currency, and further apart than allowed."""
    row = _ROW.format(
        field=field,
        fb=f"CAST({fb} AS VARCHAR)",
        infor=f"CAST({infor} AS VARCHAR)",
        diff=f"CAST({infor} - {fb} AS VARCHAR)",
        cur=f"CAST({currency} AS VARCHAR)",
    )
    return f"CASE WHEN {fb} IS NOT NULL AND {infor} IS NOT NULL AND abs({fb} - {infor}) > $amount_tolerance THEN {row} END"


def text_difference(field: str, fb: str, infor: str) -> str:
    """A difference when the two texts disagree, treating NULL and '' alike."""
    row = _ROW.format(
        field=field, fb=f"CAST({fb} AS VARCHAR)", infor=f"CAST({infor} AS VARCHAR)", diff="NULL", cur="NULL"
    )
    return f"CASE WHEN coalesce(CAST({fb} AS VARCHAR), '') <> coalesce(CAST({infor} AS VARCHAR), '') THEN {row} END"


def date_difference(field: str, fb: str, infor: str, days: str) -> str:
    """A difference when both dates are known and further apart than ``days`` (a SQL parameter)."""
    row = _ROW.format(
        field=field,
        fb=f"CAST({fb} AS VARCHAR)",
        infor=f"CAST({infor} AS VARCHAR)",
        diff=f"CAST(date_diff('day', {fb}, {infor}) AS VARCHAR) || ' days'",
        cur="NULL",
    )
    return f"CASE WHEN {fb} IS NOT NULL AND {infor} IS NOT NULL AND abs(date_diff('day', {fb}, {infor})) > {days} THEN {row} END"


def difference_list(*items: str) -> str:
    """The non-NULL differences of ``items`` as a list of structs (empty when everything agrees)."""
    return f"list_filter([{', '.join(items)}], lambda d: d IS NOT NULL)"


REFERENCE_TOKEN = r"[A-Za-z0-9]*[0-9][A-Za-z0-9_-]*"


def reference_token(expr: str) -> str:
    """The first word with a digit in it (a cheque number, a transaction id, 'P0008'), or NULL."""
    return f"nullif(regexp_extract(coalesce({expr}, ''), '{REFERENCE_TOKEN}'), '')"
