"""The Infor ION API Gateway, for any backend behind it (M3 MI today, CloudSuite IDO REST later).

Split as the FreshBooks side is: ``credentials`` (the ``.ionapi`` file), ``tokens`` (in the shared token
store), ``session`` (bearer calls, retries, revocation) and ``errors`` (gateway answers).
"""

from finsync_dagster.resources.infor.ion.credentials import IonApiCredentials
from finsync_dagster.resources.infor.ion.session import IonApiSession
from finsync_dagster.resources.infor.ion.tokens import PROVIDER

__all__ = ["PROVIDER", "IonApiCredentials", "IonApiSession"]
