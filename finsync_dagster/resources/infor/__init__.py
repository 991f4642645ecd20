"""Infor M3 through the ION API Gateway: the Dagster resource, its typed client and MI errors.

The gateway itself (credentials, tokens, session, gateway errors) is the M3-agnostic :mod:`.ion` below.
"""

from finsync_dagster.resources.infor.client import MAX_BULK, M3Client
from finsync_dagster.resources.infor.errors import M3TransactionNotFoundError, M3ValidationError
from finsync_dagster.resources.infor.models import MiCall, MiOutcome
from finsync_dagster.resources.infor.resource import InforResource

__all__ = [
    "MAX_BULK",
    "InforResource",
    "M3Client",
    "M3TransactionNotFoundError",
    "M3ValidationError",
    "MiCall",
    "MiOutcome",
]
