"""The settings a run was launched with, as a resource, so assets can build per-pair clients."""

from __future__ import annotations

import os
from functools import cached_property

import dagster as dg

from finsync_dagster.ledger import masked_url
from finsync_dagster.settings import LEDGER_URL_ENV, Settings


class SettingsResource(dg.ConfigurableResource):
    """finsync's Settings, serialized for the run.

    Settings name the environment variables that hold secrets rather than holding them, except the ledger
    URL, which may carry a PostgreSQL password: it travels as ``EnvVar("FINSYNC_LEDGER_URL")`` (hidden in
    the Dagster UI) and the serialized settings keep only its masked form.
    """

    settings_json: str
    ledger_url: str

    @classmethod
    def of(cls, settings: Settings) -> SettingsResource:
        masked = settings.model_copy(update={"ledger_url": masked_url(settings.ledger_url)})
        return cls(settings_json=masked.model_dump_json(), ledger_url=ledger_url_config(settings))

    @cached_property
    def _settings(self) -> Settings:
        masked = Settings.model_validate_json(self.settings_json)
        return masked.model_copy(update={"ledger_url": self.ledger_url})

    def get(self) -> Settings:
        return self._settings


def ledger_url_config(settings: Settings) -> str:
    """The ledger URL as resource config: an ``EnvVar`` when it came from the environment (so the UI and
    run records never show it), the plain SQLite default otherwise (a path, no secret)."""
    if os.environ.get(LEDGER_URL_ENV) == settings.ledger_url:
        return dg.EnvVar(LEDGER_URL_ENV)  # type: ignore[return-value]
    return settings.ledger_url


class SyncOptions(dg.ConfigurableResource):
    """How the read side runs; the full-refresh job flips ``full_refresh`` in its run config."""

    full_refresh: bool = False
    batch_size: int = 1000
