"""Finding what an in-doubt M3 write created: customers and batch customer orders, by the catalog.

A customer is found by its number (``GetBasicData``; ``Add`` with a number that exists answers M3's
"already exists" quartet) and by the reference stamped in ``YREF`` (EXPORTMI on OCUSMA). A batch order is
found by customer and customer reference ``CUOR`` before and after ``Confirm`` (``LstBatchHead``, EXPORTMI
on OXHEAD), its lines are listed (``LstBatchLine``, EXPORTMI on OXLINE), ``GetOrderNo`` maps it to the
real order, and the real order is found by ``CUOR`` too (``LstHead``, EXPORTMI on OOHEAD). All through the
production client.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from finsync_dagster.resources.infor import M3Client, M3ValidationError
from finsync_dagster.sandbox.runner import RunningSandboxes
from tests.sandbox.infor.m3 import m3_client


@pytest.fixture(scope="module")
def m3(infor_sandbox_empty: RunningSandboxes) -> Iterator[M3Client]:
    with m3_client(infor_sandbox_empty) as client:
        yield client


@pytest.fixture(scope="module")
def defaults(infor_sandbox_empty: RunningSandboxes) -> dict[str, str]:
    return dict(infor_sandbox_empty.info["infor"]["defaults"])


@pytest.fixture(scope="module")
def cuno(m3: M3Client, defaults: dict[str, str]) -> str:
    params = {
        "CUTM": defaults["CUTM"],
        "CUNO": "WL0001",
        "CUNM": "Lookup Co",
        "CUA1": "1 Road",
        "YREF": "fs:C7Q2",
    }
    m3.execute(program="CRS610MI", transaction="Add", params=params)
    return "WL0001"


def _call(m3: M3Client, transaction: str, **params: Any) -> list[dict[str, Any]]:
    return m3.execute(program="OIS100MI", transaction=transaction, params=params)


def _export(
    m3: M3Client, table: str, columns: list[str], where: list[tuple[str, str, object]]
) -> list[dict[str, Any]]:
    return [row for batch in m3.iter_export(table=table, columns=columns, where=where) for row in batch]


def _batch(m3: M3Client, cuno: str, cuor: str, defaults: dict[str, str], lines: int = 2) -> str:
    (head,) = _call(m3, "AddBatchHead", CUNO=cuno, ORTP=defaults["ORTP"], CUOR=cuor)
    for n in range(lines):
        _call(m3, "AddBatchLine", ORNO=head["ORNO"], ITNO=defaults["ITNO"], ORQT=n + 1, SAPR=Decimal("10.00"))
    return str(head["ORNO"])


# -- customers ---------------------------------------------------------------------------------------


def test_adding_a_customer_number_that_exists_answers_already_exists(
    m3: M3Client, cuno: str, defaults: dict[str, str]
) -> None:
    with pytest.raises(M3ValidationError) as caught:
        m3.execute(
            program="CRS610MI",
            transaction="Add",
            params={"CUTM": defaults["CUTM"], "CUNO": cuno, "CUNM": "Again", "CUA1": "1 Road"},
        )

    error = caught.value
    assert (error.status, error.code, error.field, error.error_type) == (
        400,
        "WCU0201",
        "CUNO",
        "ServerReturnedNOK",
    )
    assert error.message == f"Customer number {cuno} already exists"


def test_a_customer_is_found_by_number_and_by_the_reference_in_yref(m3: M3Client, cuno: str) -> None:
    (basic,) = m3.execute(program="CRS610MI", transaction="GetBasicData", params={"CUNO": cuno})
    by_yref = _export(m3, "OCUSMA", ["OKCUNO", "OKYREF"], [("OKYREF", "=", "fs:C7Q2")])

    assert (basic["CUNM"], basic["YREF"]) == ("Lookup Co", "fs:C7Q2")
    assert by_yref == [{"OKCUNO": cuno, "OKYREF": "fs:C7Q2"}]


# -- batch customer orders ---------------------------------------------------------------------------


def test_an_unconfirmed_batch_order_is_found_by_customer_and_cuor(
    m3: M3Client, cuno: str, defaults: dict[str, str]
) -> None:
    temporary = _batch(m3, cuno, "fs:O-UNCONF1", defaults)

    listed = [h for h in _call(m3, "LstBatchHead", CUNO=cuno) if h["CUOR"] == "fs:O-UNCONF1"]
    exported = _export(
        m3, "OXHEAD", ["OAORNO", "OACUNO", "OASTAT", "OAORNR"], [("OACUOR", "=", "fs:O-UNCONF1")]
    )

    assert [(h["ORNO"], h["STAT"], h["ORNR"]) for h in listed] == [(temporary, "05", "")]
    assert exported == [{"OAORNO": temporary, "OACUNO": cuno, "OASTAT": "05", "OAORNR": ""}]
    assert _call(m3, "GetOrderNo", ORNO=temporary) == [{"ORNR": ""}]


def test_the_lines_of_a_batch_order_are_listed(m3: M3Client, cuno: str, defaults: dict[str, str]) -> None:
    temporary = _batch(m3, cuno, "fs:O-LINES", defaults, lines=3)

    lines = _call(m3, "LstBatchLine", ORNO=temporary)
    exported = _export(m3, "OXLINE", ["OBPONR", "OBITNO", "OBORQT"], [("OBORNO", "=", temporary)])

    assert [(ln["PONR"], ln["ITNO"], ln["ORQT"]) for ln in lines] == [
        (n, defaults["ITNO"], Decimal(n)) for n in (1, 2, 3)
    ]
    assert [row["OBPONR"] for row in exported] == [1, 2, 3]


def test_a_confirmed_batch_order_maps_to_its_real_order_found_by_cuor(
    m3: M3Client, cuno: str, defaults: dict[str, str]
) -> None:
    temporary = _batch(m3, cuno, "fs:O-CONF1", defaults)
    (confirmed,) = _call(m3, "Confirm", ORNO=temporary)
    real = confirmed["ORNO"]

    (batch,) = [h for h in _call(m3, "LstBatchHead", CUNO=cuno, ORSL="90") if h["CUOR"] == "fs:O-CONF1"]
    heads = [h for h in _call(m3, "LstHead", CUNO=cuno) if h["CUOR"] == "fs:O-CONF1"]
    exported = _export(
        m3, "OOHEAD", ["OAORNO", "OACUOR"], [("OACUNO", "=", cuno), ("OACUOR", "=", "fs:O-CONF1")]
    )

    assert _call(m3, "GetOrderNo", ORNO=temporary) == [{"ORNR": real}]
    assert (batch["ORNO"], batch["STAT"], batch["ORNR"]) == (temporary, "90", real)
    assert [h["ORNO"] for h in heads] == [real]
    assert exported == [{"OAORNO": real, "OACUOR": "fs:O-CONF1"}]
    assert len(_call(m3, "LstBatchLine", ORNO=temporary)) == 2  # the batch keeps its lines


@pytest.mark.parametrize("step", ["AddBatchLine", "Confirm", "DelBatchHead"])
def test_a_confirmed_batch_order_is_closed_to_every_batch_step(
    m3: M3Client, cuno: str, defaults: dict[str, str], step: str
) -> None:
    temporary = _batch(m3, cuno, f"fs:O-CLOSED-{step}"[:20], defaults)
    (confirmed,) = _call(m3, "Confirm", ORNO=temporary)
    params: dict[str, Any] = {"ORNO": temporary}
    if step == "AddBatchLine":
        params.update(ITNO=defaults["ITNO"], ORQT=1)

    with pytest.raises(M3ValidationError) as caught:
        _call(m3, step, **params)

    assert (caught.value.code, caught.value.field) == ("OI10003", "ORNO")
    assert caught.value.message == f"Customer order {confirmed['ORNO']} is closed for batch entry, status 22"


def test_an_unconfirmed_batch_order_is_abandoned_with_its_lines(
    m3: M3Client, cuno: str, defaults: dict[str, str]
) -> None:
    temporary = _batch(m3, cuno, "fs:O-ABANDON", defaults)

    _call(m3, "DelBatchHead", ORNO=temporary)

    with pytest.raises(M3ValidationError) as caught:
        _call(m3, "GetBatchHead", ORNO=temporary)
    assert (caught.value.code, caught.value.message) == ("OI10001", f"Batch order {temporary} does not exist")
    assert _export(m3, "OXLINE", ["OBPONR"], [("OBORNO", "=", temporary)]) == []


@pytest.mark.parametrize(
    ("transaction", "params", "code", "field", "message"),
    [
        ("GetOrderNo", {"ORNO": "9999999999"}, "OI10001", "ORNO", "Batch order 9999999999 does not exist"),
        ("LstBatchLine", {"ORNO": "9999999998"}, "OI10001", "ORNO", "Batch order 9999999998 does not exist"),
        ("AddBatchHead", {"CUNO": "WL0001", "CUOR": "x" * 21}, "InputFieldTooLong", "CUOR",
         "Input field CUOR is longer than 20"),
        ("LstBatchHead", {"CUNO": "NOSUCH"}, "WCU0203", "CUNO", "Customer number NOSUCH does not exist"),
    ],
)  # fmt: skip
def test_a_bad_order_lookup_is_refused_with_the_quartet(
    m3: M3Client, cuno: str, transaction: str, params: dict[str, str], code: str, field: str, message: str
) -> None:
    with pytest.raises(M3ValidationError) as caught:
        _call(m3, transaction, **params)

    assert (caught.value.code, caught.value.field, caught.value.message) == (code, field, message)
