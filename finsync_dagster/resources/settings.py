"""The settings a run was launched with, as a resource, so assets can build per-pair clients."""

from __future__ import annotations

import os
from functools import cached_property
from typing import Self

import dagster as dg
from pydantic import Field

from finsync_dagster.ledger import masked_url
from finsync_dagster.settings import LEDGER_URL_ENV, Settings


class SettingsResource(dg.ConfigurableResource):
    """finsync's Settings, serialized for the run.

    Settings name the environment variables that hold secrets rather than holding them, except the ledger
    URL, which may carry a PostgreSQL password: it travels as ``EnvVar("FINSYNC_LEDGER_URL")`` (hidden in
    the Dagster UI) and the serialized settings keep only its masked form. Sandbox pairs travel as
    declared (``sandbox_dir``), so their local credentials stay out of the run config and are read again
    from sandbox.json when the run loads the settings.

    Why a JSON string and not typed nested ``dg.Config`` fields (issue 11 asks for the latter "where
    Dagster can carry them"; checked against Dagster 1.13.27):

    - :class:`Settings` cannot itself be Dagster config. Dagster's config system refuses ``Path`` fields
      (``home``, ``config_path``: ``DagsterInvalidPythonicConfigDefinitionError``) and ``tuple`` fields
      (``pairs``: "Types from the typing module ... are not allowed"); and ``settings.py`` is imported by
      every ``finsync`` command, which deliberately never imports Dagster (``import dagster`` would add
      about half again to each command's start-up: 3.5 s on top of 6.5 s, measured under load).
    - A typed mirror of it here would work (nested ``dg.Config`` with lists, ``Optional`` sections,
      ``Literal`` and pydantic validators all pass through a run, and the validator that re-reads
      sandbox.json would run again in the run), but it declares every setting a second time, or derives
      the classes by reflection, against "each fact once"; and the launchpad would then offer to edit pairs
      and ``home`` per run, which the pair partitions, read from finsync.yaml when the code loads, would not
      follow.

    So the settings travel whole, validated by :class:`Settings` at both ends; what a run may change is
    typed config of its own (:class:`SyncOptions`), and the one secret, the ledger URL, is an ``EnvVar``
    field beside the JSON.
    """

    settings_json: str
    ledger_url: str = Field(repr=False)  # may carry a password; the masked form is in settings_json

    @classmethod
    def of(cls, settings: Settings) -> Self:
        masked = settings.declared().model_copy(update={"ledger_url": masked_url(settings.ledger_url)})
        return cls(settings_json=masked.model_dump_json(), ledger_url=ledger_url_config(settings))

    @cached_property
    def _settings(self) -> Settings:
        masked = Settings.model_validate_json(self.settings_json)
        # Outside a run (``finsync connect``) nobody resolved the EnvVar; read it here.
        url = self.ledger_url.get_value() if isinstance(self.ledger_url, dg.EnvVar) else self.ledger_url
        return masked.model_copy(update={"ledger_url": url})

    def get(self) -> Settings:
        return self._settings


def ledger_url_config(settings: Settings) -> str:
    """The ledger URL as resource config: an ``EnvVar`` when it came from the environment (so the UI and
    run records never show it), the plain SQLite default otherwise (a path, no secret)."""
    if os.environ.get(LEDGER_URL_ENV) == settings.ledger_url:
        return dg.EnvVar(LEDGER_URL_ENV)  # type: ignore[return-value]
    return settings.ledger_url


class SyncOptions(dg.ConfigurableResource):
    """How a run goes: the full-refresh job flips ``full_refresh``; ``push_settle_seconds`` is how long a
    push waits for retries due soon before it ends (the next push takes later ones)."""

    full_refresh: bool = False
    batch_size: int = 1000
    push_settle_seconds: float = 10.0
