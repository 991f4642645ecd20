"""A value holding EXPORTMI's separator stages exactly: the client re-reads the batch with SelectPad."""

from __future__ import annotations

from pathlib import Path

from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.sandbox.runner import RunningSandboxes
from finsync_dagster.settings import load_settings
from tests.staging.helpers import connect

REPO = Path(__file__).resolve().parents[2]
NASTY = ("Pipe | and || Co", "a|b|c|", "|", " lead\ttab\x1fus\x00nul\u202e")


def test_values_with_the_separator_come_back_exactly(finsync_home: Path, sandboxes: RunningSandboxes) -> None:
    settings = connect(load_settings(REPO / "finsync.yaml"), "sandbox", sandboxes.dir)
    defaults = sandboxes.info["infor"]["defaults"]
    with PairClients.of(settings).infor("sandbox") as m3:
        for number, name in enumerate(NASTY):
            params = {"CUTM": defaults["CUTM"], "CUNO": f"PIPE{number}", "CUNM": name, "CUA1": name[::-1]}
            m3.execute(program="CRS610MI", transaction="Add", params=params)
        rows = [
            row
            for batch in m3.iter_export(
                table="OCUSMA",
                columns=["OKCUNO", "OKCUNM", "OKCUA1"],
                where=[("OKCUNO", ">=", "PIPE")],
                key="OKCUNO",
                batch_size=2,
            )
            for row in batch
        ]
    got = {row["OKCUNO"]: (row["OKCUNM"], row["OKCUA1"]) for row in rows if row["OKCUNO"].startswith("PIPE")}
    assert got == {f"PIPE{n}": (name.rstrip(), name[::-1].rstrip()) for n, name in enumerate(NASTY)}
