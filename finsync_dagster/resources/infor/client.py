"""The M3 MI REST v2 client: single transactions, bulk writes, and EXPORTMI reads, all typed.

It sits on an :class:`~finsync_dagster.resources.infor.ion.IonApiSession`, which owns tokens, retries and
gateway errors; this module owns M3's URL shapes, its envelope and its error quartet (contract 2.1-2.3).

- ``execute``/``list_transaction``: ``GET .../execute/{PROGRAM}/{TRANSACTION}?FIELD=value`` with the
  common parameters (``cono``, ``divi``, ``maxrecs``, ``returncols``) as query parameters.
- ``execute_bulk``: ``POST .../execute`` with up to 100 transactions each, batches sent concurrently
  (bounded), one :class:`MiOutcome` per input in the caller's order; one failed transaction or batch
  never hides the others.
- ``iter_export``: ``EXPORTMI/Select`` with a column list, a table and ``and``-joined comparisons,
  yielded in batches, for incremental reads by change date (``…LMDT``). A row that does not split into
  its columns (a value holding ``|``) is never guessed at: that batch is read again with ``SelectPad``
  and cut at the lengths ``LstFields`` gives for the table.

Reads are retried on every transient error. Writes are retried only when the gateway turned them away
(401, 429) or the connection never opened, since M3's Add transactions are not idempotent by themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from finsync_dagster.errors import ApiError, DataQualityError, TransientApiError, UnavailableError
from finsync_dagster.resources.infor.errors import bare_400, has_mi_error, mi_error
from finsync_dagster.resources.infor.fields import format_params, format_value, parse_record
from finsync_dagster.resources.infor.ion import IonApiSession
from finsync_dagster.resources.infor.models import MiCall, MiOutcome

MI_PATH = "/M3/m3api-rest/v2/execute"
MAX_BULK = 100
_READ_PREFIXES = ("Get", "Lst", "Search", "Select", "Check")
_IDENTIFIER = re.compile(r"^[A-Z][A-Z0-9]{1,17}$")
_OPERATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
_EXPORT_SEPARATOR = "|"
_QERY_MAX = 982

Comparison = tuple[str, str, object]


class M3Client:
    """Typed MI calls for one M3 company/division.

    Example::

        with resource.get_client(ledger) as m3:  # or clients.infor(pair) in an asset
            customer = m3.execute(program="CRS610MI", transaction="GetBasicData", params={"CUNO": "C001"})
            for batch in m3.iter_export(table="OCUSMA", columns=["OKCUNO", "OKLMDT"],
                                        where=[("OKLMDT", ">=", date(2025, 1, 31))]):
                ...
    """

    def __init__(
        self,
        session: IonApiSession,
        *,
        company: str,
        division: str = "",
        max_concurrency: int | None = None,
        bulk_size: int = MAX_BULK,
    ) -> None:
        if not 1 <= bulk_size <= MAX_BULK:
            raise ValueError(f"bulk_size must be between 1 and {MAX_BULK}")
        self.session = session
        self.company = company
        self.division = division
        self.max_concurrency = max_concurrency or session.policy.max_concurrency
        self.bulk_size = bulk_size
        self.system = session.system
        self._field_lengths: dict[str, dict[str, int]] = {}

    def __repr__(self) -> str:
        return f"M3Client(company={self.company!r}, division={self.division!r}, session={self.session!r})"

    def __enter__(self) -> M3Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    def verify_access(self) -> None:
        """One cheap MI call in the company/division (one customer record): proves that the credentials,
        the gateway and M3 all answer. ``finsync connect infor`` and each run's connection check make it."""
        self.execute(program="CRS610MI", transaction="LstByNumber", maxrecs=1)

    # -- single transactions -------------------------------------------------------------------------

    def execute(
        self,
        *,
        program: str,
        transaction: str,
        params: Mapping[str, object] | None = None,
        maxrecs: int | None = None,
        returncols: Sequence[str] | None = None,
        idempotent: bool | None = None,
    ) -> list[dict[str, Any]]:
        """Run one transaction and return its output records, typed; an MI error raises."""
        call = f"{program}/{transaction}"
        query = self._context()
        if maxrecs is not None:
            query["maxrecs"] = str(maxrecs)
        if returncols:
            query["returncols"] = ",".join(returncols)
        query.update(format_params(params))
        if idempotent is None:
            idempotent = transaction.startswith(_READ_PREFIXES)
        response = self.session.request(
            "GET", f"{MI_PATH}/{_name(program)}/{_name(transaction)}", params=query, idempotent=idempotent
        )
        body = _json(response, call=call, system=self.system)
        if response.status_code == 400:
            raise mi_error(body, call=call, status=400) if has_mi_error(body) else bare_400(call=call)
        results = body.get("results") or []
        if has_mi_error(body):
            raise mi_error(body, call=call, status=response.status_code)
        if not results:
            return []
        first = results[0]
        if has_mi_error(first):
            raise mi_error(first, call=call, status=response.status_code)
        return [parse_record(record, where=call) for record in first.get("records") or []]

    def list_transaction(
        self,
        program: str,
        transaction: str,
        params: Mapping[str, object] | None = None,
        *,
        returncols: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Every record of a list transaction (``maxrecs=0``: M3's "no limit")."""
        return self.execute(
            program=program, transaction=transaction, params=params, maxrecs=0, returncols=returncols
        )

    def iter_list(
        self,
        program: str,
        transaction: str,
        params: Mapping[str, object] | None = None,
        *,
        key: str,
        page_size: int = 500,
    ) -> Iterator[list[dict[str, Any]]]:
        """Every record of a list transaction, a page at a time, keyed on its start-key field ``key``.

        M3 list transactions start *at* the key given (``CRS610MI/LstByNumber`` from ``CUNO``), so each
        later page asks from the last key seen and drops that boundary record: a retried or repeated
        page never yields a record twice.
        """
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        base = dict(params or {})
        last: Any = None
        while True:
            query = base if last is None else {**base, key: last}
            wanted = page_size if last is None else page_size + 1
            rows = self.execute(program=program, transaction=transaction, params=query, maxrecs=wanted)
            fresh = rows[1:] if last is not None and rows and rows[0].get(key) == last else rows
            if fresh:
                yield fresh
            if len(rows) < wanted or not fresh:
                return
            last = fresh[-1].get(key)

    def execute_many(self, *, program: str, calls: Sequence[MiCall]) -> list[MiOutcome]:
        """One GET per call, run with bounded concurrency; the baseline that bulk calls beat."""

        def one(index: int, call: MiCall) -> MiOutcome:
            try:
                records = self.execute(program=program, transaction=call.transaction, params=call.record)
            except ApiError as exc:
                return MiOutcome(index=index, transaction=call.transaction, error=exc)
            return MiOutcome(index=index, transaction=call.transaction, records=tuple(records))

        with ThreadPoolExecutor(max_workers=max(1, min(self.max_concurrency, len(calls)))) as pool:
            return list(pool.map(one, range(len(calls)), calls))

    # -- bulk --------------------------------------------------------------------------------------

    def execute_bulk(
        self, *, program: str, calls: Sequence[MiCall], idempotent: bool = False
    ) -> list[MiOutcome]:
        """Send ``calls`` in batches of up to 100 per POST; one outcome per call, in the caller's order.

        A transaction M3 refused carries its typed error; a batch the gateway failed marks each of its
        calls with that error (a :class:`TransientApiError` means "send these again"). Pass
        ``idempotent=True`` only when resending a whole batch is harmless (reads, or writes the caller
        checks before resending).
        """
        chunks = [
            (start, calls[start : start + self.bulk_size]) for start in range(0, len(calls), self.bulk_size)
        ]
        if not chunks:
            return []

        def send(chunk: tuple[int, Sequence[MiCall]]) -> list[MiOutcome]:
            start, batch = chunk
            try:
                return self._post_bulk(program, start, batch, idempotent=idempotent)
            except ApiError as exc:
                return [
                    MiOutcome(index=start + offset, transaction=call.transaction, error=exc)
                    for offset, call in enumerate(batch)
                ]

        with ThreadPoolExecutor(max_workers=max(1, min(self.max_concurrency, len(chunks)))) as pool:
            return [outcome for outcomes in pool.map(send, chunks) for outcome in outcomes]

    def _post_bulk(
        self, program: str, start: int, batch: Sequence[MiCall], *, idempotent: bool
    ) -> list[MiOutcome]:
        body: dict[str, Any] = {
            "program": _name(program),
            "cono": int(self.company) if self.company.isdigit() else self.company,
            "transactions": [
                {"transaction": _name(call.transaction), "record": format_params(call.record)}
                for call in batch
            ],
        }
        if self.division:
            body["divi"] = self.division
        call = f"{program} bulk"
        response = self.session.request(
            "POST", MI_PATH, params=self._context(), json_body=body, idempotent=idempotent
        )
        payload = _json(response, call=call, system=self.system)
        if response.status_code == 400:
            raise mi_error(payload, call=call, status=400) if has_mi_error(payload) else bare_400(call=call)
        results = payload.get("results") or []
        outcomes = []
        for offset, mi_call in enumerate(batch):
            where = f"{program}/{mi_call.transaction}"
            index = start + offset
            result = results[offset] if offset < len(results) else None
            if result is None or result.get("notProcessed"):
                reason = payload.get("terminationReason") or "M3 did not process this transaction"
                error: ApiError = TransientApiError(str(reason), system=self.system, request=where)
                outcomes.append(MiOutcome(index=index, transaction=mi_call.transaction, error=error))
            elif has_mi_error(result):
                error = mi_error(result, call=where, status=response.status_code)
                outcomes.append(MiOutcome(index=index, transaction=mi_call.transaction, error=error))
            else:
                records = tuple(parse_record(r, where=where) for r in result.get("records") or [])
                outcomes.append(MiOutcome(index=index, transaction=mi_call.transaction, records=records))
        return outcomes

    # -- EXPORTMI ----------------------------------------------------------------------------------

    def iter_export(
        self,
        *,
        table: str,
        columns: Sequence[str],
        where: Sequence[Comparison] = (),
        key: str | None = None,
        batch_size: int = 1000,
        typed: bool = True,
    ) -> Iterator[list[dict[str, Any]]]:
        """Rows of ``EXPORTMI/Select`` as typed dicts keyed by column, in batches of ``batch_size``.

        ``where`` is a list of ``(column, operator, value)`` joined by ``and``; values are rendered by
        type (dates as ``yyyyMMdd`` numbers, strings quoted), never pasted in as SQL. With ``key`` (a
        unique column, e.g. ``OKCUNO``, that must be among ``columns``) each batch is one call,
        ``where KEY > last`` and ``maxrecs``, relying on M3 returning rows in the table's key order;
        without it, one call fetches everything and the batches are cut locally. ``typed=False`` keeps
        M3's strings as sent, for callers (staging) that keep the raw record and type it in bulk.
        """
        if not columns:
            raise ValueError("iter_export needs at least one column")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if key is not None and key not in columns:
            raise ValueError(f"the paging key {key} must be one of the columns")
        last: Any = None
        while True:
            conditions = [*where, (key, ">", last)] if key is not None and last is not None else list(where)
            query = _select(table, columns, conditions)
            maxrecs = batch_size if key is not None else 0
            rows = self.execute(
                program="EXPORTMI",
                transaction="Select",
                params={"QERY": query, "SEPC": _EXPORT_SEPARATOR, "HDRS": "0"},
                maxrecs=maxrecs,
            )
            split = [_split(row, len(columns)) for row in rows]
            cut = [values for values in split if values is not None]
            if len(cut) < len(split):
                # A value holds the separator: read this batch again blank-padded and cut it by length.
                cut = self._padded(table, columns, query, maxrecs)
            records = [self._export_row(values, columns, table, typed=typed) for values in cut]
            if key is None:
                for start in range(0, len(records), batch_size):
                    yield records[start : start + batch_size]
                return
            if records:
                if last is not None and records[0][key] <= last:
                    raise DataQualityError(f"EXPORTMI/Select from {table} did not return rows in {key} order")
                yield records
            if len(records) < batch_size:
                return
            last = records[-1][key]

    def _padded(self, table: str, columns: Sequence[str], query: str, maxrecs: int) -> list[list[str]]:
        """``EXPORTMI/SelectPad`` rows cut at the column lengths M3 lists for the table (``LstFields``)."""
        lengths = self._lengths(table)
        missing = [column for column in columns if column not in lengths]
        if missing:
            raise DataQualityError(f"EXPORTMI/LstFields of {table} does not list {', '.join(missing)}")
        widths = [lengths[column] for column in columns]
        rows = self.execute(
            program="EXPORTMI",
            transaction="SelectPad",
            params={"QERY": query, "SEPC": "", "HDRS": "0"},
            maxrecs=maxrecs,
        )
        cut = []
        for row in rows:
            line = str(row.get("REPL") or "")
            if len(line) > sum(widths):
                raise DataQualityError(
                    f"EXPORTMI/SelectPad from {table}: a row is {len(line)} characters, longer than its "
                    f"{len(columns)} columns ({sum(widths)})"
                )
            values, start = [], 0
            for width in widths:
                values.append(line[start : start + width])
                start += width
            cut.append(values)
        return cut

    def _lengths(self, table: str) -> dict[str, int]:
        if table not in self._field_lengths:
            rows = self.execute(program="EXPORTMI", transaction="LstFields", params={"FILE": table})
            self._field_lengths[table] = {str(r["FLDN"]).strip(): int(str(r["FLLE"])) for r in rows}
        return self._field_lengths[table]

    def _export_row(
        self, values: Sequence[str], columns: Sequence[str], table: str, *, typed: bool = True
    ) -> dict[str, Any]:
        raw = {column: value.rstrip(" ") for column, value in zip(columns, values, strict=True)}
        if not typed:
            return raw
        return parse_record(raw, prefixed=True, where=f"EXPORTMI/Select from {table}")

    # -- helpers -----------------------------------------------------------------------------------

    def _context(self) -> dict[str, str]:
        context = {"cono": self.company}
        if self.division:
            context["divi"] = self.division
        return context


def _name(value: str) -> str:
    """Program and transaction names go into the URL path: letters and digits only."""
    if not value or not value.isalnum():
        raise ValueError(f"not an M3 program or transaction name: {value!r}")
    return value


def _json(response: httpx.Response, *, call: str, system: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    if response.status_code == 400:
        return {}  # the gateway's bare 400: no such program or transaction
    # Not M3's envelope (a proxy's page, a truncated reply): an outage, never "no records".
    raise UnavailableError(
        "M3 answered with a body that is not a JSON object",
        system=system,
        status=response.status_code,
        request=call,
    )


def _split(row: Mapping[str, Any], expected: int) -> list[str] | None:
    """A ``Select`` reply's values, or ``None`` when a value holds the separator (too many parts)."""
    values = str(row.get("REPL") or "").split(_EXPORT_SEPARATOR)
    return values if len(values) == expected else None


def _select(table: str, columns: Sequence[str], where: Sequence[Comparison]) -> str:
    for identifier in (table, *columns, *(c for c, _, _ in where)):
        if not _IDENTIFIER.match(identifier):
            raise ValueError(f"not an M3 table or column name: {identifier!r}")
    # QERY as M3's public examples write it, without "select": "COLS from TABLE where ..." [S15][S16].
    query = f"{','.join(columns)} from {table}"
    conditions = []
    for column, operator, value in where:
        if operator not in _OPERATORS:
            raise ValueError(f"EXPORTMI supports {sorted(_OPERATORS)}, not {operator!r}")
        conditions.append(f"{column} {operator} {_literal(value)}")
    if conditions:
        query += " where " + " and ".join(conditions)
    if len(query) > _QERY_MAX:
        raise ValueError(f"the EXPORTMI query is {len(query)} characters; M3 accepts {_QERY_MAX}")
    return query


def _literal(value: object) -> str:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"EXPORTMI cannot compare with {value!r}")
    if isinstance(value, date | int | Decimal):
        return format_value(value)  # M3 stores dates as yyyyMMdd numbers
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"EXPORTMI cannot compare with a {type(value).__name__}")
