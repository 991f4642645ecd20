"""Package members loaded on first use, so that importing a light module of a heavy package stays light.

``settings`` reads its defaults from ``recon.model`` and ``writeback.config``; without this, importing
either would import the whole package (pandas, DuckDB, the matchers, the planner) and every command that
reads settings, ``finsync status`` first, would pay for it. The packages list their members as usual,
under ``TYPE_CHECKING`` for the type checker, and hand this module's ``__getattr__`` to Python (PEP 562).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def members(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``name`` from ``package.<where[name]>`` when first asked for."""
    namespace = import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    return __getattr__
