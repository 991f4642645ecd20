"""The ``infor`` sandbox service: builds the backend and the app, and writes ``infor.ionapi`` and the truth."""

from __future__ import annotations

import json
import os
from pathlib import Path

from finsync_dagster.sandbox.infor.app import create_app
from finsync_dagster.sandbox.infor.backend import InforSandbox
from finsync_dagster.sandbox.runner import BuiltSandbox, SandboxOptions

IONAPI_FILE = "infor.ionapi"
TRUTH_FILE = "demo-truth.json"


class InforService:
    """The runner's entry point: builds one sandbox for ``finsync sandbox`` and the test fixtures."""

    name = "infor"

    def build(self, *, base_url: str, options: SandboxOptions) -> BuiltSandbox:
        sandbox = InforSandbox(
            base_url=base_url,
            ionapi_file=options.dir / IONAPI_FILE,
            seed=options.seed,
            scale=options.scale,
            faults=options.faults,
        )
        ionapi = sandbox.gateway.credentials.ionapi(sandbox.base_url)
        _write_secret(sandbox.ionapi_file, json.dumps(ionapi, indent=2))
        if sandbox.truth is not None:
            (options.dir / TRUTH_FILE).write_text(json.dumps(sandbox.truth, indent=2), encoding="utf-8")
        return BuiltSandbox(app=create_app(sandbox), info=sandbox.info(), state=sandbox)


def _write_secret(path: Path, text: str) -> None:
    """The .ionapi file holds the app's secrets: readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
