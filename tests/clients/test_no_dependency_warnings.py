"""A user's screen shows no dependency's deprecation warning, while tests still see every other one.

authlib warns on import that its httpx integration is deprecated; finsync silences exactly that warning at
its one import (``resources/oauth_http.py``). These run in a fresh interpreter, as a user's command does,
with deprecation warnings turned into errors.
"""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_importing_the_oauth_clients_prints_no_warning() -> None:
    result = _run("import finsync_dagster.resources.oauth_http, finsync_dagster.resources.freshbooks.oauth")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_other_deprecation_warnings_are_not_hidden() -> None:
    code = (
        "import warnings, finsync_dagster.resources.oauth_http\n"
        "warnings.warn('something else is deprecated', DeprecationWarning)\n"
    )
    result = _run(code)
    assert result.returncode != 0
    assert "something else is deprecated" in result.stderr
