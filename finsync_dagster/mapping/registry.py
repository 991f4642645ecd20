"""The specs shipped in ``specs/``, and a user's own beside them: loaded together so every problem in every file
is reported at once. A user's spec (``mapping.specs_dir`` in finsync.yaml) replaces the shipped spec of the
same name, so a changed mapping survives an upgrade of finsync and the shipped ones keep coming."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from finsync_dagster.errors import MappingError
from finsync_dagster.mapping.loader import parse_spec
from finsync_dagster.mapping.spec import Loc, Problem, Spec, SpecError
from finsync_dagster.mapping.validate import check_spec

SPECS_DIR = Path(__file__).with_name("specs")


def spec_files(root: Path = SPECS_DIR) -> list[Path]:
    return sorted(p for p in root.rglob("*.yaml") if p.is_file())


def parse_all(root: Path = SPECS_DIR, overlay: Path | None = None) -> tuple[list[Spec], list[Problem]]:
    """Every spec under ``root``; a spec under ``overlay`` replaces the one of the same name, or adds one."""
    specs, problems = _parse_dir(root)
    if overlay is not None:
        own, own_problems = _parse_dir(overlay)
        problems += own_problems
        replaced = {spec.name for spec in own}
        specs = [spec for spec in specs if spec.name not in replaced] + own
    return specs, problems


def _parse_dir(root: Path) -> tuple[list[Spec], list[Problem]]:
    specs: list[Spec] = []
    problems: list[Problem] = []
    for path in spec_files(root):
        spec, found = parse_spec(path)
        problems += found
        if spec is not None and not found:
            specs.append(spec)
    names: dict[str, Path] = {}
    for spec in specs:
        if spec.name in names:
            problems.append(
                Problem(
                    Loc(spec.path, 1, "name"), f"spec name {spec.name!r} is also used by {names[spec.name]}"
                )
            )
        names[spec.name] = spec.path
    return specs, problems


def load_specs(
    root: Path = SPECS_DIR,
    con: duckdb.DuckDBPyConnection | None = None,
    *,
    check: bool = True,
    overlay: Path | None = None,
) -> list[Spec]:
    """Every spec under ``root`` (and ``overlay``, see :func:`parse_all`), checked; raises ``SpecError``
    listing all problems in all files."""
    specs, problems = parse_all(root, overlay)
    if check:
        for spec in specs:
            problems += check_spec(spec, con)
    if problems:
        raise SpecError(problems)
    return specs


def specs_for(specs: Iterable[Spec], entity: str) -> list[Spec]:
    """Specs whose target or name matches ``entity`` (``customers``, ``CRS610MI/Add``, a spec name)."""
    chosen = [s for s in specs if entity in (s.target.name, s.name, str(s.target))]
    if not chosen:
        raise MappingError(f"no mapping spec targets or is named {entity!r}")
    return chosen
