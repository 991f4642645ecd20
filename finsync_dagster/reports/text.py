"""Record text shown as data: control and direction characters become visible escapes.

A NUL, an ESC sequence or a right-to-left override (U+202E) in a customer name would otherwise hide or
reorder what a controller reads in the report, or garble a terminal showing ``summary.md``. Each such
character is written as its escape (``\\x1b``, ``\\u202e``); tabs and newlines included, so one record
stays on one line.
"""

from __future__ import annotations

import unicodedata
from typing import Any

# The same characters as :func:`visible` for DuckDB's RE2, where SQL writes record text straight to a file.
HIDDEN_SQL = (
    r"[\x00-\x1f\x7f-\x9f\x{ad}\x{61c}\x{180e}\x{200b}-\x{200f}\x{2028}-\x{202e}\x{2060}-\x{206f}\x{feff}]"
)
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"})


def _shown(char: str) -> str:
    if unicodedata.category(char) not in _HIDDEN_CATEGORIES:
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(value: Any) -> Any:
    """``value`` with every control, format and separator character escaped; non-text as it is."""
    if not isinstance(value, str) or value.isprintable():
        return value
    return "".join(_shown(char) for char in value)


def visible_row(row: dict[str, Any]) -> dict[str, Any]:
    return {name: visible(value) for name, value in row.items()}
