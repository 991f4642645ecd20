"""Each package's public surface is exactly what its ``__all__`` says, as httpx's
tests/test_exported_members.py pins httpx's: every public attribute of the package (whether defined in its
``__init__`` or imported into it) is listed, and every listed name exists. A helper or an imported name
that leaks out of a package, or a rename that forgets ``__all__``, fails here. Submodules are reached by
their own path and are not part of the list; a package whose surface is its modules says so with an empty
``__all__``."""

from __future__ import annotations
import __future__

import importlib
import pkgutil
from types import ModuleType

import pytest

import finsync_dagster

PACKAGES = [
    "finsync_dagster",
    *sorted(
        info.name
        for info in pkgutil.walk_packages(finsync_dagster.__path__, "finsync_dagster.")
        if info.ispkg
    ),
]


# Names a package may hold without offering them: the guard of its type-checking imports.
NOT_SURFACE = {"TYPE_CHECKING"}
# Known leaks, to be fixed where they are (none today).
KNOWN_LEAKS: dict[str, set[str]] = {}


def public_attributes(module: ModuleType) -> set[str]:
    """What ``from package import name`` offers: public names, less submodules and ``__future__`` flags.

    Members a package loads on first use (``finsync_dagster.lazy``) are loaded first, so they count too.
    """
    for name in getattr(module, "__all__", []):
        getattr(module, name, None)
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and name not in NOT_SURFACE
        and not isinstance(value, ModuleType)
        and not (name in __future__.all_feature_names and value is getattr(__future__, name))
    }


def test_every_package_is_found() -> None:
    assert {"finsync_dagster.automation", "finsync_dagster.cli", "finsync_dagster.resources"} <= set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_all_lists_exactly_the_public_attributes(package: str) -> None:
    module = importlib.import_module(package)
    assert hasattr(module, "__all__"), f"{package} declares no __all__"
    exported: list[str] = module.__all__
    assert len(exported) == len(set(exported)), "a name is listed twice"
    assert sorted(public_attributes(module) - KNOWN_LEAKS.get(package, set())) == sorted(exported)
