"""Each package's public surface is what its ``__all__`` says (as httpx's tests/test_exported_members.py
pins httpx's): every name listed exists, and every public name the package's ``__init__`` defines is
listed. A rename that forgets ``__all__``, or a helper that leaks out of a package, fails here."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import finsync_dagster

PACKAGES = sorted(
    info.name for info in pkgutil.walk_packages(finsync_dagster.__path__, "finsync_dagster.") if info.ispkg
)


def defined_names(package: str) -> set[str]:
    """Public names the package's own ``__init__.py`` defines (imports are re-exports, not definitions)."""
    init = Path(importlib.import_module(package).__file__ or "")
    names: set[str] = set()
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_")}


def test_every_package_is_found() -> None:
    assert {"finsync_dagster.automation", "finsync_dagster.cli", "finsync_dagster.resources"} <= set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_all_names_exist_and_every_public_definition_is_listed(package: str) -> None:
    module = importlib.import_module(package)
    exported = getattr(module, "__all__", [])
    assert [name for name in exported if not hasattr(module, name)] == []
    assert sorted(defined_names(package) - set(exported)) == []
    assert len(exported) == len(set(exported)), "a name is listed twice"
