"""One module per MI program; each registers its transactions here with :func:`transaction`.

A handler takes the :class:`~finsync_dagster.sandbox.infor.mi.Context` and the validated inputs (right-trimmed
strings, absent fields missing) and returns the output rows; the runtime projects them onto the catalog's
output fields, so a handler only fills the fields it knows.
"""

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
        importlib.import_module(f"{__name__}.{module}")
    return _HANDLERS


__all__ = ["Handler", "handlers", "transaction"]
