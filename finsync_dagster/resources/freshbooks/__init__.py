"""The FreshBooks client resource: OAuth with ledger-kept tokens, and the Accounting API client.

Production code only: it knows URLs and credentials, never the sandbox.
"""

from finsync_dagster.resources.freshbooks.callbacks import Callback
from finsync_dagster.resources.freshbooks.catalog import RESOURCES, ResourceSpec
from finsync_dagster.resources.freshbooks.client import ClientStats, FreshBooksClient
from finsync_dagster.resources.freshbooks.clock import accounting_time_to_utc
from finsync_dagster.resources.freshbooks.identity import Business, Identity
from finsync_dagster.resources.freshbooks.oauth import OAuthApp, TokenSet
from finsync_dagster.resources.freshbooks.resource import FreshBooksResource
from finsync_dagster.resources.freshbooks.tokens import TokenKeeper

__all__ = [
    "RESOURCES",
    "Business",
    "Callback",
    "ClientStats",
    "FreshBooksClient",
    "FreshBooksResource",
    "Identity",
    "OAuthApp",
    "ResourceSpec",
    "TokenKeeper",
    "TokenSet",
    "accounting_time_to_utc",
]
