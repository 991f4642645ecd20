"""Text normalization for matching names, addresses and keys, vectorized over pandas string Series."""

from __future__ import annotations

import pandas as pd

# Legal forms say nothing about which company it is ("Acme Ltd" is "Acme Limited").
LEGAL_FORMS = frozenset(
    [
        "ltd",
        "limited",
        "gmbh",
        "inc",
        "incorporated",
        "llc",
        "llp",
        "corp",
        "corporation",
        "co",
        "company",
        "plc",
        "ag",
        "sa",
        "sas",
        "bv",
        "nv",
        "srl",
        "ab",
        "oy",
    ]
)


def folded(values: pd.Series) -> pd.Series:
    """Lower case, accents removed, anything but letters and digits turned into single spaces."""
    text = values.fillna("").astype("string")
    ascii_text = text.str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
    return (
        ascii_text.str.lower()
        .str.replace("&", " and ", regex=False)
        .str.replace(r"[^a-z0-9]+", " ", regex=True)
        .str.strip()
    )


# Whole words only: ``folded`` leaves letters and digits between single spaces, so \b is a word edge.
_LEGAL_FORM_WORDS = r"\b(?:" + "|".join(sorted(LEGAL_FORMS)) + r")\b"


def name_key(values: pd.Series) -> pd.Series:
    """A company or person name without punctuation, accents or legal form."""
    return (
        folded(values)
        .str.replace(_LEGAL_FORM_WORDS, " ", regex=True)
        .str.replace(r" +", " ", regex=True)
        .str.strip()
    )


def compact(values: pd.Series) -> pd.Series:
    """Upper case letters and digits only: postcodes, VAT numbers, phone numbers."""
    return values.fillna("").astype("string").str.upper().str.replace(r"[^A-Z0-9]+", "", regex=True)


def email_key(values: pd.Series) -> pd.Series:
    return values.fillna("").astype("string").str.strip().str.lower()
