"""The Infor client against the real Infor sandbox over loopback.

What a user would notice: MI errors arrive typed with M3's code, field and message; a bulk write reports
each transaction's fate against its input; a token that dies mid-run is replaced without the caller
seeing it; a paged read under 20 % injected gateway faults returns every record exactly once; no secret
from the ``.ionapi`` file ever shows in an error or a repr.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from finsync_dagster.cli import cli
from finsync_dagster.errors import AuthenticationError, UnavailableError
from finsync_dagster.ledger import Ledger
from finsync_dagster.resources.http_policy import HttpPolicy
from finsync_dagster.resources.infor import (
    InforResource,
    M3Client,
    M3TransactionNotFoundError,
    M3ValidationError,
    MiCall,
)
from finsync_dagster.resources.infor.ion import IonApiCredentials, IonApiSession
from finsync_dagster.sandbox.runner import RunningSandboxes

POLICY = HttpPolicy(backoff_initial=0.05, backoff_max=0.5, max_attempts=8, max_concurrency=4)


def _own_ledger() -> Ledger:
    """A ledger of the client's own, so no test reuses another's token."""
    ledger = Ledger(f"sqlite:///{Path(tempfile.mkdtemp()) / 'ledger.sqlite'}")
    ledger.migrate()
    return ledger


def _client(info: dict[str, Any], **changes: Any) -> M3Client:
    resource = InforResource(
        company=str(info["company"]),
        division=str(info["division"]),
        ionapi_file=str(info["ionapi_file"]),
        token_key="sandbox",
        max_concurrency=4,
        **changes,
    )
    return resource.get_client(_own_ledger(), policy=POLICY)


def _control(info: dict[str, Any], method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = httpx.request(method, f"{info['base_url']}/sandbox/{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


@pytest.fixture
def m3(infor_info: dict[str, Any]) -> Iterator[M3Client]:
    with _client(infor_info) as client:
        yield client


@pytest.fixture
def faults_cleared(infor_info: dict[str, Any]) -> Iterator[None]:
    yield
    _control(infor_info, "DELETE", "faults")


def _add_customers(m3: M3Client, defaults: dict[str, str], prefix: str, count: int) -> list[str]:
    numbers = [f"{prefix}{n:04d}" for n in range(count)]
    outcomes = m3.execute_bulk(
        program="CRS610MI",
        calls=[
            MiCall(
                "Add", {"CUTM": defaults["CUTM"], "CUNO": cuno, "CUNM": f"Customer {cuno}", "CUA1": "1 Road"}
            )
            for cuno in numbers
        ],
    )
    assert all(o.ok for o in outcomes), [str(o.error) for o in outcomes if not o.ok][:3]
    return numbers


@pytest.mark.parametrize(
    ("program", "transaction", "params", "error", "code", "field"),
    [
        ("CRS610MI", "Add", {"CUNM": "No template", "CUA1": "x"}, M3ValidationError,
         "MandatoryInputFieldNotFound", "CUTM"),
        ("CRS610MI", "Add", {"CUTM": "TMPL01", "CUNM": "N" * 37, "CUA1": "x"}, M3ValidationError,
         "InputFieldTooLong", "CUNM"),
        ("CRS610MI", "GetBasicData", {"CUNO": "NOSUCH"}, M3ValidationError, "WCU0203", "CUNO"),
        ("CRS610MI", "Nope", {}, M3TransactionNotFoundError, "TransactionNotFound", None),
        ("ZZZ999MI", "Get", {}, M3TransactionNotFoundError, None, None),
    ],
    ids=["mandatory", "too-long", "unknown-customer", "unknown-transaction", "unknown-program"],
)  # fmt: skip
def test_mi_errors_arrive_typed(
    m3: M3Client,
    program: str,
    transaction: str,
    params: dict[str, str],
    error: type[Exception],
    code: str | None,
    field: str | None,
) -> None:
    with pytest.raises(error) as caught:
        m3.execute(program=program, transaction=transaction, params=params)
    assert (caught.value.code, caught.value.field, caught.value.status) == (code, field, 400)  # type: ignore[attr-defined]
    assert caught.value.message  # type: ignore[attr-defined]


def test_typed_customer_round_trip(m3: M3Client, infor_info: dict[str, Any]) -> None:
    [cuno] = _add_customers(m3, infor_info["defaults"], "TY", 1)
    [record] = m3.execute(program="CRS610MI", transaction="GetBasicData", params={"CUNO": cuno})
    assert record["CUNO"] == cuno and record["CUNM"] == f"Customer {cuno}"
    assert isinstance(record["LMDT"], date) and isinstance(record["CONO"], int)


def test_bulk_reports_each_failure_against_its_input(m3: M3Client, infor_info: dict[str, Any]) -> None:
    template = infor_info["defaults"]["CUTM"]
    calls = []
    for n in range(130):
        record: dict[str, object] = {"CUTM": template, "CUNO": f"BK{n:04d}", "CUNM": f"Bulk {n}", "CUA1": "x"}
        if n % 10 == 3:
            record["CUNM"] = "Too long " * 5
        if n % 10 == 7:
            del record["CUTM"]
        calls.append(MiCall("Add", record))
    outcomes = m3.execute_bulk(program="CRS610MI", calls=calls)
    assert [o.index for o in outcomes] == list(range(130))
    for n, outcome in enumerate(outcomes):
        if n % 10 == 3:
            assert isinstance(outcome.error, M3ValidationError) and outcome.error.code == "InputFieldTooLong"
        elif n % 10 == 7:
            assert isinstance(outcome.error, M3ValidationError) and outcome.error.field == "CUTM"
        else:
            assert outcome.ok, outcome.error
            assert outcome.record["CUNO"] == f"BK{n:04d}"
    stored = {
        r["CUNO"] for r in m3.list_transaction("CRS610MI", "LstByNumber", {"CUNO": "BK"}) if r["CUNO"] < "BL"
    }
    assert stored == {f"BK{n:04d}" for n in range(130) if n % 10 not in (3, 7)}


def test_tokens_revoked_mid_read_are_replaced_transparently(m3: M3Client, infor_info: dict[str, Any]) -> None:
    expected = _add_customers(m3, infor_info["defaults"], "TK", 60)
    issued_before = _control(infor_info, "GET", "gateway")["tokens_issued"]
    seen: list[str] = []
    for page in m3.iter_list("CRS610MI", "LstByNumber", {"CUNO": "TK"}, key="CUNO", page_size=10):
        seen += [r["CUNO"] for r in page if r["CUNO"].startswith("TK")]
        _control(infor_info, "POST", "gateway/expire-tokens")  # every token dies between pages
    assert seen == expected
    assert _control(infor_info, "GET", "gateway")["tokens_issued"] - issued_before >= 6


def test_short_lived_tokens_are_renewed_before_they_expire(infor_info: dict[str, Any]) -> None:
    _control(infor_info, "POST", "gateway", {"expires_in": 1})
    try:
        with _client(infor_info) as m3:
            for _ in range(3):
                m3.execute(program="CRS610MI", transaction="LstByNumber", maxrecs=1)
                time.sleep(1.1)
            assert m3.session.token_requests >= 3
    finally:
        _control(infor_info, "POST", "gateway", {"expires_in": 7200})


def test_full_read_under_20_percent_faults_returns_every_record_once(
    m3: M3Client, infor_info: dict[str, Any], faults_cleared: None
) -> None:
    expected = _add_customers(m3, infor_info["defaults"], "FT", 240)
    spec = "rate=0.2;kinds=500,502,503,504,429,drop,revoke;paths=/FINSYNC_TST/M3/*;retry_after=1;seed=11"
    _control(infor_info, "PUT", "faults", {"spec": spec})
    seen: list[str] = []
    for page in m3.iter_list("CRS610MI", "LstByNumber", {"CUNO": "FT"}, key="CUNO", page_size=20):
        seen += [r["CUNO"] for r in page if r["CUNO"].startswith("FT")]
    injected = _control(infor_info, "GET", "faults")["injected"]
    assert seen == expected  # every record, in order, none twice
    assert injected >= 2


def test_gateway_throttling_is_waited_out(infor_info: dict[str, Any]) -> None:
    _control(infor_info, "POST", "gateway", {"quota_per_second": 2})
    try:
        with _client(infor_info) as m3:
            m3.session.authenticate()
            started = time.monotonic()
            for _ in range(5):
                m3.execute(program="CRS610MI", transaction="LstByNumber", maxrecs=1)
            # 5 calls at 2 a second only succeed if the 429s' Retry-After (>= 1 s) were waited out.
            assert time.monotonic() - started >= 1.0
    finally:
        _control(infor_info, "POST", "gateway", {"quota_per_second": 0})


def test_gateway_timeout_surfaces_as_unavailable_after_retries(
    infor_info: dict[str, Any], faults_cleared: None
) -> None:
    _control(infor_info, "POST", "gateway", {"timeout_ms": 100})
    _control(infor_info, "PUT", "faults", {"spec": "rate=1;kinds=slow;slow_ms=300;paths=/FINSYNC_TST/M3/*"})
    try:
        resource = InforResource(
            company=str(infor_info["company"]),
            ionapi_file=str(infor_info["ionapi_file"]),
            token_key="sandbox",
            max_concurrency=2,
        )
        policy = HttpPolicy(backoff_initial=0.01, max_attempts=2)
        with (
            resource.get_client(_own_ledger(), policy=policy) as m3,
            pytest.raises(UnavailableError) as caught,
        ):
            m3.execute(program="CRS610MI", transaction="LstByNumber", maxrecs=1)
        assert caught.value.status == 504
    finally:
        _control(infor_info, "POST", "gateway", {"timeout_ms": 60000})


def test_wrong_secret_is_refused_without_leaking_any_secret(infor_ionapi: dict[str, str]) -> None:
    secrets = [infor_ionapi["cs"], infor_ionapi["saak"], "not-the-secret-QWERTY"]
    credentials = IonApiCredentials.from_mapping({**infor_ionapi, "sask": secrets[-1]}, source="test")
    session = IonApiSession(credentials, policy=POLICY)
    client = M3Client(session, company="100")
    with client, pytest.raises(AuthenticationError) as caught:
        client.execute(program="CRS610MI", transaction="LstByNumber", maxrecs=1)
    text = " ".join([str(caught.value), repr(caught.value), repr(client), repr(session), repr(credentials)])
    for secret in [*secrets, infor_ionapi["sask"]]:
        assert secret not in text


def _accepted(info: dict[str, Any], access_token: str) -> bool:
    response = httpx.get(
        f"{info['base_url']}/FINSYNC_TST/M3/m3api-rest/v2/execute/CRS610MI/LstByNumber",
        headers={"Authorization": f"Bearer {access_token}"},
    )
    return response.status_code != 401


def test_close_revokes_a_token_nobody_shares(infor_info: dict[str, Any]) -> None:
    session = IonApiSession(IonApiCredentials.from_file(Path(infor_info["ionapi_file"])), policy=POLICY)
    client = M3Client(session, company=str(infor_info["company"]))
    client.execute(program="CRS610MI", transaction="LstByNumber", maxrecs=1)
    token = client.session.token
    assert token is not None
    client.close()
    assert not _accepted(infor_info, token["access_token"])


def test_close_keeps_the_token_shared_through_the_ledger(infor_info: dict[str, Any]) -> None:
    client = _client(infor_info)
    client.execute(program="CRS610MI", transaction="LstByNumber", maxrecs=1)
    token = client.session.token
    assert token is not None
    client.close()
    assert _accepted(infor_info, token["access_token"])  # another run of the pair may be using it


def test_connect_command_verifies_and_stores_the_token(
    infor_sandbox_empty: RunningSandboxes, finsync_home: Path
) -> None:
    result = CliRunner().invoke(cli, ["connect", "infor", "--sandbox", str(infor_sandbox_empty.dir)])
    assert result.exit_code == 0, result.output
    assert "connected pair 'sandbox' to tenant FINSYNC_TST (company 100/AAA)" in result.output
    ionapi = json.loads(Path(infor_sandbox_empty.info["infor"]["ionapi_file"]).read_text())
    assert ionapi["cs"] not in result.output and ionapi["sask"] not in result.output
    ledger = Ledger(f"sqlite:///{finsync_home / 'ledger.sqlite'}")
    stored = ledger.get_token("infor", "sandbox")
    assert stored is not None and stored.expires_at is not None


def test_export_reads_changed_rows_in_key_pages(m3: M3Client, infor_info: dict[str, Any]) -> None:
    expected = _add_customers(m3, infor_info["defaults"], "EX", 45)
    [first] = m3.execute(program="CRS610MI", transaction="GetBasicData", params={"CUNO": expected[0]})
    changed = first["LMDT"]
    batches = list(
        m3.iter_export(
            table="OCUSMA",
            columns=["OKCUNO", "OKCUNM", "OKLMDT"],
            where=[("OKCUNO", ">=", "EX"), ("OKCUNO", "<", "EY"), ("OKLMDT", ">=", changed)],
            key="OKCUNO",
            batch_size=10,
        )
    )
    assert [len(b) for b in batches] == [10, 10, 10, 10, 5]
    rows = [row for batch in batches for row in batch]
    assert [r["OKCUNO"] for r in rows] == expected
    assert rows[0] == {"OKCUNO": expected[0], "OKCUNM": f"Customer {expected[0]}", "OKLMDT": changed}
    later = m3.iter_export(
        table="OCUSMA", columns=["OKCUNO"], where=[("OKCUNO", ">=", "EX"), ("OKLMDT", ">", changed)]
    )
    assert [r for batch in later for r in batch if r["OKCUNO"].startswith("EX")] == []


def test_orders_through_bulk_head_lines_and_confirm(m3: M3Client, infor_info: dict[str, Any]) -> None:
    defaults = infor_info["defaults"]
    [customer] = _add_customers(m3, defaults, "OR", 1)
    heads = m3.execute_bulk(
        program="OIS100MI",
        calls=[
            MiCall("AddBatchHead", {"CUNO": customer, "ORTP": defaults["ORTP"], "WHLO": defaults["WHLO"]}),
            MiCall("AddBatchHead", {"CUNO": "NOSUCH", "ORTP": defaults["ORTP"], "WHLO": defaults["WHLO"]}),
        ],
    )
    assert heads[0].ok and isinstance(heads[1].error, M3ValidationError) and heads[1].error.field == "CUNO"
    temporary = heads[0].record["ORNO"]
    lines = m3.execute_bulk(
        program="OIS100MI",
        calls=[MiCall("AddBatchLine", {"ORNO": temporary, "ITNO": defaults["ITNO"], "ORQT": Decimal("2")})],
    )
    assert lines[0].ok, lines[0].error
    [confirmed] = m3.execute(program="OIS100MI", transaction="Confirm", params={"ORNO": temporary})
    [head] = m3.execute(program="OIS100MI", transaction="GetHead", params={"ORNO": confirmed["ORNO"]})
    assert head["CUNO"] == customer and isinstance(head["ORDT"], date)
    assert isinstance(head["NTAM"], Decimal) and head["NTAM"] > 0
