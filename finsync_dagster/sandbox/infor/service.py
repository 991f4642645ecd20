"""The ``infor`` sandbox service: builds the state, the gateway and the app, and writes ``infor.ionapi``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finsync_dagster.sandbox.clock import SandboxClock
from finsync_dagster.sandbox.faults import FaultInjector
from finsync_dagster.sandbox.infor.configuration import DEFAULTS
from finsync_dagster.sandbox.infor.gateway import AppCredentials, Gateway
from finsync_dagster.sandbox.infor.models import InforState
from finsync_dagster.sandbox.infor.routes import build_app
from finsync_dagster.sandbox.infor.seed import seed
from finsync_dagster.sandbox.runner import BuiltSandbox, SandboxOptions

TENANT = "FINSYNC_TST"
IONAPI_FILE = "infor.ionapi"
TRUTH_FILE = "demo-truth.json"


@dataclass
class InforSandbox:
    """What ``BuiltSandbox.state`` holds: the model, the gateway and the fault injector, for tests."""

    state: InforState
    gateway: Gateway
    injector: FaultInjector
    ionapi_file: Path

    @property
    def clock(self) -> SandboxClock:
        return self.state.clock

    @property
    def truth(self) -> dict[str, Any] | None:
        return self.state.truth

    def company(self, cono: str | None = None) -> Any:
        return self.state.company(cono)


class InforService:
    name = "infor"

    def build(self, *, base_url: str, options: SandboxOptions) -> BuiltSandbox:
        state = InforState(TENANT)
        seed(state, options.seed, scale=options.scale)
        gateway = Gateway(AppCredentials.generate(TENANT), state.clock)
        injector = FaultInjector(options.faults)
        ionapi_file = options.dir / IONAPI_FILE
        _write_secret(ionapi_file, json.dumps(gateway.credentials.ionapi(base_url), indent=2))
        if state.truth is not None:
            (options.dir / TRUTH_FILE).write_text(json.dumps(state.truth, indent=2), encoding="utf-8")
        company = state.company()
        assert company is not None
        info = {
            "base_url": base_url,
            "tenant": TENANT,
            "ionapi_file": str(ionapi_file),
            "company": company.cono,
            "division": company.divi,
            "defaults": dict(DEFAULTS, ITNO=state.default_item),
        }
        app = build_app(state, gateway, injector)
        return BuiltSandbox(app=app, info=info, state=InforSandbox(state, gateway, injector, ionapi_file))


def _write_secret(path: Path, text: str) -> None:
    """The .ionapi file holds the app's secrets: readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
