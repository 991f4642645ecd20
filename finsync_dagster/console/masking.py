"""Secrets kept off the dead-letter page, by the one masking function (``finsync_dagster.masking``), and
put back into an edited payload before it is retried: a person edits what they see, masks included, and
the values they did not touch go out as they were."""

from __future__ import annotations

from typing import Any

from finsync_dagster.masking import MASK, mask_secrets

__all__ = ["MASK", "masked", "unmasked"]


def masked(value: Any) -> Any:
    return mask_secrets(value)


def unmasked(edited: Any, original: Any) -> Any:
    """``edited`` with every value still as masked taken back from ``original`` at the same place."""
    if edited == MASK or (
        isinstance(edited, str) and isinstance(original, str) and edited == masked(original)
    ):
        return original
    if isinstance(edited, dict) and isinstance(original, dict):
        return {k: unmasked(v, original.get(k)) for k, v in edited.items()}
    if isinstance(edited, list) and isinstance(original, list):
        return [unmasked(v, original[i] if i < len(original) else None) for i, v in enumerate(edited)]
    return edited
