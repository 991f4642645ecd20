"""``InforResource``: the Dagster resource that hands out an M3 client for one company/division.

Config only: where the ``.ionapi`` credentials are (a file path, or the file's JSON in an environment
variable through ``dg.EnvVar``), which company/division, and the HTTP limits. ``open_client()`` builds a
:class:`M3Client`; closing it revokes the token. With ``ledger_url`` set, tokens are shared through the
ledger's token store, so parallel runs of one pair do not each log in.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import httpx
from pydantic import Field

from finsync_dagster.errors import ConfigError
from finsync_dagster.ledger import Ledger
from finsync_dagster.resources.http_policy import HttpPolicy
from finsync_dagster.resources.infor.client import MAX_BULK, M3Client
from finsync_dagster.resources.ionapi import IonApiCredentials, IonApiSession, LedgerTokenStore
from finsync_dagster.settings import Settings, read_sandbox_file


class InforResource(dg.ConfigurableResource):
    """Infor M3 through the ION API Gateway, for one company (CONO) and division (DIVI).

    Example::

        InforResource(ionapi_json=dg.EnvVar("INFOR_IONAPI"), company="100", division="AAA")
    """

    company: str = Field(description="M3 company (CONO), e.g. '100'.")
    division: str = Field(default="", description="M3 division (DIVI); empty for the user's default.")
    ionapi_file: str | None = Field(default=None, description="Path of the .ionapi credentials file.")
    ionapi_json: str | None = Field(
        default=None,
        repr=False,
        description="The .ionapi file's JSON; pass dg.EnvVar('NAME'), never a literal.",
    )
    api_base: str | None = Field(
        default=None, description="Override of the gateway's API base (iu/ti), e.g. behind a proxy."
    )
    ledger_url: str | None = Field(
        default=None, repr=False, description="Share tokens through this ledger (may carry a password)."
    )
    token_account: str | None = Field(default=None, description="Ledger key for the token (pair name).")
    revoke_on_close: bool = True
    max_concurrency: int = Field(default=8, ge=1, le=64)
    requests_per_second: float | None = None
    bulk_size: int = Field(default=MAX_BULK, ge=1, le=MAX_BULK)

    @classmethod
    def for_pair(cls, settings: Settings, pair_name: str, **overrides: object) -> InforResource:
        """The resource for one integration pair: its ``infor:`` section, or its sandbox's sandbox.json."""
        pair = settings.pair(pair_name)
        common: dict[str, object] = {"ledger_url": settings.ledger_url, "token_account": pair.name}
        if pair.infor is not None:
            infor = pair.infor
            if not (infor.ionapi_file or infor.ionapi_env):
                raise ConfigError(
                    f"{settings.config_path}: pair {pair.name!r}: infor needs ionapi_file or ionapi_env"
                )
            source: dict[str, object] = {
                "company": infor.company,
                "division": infor.division,
                "ionapi_file": infor.ionapi_file,
                "ionapi_json": dg.EnvVar(infor.ionapi_env) if infor.ionapi_env else None,
            }
        else:
            directory = settings.sandbox_path(pair)
            assert directory is not None  # PairConfig guarantees one or the other
            section = read_sandbox_file(directory).get("infor")
            if not section:
                raise ConfigError(
                    f"{directory}: sandbox.json has no 'infor' section; is the Infor sandbox up?"
                )
            source = {
                "company": str(section["company"]),
                "division": str(section.get("division") or ""),
                "ionapi_file": str(section["ionapi_file"]),
            }
        return cls(**{**common, **source, **overrides})

    def load_credentials(self) -> IonApiCredentials:
        if self.ionapi_json:
            name = self.ionapi_json.env_var_name if isinstance(self.ionapi_json, dg.EnvVar) else None
            text = (
                self.ionapi_json.get_value() if isinstance(self.ionapi_json, dg.EnvVar) else self.ionapi_json
            )
            if not text:
                raise ConfigError(f"environment variable {name} (the .ionapi JSON) is not set")
            return IonApiCredentials.from_json(text, source=f"${name}" if name else "ionapi_json")
        if self.ionapi_file:
            return IonApiCredentials.from_file(Path(self.ionapi_file))
        raise ConfigError("InforResource needs ionapi_file or ionapi_json")

    def open_client(
        self, *, transport: httpx.BaseTransport | None = None, policy: HttpPolicy | None = None
    ) -> M3Client:
        """A new client; use it as a context manager so the token is revoked at the end."""
        credentials = self.load_credentials()
        store = None
        if self.ledger_url:
            ledger = Ledger(self.ledger_url)
            ledger.migrate()
            store = LedgerTokenStore(ledger, account=self.token_account or credentials.tenant)
        session = IonApiSession(
            credentials,
            policy=policy
            or HttpPolicy(max_concurrency=self.max_concurrency, requests_per_second=self.requests_per_second),
            transport=transport,
            token_store=store,
            revoke_on_close=self.revoke_on_close,
            api_base=self.api_base,
        )
        return M3Client(
            session,
            company=self.company,
            division=self.division,
            max_concurrency=self.max_concurrency,
            bulk_size=self.bulk_size,
        )
