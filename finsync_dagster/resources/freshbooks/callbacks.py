"""FreshBooks webhook callbacks as the events API returns them (contract §5.1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Callback:
    """A webhook subscription: FreshBooks POSTs ``event`` to ``uri`` once ``verified``."""

    callback_id: int
    event: str
    uri: str
    verified: bool
    updated_at: str | None = None


def parse_callback(payload: dict[str, Any]) -> Callback:
    # The SDK fixtures and node-sdk say ``callbackid``; py-sdk's prose example says ``callback_id``.
    callback_id = payload["callbackid"] if "callbackid" in payload else payload["callback_id"]
    return Callback(
        callback_id=int(callback_id),
        event=str(payload.get("event") or ""),
        uri=str(payload.get("uri") or ""),
        verified=bool(payload.get("verified")),
        updated_at=payload.get("updated_at"),
    )
