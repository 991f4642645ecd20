"""A tiny raw-HTTP M3 caller for the sandbox's contract tests (deliberately not the production client)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from finsync_dagster.sandbox.runner import RunningSandboxes


class MI:
    def __init__(self, running: RunningSandboxes) -> None:
        info = running.info["infor"]
        self.info = info
        self.ionapi = json.loads(Path(info["ionapi_file"]).read_text(encoding="utf-8"))
        self.http = httpx.Client(timeout=30)
        self.base = f"{self.ionapi['iu']}/{self.ionapi['ti']}/M3/m3api-rest/v2/execute"
        self.control = info["base_url"] + "/sandbox"
        self.token = self.login()["access_token"]

    def login(self) -> dict[str, Any]:
        response = self.http.post(self.token_url, data=self.password_form())
        response.raise_for_status()
        return response.json()

    @property
    def token_url(self) -> str:
        return self.ionapi["pu"] + self.ionapi["ot"]

    def password_form(self) -> dict[str, str]:
        return {
            "grant_type": "password",
            "username": self.ionapi["saak"],
            "password": self.ionapi["sask"],
            "client_id": self.ionapi["ci"],
            "client_secret": self.ionapi["cs"],
        }

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(f"{self.base}/{path}", params=params, headers=self.headers)

    def records(self, path: str, **params: Any) -> list[dict[str, str]]:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()["results"][0]["records"]

    def one(self, path: str, **params: Any) -> dict[str, str]:
        (record,) = self.records(path, **params)
        return record

    def bulk(
        self, program: str, transactions: list[tuple[str, dict[str, Any]]], **params: Any
    ) -> dict[str, Any]:
        body = {
            "program": program,
            "cono": int(self.info["company"]),
            "transactions": [{"transaction": t, "record": r} for t, r in transactions],
        }
        response = self.http.post(self.base, json=body, params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def post_control(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(f"{self.control}/{path}", json=body or {})

    def close(self) -> None:
        self.http.close()


@contextmanager
def mi_client(running: RunningSandboxes) -> Iterator[MI]:
    client = MI(running)
    try:
        yield client
    finally:
        client.close()
