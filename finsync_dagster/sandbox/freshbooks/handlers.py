"""HTTP handlers: parse the request, call the model under the sandbox lock, serialise the answer.

Handlers are built per resource from its :class:`ResourceSpec`, so ``routes.py`` only maps paths to
them. Accounting answers ``{"response": {"result": ...}}``; callbacks use the same envelope with flat
errors. The ``/sandbox`` control plane is elsewhere: ``../control.py`` and this system's ``control.py``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from finsync_dagster.sandbox.freshbooks.errors import (
    AccountingError,
    events_not_found,
    events_validation,
    parse_error,
    required_field,
)
from finsync_dagster.sandbox.freshbooks.models import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    RESOURCES,
    Query,
    ResourceSpec,
)
from finsync_dagster.sandbox.freshbooks.shapes import RENDERERS

if TYPE_CHECKING:
    from finsync_dagster.sandbox.freshbooks.backend import FreshBooksSandbox

Endpoint = Callable[[Request], Awaitable[Response]]


def _sandbox(request: Request) -> FreshBooksSandbox:
    return request.app.state.sandbox


def _result(payload: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"response": {"result": payload}})


def _paging(request: Request) -> tuple[int, int]:
    """``page`` (0 counts as 1) and ``per_page`` (silently capped at 100), contract 3.3."""
    params = request.query_params
    raw_page, raw_per_page = params.get("page", "1"), params.get("per_page", str(DEFAULT_PER_PAGE))
    try:
        page = int(raw_page)
    except ValueError:
        page = -1
    if page < 0:
        raise AccountingError(
            400, 1014, "Invalid page: use a positive integer.", field="page", value=raw_page
        )
    try:
        per_page = int(raw_per_page)
    except ValueError:
        per_page = 0
    if per_page < 1:
        raise AccountingError(
            400, 1013, "Invalid per_page: use a positive integer.", field="per_page", value=raw_per_page
        )
    return max(page, 1), min(per_page, MAX_PER_PAGE)


def _search(request: Request, spec: ResourceSpec) -> Query:
    """``search[name]=v`` and ``search[names][]=v`` (repeated); unknown names are ignored."""
    values: dict[str, list[str]] = defaultdict(list)
    for key, value in request.query_params.multi_items():
        if key.startswith("search[") and "]" in key:
            values[key[7:].split("]", 1)[0]].append(value)
    vis_states: tuple[int, ...] = (0, 2)  # the default list: active and archived, never deleted
    if values.get("vis_state"):
        raw = values.pop("vis_state")[-1]
        if raw.strip() not in ("0", "1", "2"):
            raise AccountingError(
                400, 1004, "Invalid value for vis_state: use 0, 1 or 2.", field="vis_state", value=raw
            )
        vis_states = (int(raw),)
    filters = tuple(sorted((name, tuple(vals)) for name, vals in values.items() if name in spec.filters))
    return Query(vis_states, filters)


def _includes(request: Request) -> frozenset[str]:
    # Only the bracketed form counts; ``include=lines`` is silently ignored, as on the real API (3P).
    return frozenset(request.query_params.getlist("include[]"))


async def _body(request: Request, single: str) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise parse_error() from None
    if not isinstance(body, dict) or not isinstance(body.get(single), dict):
        raise required_field(single, single)
    return body[single]


def _record_id(request: Request, spec: ResourceSpec) -> int:
    raw = request.path_params["id"]
    try:
        return int(raw)
    except ValueError:
        raise AccountingError(
            404,
            1012,
            f"{spec.single.capitalize()} not found.",
            field=spec.id_field,
            object=spec.single,
            value=raw,
        ) from None


# -- accounting resources -----------------------------------------------------------------------------


def collection(spec: ResourceSpec) -> Endpoint:
    """``/accounting/account/{account_id}/<path>``: GET lists, POST creates."""
    render = RENDERERS[spec.name]

    async def endpoint(request: Request) -> Response:
        sandbox = _sandbox(request)
        sandbox.authenticate(request)
        if request.method == "POST":
            data = await _body(request, spec.single)
            with sandbox.lock:
                account = sandbox.get_account(request.path_params["account_id"])
                rec = account.create(spec.name, data)
            return _result({spec.single: render(account, rec, _includes(request))})
        page, per_page = _paging(request)
        query, includes = _search(request, spec), _includes(request)
        with sandbox.lock:
            account = sandbox.get_account(request.path_params["account_id"])
            rows, total = account.page(spec.name, query, page, per_page)
        return _result(
            {
                spec.name: [render(account, rec, includes) for rec in rows],
                "page": page,
                "pages": -(-total // per_page),
                "per_page": per_page,
                "total": total,
            }
        )

    return endpoint


def item(spec: ResourceSpec) -> Endpoint:
    """``/accounting/account/{account_id}/<path>/{id}``: GET, PUT (update, vis_state) and DELETE."""
    render = RENDERERS[spec.name]

    async def endpoint(request: Request) -> Response:
        sandbox = _sandbox(request)
        sandbox.authenticate(request)
        record_id = _record_id(request, spec)
        data = await _body(request, spec.single) if request.method == "PUT" else {}
        with sandbox.lock:
            account = sandbox.get_account(request.path_params["account_id"])
            if request.method == "DELETE":
                account.delete(spec.name, record_id)
                # 200 with an empty response: py-sdk parses the body of accounting DELETEs (contract 3.1).
                return JSONResponse({"response": {}})
            if request.method == "PUT":
                rec = account.update(spec.name, record_id, data)
            else:
                rec = account.get(spec.name, record_id)
        return _result({spec.single: render(account, rec, _includes(request))})

    return endpoint


ACCOUNTING = tuple(RESOURCES.values())


# -- webhook callbacks (events family) ---------------------------------------------------------------


async def _events_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise events_validation(["body: Invalid JSON."]) from None
    if not isinstance(body, dict) or not isinstance(body.get("callback"), dict):
        raise events_validation(["callback: Field required"])
    return body["callback"]


async def callbacks(request: Request) -> Response:
    sandbox = _sandbox(request)
    sandbox.authenticate(request)
    account_id = request.path_params["account_id"]
    if account_id not in sandbox.accounts:
        raise events_not_found()
    if request.method == "POST":
        callback = sandbox.webhooks.create(account_id, await _events_body(request))
        return _result({"callback": callback.render()})
    try:
        page, per_page = _paging(request)
    except AccountingError as exc:  # same rules, but in the events family's flat envelope
        raise events_validation([f"{exc.field}: {exc.message}"]) from None
    event = request.query_params.get("search[event]")
    found = sandbox.webhooks.list(account_id, event)
    chunk = found[(page - 1) * per_page : page * per_page]
    return _result(
        {
            "callbacks": [cb.render() for cb in chunk],
            "page": page,
            "pages": -(-len(found) // per_page),
            "per_page": per_page,
            "total": len(found),
        }
    )


async def callback(request: Request) -> Response:
    sandbox = _sandbox(request)
    sandbox.authenticate(request)
    account_id = request.path_params["account_id"]
    try:
        callback_id = int(request.path_params["id"])
    except ValueError:
        raise events_not_found() from None
    if request.method == "DELETE":
        sandbox.webhooks.delete(account_id, callback_id)
        return Response(status_code=204)
    if request.method == "PUT":
        found = sandbox.webhooks.update(account_id, callback_id, await _events_body(request))
    else:
        found = sandbox.webhooks.get(account_id, callback_id)
    return _result({"callback": found.render()})
