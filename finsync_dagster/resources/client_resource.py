"""What both client resources share: one vocabulary for the pair's token key and the HTTP limits.

``FreshBooksResource`` and ``InforResource`` extend this, so a knob has one name on both systems and a
pair's ``*_limits`` in ``finsync.yaml`` map onto either without conversion. Secrets are fields declared
``Field(repr=False)`` and given as ``dg.EnvVar``; the ledger is not config but an argument of
``get_client(ledger)``, handed over by :class:`~finsync_dagster.resources.pair_clients.PairClients`.
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from finsync_dagster.errors import ConfigError
from finsync_dagster.resources.http_policy import HttpPolicy


class ClientResource(dg.ConfigurableResource):
    """The fields every API client resource has, and the HTTP policy they make."""

    token_key: str = Field(description="The token store's key for this account: the pair's name.")
    requests_per_minute: int | None = Field(default=None, ge=1, description="Client-side quota; None: none.")
    max_concurrency: int = Field(default=8, ge=1, le=64)
    max_attempts: int = Field(default=6, ge=1)
    connect_timeout: float = 10.0
    read_timeout: float = 60.0

    def policy(self) -> HttpPolicy:
        return HttpPolicy(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            max_attempts=self.max_attempts,
            max_concurrency=self.max_concurrency,
            requests_per_minute=self.requests_per_minute,
        )


def resolve_secret(value: str | None, what: str) -> str:
    """A resource built outside a Dagster run still holds ``EnvVar`` objects; read them at use."""
    if isinstance(value, dg.EnvVar):
        resolved = value.get_value()
        if not resolved:
            raise ConfigError(f"{what}: environment variable {value.env_var_name} is not set")
        return resolved
    if not value:
        raise ConfigError(f"{what} is empty")
    return value
