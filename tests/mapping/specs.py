"""Specs written on the fly: YAML (dedented) in a folder beside its ``lookups`` CSVs, then loaded."""

from __future__ import annotations

import textwrap
from pathlib import Path

from finsync_dagster.mapping.loader import load_spec
from finsync_dagster.mapping.spec import Spec


def write_spec(folder: Path, text: str, name: str = "spec.yaml", **csvs: str) -> Spec:
    """Write ``text`` as ``folder/name`` and each ``csvs`` entry as ``folder/lookups/<key>.csv``; load it."""
    (folder / "lookups").mkdir(parents=True, exist_ok=True)
    for filename, content in csvs.items():
        (folder / "lookups" / f"{filename}.csv").write_text(
            textwrap.dedent(content).lstrip(), encoding="utf-8"
        )
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return load_spec(path)
