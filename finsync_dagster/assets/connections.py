"""Each system's connection, checked once per run before its staging assets.

Every staging asset of a system asks for the same token, so a token that needs a new ``finsync connect``
(a FreshBooks refresh interrupted while the token endpoint's answer was in flight, a refused refresh
token, refused credentials) used to fail all of them, one identical failure per table. Instead each
system's staging assets depend on its ``connections/<system>`` asset: one cheap authenticated call, and
when it fails the run has that one failure, naming the fix, and the system's staging steps are not run.
A refused token is also an alert: an error in the run's log, the reason in the failure's metadata, and
the run tagged ``finsync/reconnect=<system>``.
"""

from collections.abc import Callable

import dagster as dg

from finsync_dagster.errors import AuthenticationError
from finsync_dagster.resources.pair_clients import PairClients

RECONNECT_TAG = "finsync/reconnect"

Check = Callable[[PairClients, str], dict[str, str]]


def connection_key(system: str) -> dg.AssetKey:
    return dg.AssetKey(["connections", system])


def _freshbooks(clients: PairClients, pair: str) -> dict[str, str]:
    with clients.freshbooks(pair) as client:
        client.me()
        return {"account_id": client.account_id, "checked_with": "GET /auth/api/v1/users/me"}


def _infor(clients: PairClients, pair: str) -> dict[str, str]:
    with clients.infor(pair) as m3:
        m3.verify_access()
        return {"company": m3.company, "division": m3.division, "checked_with": "CRS610MI/LstByNumber"}


_CHECKS: dict[str, Check] = {"freshbooks": _freshbooks, "infor": _infor}


def _build(system: str, check: Check, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=connection_key(system),
        group_name=system,
        kinds={system},
        owners=["team:finance-data"],
        partitions_def=partitions,
        pool=f"{system}_api",
        description=f"The pair's {system} connection, checked once before its staging assets run.",
    )
    def _connection(context: dg.AssetExecutionContext, clients: PairClients) -> dg.MaterializeResult:
        pair = context.partition_key
        try:
            metadata = check(clients, pair)
        except AuthenticationError as exc:
            reason = str(exc)
            context.log.error(reason)
            context.instance.add_run_tags(context.run.run_id, {RECONNECT_TAG: system})
            raise dg.Failure(description=reason, metadata={"reason": reason, "pair": pair}) from exc
        return dg.MaterializeResult(metadata=metadata)

    return _connection


def build_connection_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    return [_build(system, check, partitions) for system, check in _CHECKS.items()]
