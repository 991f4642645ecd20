"""A scripted ION API Gateway + M3 for MockTransport tests: it records requests and answers per script."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx

from finsync_dagster.resources.http_policy import HttpPolicy
from finsync_dagster.resources.infor import M3Client
from finsync_dagster.resources.infor.ion import IonApiCredentials, IonApiSession
from finsync_dagster.resources.token_store import TokenStore

BASE = "https://gw.example.test"
TENANT = "ACME_TST"
IONAPI = {
    "ti": TENANT,
    "cn": "finsync",
    "ci": "ACME_TST~client-id",
    "cs": "client-secret-XYZZY",
    "iu": BASE,
    "pu": f"https://sso.example.test/{TENANT}/as/",
    "oa": "authorization.oauth2",
    "ot": "token.oauth2",
    "or": "revoke_token.oauth2",
    "saak": "ACME_TST#service-key",
    "sask": "service-secret-PLUGH",
    "ev": "U1",
    "v": "1.0",
}
SECRETS = (IONAPI["cs"], IONAPI["sask"])
FAST = HttpPolicy(backoff_initial=0.01, backoff_max=0.05, max_attempts=4, max_concurrency=4)
MI = f"/{TENANT}/M3/m3api-rest/v2/execute"

Handler = Callable[[httpx.Request], httpx.Response]


def write_ionapi(tmp_path: Path, **changes: Any) -> Path:
    path = tmp_path / "acme.ionapi"
    path.write_text(json.dumps({**IONAPI, **changes}), encoding="utf-8")
    return path


def mi_ok(records: list[dict[str, str]], transaction: str = "X") -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "results": [{"transaction": transaction, "records": records}],
            "wasTerminated": False,
            "nrOfSuccessfullTransactions": 1,
            "nrOfFailedTransactions": 0,
        },
    )


def mi_400(error_type: str, message: str, code: str = "", field: str = "") -> httpx.Response:
    return httpx.Response(
        400,
        json={"errorMessage": message, "errorCode": code, "errorField": field, "errorType": error_type},
    )


@dataclass
class FakeGateway:
    """Issues tokens, checks bearer tokens, and delegates API paths to ``api``."""

    api: Handler = field(default=lambda request: mi_ok([]))
    refresh_tokens: bool = False
    expires_in: int = 7200
    requests: list[httpx.Request] = field(default_factory=list)
    token_forms: list[dict[str, str]] = field(default_factory=list)
    revoked: list[dict[str, str]] = field(default_factory=list)
    valid: set[str] = field(default_factory=set)
    issued: int = 0
    token_status: int = 200
    revoke_failures: int = 0  # how many revocation requests fail with 503 before they succeed

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path.endswith("/token.oauth2"):
            return self._token(request)
        if path.endswith("/revoke_token.oauth2"):
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            form["authorization"] = request.headers.get("Authorization", "")
            if self.revoke_failures > 0:
                self.revoke_failures -= 1
                return httpx.Response(503, json={"error": "temporarily_unavailable"})
            self.revoked.append(form)
            self.valid.discard(form.get("token", ""))
            return httpx.Response(200)
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer not in self.valid:
            return httpx.Response(401, json={"error": "invalid_token"})
        return self.api(request)

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.token_forms.append(form)
        if self.token_status != 200:
            return httpx.Response(self.token_status, json={"error": "invalid_client"})
        if form.get("grant_type") == "password" and form.get("password") != IONAPI["sask"]:
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": "bad password"})
        self.issued += 1
        token = f"access-{self.issued}"
        self.valid.add(token)
        body: dict[str, Any] = {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
        if self.refresh_tokens:
            body["refresh_token"] = f"refresh-{self.issued}"
        return httpx.Response(200, json=body)

    def revoke_all(self) -> None:
        self.valid.clear()

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith(f"/{TENANT}/M3/")]


def basic_credentials(header: str) -> str:
    return base64.b64decode(header.removeprefix("Basic ")).decode()


def make_client(
    gateway: FakeGateway,
    *,
    company: str = "100",
    division: str = "AAA",
    token_store: TokenStore | None = None,
    credentials: IonApiCredentials | None = None,
    bulk_size: int = 100,
    policy: HttpPolicy = FAST,
) -> M3Client:
    session = IonApiSession(
        credentials or IonApiCredentials.from_mapping(IONAPI, source="test"),
        policy=policy,
        transport=httpx.MockTransport(gateway),
        token_store=token_store,
    )
    return M3Client(session, company=company, division=division, bulk_size=bulk_size)
