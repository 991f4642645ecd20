"""Deterministic ``--scale N`` orders for benchmarks (being built)."""

from __future__ import annotations

from finsync_dagster.sandbox.infor.models import Company


def seed_scale(company: Company, orders: int) -> None:
    return None
