"""The config file the children of ``finsync serve`` load: the user's settings as declared, with the
sensors and schedules running and the poll interval given on the command line.

The Dagster daemon and webserver load the code location from ``finsync.yaml`` (``FINSYNC_CONFIG``), so a
sandbox pair added on the command line, or a switch such as ``default_status``, reaches them only
through a file. It is written under ``$FINSYNC_HOME/serve/`` and names no secret (settings never hold
one: they name the variables that do).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from finsync_dagster.settings import FileConfig, Settings


def write_serve_config(settings: Settings, path: Path, *, poll_seconds: int | None) -> Path:
    schedules = settings.schedules.model_copy(update={"default_status": "running"})
    if poll_seconds is not None:
        schedules = schedules.model_copy(update={"poll_interval_seconds": poll_seconds})
    mapping = settings.mapping
    if settings.specs_overlay is not None:  # relative to the user's file, which is elsewhere
        mapping = mapping.model_copy(update={"specs_dir": str(settings.specs_overlay)})
    declared = FileConfig(
        pairs=[pair.declared() for pair in settings.pairs],
        schedules=schedules,
        quality=settings.quality,
        reconciliation=settings.reconciliation,
        alerts=settings.alerts,
        retention=settings.retention,
        mapping=mapping,
    )
    text = yaml.safe_dump(declared.model_dump(mode="json", exclude_defaults=True), sort_keys=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by `finsync serve` from your finsync.yaml; rewritten at each start. Edit yours, not this.\n"
        + "version: 1\n"
        + text,
        encoding="utf-8",
    )
    return path
