"""``commit_then_timeout`` on M3: the write is applied in full and then its answer is lost.

This is the failure that duplicates records in every tool without idempotency keys. Through the
production client, what the pusher will see: the call fails as "outcome unknown" (a dropped connection,
a read timeout or the gateway's 504), and yet the record is there when it is looked up. Reads never get
this fault.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from finsync_dagster.errors import RequestNotSentError, UnavailableError
from finsync_dagster.resources.infor import M3Client, MiCall
from finsync_dagster.sandbox.runner import RunningSandboxes, SandboxOptions, running_sandboxes
from tests.sandbox.infor.m3 import FAST, control, m3_client

CTT = {"rate": 1.0, "kinds": ["commit_then_timeout"]}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandboxes]:
    options = SandboxOptions(dir=tmp_path_factory.mktemp("infor-ctt"), seed="empty")
    with running_sandboxes(options, ["infor"]) as running:
        yield running


@pytest.fixture
def m3(sandbox: RunningSandboxes) -> Iterator[M3Client]:
    with m3_client(sandbox, replace(FAST, read_timeout=0.5)) as client:
        yield client
    control(sandbox, "DELETE", "faults")
    control(sandbox, "PUT", "settings", {"timeout_ms": 60000})


def _customer(sandbox: RunningSandboxes, cuno: str) -> dict[str, str]:
    return {"CUTM": sandbox.info["infor"]["defaults"]["CUTM"], "CUNO": cuno, "CUNM": cuno, "CUA1": "1 Road"}


def _exists(m3: M3Client, cuno: str) -> bool:
    return any(r["CUNO"] == cuno for r in m3.list_transaction("CRS610MI", "LstByNumber", {"CUNO": cuno}))


def test_a_single_add_whose_answer_is_dropped_is_applied(sandbox: RunningSandboxes, m3: M3Client) -> None:
    control(sandbox, "PUT", "faults", {**CTT, "ctt": "drop"})

    with pytest.raises(UnavailableError) as caught:
        m3.execute(program="CRS610MI", transaction="Add", params=_customer(sandbox, "CTT001"))

    assert not isinstance(caught.value, RequestNotSentError)  # the pusher must treat it as in doubt
    assert "connection failed" in caught.value.message
    (found,) = m3.execute(program="CRS610MI", transaction="GetBasicData", params={"CUNO": "CTT001"})
    assert found["CUNM"] == "CTT001"


def test_a_single_add_answered_after_the_client_timeout_is_applied(
    sandbox: RunningSandboxes, m3: M3Client
) -> None:
    control(sandbox, "PUT", "faults", {**CTT, "ctt": "delay", "slow_ms": 1500})

    with pytest.raises(UnavailableError, match="timed out"):
        m3.execute(program="CRS610MI", transaction="Add", params=_customer(sandbox, "CTT002"))

    assert _exists(m3, "CTT002")  # applied before the answer was held back; reads are never delayed


def test_the_gateway_answers_504_when_the_held_answer_outlives_its_timeout(
    sandbox: RunningSandboxes, m3: M3Client
) -> None:
    control(sandbox, "PUT", "settings", {"timeout_ms": 100})
    control(sandbox, "PUT", "faults", {**CTT, "ctt": "delay", "slow_ms": 300})

    with pytest.raises(UnavailableError) as caught:
        m3.execute(program="CRS610MI", transaction="Add", params=_customer(sandbox, "CTT003"))

    assert caught.value.status == 504
    assert _exists(m3, "CTT003")


def test_every_transaction_of_a_bulk_post_is_applied_although_the_answer_is_lost(
    sandbox: RunningSandboxes, m3: M3Client
) -> None:
    control(sandbox, "PUT", "faults", {**CTT, "ctt": "drop"})
    numbers = ["CTT101", "CTT102", "CTT103"]

    outcomes = m3.execute_bulk(
        program="CRS610MI", calls=[MiCall("Add", _customer(sandbox, n)) for n in numbers]
    )

    assert all(isinstance(o.error, UnavailableError) for o in outcomes)
    assert [n for n in numbers if _exists(m3, n)] == numbers
    # Sent again blindly, each would now be refused as a duplicate: the pusher must look up first.
    control(sandbox, "DELETE", "faults")
    again = m3.execute_bulk(program="CRS610MI", calls=[MiCall("Add", _customer(sandbox, n)) for n in numbers])
    assert {o.error.code for o in again if o.error is not None} == {"WCU0201"}


def test_reads_never_get_commit_then_timeout(sandbox: RunningSandboxes, m3: M3Client) -> None:
    control(sandbox, "PUT", "faults", {**CTT, "ctt": "drop"})
    injected = control(sandbox, "GET", "faults")["injected"]

    m3.list_transaction("CRS610MI", "LstByNumber")
    m3.execute_bulk(program="CRS610MI", calls=[MiCall("LstByNumber", {})], idempotent=True)
    m3.execute(program="EXPORTMI", transaction="Select", params={"QERY": "OKCUNO from OCUSMA"})

    assert control(sandbox, "GET", "faults")["injected"] == injected
