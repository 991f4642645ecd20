"""The ION API Gateway in front of the sandbox: tokens, revocation, bearer checks.

A client that gets these wrong fails against a real tenant at its first call, so each grant, each way of
authenticating the client, and each way a token stops working is pinned here over real HTTP.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from finsync_dagster.sandbox.runner import RunningSandboxes
from tests.sandbox.infor.mi_http import MI, mi_client


@pytest.fixture
def mi(infor_sandbox_empty: RunningSandboxes) -> Iterator[MI]:
    with mi_client(infor_sandbox_empty) as client:
        yield client


def test_ionapi_file_points_at_the_sandbox(infor_sandbox_empty: RunningSandboxes) -> None:
    info = infor_sandbox_empty.info["infor"]
    ionapi = json.loads(Path(info["ionapi_file"]).read_text(encoding="utf-8"))
    assert ionapi["iu"] == info["base_url"]
    assert ionapi["pu"] == f"{info['base_url']}/{info['tenant']}/as/"
    assert (ionapi["ot"], ionapi["or"], ionapi["ti"]) == (
        "token.oauth2",
        "revoke_token.oauth2",
        info["tenant"],
    )
    assert ionapi["saak"].startswith(info["tenant"] + "#") and ionapi["ci"].startswith(info["tenant"] + "~")
    assert set(info["defaults"]) == {"CUTM", "ORTP", "WHLO", "BOPE", "ITNO"}


def test_password_grant_returns_a_bearer_token_for_two_hours(mi: MI) -> None:
    token = mi.login()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 7200
    assert token["access_token"] and token["refresh_token"]


def test_client_may_authenticate_with_http_basic(mi: MI) -> None:
    form = mi.password_form()
    basic = base64.b64encode(f"{form.pop('client_id')}:{form.pop('client_secret')}".encode()).decode()
    response = mi.http.post(mi.token_url, data=form, headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200
    assert response.json()["access_token"]


def test_unknown_form_fields_are_ignored(mi: MI) -> None:
    response = mi.http.post(mi.token_url, data={**mi.password_form(), "redirect_uri": "https://localhost/"})
    assert response.status_code == 200


def test_wrong_client_secret_is_invalid_client(mi: MI) -> None:
    response = mi.http.post(mi.token_url, data={**mi.password_form(), "client_secret": "wrong"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_wrong_service_account_keys_are_invalid_grant(mi: MI) -> None:
    response = mi.http.post(mi.token_url, data={**mi.password_form(), "password": "wrong"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert mi.ionapi["sask"] not in response.text


def test_missing_or_bad_bearer_gets_401_from_the_gateway(mi: MI) -> None:
    url = f"{mi.base}/CRS610MI/LstByNumber"
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = mi.http.get(url, headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == 401
        assert "errorType" not in response.json()


def test_refresh_grant_issues_a_new_token_and_the_refresh_token_rolls(mi: MI) -> None:
    first = mi.login()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": mi.ionapi["ci"],
        "client_secret": mi.ionapi["cs"],
    }
    refreshed = mi.http.post(mi.token_url, data=form)
    assert refreshed.status_code == 200
    mi.token = refreshed.json()["access_token"]
    assert mi.get("CRS610MI/LstByNumber").status_code == 200
    again = mi.http.post(mi.token_url, data=form)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_refresh_grant_refused_when_the_app_issues_no_refresh_tokens(mi: MI) -> None:
    mi.http.put(f"{mi.control}/settings", json={"issue_refresh_tokens": False})
    try:
        token = mi.login()
        assert "refresh_token" not in token
        form = {
            "grant_type": "refresh_token",
            "refresh_token": "x",
            "client_id": mi.ionapi["ci"],
            "client_secret": mi.ionapi["cs"],
        }
        assert mi.http.post(mi.token_url, data=form).json()["error"] == "unsupported_grant_type"
    finally:
        mi.http.put(f"{mi.control}/settings", json={"issue_refresh_tokens": True})


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_revoked_token_is_refused(mi: MI, method: str) -> None:
    revoke_url = mi.ionapi["pu"] + mi.ionapi["or"]
    if method == "POST":
        response = mi.http.post(
            revoke_url,
            data={"token": mi.token, "token_type_hint": "access_token"},
            auth=(mi.ionapi["ci"], mi.ionapi["cs"]),
        )
    else:
        response = mi.http.get(revoke_url, params={"token": mi.token})
    assert response.status_code == 200
    assert mi.get("CRS610MI/LstByNumber").status_code == 401


def test_token_expires_with_the_sandbox_clock(infor_sandbox_empty: RunningSandboxes, mi: MI) -> None:
    assert mi.get("CRS610MI/LstByNumber").status_code == 200
    infor_sandbox_empty.state("infor").clock.advance(7201)
    assert mi.get("CRS610MI/LstByNumber").status_code == 401
    mi.token = mi.login()["access_token"]
    assert mi.get("CRS610MI/LstByNumber").status_code == 200


def test_expire_tokens_control_endpoint(mi: MI) -> None:
    assert httpx.post(f"{mi.control}/tokens/expire").json()["expired"] >= 1
    assert mi.get("CRS610MI/LstByNumber").status_code == 401
