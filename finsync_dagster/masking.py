"""The one place secrets are masked in what finsync shows or keeps: dead letters, CLI output, alerts.

A value is hidden when its key names a secret (token, secret, password, authorization, API key, cookie,
signature, ...), and wherever a string carries a credential on its own: an ``Authorization`` header value
(``Bearer ...``, ``Basic ...``), a JWT, or a URL with a password or a token in its query. Text inside
JSON strings is parsed and masked as the structure it is. Whatever is hidden becomes ``***``; the rest is
kept as it was, so a person still sees which field an API refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

MASK = "***"

# Keys whose value is a credential, whatever it looks like (matched case-insensitively, anywhere in the key:
# `client_secret`, `X-FreshBooks-Hmac-SHA256`, `refresh_token`, `ionapi_password`).
_SECRET_KEY = re.compile(
    r"token|secret|passw|pwd|authori[sz]ation|api[-_]?key|cookie|signature|hmac|credential|private[-_]?key"
    r"|verifier|^(cs|saak|sask)$",  # the last three: an .ionapi file's secrets
    re.IGNORECASE,
)
# Credentials that give themselves away in any string.
_SCHEMED = re.compile(r"\b(Bearer|Basic|Token|Digest)\s+[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+(?=@)", re.IGNORECASE)
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&](?:access_token|refresh_token|token|code|client_secret|password|api_key|signature)=)"
    r"[^&\s\"']+",
    re.IGNORECASE,
)


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def mask_text(text: str) -> str:
    """``text`` with every credential it carries on its own replaced by ``***``."""
    text = _SCHEMED.sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _JWT.sub(MASK, text)
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    return _QUERY_SECRET.sub(lambda m: m.group("head") + MASK, text)


def mask_secrets(value: Any) -> Any:
    """A copy of ``value`` (mappings, lists, strings, JSON text) with every secret masked."""
    if isinstance(value, Mapping):
        return {
            key: MASK if isinstance(key, str) and is_secret_key(key) and value[key] not in (None, "")
            else mask_secrets(item)
            for key, item in value.items()
        }  # fmt: skip
    if isinstance(value, list | tuple):
        return [mask_secrets(item) for item in value]
    if isinstance(value, str):
        return _mask_string(value)
    return value


def _mask_string(text: str) -> str:
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            return mask_text(text)
        return json.dumps(mask_secrets(parsed), ensure_ascii=False, sort_keys=True)
    return mask_text(text)
