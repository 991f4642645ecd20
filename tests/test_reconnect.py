"""A FreshBooks token only a new connect can help ends a sync in one message naming the fix (issue 13,
item 1). It used to end in one identical failure per FreshBooks staging table; now each system's
connection is checked once before its staging assets, so one step fails, the system's staging steps are
not run, and the run carries the reason. ``finsync status`` shows such a token with its reason too."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from finsync_dagster.assets.connections import RECONNECT_TAG
from finsync_dagster.cli import main
from finsync_dagster.ledger import Ledger
from finsync_dagster.sandbox.runner import SandboxOptions, start
from finsync_dagster.settings import load_settings

pytestmark = pytest.mark.slow  # a whole sync (the Infor side runs)

REPO = Path(__file__).resolve().parents[1]
CONFIG = str(REPO / "finsync.yaml")  # declares pair "sandbox", served from $FINSYNC_HOME/sandbox
FIX = "run `finsync connect freshbooks --pair sandbox`"
REASON = (
    "the FreshBooks token of 'sandbox' cannot be refreshed: a refresh was interrupted while the token "
    f"endpoint's answer was in flight; {FIX}"
)


def test_a_sync_with_a_dead_token_names_the_fix_once_and_status_shows_it(
    finsync_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    (tmp_path / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    sandbox_dir = finsync_home / "sandbox"
    running = start(SandboxOptions(dir=sandbox_dir, seed="empty"))
    try:
        for system in ("freshbooks", "infor"):
            connect = [
                "--config",
                CONFIG,
                "connect",
                system,
                "--pair",
                "sandbox",
                "--sandbox",
                str(sandbox_dir),
            ]
            assert main(connect) == 0
        ledger = Ledger(load_settings(CONFIG).ledger_url)
        token = ledger.get_token("freshbooks", "sandbox")
        assert token is not None
        ledger.mark_reconnect("freshbooks", "sandbox", reason=REASON, generation=token.generation)
        capsys.readouterr()

        assert main(["--config", CONFIG, "sync", "--pair", "sandbox"]) == 1
        out, err = capsys.readouterr()
        assert (out + err).count(FIX) == 1, out + err
        assert f"error: connections__freshbooks: freshbooks: [invalid_grant] {REASON}" in err
        assert "freshbooks_" not in out  # no FreshBooks table was staged

        with dg.DagsterInstance.get() as instance:
            (run,) = instance.get_runs()
            failed = [
                e
                for e in instance.all_logs(run.run_id)
                if e.dagster_event and e.dagster_event.is_step_failure
            ]
        assert [e.step_key for e in failed] == ["connections__freshbooks"]
        assert run.tags[RECONNECT_TAG] == "freshbooks"

        assert main(["--config", CONFIG, "status"]) == 0
        assert f"reconnect: {REASON}" in capsys.readouterr().out
    finally:
        running.stop()
        running.state("freshbooks").webhooks.close()
