"""The registry of MI transaction handlers: each program module registers its own with ``transaction``."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from finsync_dagster.sandbox.infor.mi import Context

Handler = Callable[["Context", dict[str, str]], Iterable[dict[str, Any]]]
_HANDLERS: dict[tuple[str, str], Handler] = {}
_MODULES = (
    "crs610mi",
    "crs620mi",
    "aps450mi",
    "ois100mi",
    "ois350mi",
    "ars200mi",
    "ars040mi",
    "crs630mi",
    "gls840mi",
    "gls200mi",
    "mms200mi",
    "exportmi",
)


def transaction(program: str, name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _HANDLERS[(program, name)] = handler
        return handler

    return register


@cache
def handlers() -> dict[tuple[str, str], Handler]:
    for module in _MODULES:
        importlib.import_module(f".{module}", __package__)
    return _HANDLERS
