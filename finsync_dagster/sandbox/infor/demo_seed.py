"""The demo seed: the shared demo business as Infor holds it (being built; configuration only for now)."""

from __future__ import annotations

from typing import Any

from finsync_dagster.sandbox.infor.models import Company


def seed_demo(company: Company) -> dict[str, Any] | None:
    return None
