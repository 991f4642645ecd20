"""HTTP handlers: parse the request, run the model, serialise the answer. No business rules here."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from finsync_dagster.sandbox.infor import lifecycle
from finsync_dagster.sandbox.infor.errors import BusinessError, MIError, ProgramNotFound, mi_error_response
from finsync_dagster.sandbox.infor.gateway import Gateway
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


class ControlHandlers:
    """``/sandbox/...``: the control plane tests and demos use; never part of the emulated API."""

    def __init__(self, state: InforState, gateway: Gateway) -> None:
        self.state = state
        self.gateway = gateway

    def _company(self, request: Request) -> Any:
        return self.state.company(request.query_params.get("cono"))

    async def _body(self, request: Request) -> dict[str, Any]:
        raw = await request.body()
        return json.loads(raw) if raw.strip() else {}

    async def deliver(self, request: Request) -> Response:
        return await self._order_step(request, lifecycle.deliver)

    async def invoice(self, request: Request) -> Response:
        return await self._order_step(request, lifecycle.invoice)

    async def _order_step(self, request: Request, step: Any) -> Response:
        company = self._company(request)
        if company is None:
            return JSONResponse({"error": "unknown company"}, status_code=404)
        body = await self._body(request)
        when = lifecycle.parse_control_date(body.get("date"))
        with self.state.lock:
            try:
                result = step(company, request.path_params["orno"], when)
            except lifecycle.LifecycleError as error:
                return JSONResponse({"error": str(error)}, status_code=error.status)
        return JSONResponse(result)

    async def gateway_settings(self, request: Request) -> Response:
        if request.method in ("PUT", "POST"):
            try:
                self.gateway.settings.update(await self._body(request))
            except (ValueError, TypeError) as error:
                return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({**self.gateway.settings.to_dict(), "tokens_issued": self.gateway.tokens.issued})

    async def expire_tokens(self, request: Request) -> Response:
        return JSONResponse({"expired": self.gateway.tokens.expire_all()})

    async def clock(self, request: Request) -> Response:
        if request.method == "POST":
            body = await self._body(request)
            try:
                if "advance_seconds" in body:
                    self.state.clock.advance(float(body["advance_seconds"]))
                elif "set" in body:
                    self.state.clock.set(datetime.fromisoformat(body["set"]))
            except (ValueError, TypeError) as error:
                return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"now": self.state.clock.now().isoformat()})

    async def truth(self, request: Request) -> Response:
        return JSONResponse(self.state.truth or {})
