"""M3's string-typed values, turned into Python types at the boundary and back.

Every MI output value is a right-trimmed string (contract section 2.2). The catalog gives input types
(``string``/``number``) and lengths but no output types, so the kinds below are named per field, from the
catalog's descriptions ("Change date", "Payment amount", "Ordered quantity", ...). A field not listed
stays a string: a code such as ``STAT`` or ``CUNO`` must never lose its leading zeros.

``EXPORTMI`` columns carry their table's two-letter prefix (``OKLMDT``, ``OASAPR``); they are typed by
the name without it. Empty strings become ``None`` for typed fields (M3 writes ``0`` or blank for "no date").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from finsync_dagster.errors import DataQualityError

DATE_FIELDS = frozenset(
    {
        "ACDT", "CODT", "DLDT", "DSDT", "DUDT", "DWDT", "FLMD", "IDAT", "IVDT", "LMDT", "LPDT", "ORDT",
        "PYDT", "RGDT", "RLDT", "TLMD", "TRDT", "VODT", "FDAT", "TDAT",
    }
)  # fmt: skip
DECIMAL_FIELDS = frozenset(
    {
        # amounts
        "ACAM", "BRAM", "CRLM", "CUAM", "DIA1", "DIA2", "DIA3", "DIA4", "DIA5", "DIA6", "IVAM", "LNAM",
        "NLAM", "NTAM", "OTAM", "PYAM", "RAFC", "TOIN", "TOPY", "VTAM", "BAAN", "REAM",
        # prices, quantities, rates, percentages
        "SAPR", "NEPR", "ALQT", "AV01", "DLQT", "IVQT", "ORQT", "RNQT", "STQT", "ARAT", "DIP1", "DIP2",
        "DIP3", "DIP4", "DIP5", "DIP6", "VTP1",
    }
)  # fmt: skip
INT_FIELDS = frozenset(
    {"CHNO", "CONO", "INYR", "JRNO", "JSNO", "LINE", "LMTS", "PONR", "POSX", "RECO", "TRNO", "YEA4"}
)

_EIGHT_DIGITS = re.compile(r"^\d{8}$")


def kind_of(name: str, *, prefixed: bool = False) -> str:
    """``date``, ``decimal``, ``int`` or ``text`` for an output field (``prefixed``: an EXPORTMI column)."""
    base = name[2:] if prefixed and len(name) == 6 else name
    if base in DATE_FIELDS:
        return "date"
    if base in DECIMAL_FIELDS:
        return "decimal"
    if base in INT_FIELDS:
        return "int"
    return "text"


def parse_value(name: str, raw: str, *, prefixed: bool = False, where: str = "") -> Any:
    """One M3 output value as its Python type; a value that breaks its kind raises DataQualityError."""
    kind = kind_of(name, prefixed=prefixed)
    if kind == "text":
        return raw
    value = raw.strip()
    if not value:
        return None
    try:
        if kind == "date":
            if value == "0":
                return None
            if not _EIGHT_DIGITS.match(value):
                raise ValueError
            return datetime.strptime(value, "%Y%m%d").date()
        if kind == "decimal":
            number = Decimal(value)
            if not number.is_finite():
                raise ValueError  # NaN and Infinity are never M3 numbers
            return number
        return int(value)
    except (ValueError, InvalidOperation):
        raise DataQualityError(f"{where or 'M3'}: field {name} = {value!r} is not a valid {kind}") from None


def parse_record(record: Mapping[str, str], *, prefixed: bool = False, where: str = "") -> dict[str, Any]:
    return {name: parse_value(name, raw, prefixed=prefixed, where=where) for name, raw in record.items()}


def format_value(value: object) -> str:
    """A Python value as M3 expects it on input: ``yyyyMMdd`` dates, ``.`` decimals, no floats."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        raise TypeError("M3 input dates are calendar dates; convert the datetime to the company's date first")
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"M3 numbers are finite, not {value}")
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("money and quantities must be Decimal, never float")
    if isinstance(value, int | str):
        return str(value)
    raise TypeError(f"cannot send a {type(value).__name__} to M3")


def format_params(params: Mapping[str, object] | None) -> dict[str, str]:
    """Input fields as M3 strings; ``None`` means "not sent" (M3 then applies its default)."""
    return {name: format_value(value) for name, value in (params or {}).items() if value is not None}
