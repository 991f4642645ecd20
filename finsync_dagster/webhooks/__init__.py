"""The webhook receiver: FreshBooks callbacks and shop webhooks, verified, deduplicated and committed to
the ledger's inbox before they are answered 200 (``finsync webhooks serve``), and the registration of
FreshBooks callbacks (``finsync webhooks register``).

Pure pieces: ``freshbooks`` (its wire format and signature; the shop's is ``resources/shop/webhooks``),
``refusals``. The process:
``app`` (Starlette endpoints), ``writer`` (group commit), ``verifiers`` and ``handshake`` (FreshBooks
keys), ``endpoints`` (what each pair allows), ``metrics``, ``serve``; and ``register``.
"""

from finsync_dagster.webhooks.app import Limits, Receiver, build_app
from finsync_dagster.webhooks.endpoints import FreshBooksEndpoint, PairEndpoints, ShopEndpoint
from finsync_dagster.webhooks.refusals import Reason, Refused
from finsync_dagster.webhooks.register import EVENTS, Registered, endpoint_url, register
from finsync_dagster.webhooks.serve import Listening, build_receiver, open_durable_ledger, running_url, serve
from finsync_dagster.webhooks.writer import GroupCommitWriter

__all__ = [
    "EVENTS",
    "FreshBooksEndpoint",
    "GroupCommitWriter",
    "Limits",
    "Listening",
    "PairEndpoints",
    "Reason",
    "Receiver",
    "Refused",
    "Registered",
    "ShopEndpoint",
    "build_app",
    "build_receiver",
    "endpoint_url",
    "open_durable_ledger",
    "register",
    "running_url",
    "serve",
]
