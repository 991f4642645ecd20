"""OAuth2 and identity of the FreshBooks sandbox, over real HTTP on loopback (contract section 1).

The awkward parts matter most: refresh tokens are single-use and rotate, the token endpoint takes form
or JSON bodies and answers with ``created_at``, access tokens expire on the sandbox clock, and each API
family answers a bad token in its own envelope.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.fixtures.freshbooks import FreshBooksSandboxHandle


def _token_request(sb: FreshBooksSandboxHandle, *, as_json: bool = False, **fields: str) -> httpx.Response:
    body = {
        "client_id": sb.info["client_id"],
        "client_secret": sb.info["client_secret"],
        "redirect_uri": sb.info["redirect_uri"],
        **fields,
    }
    url = f"{sb.api_url}/auth/oauth/token"
    return httpx.post(url, json=body) if as_json else httpx.post(url, data=body)


@pytest.mark.parametrize("path", ["/oauth/authorize", "/oauth/authorize/"])
def test_authorize_redirects_with_code_and_state(
    freshbooks_sandbox: FreshBooksSandboxHandle, path: str
) -> None:
    sb = freshbooks_sandbox
    response = httpx.get(
        f"{sb.info['auth_url']}{path}",
        params={
            "client_id": sb.info["client_id"],
            "response_type": "code",
            "redirect_uri": sb.info["redirect_uri"],
            "scope": "user:profile:read user:clients:read",
            "state": "opaque-42",
        },
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == sb.info["redirect_uri"]
    query = parse_qs(location.query)
    assert query["state"] == ["opaque-42"]
    assert len(query["code"][0]) >= 32


def test_authorize_refuses_unknown_client_or_redirect_without_redirecting(
    freshbooks_sandbox: FreshBooksSandboxHandle,
) -> None:
    sb = freshbooks_sandbox
    url = f"{sb.info['auth_url']}/oauth/authorize"
    bad_client = httpx.get(url, params={"client_id": "nope", "response_type": "code"})
    bad_redirect = httpx.get(
        url,
        params={
            "client_id": sb.info["client_id"],
            "response_type": "code",
            "redirect_uri": "https://evil.example/cb",
        },
    )
    assert bad_client.status_code == bad_redirect.status_code == 400
    assert "location" not in bad_redirect.headers


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_code_exchange_answers_the_documented_token_fields(
    freshbooks_sandbox: FreshBooksSandboxHandle, as_json: bool
) -> None:
    sb = freshbooks_sandbox
    response = _token_request(sb, as_json=as_json, grant_type="authorization_code", code=sb.authorize())
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 43200
    assert isinstance(body["created_at"], int)
    assert abs(body["created_at"] - sb.state.clock.time()) < 5
    assert body["access_token"] != body["refresh_token"]
    assert "user:profile:read" in body["scope"].split()


def test_a_code_is_single_use(freshbooks_sandbox: FreshBooksSandboxHandle) -> None:
    sb = freshbooks_sandbox
    code = sb.authorize()
    assert _token_request(sb, grant_type="authorization_code", code=code).status_code == 200
    again = _token_request(sb, grant_type="authorization_code", code=code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_code_expires_after_five_minutes(freshbooks_isolated: FreshBooksSandboxHandle) -> None:
    sb = freshbooks_isolated
    code = sb.authorize()
    sb.state.clock.advance(301)
    response = _token_request(sb, grant_type="authorization_code", code=code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_code_exchange_needs_the_same_redirect_uri(freshbooks_sandbox: FreshBooksSandboxHandle) -> None:
    sb = freshbooks_sandbox
    response = _token_request(
        sb, grant_type="authorization_code", code=sb.authorize(), redirect_uri="https://localhost/other"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_bad_client_secret_is_invalid_client(freshbooks_sandbox: FreshBooksSandboxHandle) -> None:
    sb = freshbooks_sandbox
    response = _token_request(sb, grant_type="authorization_code", code=sb.authorize(), client_secret="wrong")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_unsupported_grant_type(freshbooks_sandbox: FreshBooksSandboxHandle) -> None:
    response = _token_request(freshbooks_sandbox, grant_type="client_credentials")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_refresh_rotates_and_a_used_refresh_token_is_refused(
    freshbooks_sandbox: FreshBooksSandboxHandle, as_json: bool
) -> None:
    sb = freshbooks_sandbox
    first = sb.tokens()
    second = _token_request(
        sb, as_json=as_json, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]
    reused = _token_request(sb, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert "single-use" in reused.json()["error_description"]
    third = _token_request(sb, grant_type="refresh_token", refresh_token=rotated["refresh_token"])
    assert third.status_code == 200


def test_identity_lists_the_business_membership(freshbooks_sandbox: FreshBooksSandboxHandle) -> None:
    sb = freshbooks_sandbox
    with sb.client() as client:
        response = client.get("/auth/api/v1/users/me")
    assert response.status_code == 200
    identity = response.json()["response"]
    assert identity["identity_id"] == identity["id"] == sb.info["identity_id"]
    business = identity["business_memberships"][0]["business"]
    assert business["account_id"] == sb.info["account_id"]
    assert business["id"] == sb.info["business_id"]
    assert business["business_uuid"] == sb.info["business_uuid"]
    assert identity["business_memberships"][0]["id"] != business["id"]  # membership id is not the business id


def test_identity_without_a_token_is_unauthenticated(freshbooks_sandbox: FreshBooksSandboxHandle) -> None:
    response = httpx.get(f"{freshbooks_sandbox.api_url}/auth/api/v1/users/me")
    assert response.status_code == 401
    assert response.json() == {
        "error": "unauthenticated",
        "error_description": "This action requires authentication to continue.",
    }


def test_access_token_expires_on_the_sandbox_clock(freshbooks_isolated: FreshBooksSandboxHandle) -> None:
    sb = freshbooks_isolated
    tokens = sb.tokens()
    with sb.client(tokens["access_token"]) as client:
        assert client.get(sb.accounting_url("users/clients")).status_code == 200
        sb.state.clock.advance(43201)
        expired = client.get(sb.accounting_url("users/clients"))
    assert expired.status_code == 401
    error = expired.json()["response"]["errors"][0]
    assert error["errno"] == 1003
    assert (
        error["message"] == "The server could not verify that you are authorized to access the URL requested."
    )
    # The refresh token still works after the access token expired.
    assert (
        _token_request(sb, grant_type="refresh_token", refresh_token=tokens["refresh_token"]).status_code
        == 200
    )


def test_access_token_lifetime_is_configurable(freshbooks_isolated: FreshBooksSandboxHandle) -> None:
    sb = freshbooks_isolated
    response = httpx.put(f"{sb.info['control_url']}/settings", json={"access_token_lifetime": 60})
    assert response.json()["access_token_lifetime"] == 60
    assert sb.tokens()["expires_in"] == 60


def test_expire_control_endpoint_forces_a_refresh(freshbooks_isolated: FreshBooksSandboxHandle) -> None:
    sb = freshbooks_isolated
    tokens = sb.tokens()
    assert httpx.post(f"{sb.info['control_url']}/tokens/expire").json()["expired"] >= 1
    with sb.client(tokens["access_token"]) as client:
        assert client.get(sb.accounting_url("users/clients")).status_code == 401
