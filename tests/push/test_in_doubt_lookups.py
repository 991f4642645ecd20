"""Each handler's create, applied by the target while its answer was lost (``commit_then_timeout``),
is found by lookup on the next push and never sent twice; against the real sandboxes, through ``Pusher``.

A first push runs with every write applied-then-lost, which leaves each action in doubt; a second push,
faults cleared, must look each one up and finish it with the record the first attempt made. A customer
order is also checked in the state a crash after ``Confirm`` leaves: confirmed in M3, in doubt in finsync.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from finsync_dagster.cli import cli
from finsync_dagster.ledger import Ledger, Outcome, PlannedAction, State, utcnow
from finsync_dagster.ledger.schema import outbox
from finsync_dagster.push import Pusher
from finsync_dagster.resources.infor.models import MiCall
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.sandbox.runner import SandboxOptions, start
from finsync_dagster.settings import load_settings
from finsync_dagster.writeback import kind

pytestmark = pytest.mark.slow
PAIR = "sandbox"
ITEM = "SBX-ITEM-001"  # the item every Infor seed has


def _planned(action: str, source_id: str, payload: dict[str, Any], stamp: str | None) -> PlannedAction:
    what = kind(action)
    return PlannedAction(
        pair=PAIR, action=action, target=what.target, entity=what.entity, source_system=what.source_system,
        source_id=source_id, source_version="1", payload=payload, stamp=stamp, versioned=what.versioned,
    )  # fmt: skip


def _order(source_id: str, cuno: str, reference: str) -> PlannedAction:
    head = {"CUNO": cuno, "CUOR": reference, "ORDT": "20261001", "CUCD": "USD"}
    lines = [{"ITNO": ITEM, "ORQT": "2", "SAPR": "12.50"}, {"ITNO": ITEM, "ORQT": "1", "SAPR": "99.99"}]
    return _planned("m3.order.add", source_id, {"head": head, "lines": lines}, reference)


@pytest.fixture(scope="module")
def systems(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("in_doubt")
    sandbox_dir = home / "sandbox"
    config = home / "finsync.yaml"
    config.write_text(
        f"version: 1\npairs:\n  - name: {PAIR}\n    sandbox_dir: {sandbox_dir}\n", encoding="utf-8"
    )
    running = start(SandboxOptions(dir=sandbox_dir, seed="empty"))
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("FINSYNC_HOME", str(home))
            patch.delenv("FINSYNC_LEDGER_URL", raising=False)
            patch.chdir(home)
            runner = CliRunner()
            for system in ("freshbooks", "infor"):
                result = runner.invoke(
                    cli, ["--config", str(config), "connect", system, "--sandbox", str(sandbox_dir)]
                )
                assert result.exit_code == 0, result.output
            settings = load_settings(config, env={"FINSYNC_HOME": str(home)})
            clients = PairClients.of(settings)
            with clients.infor(PAIR) as m3:
                [made] = m3.execute_bulk(
                    program="CRS610MI",
                    calls=[
                        MiCall(
                            "Add",
                            {
                                "CUNO": "KNOWN1",
                                "CUNM": "Known Customer",
                                "CUTM": "TSTD",
                                "STAT": "20",
                                "CUA1": "1 Known Street",
                                "TOWN": "Springfield",
                            },
                        )
                    ],
                )
                assert made.ok, made.error
            yield {"settings": settings, "clients": clients, "ledger": Ledger(settings.ledger_url),
                   "control": {s: running.info[s]["control_url"] for s in ("freshbooks", "infor")}}  # fmt: skip
    finally:
        running.stop()


def _faults(systems: dict[str, Any], spec: str | None) -> None:
    for url in systems["control"].values():
        response = httpx.put(f"{url}/faults", json={"spec": spec}) if spec else httpx.delete(f"{url}/faults")
        response.raise_for_status()


def _push(systems: dict[str, Any], *, settle: float) -> None:
    settings = systems["settings"]
    clients = systems["clients"]
    config = settings.pair(PAIR)
    openers = {"infor": lambda: clients.infor(PAIR), "freshbooks": lambda: clients.freshbooks(PAIR)}
    Pusher(systems["ledger"], PAIR, config.write_back, openers, company=config.infor.company,
           settle_seconds=settle).run()  # fmt: skip


def _in_doubt_now(ledger: Ledger) -> None:
    """Make every in-doubt action due now (its backoff is not what is tested)."""
    with ledger.engine.begin() as connection:
        connection.execute(
            outbox.update().where(outbox.c.state == State.IN_DOUBT).values(next_attempt_at=utcnow())
        )


def test_creates_applied_with_their_answer_lost_are_found_not_repeated(systems) -> None:
    ledger: Ledger = systems["ledger"]
    actions = [
        _planned(
            "m3.customer.add",
            "501",
            {
                "CUNO": "FB501",
                "CUNM": "Lost Answer Ltd",
                "CUTM": "TSTD",
                "CUA1": "2 Lost Lane",
                "TOWN": "Riverton",
                "STAT": "20",
            },
            "FB501",
        ),
        _order("601", "KNOWN1", "INV-601"),
        _planned(
            "m3.gl.add",
            "701",
            {
                "debit": "AIT1=4000;CUAM=125.40;ACDT=20261001;VTXT=Lost answer",
                "offset_account": "1100",
                "interface": "FINSYNC",
                "company": "100",
            },
            "FBE701",
        ),
        _planned(
            "freshbooks.client.create",
            "KNOWN1",
            {"organization": "Known Customer", "note": "finsync M3 customer KNOWN1"},
            "finsync M3 customer KNOWN1",
        ),
    ]
    ledger.plan(actions, planned_by="test")
    _faults(systems, "rate=1;kinds=commit_then_timeout")
    try:
        _push(systems, settle=0)
    finally:
        _faults(systems, None)
    assert {a.action: a.state for a in ledger.actions(pair=PAIR)} == dict.fromkeys(
        (a.action for a in actions), State.IN_DOUBT
    )
    _in_doubt_now(ledger)
    _push(systems, settle=5)

    done = {a.action: a for a in ledger.actions(pair=PAIR)}
    assert {name: a.state for name, a in done.items()} == dict.fromkeys(done, State.DONE)
    with systems["clients"].infor(PAIR) as m3, systems["clients"].freshbooks(PAIR) as fb:
        customers = [r["CUNO"] for r in m3.list_transaction("CRS610MI", "LstByNumber")]
        assert sorted(customers) == ["FB501", "KNOWN1"]
        orders = [
            row for batch in m3.iter_export(table="OOHEAD", columns=["OAORNO", "OACUOR"]) for row in batch
        ]
        assert [str(r["OAORNO"]).strip() for r in orders if str(r["OACUOR"]).strip() == "INV-601"] == [
            done["m3.order.add"].target_id
        ]
        batches = [
            row for batch in m3.iter_export(table="OXHEAD", columns=["OAORNO", "OACUOR"]) for row in batch
        ]
        assert [str(r["OACUOR"]).strip() for r in batches].count("INV-601") == 1
        postings = [
            row for batch in m3.iter_export(table="FGLEDG", columns=["EGCUAM", "EGVDSC"]) for row in batch
        ]
        assert len([r for r in postings if str(r["EGVDSC"]).strip() == "FreshBooks expense 701"]) == 2
        stamped = [
            c for c in fb.iter_records("clients") if "finsync M3 customer KNOWN1" in (c.get("note") or "")
        ]
        assert [str(c["id"]) for c in stamped] == [done["freshbooks.client.create"].target_id]


def test_an_order_confirmed_before_the_crash_is_found_in_m3(systems) -> None:
    """Confirmed in M3 by an attempt whose worker died before recording it: found, not entered again."""
    ledger: Ledger = systems["ledger"]
    action = _order("602", "KNOWN1", "INV-602")
    ledger.plan([action], planned_by="test")
    with systems["clients"].infor(PAIR) as m3:
        [head] = m3.execute_bulk(program="OIS100MI", calls=[MiCall("AddBatchHead", action.payload["head"])])
        temporary = head.record["ORNO"]
        lines = [MiCall("AddBatchLine", {**line, "ORNO": temporary}) for line in action.payload["lines"]]
        assert all(o.ok for o in m3.execute_bulk(program="OIS100MI", calls=lines))
        [confirmed] = m3.execute_bulk(program="OIS100MI", calls=[MiCall("Confirm", {"ORNO": temporary})])
        order = str(confirmed.record["ORNO"])
    [claimed] = ledger.claim(pair=PAIR, target="infor", owner="test", limit=1, actions=["m3.order.add"])
    ledger.finish(claimed, Outcome(State.IN_DOUBT, error="worker died", next_attempt_at=utcnow()))

    _push(systems, settle=0)

    [done] = ledger.actions(pair=PAIR, states=[State.DONE, State.DEAD, State.IN_DOUBT, State.RETRY_WAIT])[-1:]
    assert (done.key, done.state, done.target_id) == (action.key, State.DONE, order)
    with systems["clients"].infor(PAIR) as m3:
        orders = [
            row for batch in m3.iter_export(table="OOHEAD", columns=["OAORNO", "OACUOR"]) for row in batch
        ]
        assert [str(r["OAORNO"]).strip() for r in orders if str(r["OACUOR"]).strip() == "INV-602"] == [order]
