"""The ``.ionapi`` file: an ION API Gateway tenant's OAuth app and service-account keys.

Downloaded from API Gateway > Authorized Apps (contract ``infor-api.md`` section 1). It holds secrets, so
errors say where the credentials came from, never what they were, and the secret parts stay out of reprs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finsync_dagster.errors import ConfigError

_REQUIRED_KEYS = ("ti", "ci", "cs", "iu", "pu", "ot")


@dataclass(frozen=True)
class IonApiCredentials:
    """The parts of an ``.ionapi`` file finsync uses; the secret ones never show in a repr."""

    tenant: str
    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)
    gateway_url: str
    auth_url: str
    token_path: str
    revoke_path: str | None = None
    app_name: str = ""
    service_account_key: str | None = field(default=None, repr=False)
    service_account_secret: str | None = field(default=None, repr=False)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str) -> IonApiCredentials:
        missing = [key for key in _REQUIRED_KEYS if not data.get(key)]
        if missing:
            raise ConfigError(
                f"{source}: the .ionapi credentials lack {', '.join(missing)}; download them again from "
                "API Gateway > Authorized Apps (a Backend Service app with a service account)"
            )
        if bool(data.get("saak")) != bool(data.get("sask")):
            raise ConfigError(f"{source}: the .ionapi credentials have only one of saak/sask")
        return cls(
            tenant=str(data["ti"]),
            client_id=str(data["ci"]),
            client_secret=str(data["cs"]),
            gateway_url=str(data["iu"]).rstrip("/"),
            auth_url=str(data["pu"]),
            token_path=str(data["ot"]),
            revoke_path=str(data["or"]) if data.get("or") else None,
            app_name=str(data.get("cn") or ""),
            service_account_key=str(data["saak"]) if data.get("saak") else None,
            service_account_secret=str(data["sask"]) if data.get("sask") else None,
        )

    @classmethod
    def from_json(cls, text: str, *, source: str) -> IonApiCredentials:
        try:
            data = json.loads(text)
        except ValueError:
            # The text is secret: say where it came from, never what it was.
            raise ConfigError(f"{source}: the .ionapi credentials are not valid JSON") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: the .ionapi credentials must be a JSON object")
        return cls.from_mapping(data, source=source)

    @classmethod
    def from_file(cls, path: str | Path) -> IonApiCredentials:
        path = Path(path).expanduser()
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the .ionapi file ({exc.strerror})") from None
        return cls.from_json(text, source=str(path))

    @property
    def token_url(self) -> str:
        return self.auth_url + self.token_path

    @property
    def revoke_url(self) -> str | None:
        return self.auth_url + self.revoke_path if self.revoke_path else None

    @property
    def api_base(self) -> str:
        """Suites hang below this: ``{api_base}/M3/...``, ``{api_base}/CSI/...``."""
        return f"{self.gateway_url}/{self.tenant}"
