"""The console's knobs, with the defaults a small finance team would want."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from finsync_dagster.mapping.registry import SPECS_DIR
from finsync_dagster.settings import Settings

SERVE_FILE = "serve.json"


@dataclass(frozen=True)
class ConsoleConfig:
    """``specs_dir``: where the mapping studio reads and saves specs (the source of truth).
    ``dagster_url``: the Dagster UI the pages link to (default: ``dagster_url`` in
    ``$FINSYNC_HOME/serve.json``, which ``finsync serve`` writes). Sign-in is refused for
    ``lockout`` after ``max_failures_per_user`` failures for one name, or ``max_failures_per_ip`` from
    one address, within that time."""

    specs_dir: Path = SPECS_DIR
    dagster_url: str | None = None
    session_lifetime: timedelta = timedelta(hours=12)
    max_failures_per_user: int = 5
    max_failures_per_ip: int = 20
    lockout: timedelta = timedelta(minutes=15)
    sample_rows: int = 200
    lock_wait_seconds: float = 2.0


def dagster_url_from_home(settings: Settings) -> str | None:
    """``dagster_url`` from ``$FINSYNC_HOME/serve.json`` when ``finsync serve`` wrote one."""
    path = settings.home / SERVE_FILE
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("dagster_url")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else None
