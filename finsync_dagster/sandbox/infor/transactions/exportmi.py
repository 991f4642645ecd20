"""EXPORTMI/Select over the sandbox's M3 tables (see ``exportmi.py`` for the SQL subset)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from finsync_dagster.sandbox.infor.exportmi import fields, select
from finsync_dagster.sandbox.infor.mi import Context
from finsync_dagster.sandbox.infor.transactions import transaction


@transaction("EXPORTMI", "Select")
def select_rows(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    separator = inputs.get("SEPC", "")  # blank or absent: the flat, column-padded reply
    return select(ctx.company, inputs["QERY"], separator, inputs.get("HDRS") == "1")


@transaction("EXPORTMI", "SelectPad")
def select_padded(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    separator = inputs.get("SEPC", "")
    return select(ctx.company, inputs["QERY"], separator, inputs.get("HDRS") == "1", pad=True)


@transaction("EXPORTMI", "LstFields")
def list_fields(ctx: Context, inputs: dict[str, str]) -> Iterator[dict[str, Any]]:
    return fields(inputs["FILE"])
