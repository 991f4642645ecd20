"""The backend of one running Infor sandbox: the M3 model, its gateway and faults, and its control hooks.

As a moto backend, it is what handlers and the shared ``/sandbox`` control plane (``../control.py``) act on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from finsync_dagster.sandbox.clock import SandboxClock
from finsync_dagster.sandbox.faults import FaultInjector, FaultPlan
from finsync_dagster.sandbox.infor.configuration import DEFAULTS
from finsync_dagster.sandbox.infor.gateway import AppCredentials, Gateway
from finsync_dagster.sandbox.infor.models import Company, InforState
from finsync_dagster.sandbox.infor.seed import seed as seed_state

TENANT = "FINSYNC_TST"


class InforSandbox:
    """Everything one Infor sandbox holds; ``BuiltSandbox.state`` for tests."""

    def __init__(
        self,
        *,
        base_url: str,
        ionapi_file: Path,
        seed: str = "demo",
        scale: int | None = None,
        faults: FaultPlan | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.ionapi_file = ionapi_file
        self.state = InforState(TENANT)
        self.gateway = Gateway(AppCredentials.generate(TENANT), self.state.clock)
        self.faults = FaultInjector(faults or FaultPlan())
        self.seed_name, self.scale = seed, scale
        seed_state(self.state, seed, scale=scale)

    @property
    def clock(self) -> SandboxClock:
        return self.state.clock

    @property
    def injector(self) -> FaultInjector:
        """The old name of :attr:`faults`, kept for callers that still use it."""
        return self.faults

    @property
    def truth(self) -> dict[str, Any] | None:
        return self.state.truth

    def company(self, cono: str | None = None) -> Any:
        return self.state.company(cono)

    def info(self) -> dict[str, Any]:
        """The ``"infor"`` section of sandbox.json."""
        company = self.state.company()
        assert company is not None
        return {
            "base_url": self.base_url,
            "control_url": f"{self.base_url}/sandbox",
            "tenant": TENANT,
            "ionapi_file": str(self.ionapi_file),
            "company": company.cono,
            "division": company.divi,
            "defaults": dict(DEFAULTS, ITNO=self.state.default_item),
        }

    # -- control-plane hooks (``../control.py``)

    def describe(self) -> dict[str, Any]:
        with self.state.lock:
            company: Company | None = self.state.company()
            counts = {name: len(table) for name, table in company.tables.items()} if company else {}
        return {**self.info(), "seed": self.seed_name, "scale": self.scale, "counts": counts}

    def reset(self, seed: str | None = None, scale: int | None = None) -> None:
        """Rebuild the companies from the seed (default: the one given at start); tokens stay valid."""
        seed = seed or self.seed_name
        fresh = InforState(TENANT, self.state.clock)
        seed_state(fresh, seed, scale=scale)
        with self.state.lock:
            self.state.companies = fresh.companies
            self.state.truth = fresh.truth
            self.state.default_item = fresh.default_item
            self.seed_name, self.scale = seed, scale

    def expire_tokens(self) -> int:
        return self.gateway.tokens.expire_all()

    def settings(self) -> dict[str, Any]:
        return {**self.gateway.settings.to_dict(), "tokens_issued": self.gateway.tokens.issued}

    def update_settings(self, values: dict[str, Any]) -> None:
        """The gateway policy (``expires_in``, ``quota_per_second``, ``timeout_ms``, ...); unknown names: 400."""
        self.gateway.settings.update(values)
