"""Text normalization for matching names, addresses and keys, vectorized over pandas string Series.

Folding transliterates rather than drops: ``ø`` becomes ``oe``, ``ß`` ``ss`` and ``æ`` ``ae`` (how Nordic and
German names are written without those letters), and the rest of Unicode follows ``anyascii``'s rules
(``東京`` becomes ``dongjing``), so "Bjørnstad" and "Bjoernstad" fold to the same word.
"""

from __future__ import annotations

import pandas as pd
from anyascii import anyascii

# Legal forms say nothing about which company it is ("Acme Ltd" is "Acme Limited", "L.L.C." is "LLC").
LEGAL_FORMS = frozenset(
    [
        "ltd", "limited", "gmbh", "inc", "incorporated", "llc", "llp", "lp", "corp", "corporation", "co",
        "company", "plc", "ag", "kg", "sa", "sas", "sarl", "spa", "srl", "bv", "nv", "ab", "oy", "oyj",
        "as", "asa", "aps", "pty", "pvt",
    ]
)  # fmt: skip

# Written the way people type these letters when their keyboard lacks them (anyascii would drop the e).
_SPELLED_OUT = str.maketrans({"ø": "oe", "Ø": "Oe", "æ": "ae", "Æ": "Ae", "œ": "oe", "Œ": "Oe", "ß": "ss"})


def _to_ascii(value: str) -> str:
    return value if value.isascii() else anyascii(value.translate(_SPELLED_OUT))


def folded(values: pd.Series) -> pd.Series:
    """Lower case ASCII (transliterated), anything but letters and digits turned into single spaces."""
    text = values.fillna("").astype("string")
    distinct = text.drop_duplicates()
    ascii_of = dict(zip(distinct.to_numpy(), (_to_ascii(v) for v in distinct.to_numpy()), strict=True))
    ascii_text = text.map(ascii_of).astype("string")
    return (
        ascii_text.str.lower()
        .str.replace("&", " and ", regex=False)
        .str.replace(r"[^a-z0-9]+", " ", regex=True)
        .str.strip()
    )


# Whole words only: ``folded`` leaves letters and digits between single spaces, so \b is a word edge.
_LEGAL_FORM_WORDS = r"\b(?:" + "|".join(sorted(LEGAL_FORMS)) + r")\b"
# "l l c" (from "L.L.C.") and "a s" (from "A/S") are one word spelled with dots or slashes.
_SPELLED_LETTERS = r"\b([a-z]) (?=[a-z]\b)"


def name_key(values: pd.Series) -> pd.Series:
    """A company or person name without punctuation, accents or legal form."""
    return (
        folded(values)
        .str.replace(_SPELLED_LETTERS, r"\1", regex=True)
        .str.replace(_LEGAL_FORM_WORDS, " ", regex=True)
        .str.replace(r" +", " ", regex=True)
        .str.strip()
    )


def compact(values: pd.Series) -> pd.Series:
    """Upper case letters and digits only: postcodes, VAT numbers, phone numbers."""
    return values.fillna("").astype("string").str.upper().str.replace(r"[^A-Z0-9]+", "", regex=True)


def email_key(values: pd.Series) -> pd.Series:
    return values.fillna("").astype("string").str.strip().str.lower()
