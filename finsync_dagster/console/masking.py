"""Secrets kept off the page: a dead letter's request and response are shown with anything that looks
like a credential masked, and an edited payload gets the masked values back before it is retried.

A value is masked when its key names a secret (token, secret, password, authorization, api key, cookie,
signature, verifier...), and inside any text a ``Bearer ...`` or ``Basic ...`` credential is masked too.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "••••••"
_SECRET_KEY = re.compile(
    r"(token|secret|passw(or)?d|pwd|authori[sz]ation|api[-_]?key|apikey|cookie|signature|verifier|"
    r"credential|private[-_]?key|session)",
    re.IGNORECASE,
)
_CREDENTIAL = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE)


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def masked(value: Any) -> Any:
    """A copy of ``value`` (JSON-like) with secret-named keys' values and inline credentials masked."""
    if isinstance(value, dict):
        return {
            k: (MASK if is_secret_key(str(k)) and v not in (None, "") else masked(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [masked(v) for v in value]
    if isinstance(value, str):
        return _CREDENTIAL.sub(lambda m: f"{m.group(1)} {MASK}", value)
    return value


def unmasked(edited: Any, original: Any) -> Any:
    """``edited`` with every value still equal to the mask taken back from ``original`` at the same place."""
    if edited == MASK or (
        isinstance(edited, str) and isinstance(original, str) and edited == masked(original)
    ):
        return original
    if isinstance(edited, dict) and isinstance(original, dict):
        return {k: unmasked(v, original.get(k)) for k, v in edited.items()}
    if isinstance(edited, list) and isinstance(original, list):
        return [unmasked(v, original[i] if i < len(original) else None) for i, v in enumerate(edited)]
    return edited
