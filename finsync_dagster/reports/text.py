"""Record text shown as data: control and direction characters become visible escapes.

A NUL, an ESC sequence or a right-to-left override (U+202E) in a customer name would otherwise hide or
reorder what a controller reads in the report, or garble a terminal showing ``summary.md``. Each such
character is written as its escape (``\\x1b``, ``\\u202e``); tabs and newlines included, so one record
stays on one line.
"""

from __future__ import annotations

import unicodedata
from typing import Any

# The characters :func:`visible` escapes, for DuckDB's RE2, where SQL writes record text straight to a file:
# the same general categories (controls, format characters such as direction marks and the invisible tag
# characters U+E0000-E007F, private use, line and paragraph separators). RE2 has no class for unassigned
# code points (Cn), so the one unassigned code point among the invisible operators is named.
HIDDEN_SQL = r"[\p{Cc}\p{Cf}\p{Co}\p{Zl}\p{Zp}\x{2065}]"
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
