"""``InforResource``: the Dagster resource that hands out an M3 client for one company/division.

Config only: where the ``.ionapi`` credentials are (a file path, or the file's JSON in an environment
variable through ``dg.EnvVar``), which company/division, and the HTTP limits. ``get_client(ledger)``
builds a :class:`M3Client` whose token is shared through the ledger's token store under ``token_key``,
so parallel runs of one pair do not each log in; closing the client leaves that shared token alive.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import httpx
from pydantic import Field

from finsync_dagster.errors import ConfigError
from finsync_dagster.ledger import Ledger
from finsync_dagster.resources.client_resource import ClientResource
from finsync_dagster.resources.http_policy import HttpPolicy
from finsync_dagster.resources.infor.client import MAX_BULK, M3Client
from finsync_dagster.resources.infor.ion import PROVIDER, IonApiCredentials, IonApiSession
from finsync_dagster.resources.token_store import TokenStore


class InforResource(ClientResource):
    """Infor M3 through the ION API Gateway, for one company (CONO) and division (DIVI).

    Example::

        InforResource(ionapi_json=dg.EnvVar("INFOR_IONAPI"), company="100", division="AAA", token_key="acme")
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
    revoke_on_close: bool = True
    bulk_size: int = Field(default=MAX_BULK, ge=1, le=MAX_BULK)

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

    def get_client(
        self,
        ledger: Ledger,
        *,
        transport: httpx.BaseTransport | None = None,
        policy: HttpPolicy | None = None,
    ) -> M3Client:
        """A new client; use it as a context manager so its connections are closed."""
        session = IonApiSession(
            self.load_credentials(),
            policy=policy or self.policy(),
            transport=transport,
            token_store=TokenStore(ledger, provider=PROVIDER, key=self.token_key),
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
