"""The settings a run was launched with, as a resource, so assets can build per-pair clients."""

from __future__ import annotations

from functools import cached_property

import dagster as dg

from finsync_dagster.settings import Settings


class SettingsResource(dg.ConfigurableResource):
    """finsync's Settings, serialized: no secrets inside, only the names of the variables holding them."""

    settings_json: str

    @classmethod
    def of(cls, settings: Settings) -> SettingsResource:
        return cls(settings_json=settings.model_dump_json())

    @cached_property
    def _settings(self) -> Settings:
        return Settings.model_validate_json(self.settings_json)

    def get(self) -> Settings:
        return self._settings


class SyncOptions(dg.ConfigurableResource):
    """How the read side runs; the full-refresh job flips ``full_refresh`` in its run config."""

    full_refresh: bool = False
    batch_size: int = 1000
