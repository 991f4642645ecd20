"""HTTP handlers of the MI API: parse the request, run the model, serialise the answer. No business rules here.

The ``/sandbox`` control plane is elsewhere: ``../control.py`` and this system's ``control.py``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from finsync_dagster.sandbox.infor.errors import BusinessError, MIError, ProgramNotFound, mi_error_response
from finsync_dagster.sandbox.infor.mi import CommonParams, envelope, execute, failed_result
from finsync_dagster.sandbox.infor.models import InforState


def _json(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")), status_code=status, media_type="application/json"
    )


def split_matrix(segment: str) -> tuple[str, dict[str, str]]:
    """``LstByNumber;maxrecs=10;returncols=CUNO`` -> ("LstByNumber", {"maxrecs": "10", ...})."""
    name, *parts = segment.split(";")
    params = {}
    for part in parts:
        key, _, value = part.partition("=")
        if key:
            params[key] = value
    return name, params


def _common_and_fields(values: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Common parameters are lower case (``maxrecs``); MI fields are upper case (``CUNO``)."""
    common = {k: v for k, v in values.items() if not k.isupper()}
    fields = {k: v for k, v in values.items() if k.isupper()}
    return common, fields


class MIHandlers:
    def __init__(self, state: InforState) -> None:
        self.state = state

    async def single(self, request: Request) -> Response:
        program, program_matrix = split_matrix(request.path_params["program"])
        transaction, transaction_matrix = split_matrix(request.path_params["transaction"])
        common, fields = _common_and_fields(dict(request.query_params))
        try:
            params = CommonParams.parse({**common, **program_matrix, **transaction_matrix})
            result = execute(self.state, program, transaction, fields, params)
        except MIError as error:
            return mi_error_response(error)
        return _json(envelope([result]))

    async def bulk(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            program = body.get("program", "")
            transactions = body["transactions"]
            if not isinstance(transactions, list):
                raise TypeError
        except (ValueError, KeyError, TypeError, AttributeError):
            return mi_error_response(BusinessError("The request body is not a valid bulk request"))
        common, _ = _common_and_fields(dict(request.query_params))
        try:
            params = CommonParams.parse(common)
        except MIError as error:
            return mi_error_response(error)
        cono = str(body["cono"]) if body.get("cono") not in (None, "") else None
        results = []
        for item in transactions:
            name = str(item.get("transaction", "")) if isinstance(item, dict) else ""
            record = (item.get("record") or {}) if isinstance(item, dict) else None
            if not isinstance(record, dict):
                malformed = BusinessError("The transaction is not an object with a record object")
                results.append(failed_result(name, malformed))
                continue
            try:
                if program == "" and not item.get("program"):
                    raise ProgramNotFound("")
                results.append(
                    execute(self.state, item.get("program") or program, name, record, params, cono=cono)
                )
            except MIError as error:
                if isinstance(error, ProgramNotFound) and not item.get("program"):
                    return Response(status_code=400)  # body-level program unknown: the gateway has no route
                results.append(failed_result(name, error))
        return _json({**envelope(results), "bulkJobId": ""})
