"""Conformance: the public ``inforion`` client (PyPI 2.26.2.4) works unmodified against the sandbox.

It logs in with the sandbox's ``.ionapi`` file (password grant, then the refresh grant when its session
expires) and sends MI calls, single and bulk, the way it does against a real tenant (contract section 7.1).
Its 2020 pins do not build on Python 3.11, so it runs in an isolated venv built by
``scripts/inforion-env.sh`` (on demand, once; CI reaches PyPI).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from finsync_dagster.sandbox.runner import RunningSandboxes

ROOT = Path(__file__).resolve().parents[3]
DRIVER = Path(__file__).with_name("inforion_driver.py")


@pytest.fixture(scope="session")
def inforion_python() -> Path:
    venv = ROOT / ".venv-inforion"
    subprocess.run(
        [str(ROOT / "scripts" / "inforion-env.sh"), str(venv)], check=True, capture_output=True, timeout=900
    )
    return venv / "bin" / "python"


@pytest.mark.slow
def test_inforion_logs_in_and_runs_mi_calls(
    inforion_python: Path, infor_sandbox_empty: RunningSandboxes, tmp_path: Path
) -> None:
    info = infor_sandbox_empty.info["infor"]
    run = subprocess.run(
        [str(inforion_python), str(DRIVER), info["ionapi_file"], info["company"], info["defaults"]["ITNO"]],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["token_type"] == "Bearer"
    assert seen["add"]["transaction"] == "Add" and "errorMessage" not in seen["add"]
    assert seen["add"]["records"] == [{"CUNO": "INFORION1", "ERRM": ""}]
    assert (seen["single_status"], seen["single"]) == (200, "Added by inforion")
    assert seen["failed"]["errorField"] == "CUNO" and seen["failed"]["records"] == []
    assert seen["after_refresh"] == info["defaults"]["ITNO"] and seen["refreshed_expiry_in_future"]
    company = infor_sandbox_empty.state("infor").company()
    assert company.table("OCUSMA").get(company.cono, "INFORION1")["CUNM"] == "Added by inforion"
