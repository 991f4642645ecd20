"""The generic ION API layer over MockTransport: credentials, grants, 401 cure, gateway errors, revoke.

These pin the auth contract (infor-api.md section 1) and the rule that secrets never reach a repr or an
exception message, independently of the sandbox.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from finsync_dagster.errors import (
    AuthenticationError,
    ConfigError,
    ForbiddenError,
    RateLimitedError,
    UnavailableError,
)
from finsync_dagster.ledger import Ledger
from finsync_dagster.resources.infor.ion import IonApiCredentials
from finsync_dagster.resources.token_store import TokenStore
from tests.clients.infor.fakes import (
    FAST,
    IONAPI,
    MI,
    SECRETS,
    FakeGateway,
    basic_credentials,
    make_client,
    mi_ok,
    write_ionapi,
)


def test_credentials_file_gives_token_revoke_and_api_urls(tmp_path: Path) -> None:
    credentials = IonApiCredentials.from_file(write_ionapi(tmp_path))
    assert credentials.token_url == f"https://sso.example.test/{IONAPI['ti']}/as/token.oauth2"
    assert credentials.revoke_url == f"https://sso.example.test/{IONAPI['ti']}/as/revoke_token.oauth2"
    assert credentials.api_base == f"https://gw.example.test/{IONAPI['ti']}"


def test_credentials_repr_hides_every_secret(tmp_path: Path) -> None:
    text = repr(IonApiCredentials.from_file(write_ionapi(tmp_path)))
    assert IONAPI["ti"] in text
    for secret in (*SECRETS, IONAPI["saak"], IONAPI["ci"]):
        assert secret not in text


def test_missing_keys_are_named_without_values(tmp_path: Path) -> None:
    path = write_ionapi(tmp_path, ci="", ot=None)
    with pytest.raises(ConfigError) as caught:
        IonApiCredentials.from_file(path)
    assert "ci" in str(caught.value) and "ot" in str(caught.value)
    assert IONAPI["cs"] not in str(caught.value)


def test_malformed_json_is_reported_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as caught:
        IonApiCredentials.from_json('{"cs": "client-secret-XYZZY",', source="$INFOR_IONAPI")
    assert "$INFOR_IONAPI" in str(caught.value)
    assert "XYZZY" not in str(caught.value)


def test_password_grant_uses_service_account_keys_and_client_credentials() -> None:
    gateway = FakeGateway(api=lambda r: mi_ok([{"CUNO": "C001"}]))
    with make_client(gateway) as m3:
        m3.execute(program="CRS610MI", transaction="LstByNumber")
    form = gateway.token_forms[0]
    assert form["grant_type"] == "password"
    assert (form["username"], form["password"]) == (IONAPI["saak"], IONAPI["sask"])
    assert (form["client_id"], form["client_secret"]) == (IONAPI["ci"], IONAPI["cs"])
    assert gateway.requests[0].url.path == f"/{IONAPI['ti']}/as/token.oauth2"


def test_file_without_service_account_uses_client_credentials_grant() -> None:
    gateway = FakeGateway()
    data = {k: v for k, v in IONAPI.items() if k not in ("saak", "sask")}
    with make_client(gateway, credentials=IonApiCredentials.from_mapping(data, source="t")) as m3:
        m3.execute(program="CRS610MI", transaction="LstByNumber")
    assert gateway.token_forms[0]["grant_type"] == "client_credentials"
    assert "username" not in gateway.token_forms[0]


def test_one_token_serves_many_calls() -> None:
    gateway = FakeGateway()
    with make_client(gateway) as m3:
        for _ in range(5):
            m3.execute(program="CRS610MI", transaction="LstByNumber")
    assert len(gateway.token_forms) == 1


def test_revoked_token_is_replaced_transparently_on_401() -> None:
    gateway = FakeGateway(api=lambda r: mi_ok([{"CUNO": "C001"}]))
    with make_client(gateway) as m3:
        m3.execute(program="CRS610MI", transaction="LstByNumber")
        gateway.revoke_all()
        records = m3.execute(program="CRS610MI", transaction="LstByNumber")
    assert records == [{"CUNO": "C001"}]
    assert [f["grant_type"] for f in gateway.token_forms] == ["password", "password"]


def test_401_uses_the_refresh_grant_when_the_app_issues_refresh_tokens() -> None:
    gateway = FakeGateway(refresh_tokens=True)
    with make_client(gateway) as m3:
        m3.execute(program="CRS610MI", transaction="LstByNumber")
        gateway.revoke_all()
        m3.execute(program="CRS610MI", transaction="LstByNumber")
    assert [f["grant_type"] for f in gateway.token_forms] == ["password", "refresh_token"]
    assert gateway.token_forms[1]["refresh_token"] == "refresh-1"


def test_token_near_expiry_is_renewed_before_the_call() -> None:
    gateway = FakeGateway(expires_in=1)
    with make_client(gateway) as m3:
        m3.execute(program="CRS610MI", transaction="LstByNumber")
        time.sleep(1.0)
        m3.execute(program="CRS610MI", transaction="LstByNumber")
    assert len(gateway.token_forms) == 2
    assert len(gateway.api_requests()) == 2  # renewed up front, not after a 401


def test_refused_credentials_raise_authentication_error_without_secrets() -> None:
    gateway = FakeGateway()
    data = {**IONAPI, "sask": "wrong-secret-FROBOZZ"}
    with (
        make_client(gateway, credentials=IonApiCredentials.from_mapping(data, source="t")) as m3,
        pytest.raises(AuthenticationError) as caught,
    ):
        m3.execute(program="CRS610MI", transaction="LstByNumber")
    assert caught.value.code == "invalid_grant"
    text = f"{caught.value} {caught.value!r}"
    for secret in (*SECRETS, "FROBOZZ", IONAPI["saak"]):
        assert secret not in text


def test_throttled_call_honours_retry_after_then_succeeds() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "0"}), mi_ok([{"CUNO": "C9"}])])
    gateway = FakeGateway(api=lambda r: next(answers))
    with make_client(gateway) as m3:
        assert m3.execute(program="CRS610MI", transaction="LstByNumber") == [{"CUNO": "C9"}]


def test_persistent_429_surfaces_as_rate_limited_with_retry_after() -> None:
    gateway = FakeGateway(api=lambda r: httpx.Response(429, headers={"Retry-After": "0"}))
    with make_client(gateway) as m3, pytest.raises(RateLimitedError) as caught:
        m3.execute(program="CRS610MI", transaction="LstByNumber")
    assert caught.value.status == 429 and caught.value.retry_after == 0
    assert len(gateway.api_requests()) == FAST.max_attempts


def test_gateway_timeout_is_retried_for_reads() -> None:
    answers = iter([httpx.Response(504, text="Gateway Timeout"), mi_ok([{"CUNO": "C1"}])])
    gateway = FakeGateway(api=lambda r: next(answers))
    with make_client(gateway) as m3:
        assert m3.execute(program="CRS610MI", transaction="GetBasicData", params={"CUNO": "C1"})


def test_gateway_timeout_is_not_resent_for_an_add() -> None:
    gateway = FakeGateway(api=lambda r: httpx.Response(504, text="Gateway Timeout"))
    with make_client(gateway) as m3, pytest.raises(UnavailableError) as caught:
        m3.execute(program="CRS610MI", transaction="Add", params={"CUNM": "x"})
    assert caught.value.status == 504
    assert len(gateway.api_requests()) == 1


def test_403_is_permanent() -> None:
    gateway = FakeGateway(api=lambda r: httpx.Response(403, json={"message": "no access to M3"}))
    with make_client(gateway) as m3, pytest.raises(ForbiddenError, match="no access to M3"):
        m3.execute(program="CRS610MI", transaction="LstByNumber")
    assert len(gateway.api_requests()) == 1


def test_close_revokes_access_and_refresh_tokens_with_basic_client_auth() -> None:
    gateway = FakeGateway(refresh_tokens=True)
    with make_client(gateway) as m3:
        m3.execute(program="CRS610MI", transaction="LstByNumber")
    assert [(r["token"], r["token_type_hint"]) for r in gateway.revoked] == [
        ("access-1", "access_token"),
        ("refresh-1", "refresh_token"),
    ]
    assert basic_credentials(gateway.revoked[0]["authorization"]) == f"{IONAPI['ci']}:{IONAPI['cs']}"
    assert gateway.valid == set()


def test_ledger_token_store_lets_a_second_client_reuse_the_token(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    ledger.migrate()
    gateway = FakeGateway()
    first = make_client(gateway, token_store=TokenStore(ledger, provider="infor", key="pair-a"))
    first.execute(program="CRS610MI", transaction="LstByNumber")
    stored = ledger.get_token("infor", "pair-a")
    assert stored is not None and stored.access_token == "access-1"
    second = make_client(gateway, token_store=TokenStore(ledger, provider="infor", key="pair-a"))
    second.execute(program="CRS610MI", transaction="LstByNumber")
    assert len(gateway.token_forms) == 1
    second.close()
    first.close()
    assert gateway.revoked == []  # the shared token stays for the pair's next run
    assert ledger.get_token("infor", "pair-a") == stored


def test_one_runs_close_does_not_revoke_the_token_another_run_uses(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    ledger.migrate()
    gateway = FakeGateway(refresh_tokens=True)
    store = TokenStore(ledger, provider="infor", key="pair-a")
    with make_client(gateway, token_store=store) as other_run:
        other_run.execute(program="CRS610MI", transaction="LstByNumber")
        with make_client(gateway, token_store=store) as this_run:
            this_run.execute(program="CRS610MI", transaction="LstByNumber")
        other_run.execute(program="CRS610MI", transaction="LstByNumber")
    assert gateway.revoked == []
    assert len(gateway.token_forms) == 1  # nobody had to log in again
    assert "access-1" in gateway.valid


def test_a_token_the_ledger_no_longer_holds_is_revoked_on_close(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    ledger.migrate()
    gateway = FakeGateway()
    store = TokenStore(ledger, provider="infor", key="pair-a")
    with make_client(gateway, token_store=store) as m3:
        m3.execute(program="CRS610MI", transaction="LstByNumber")
        ledger.delete_token("infor", "pair-a")  # e.g. replaced by a fresh connect
    assert [r["token"] for r in gateway.revoked] == ["access-1"]


def test_a_failed_revoke_is_retried() -> None:
    gateway = FakeGateway(revoke_failures=2)
    with make_client(gateway) as m3:
        m3.execute(program="CRS610MI", transaction="LstByNumber")
    assert [r["token"] for r in gateway.revoked] == ["access-1"]
    assert gateway.valid == set()


def test_api_calls_go_under_the_tenant_base_with_company_and_division() -> None:
    gateway = FakeGateway()
    with make_client(gateway, company="100", division="AAA") as m3:
        m3.execute(program="CRS610MI", transaction="LstByNumber", maxrecs=5, returncols=["CUNO", "CUNM"])
    request = gateway.api_requests()[0]
    assert request.url.path == f"{MI}/CRS610MI/LstByNumber"
    assert dict(request.url.params) == {
        "cono": "100",
        "divi": "AAA",
        "maxrecs": "5",
        "returncols": "CUNO,CUNM",
    }


def test_session_repr_shows_no_token() -> None:
    gateway = FakeGateway()
    with make_client(gateway) as m3:
        m3.execute(program="CRS610MI", transaction="LstByNumber")
        text = repr(m3) + repr(m3.session)
    assert "access-1" not in text and IONAPI["cs"] not in text
    assert json.dumps(IONAPI["ti"]).strip('"') in text
