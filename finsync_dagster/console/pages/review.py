"""The review queue, modelled on QuickBooks' "For review": proposed pairings side by side with their
differences highlighted (accept, reject, find another match, accept several at once), exceptions with
their actions (create in the other system, find the match, ignore with a reason), and this session's
decisions with undo."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from finsync_dagster.console import decisions
from finsync_dagster.console.auth import action, page
from finsync_dagster.console.data import latest_snapshot, open_queue
from finsync_dagster.console.snapshots import Record, ReviewItem, Snapshot
from finsync_dagster.console.web import audit, console_of, current, flash, render, see_other
from finsync_dagster.console.writeback import describe
from finsync_dagster.ledger import Role
from finsync_dagster.recon.model import MATCH_TABLES
from finsync_dagster.reports.data import ENTITY_TITLES, STATUS_TITLES, describe_differences

PAGE_SIZE = 25
TABS = {"review": "For review", "exceptions": "Exceptions", "session": "Decided in this session"}
SYSTEMS = {"freshbooks": "FreshBooks", "infor": "M3"}
# Ids of the other records a record points at differ between the systems by nature: shown, not flagged.
# A field only one side fills is shown, not flagged either: the systems keep different fields.
_NOT_COMPARED = frozenset({"customer_source_id", "invoice_source_id", "updated_at"})


@dataclass(frozen=True)
class FieldRow:
    name: str
    freshbooks: str | None
    infor: str | None
    differs: bool


@dataclass(frozen=True)
class Card:
    item: ReviewItem
    freshbooks: Record | None
    infor: Record | None
    rows: list[FieldRow]
    differences: str

    @property
    def key(self) -> str:
        return json.dumps([self.item.entity, self.item.freshbooks_id, self.item.infor_id])


def side_by_side(item: ReviewItem, fb: Record | None, infor: Record | None) -> list[FieldRow]:
    names = list((fb.fields if fb else {}).keys())
    names += [n for n in (infor.fields if infor else {}) if n not in names]
    flagged = item.differing_fields
    rows = []
    for name in names:
        left = fb.fields.get(name) if fb else None
        right = infor.fields.get(name) if infor else None
        differs = name in flagged or (
            name not in _NOT_COMPARED
            and fb is not None
            and infor is not None
            and bool(left and left.strip())
            and bool(right and right.strip())
            and (left or "").strip() != (right or "").strip()
        )
        rows.append(FieldRow(name, left, right, differs))
    return rows


def cards(snapshot: Snapshot, items: list[ReviewItem]) -> list[Card]:
    found: dict[tuple[str, str], dict[str, Record]] = {}
    for entity in {i.entity for i in items}:
        for system, attribute in (("freshbooks", "freshbooks_id"), ("infor", "infor_id")):
            ids = [getattr(i, attribute) for i in items if i.entity == entity and getattr(i, attribute)]
            found[(entity, system)] = snapshot.records(entity, system, ids)
    result = []
    for item in items:
        fb = found[(item.entity, "freshbooks")].get(item.freshbooks_id or "")
        infor = found[(item.entity, "infor")].get(item.infor_id or "")
        differences = describe_differences(json.dumps(list(item.differences))) if item.differences else ""
        result.append(Card(item, fb, infor, side_by_side(item, fb, infor), differences))
    return result


def chosen_pair(request: Request, value: str | None = None) -> str | None:
    pairs = console_of(request).settings.pair_names
    wanted = value if value is not None else request.query_params.get("pair")
    if wanted in pairs:
        return wanted
    return pairs[0] if pairs and not wanted else None


def _int(value: Any, default: int) -> int:
    try:
        return max(int(str(value)), 1)
    except ValueError:
        return default


@page()
async def review(request: Request) -> Response:
    console = console_of(request)
    pair = chosen_pair(request)
    if pair is None:
        return render(request, "review.html.j2", active="review", pair=None, snapshot=None)
    tab = request.query_params.get("tab", "review")
    tab = tab if tab in TABS else "review"
    entity = request.query_params.get("entity") or ""
    entity = entity if entity in MATCH_TABLES else ""
    number = _int(request.query_params.get("page", "1"), 1)
    session = current(request)

    def gather() -> dict[str, Any]:
        snapshot, queue = open_queue(console, pair)
        listed = queue.to_review if tab == "review" else queue.exceptions
        shown = [i for i in listed if not entity or i.entity == entity]
        pages = max((len(shown) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        page_number = min(number, pages)
        slice_ = shown[(page_number - 1) * PAGE_SIZE : page_number * PAGE_SIZE]
        return {
            "snapshot": snapshot,
            "queue": queue,
            "cards": cards(snapshot, slice_) if snapshot and tab != "session" else [],
            "total": len(shown),
            "pages": pages,
            "page_number": page_number,
            "mine": console.ledger.decisions(pair, session=session.ref) if tab == "session" else [],
        }

    found = await run_in_threadpool(gather)
    back = f"/review?{urlencode({'pair': pair, 'tab': tab, 'entity': entity, 'page': found['page_number']})}"
    return render(
        request,
        "review.html.j2",
        active="review",
        pair=pair,
        tab=tab,
        tabs=TABS,
        entity=entity,
        entities=ENTITY_TITLES,
        statuses=STATUS_TITLES,
        systems=SYSTEMS,
        back=back,
        can_act=session.user.role.allows(Role.REVIEWER),
        writeback=console.planner is not None,
        **found,
    )


# -- re-matching: search the other system ----------------------------------------------------------------


@page(Role.REVIEWER)
async def rematch(request: Request) -> Response:
    console = console_of(request)
    params = request.query_params
    pair = chosen_pair(request)
    entity = params.get("entity", "")
    side = params.get("side", "")
    record_id = params.get("id", "")
    if pair is None or entity not in MATCH_TABLES or side not in SYSTEMS or not record_id:
        return PlainTextResponse("choose a record to match from the review queue", 400)
    other = "infor" if side == "freshbooks" else "freshbooks"

    def gather() -> dict[str, Any]:
        snapshot = latest_snapshot(console, pair)
        if snapshot is None:
            return {"snapshot": None, "record": None, "results": [], "query": ""}
        record = snapshot.records(entity, side, [record_id]).get(record_id)
        query = params.get("q")
        if query is None and record is not None:
            query = _default_query(record)
        results = snapshot.search(entity, other, query or "", limit=25)
        return {"snapshot": snapshot, "record": record, "results": results, "query": query or ""}

    found = await run_in_threadpool(gather)
    return render(
        request,
        "rematch.html.j2",
        active="review",
        pair=pair,
        entity=entity,
        entities=ENTITY_TITLES,
        side=side,
        other=other,
        systems=SYSTEMS,
        record_id=record_id,
        replaces=params.get("replaces", ""),
        back=_back(params.get("back")),
        **found,
    )


def _default_query(record: Record) -> str:
    """What to search the other system for: the amount if it has one, else the name or reference."""
    fields = record.fields
    for name in ("total_amount", "amount", "email", "name", "invoice_number", "reference"):
        if fields.get(name):
            return str(fields[name])
    return ""


# -- actions ------------------------------------------------------------------------------------------


def _back(value: Any) -> str:
    text = value if isinstance(value, str) else ""
    return text if text.startswith("/review") and not text.startswith("//") else "/review"


def _target(form: FormData) -> tuple[str, str | None, str | None] | None:
    entity = form.get("entity")
    if not isinstance(entity, str) or entity not in MATCH_TABLES:
        return None
    fb, infor = form.get("freshbooks_id"), form.get("infor_id")
    return (
        entity,
        (fb if isinstance(fb, str) and fb else None),
        (infor if isinstance(infor, str) and infor else None),
    )


def _form_pair(request: Request, form: FormData) -> str | None:
    value = form.get("pair")
    return value if isinstance(value, str) and value in console_of(request).settings.pair_names else None


@action(Role.REVIEWER)
async def accept(request: Request, form: FormData) -> Response:
    pair, target = _form_pair(request, form), _target(form)
    if pair is None or target is None or not target[1] or not target[2]:
        return PlainTextResponse("accept needs a pair, an entity and both record ids", 400)
    entity, fb, infor = target
    assert fb is not None and infor is not None
    session = current(request)
    ledger = console_of(request).ledger
    replaces = form.get("replaces")

    def apply() -> str | None:
        problem = decisions.accept(
            ledger, session, pair=pair, entity=entity, freshbooks_id=fb, infor_id=infor
        )
        if problem is None and isinstance(replaces, str) and replaces:
            old = json.loads(replaces)
            if (
                isinstance(old, list)
                and len(old) == 3
                and (old[1], old[2]) != (fb, infor)
                and old[1]
                and old[2]
            ):
                decisions.reject(
                    ledger, session, pair=pair, entity=entity, freshbooks_id=str(old[1]), infor_id=str(old[2]),
                    reason="matched to another record",
                )  # fmt: skip
        return problem

    problem = await run_in_threadpool(apply)
    if problem:
        flash(request, "error", f"Not paired: {problem}")
    else:
        flash(request, "ok", f"Paired FreshBooks {fb} with M3 {infor} ({ENTITY_TITLES[entity].lower()}).")
    return see_other(_back(form.get("back")))


@action(Role.REVIEWER)
async def reject(request: Request, form: FormData) -> Response:
    pair, target = _form_pair(request, form), _target(form)
    if pair is None or target is None or not target[1] or not target[2]:
        return PlainTextResponse("reject needs a pair, an entity and both record ids", 400)
    entity, fb, infor = target
    assert fb is not None and infor is not None
    session = current(request)
    ledger = console_of(request).ledger
    await run_in_threadpool(
        lambda: decisions.reject(ledger, session, pair=pair, entity=entity, freshbooks_id=fb, infor_id=infor)
    )
    flash(
        request,
        "ok",
        f"Rejected the pairing of FreshBooks {fb} with M3 {infor}; it will not be offered again.",
    )
    return see_other(_back(form.get("back")))


@action(Role.REVIEWER)
async def batch_accept(request: Request, form: FormData) -> Response:
    pair = _form_pair(request, form)
    if pair is None:
        return PlainTextResponse("batch accept needs a pair", 400)
    keys = []
    for raw in form.getlist("key"):
        try:
            entity, fb, infor = json.loads(str(raw))
        except ValueError:
            return PlainTextResponse("a selected row is malformed", 400)
        if entity in MATCH_TABLES and fb and infor:
            keys.append((str(entity), str(fb), str(infor)))
    session = current(request)
    ledger = console_of(request).ledger

    def apply() -> list[str]:
        problems = []
        for entity, fb, infor in keys:
            problem = decisions.accept(
                ledger, session, pair=pair, entity=entity, freshbooks_id=fb, infor_id=infor
            )
            if problem:
                problems.append(problem)
        return problems

    problems = await run_in_threadpool(apply)
    if not keys:
        flash(request, "info", "Nothing was selected.")
    else:
        flash(request, "ok", f"Accepted {len(keys) - len(problems)} of {len(keys)} selected pairings.")
    for problem in problems[:5]:
        flash(request, "error", f"Not paired: {problem}")
    return see_other(_back(form.get("back")))


@action(Role.REVIEWER)
async def ignore(request: Request, form: FormData) -> Response:
    pair, target = _form_pair(request, form), _target(form)
    reason = str(form.get("reason") or "").strip()
    if pair is None or target is None or not (target[1] or target[2]):
        return PlainTextResponse("ignore needs a pair, an entity and a record id", 400)
    if not reason:
        flash(request, "error", "Say why the exception is ignored: the report shows the reason.")
        return see_other(_back(form.get("back")))
    entity, fb, infor = target
    session = current(request)
    ledger = console_of(request).ledger
    await run_in_threadpool(
        lambda: decisions.ignore(
            ledger, session, pair=pair, entity=entity, freshbooks_id=fb, infor_id=infor, reason=reason[:1000]
        )
    )
    flash(request, "ok", "Ignored; the next report marks it with your reason.")
    return see_other(_back(form.get("back")))


@action(Role.REVIEWER)
async def undo(request: Request, form: FormData) -> Response:
    pair = _form_pair(request, form)
    try:
        decision_id = int(str(form.get("decision")))
    except ValueError:
        return PlainTextResponse("undo needs a decision", 400)
    if pair is None:
        return PlainTextResponse("undo needs a pair", 400)
    session = current(request)
    ledger = console_of(request).ledger
    problem = await run_in_threadpool(
        lambda: decisions.undo(ledger, session, pair=pair, decision_id=decision_id)
    )
    flash(request, "error" if problem else "ok", f"Not undone: {problem}" if problem else "Undone.")
    return see_other(_back(form.get("back")))


@action(Role.REVIEWER)
async def create(request: Request, form: FormData) -> Response:
    """Plan the outbox actions that create the record in the other system (write-back's planner)."""
    console = console_of(request)
    pair, target = _form_pair(request, form), _target(form)
    source = form.get("source")
    if pair is None or target is None or source not in SYSTEMS:
        return PlainTextResponse("create needs a pair, an entity, a source system and its record id", 400)
    entity, fb, infor = target
    source_id = fb if source == "freshbooks" else infor
    if not source_id:
        return PlainTextResponse("create needs the id of the record in its source system", 400)
    planner = console.planner
    if planner is None:
        flash(request, "error", "Write-back is not available in this finsync: nothing was planned.")
        return see_other(_back(form.get("back")))
    user = current(request).user.name
    call = f"review create {entity} from {source} {source_id}"[:128]

    def apply() -> str:
        result = planner(
            console.settings,
            console.ledger,
            pair,
            entity,
            str(source),
            [source_id],
            planned_by=f"console:{user}",
        )
        return describe(result)

    try:
        said = await run_in_threadpool(apply)
    except Exception as exc:  # the planner's refusal is shown, not a 500; the audit keeps it
        audit(request, pair=pair, call=call, outcome="failed", error=f"{type(exc).__name__}: {exc}")
        flash(request, "error", f"Not planned: {exc}")
        return see_other(_back(form.get("back")))
    audit(request, pair=pair, call=call, outcome="planned", error=None)
    flash(request, "ok", f"Create in {SYSTEMS['infor' if source == 'freshbooks' else 'freshbooks']}: {said}.")
    return see_other(_back(form.get("back")))
