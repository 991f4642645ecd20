"""Seeds: ``empty`` (configuration only), ``demo`` (the shared demo business) and ``--scale N`` orders.

Every seed starts from the company configuration of ``configuration.py``. Seeded rows are stamped with
their business dates, so a seed is the same on every run; changes made later are stamped by the clock and
sort after them.
"""

from __future__ import annotations

from finsync_dagster.sandbox import SEEDS
from finsync_dagster.sandbox.infor.configuration import DEFAULT_ITEM, configure
from finsync_dagster.sandbox.infor.demo_seed import seed_demo
from finsync_dagster.sandbox.infor.models import InforState
from finsync_dagster.sandbox.infor.scale_seed import seed_scale


def seed(state: InforState, name: str, *, scale: int | None = None) -> None:
    if name not in SEEDS:
        raise ValueError(f"unknown Infor seed {name!r}: use 'demo' or 'empty'")
    company = configure(state)
    state.default_item = DEFAULT_ITEM
    if name == "demo":
        state.truth = seed_demo(company)
        state.default_item = company.settings.default_item or DEFAULT_ITEM
    if scale:
        seed_scale(company, scale)
