"""The FreshBooks Accounting API client: pooled httpx, retries, a rate limiter and concurrent paging.

Every request goes through :meth:`FreshBooksClient._send`, where the answer (or the transport failure) is
translated into a finsync error; the retry decision is :func:`call_with_retries` on those classes. Reads,
updates and deletes are idempotent and retried on every transient error. A create is resent only when
FreshBooks certainly did not apply it (429, 401, no connection); after an answer that may hide an applied
create (5xx, timeout, dropped connection) it is looked up by the caller's unique fields, and without them
it surfaces as :class:`OutcomeUnknownError` rather than risk a duplicate.

Webhook callbacks (contract §5.1) are created, listed, verified, resent and deleted the same way; a
callback create is looked up by event and URI after a failure that may hide it.

Records stay dicts, parsed with ``Decimal`` for any JSON number so money is never a float; the staging
layer types them.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx

from finsync_dagster.errors import (
    SAFE_TO_RESEND,
    AuthExpiredError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    RequestNotSentError,
    TransientApiError,
    UnavailableError,
)
from finsync_dagster.resources.freshbooks import clock
from finsync_dagster.resources.freshbooks.callbacks import Callback, parse_callback
from finsync_dagster.resources.freshbooks.catalog import ResourceSpec, spec_for
from finsync_dagster.resources.freshbooks.errors import SYSTEM, error_from_response
from finsync_dagster.resources.freshbooks.identity import Identity, parse_identity
from finsync_dagster.resources.freshbooks.tokens import TokenKeeper
from finsync_dagster.resources.http_policy import (
    DEFAULT_POLICY,
    ClientStats,
    HttpPolicy,
    RateLimiter,
    call_with_retries,
    new_http_client,
    quota_limiter,
    translate_transport_error,
)

T = TypeVar("T")
MAX_PER_PAGE = 100  # FreshBooks silently caps per_page at 100 (contract §3.3)
Params = list[tuple[str, str]]


class FreshBooksClient:
    """One FreshBooks account, read and written with one policy.

    Example::

        with clients.freshbooks("acme") as fb:  # clients: PairClients
            for page in fb.iter_pages("invoices", include=("lines",), updated_min=since):
                upsert(page)
    """

    def __init__(
        self,
        *,
        api_url: str,
        account_id: str,
        tokens: TokenKeeper,
        policy: HttpPolicy = DEFAULT_POLICY,
        limiter: RateLimiter | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.account_id = account_id
        self.policy = policy
        self.tokens = tokens
        self.stats = ClientStats()
        self._http = new_http_client(api_url.rstrip("/"), policy, transport=transport)
        self._limiter = limiter or quota_limiter(policy.requests_per_minute)

    def __repr__(self) -> str:
        return f"FreshBooksClient(api_url={str(self._http.base_url)!r}, account_id={self.account_id!r})"

    def __enter__(self) -> FreshBooksClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- identity ----------------------------------------------------------------------------------

    def me(self) -> Identity:
        """The identity behind the stored token, with its businesses and their account ids."""
        body = self._retrying(lambda: self._send("GET", "/auth/api/v1/users/me"))
        return parse_identity(body["response"])

    # -- reads -------------------------------------------------------------------------------------

    def iter_pages(
        self,
        resource: str,
        *,
        updated_min: date | datetime | None = None,
        updated_max: date | datetime | None = None,
        include: Sequence[str] = (),
        include_deleted: bool = False,
        search: Mapping[str, str | Sequence[str]] | None = None,
        per_page: int = MAX_PER_PAGE,
    ) -> Iterator[list[dict[str, Any]]]:
        """Every record of ``resource`` in pages, in the API's order; later pages are fetched concurrently.

        ``updated_min``/``updated_max`` bound the last update, both inclusive, widened to whole Eastern
        days (see :mod:`.clock`). Deleted records (``vis_state`` 1) are hidden by FreshBooks unless asked
        for; ``include_deleted`` lists them after the others. Each record is yielded at most once.
        """
        spec = spec_for(resource)
        params = _list_params(
            updated_min=updated_min, updated_max=updated_max, include=include, search=search or {}
        )
        per_page = max(1, min(per_page, MAX_PER_PAGE))
        seen: set[Any] = set()
        listings = [params, [*params, ("search[vis_state]", "1")]] if include_deleted else [params]
        for listing in listings:
            for records in self._iter_listing(spec, listing, per_page):
                fresh = [r for r in records if _record_id(spec, r) not in seen]
                seen.update(_record_id(spec, r) for r in fresh)
                yield fresh

    def iter_records(self, resource: str, **options: Any) -> Iterator[dict[str, Any]]:
        """:meth:`iter_pages`, one record at a time."""
        for page in self.iter_pages(resource, **options):
            yield from page

    def get(self, resource: str, record_id: int | str, *, include: Sequence[str] = ()) -> dict[str, Any]:
        spec = spec_for(resource)
        params = [("include[]", name) for name in include]
        body = self._retrying(lambda: self._send("GET", self._path(spec, record_id), params=params))
        return _result(body)[spec.single]

    # -- writes ------------------------------------------------------------------------------------

    def create(
        self, resource: str, data: Mapping[str, Any], *, lookup: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Create a record once.

        ``lookup`` names search filters that match only this record (e.g. ``{"invoice_number":
        "FS-0001"}``): after a failure that may hide an applied create, the record is looked up with
        them, returned if found and created again only if not. Without ``lookup`` such a failure raises
        :class:`OutcomeUnknownError`.
        """
        spec = _writable(resource)
        payload = {spec.single: dict(data)}
        return self._create_once(
            lambda: _result(self._send("POST", self._path(spec), json_body=payload))[spec.single],
            find=None if lookup is None else lambda: self._find(spec, lookup),
            what=spec.single,
        )

    def update(self, resource: str, record_id: int | str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Change fields of a record (a PUT: idempotent, so retried). A ``vis_state`` in ``data`` makes
        FreshBooks drop every other field, as the real API does."""
        spec = _writable(resource)
        payload = {spec.single: dict(data)}
        body = self._retrying(lambda: self._send("PUT", self._path(spec, record_id), json_body=payload))
        return _result(body)[spec.single]

    def delete(self, resource: str, record_id: int | str) -> None:
        """Delete (soft, ``vis_state`` 1) the way the official SDK does for this resource; idempotent."""
        spec = _writable(resource)
        maybe_applied = threading.Event()

        def note(exc: BaseException) -> None:
            if isinstance(exc, UnavailableError) and not isinstance(exc, RequestNotSentError):
                maybe_applied.set()

        def once() -> Any:
            if spec.delete == "http":
                return self._send("DELETE", self._path(spec, record_id))
            return self._send("PUT", self._path(spec, record_id), json_body={spec.single: {"vis_state": 1}})

        try:
            self._retrying(once, before_retry=note)
        except NotFoundError:
            if not maybe_applied.is_set():
                raise
            # An earlier attempt deleted it and its answer was lost: that is success.

    # -- webhook callbacks (contract §5.1) ----------------------------------------------------------

    def list_callbacks(self, *, event: str | None = None) -> list[Callback]:
        """Every callback of the account (``event`` also matches a parent name, as FreshBooks does)."""
        found: list[Callback] = []
        page, pages = 1, 1
        while page <= pages:
            params: Params = [("page", str(page)), ("per_page", str(MAX_PER_PAGE))]
            if event:
                params.append(("search[event]", event))
            result = self._callbacks_page(params)
            found.extend(parse_callback(c) for c in result.get("callbacks") or [])
            page, pages = page + 1, int(result.get("pages") or 1)
        return found

    def create_callback(self, event: str, uri: str) -> Callback:
        """Subscribe ``uri`` to ``event``, once: FreshBooks then POSTs a verifier to ``uri``.

        After a failure that may hide an applied create, an existing callback for the same event and URI
        is returned instead of creating a second one.
        """
        payload = {"callback": {"event": event, "uri": uri}}

        def find() -> dict[str, Any] | None:
            same = [c for c in self.list_callbacks(event=event) if (c.event, c.uri) == (event, uri)]
            return {"callbackid": same[0].callback_id, "event": event, "uri": uri} if same else None

        created = self._create_once(
            lambda: _result(self._send("POST", self._callbacks_path(), json_body=payload))["callback"],
            find=find,
            what="callback",
        )
        return parse_callback(created)

    def verify_callback(self, callback_id: int | str, verifier: str) -> Callback:
        """Send back the verifier FreshBooks posted; deliveries start once FreshBooks accepts it."""
        payload = {"callback": {"verifier": verifier}}
        return self._put_callback(callback_id, payload)

    def resend_verification(self, callback_id: int | str) -> Callback:
        """Ask FreshBooks to POST the callback's verifier to its URI again."""
        return self._put_callback(callback_id, {"callback": {"resend": True}})

    def delete_callback(self, callback_id: int | str) -> None:
        maybe_applied = threading.Event()

        def note(exc: BaseException) -> None:
            if isinstance(exc, UnavailableError) and not isinstance(exc, RequestNotSentError):
                maybe_applied.set()

        try:
            self._retrying(lambda: self._send("DELETE", self._callbacks_path(callback_id)), before_retry=note)
        except NotFoundError:
            if not maybe_applied.is_set():
                raise

    # -- internals ---------------------------------------------------------------------------------

    def _create_once(
        self,
        post: Callable[[], dict[str, Any]],
        *,
        find: Callable[[], dict[str, Any] | None] | None,
        what: str,
    ) -> dict[str, Any]:
        """One POST, resent only when it certainly was not applied, else looked up with ``find``."""
        for attempt in range(1, self.policy.max_attempts + 1):
            try:
                return self._retrying(post, retry_on=SAFE_TO_RESEND)
            except UnavailableError as exc:
                if isinstance(exc, RequestNotSentError):
                    raise
                if find is None:
                    raise OutcomeUnknownError(
                        f"creating a {what} failed after it may have been applied ({exc.message}); "
                        "check FreshBooks before trying again",
                        system=SYSTEM,
                        status=exc.status,
                        request=exc.request,
                    ) from exc
                found = find()
                if found is not None:
                    return found
                if attempt == self.policy.max_attempts:
                    raise
                time.sleep(min(self.policy.backoff_max, self.policy.backoff_initial * 2**attempt))
        raise AssertionError("unreachable")

    def _callbacks_page(self, params: Params) -> dict[str, Any]:
        return _result(self._retrying(lambda: self._send("GET", self._callbacks_path(), params=params)))

    def _put_callback(self, callback_id: int | str, payload: dict[str, Any]) -> Callback:
        path = self._callbacks_path(callback_id)
        body = self._retrying(lambda: self._send("PUT", path, json_body=payload))
        return parse_callback(_result(body)["callback"])

    def _callbacks_path(self, callback_id: int | str | None = None) -> str:
        path = f"/events/account/{self.account_id}/events/callbacks"
        return path if callback_id is None else f"{path}/{callback_id}"

    def _iter_listing(
        self, spec: ResourceSpec, params: Params, per_page: int
    ) -> Iterator[list[dict[str, Any]]]:
        records, pages = self._page(spec, params, 1, per_page)
        yield records
        if pages <= 1:
            return
        window = max(1, self.policy.max_concurrency) * 2
        with ThreadPoolExecutor(self.policy.max_concurrency, thread_name_prefix="freshbooks-page") as pool:
            pending: deque[Future[tuple[list[dict[str, Any]], int]]] = deque()
            upcoming = iter(range(2, pages + 1))
            try:
                for number in _take(upcoming, window):
                    pending.append(pool.submit(self._page, spec, params, number, per_page))
                while pending:
                    records, _ = pending.popleft().result()
                    for number in _take(upcoming, 1):
                        pending.append(pool.submit(self._page, spec, params, number, per_page))
                    yield records
            finally:
                for future in pending:
                    future.cancel()

    def _page(
        self, spec: ResourceSpec, params: Params, number: int, per_page: int
    ) -> tuple[list[dict[str, Any]], int]:
        query = [*params, ("page", str(number)), ("per_page", str(per_page))]
        body = self._retrying(lambda: self._send("GET", self._path(spec), params=query))
        result = _result(body)
        return list(result.get(spec.plural) or []), int(result.get("pages") or 1)

    def _find(self, spec: ResourceSpec, lookup: Mapping[str, str]) -> dict[str, Any] | None:
        records, _ = self._page(spec, [(f"search[{k}]", str(v)) for k, v in lookup.items()], 1, 2)
        if len(records) > 1:
            raise OutcomeUnknownError(
                f"lookup {dict(lookup)} matches {len(records)} {spec.plural}; it must name one", system=SYSTEM
            )
        return records[0] if records else None

    def _path(self, spec: ResourceSpec, record_id: int | str | None = None) -> str:
        path = f"/accounting/account/{self.account_id}/{spec.path}"
        return path if record_id is None else f"{path}/{record_id}"

    def _retrying(
        self,
        fn: Callable[[], T],
        *,
        retry_on: tuple[type[BaseException], ...] = (TransientApiError,),
        before_retry: Callable[[BaseException], None] | None = None,
    ) -> T:
        return call_with_retries(fn, self.policy, retry_on=retry_on, before_retry=before_retry)

    def _send(
        self, method: str, path: str, *, params: Params | None = None, json_body: Any = None
    ) -> dict[str, Any]:
        """One attempt: the only place an HTTP answer or failure becomes a finsync error."""
        request = f"{method} {path}"
        token = self.tokens.current()
        self._limiter.acquire()
        headers = {"Authorization": f"Bearer {token.access_token}"}
        content = None
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(json_body, default=_jsonable).encode()
        try:
            response = self._http.request(method, path, params=params, content=content, headers=headers)
        except httpx.TransportError as exc:
            error: Exception = translate_transport_error(exc, system=SYSTEM, request=request)
            self.stats.count(error=error)
            raise error from exc
        body = _parse(response.content)
        error = error_from_response(response, request=request, body=body)
        self.stats.count(error=error)
        if isinstance(error, RateLimitedError):
            self._limiter.penalize(error.retry_after or 1.0)
        if isinstance(error, AuthExpiredError):
            self.tokens.rejected(token)
        if error is not None:
            raise error
        if not response.content:
            return {}
        if body is None:
            raise UnavailableError("answer was not JSON (truncated?)", system=SYSTEM, request=request)
        return body


def _list_params(
    *,
    updated_min: date | datetime | None,
    updated_max: date | datetime | None,
    include: Sequence[str],
    search: Mapping[str, str | Sequence[str]],
) -> Params:
    params: Params = [("include[]", name) for name in include]
    if updated_min is not None:
        params.append(("search[updated_min]", clock.day_on_or_before(updated_min)))
    if updated_max is not None:
        params.append(("search[updated_max]", clock.day_after(updated_max)))
    for key, value in search.items():
        if isinstance(value, str):
            params.append((f"search[{key}]", value))
        else:
            params.extend((f"search[{key}][]", str(v)) for v in value)
    return params


def _parse(content: bytes) -> Any:
    """The answer's JSON with every number that has a fraction as ``Decimal``; None if it is not JSON."""
    if not content:
        return None
    try:
        return json.loads(content, parse_float=Decimal)
    except ValueError:
        return None


def _result(body: dict[str, Any]) -> dict[str, Any]:
    response = body.get("response")
    if not isinstance(response, dict) or not isinstance(response.get("result"), dict):
        raise UnavailableError("answer lacks response.result", system=SYSTEM)
    return response["result"]


def _record_id(spec: ResourceSpec, record: dict[str, Any]) -> Any:
    return record.get("id", record.get(spec.id_field))


def _writable(resource: str) -> ResourceSpec:
    spec = spec_for(resource)
    if not spec.writable:
        raise ValueError(f"FreshBooks does not let the API write {resource}")
    return spec


def _take(iterator: Iterator[T], count: int) -> Iterable[T]:
    for _ in range(count):
        item = next(iterator, None)
        if item is None:
            return
        yield item


def _jsonable(value: Any) -> Any:
    """Money goes out as a decimal string (FreshBooks' own form), dates as ISO days."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} to FreshBooks")
