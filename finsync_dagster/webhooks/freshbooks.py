"""FreshBooks callbacks on the wire (contract §5.3, §5.4): the form, its signature and what identifies it.

Pure: no HTTP, no ledger. A delivery is a form-encoded POST of ``name``, ``object_id``, ``account_id``,
``business_id``, ``identity_id``, ``user_id`` (all strings). Its ``X-FreshBooks-Hmac-SHA256`` header is the
base64 HMAC-SHA256, keyed with the callback's verifier, of the fields re-serialised as FreshBooks' own
sample does: a dict in posted order, every value a string, Python's default ``json.dumps`` (separators
``", "`` and ``": "``, non-ASCII escaped). The form is parsed strictly and in order; a field posted twice
is refused, because that dict would silently keep only one of them.

The verification handshake is a POST named ``callback.verify`` carrying ``verifier`` and the callback id
as ``object_id`` (contract §5.2; the name is UNCONFIRMED and the sandbox's choice).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from urllib.parse import parse_qsl

from finsync_dagster.webhooks.refusals import Reason, Refused

SIGNATURE_HEADER = "X-FreshBooks-Hmac-SHA256"
VERIFY_EVENT = "callback.verify"
FORM_TYPE = "application/x-www-form-urlencoded"
DELIVERY_FIELDS = ("name", "object_id", "account_id")
HANDSHAKE_FIELDS = ("name", "object_id", "verifier")
_MAX_FIELDS = 32

Fields = list[tuple[str, str]]


def parse_form(body: bytes) -> Fields:
    """The posted fields in order; :class:`Refused` (malformed) unless a well-formed form naming each
    field once."""
    try:
        text = body.decode("utf-8")
        fields = parse_qsl(text, keep_blank_values=True, strict_parsing=True, max_num_fields=_MAX_FIELDS)
    except ValueError:  # UnicodeDecodeError is one
        raise Refused(Reason.MALFORMED) from None
    names = [name for name, _ in fields]
    if len(set(names)) != len(names):
        raise Refused(Reason.MALFORMED)
    return fields


def require(values: dict[str, str], names: Sequence[str]) -> None:
    """:class:`Refused` (malformed) unless every field of ``names`` is there and not empty."""
    if any(not values.get(name) for name in names):
        raise Refused(Reason.MALFORMED)


def signature(key: str, fields: Sequence[tuple[str, str]]) -> str:
    """The header value FreshBooks sends for ``fields`` under ``key`` (the verifier)."""
    message = json.dumps({name: str(value) for name, value in fields})
    digest = hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_by(keys: Sequence[str], fields: Sequence[tuple[str, str]], header: str) -> bool:
    """True if ``header`` is the signature of ``fields`` under one of ``keys``, compared in constant time."""
    given = header.strip().encode("utf-8", "replace")
    matched = False
    for key in keys:  # every key is tried, so the time does not tell which one matched
        matched |= hmac.compare_digest(signature(key, fields).encode("ascii"), given)
    return matched


def parent(event: str) -> str:
    """``invoice`` for ``invoice.create``: a callback on the parent name receives all its events."""
    return event.partition(".")[0]
