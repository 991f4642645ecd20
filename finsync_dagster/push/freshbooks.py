"""The writes to FreshBooks, each a handler that takes a batch of claimed actions and says how each ended.

FreshBooks offers no idempotency key, so a client finsync creates carries the action's stamp in its
``note``: a create in doubt is first looked up by it (``search[note_like]``) and sent again only when
FreshBooks certainly has no such client. Updates set absolute values and are safe to resend. Requests go
out a few at a time, under the client's limiter, so a long push runs at the account's quota with no 429s.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from finsync_dagster.errors import (
    SAFE_TO_RESEND,
    ApiError,
    OutcomeUnknownError,
    RequestNotSentError,
    UnavailableError,
)
from finsync_dagster.ledger import Action, Call, Link, Outcome
from finsync_dagster.push.lane import Lane, Results
from finsync_dagster.push.m3 import order_invoices
from finsync_dagster.push.outcomes import sendable, split_refused
from finsync_dagster.resources.freshbooks.client import FreshBooksClient

FreshBooksLane = Lane[FreshBooksClient]

IN_FLIGHT = 4  # concurrent writes: enough to use the quota at a SaaS round trip, few enough to stay polite
RENEW_EVERY = 20  # claims renewed together: about a second of the default quota (a commit per action was
# the lane's bottleneck, not the quota)
FINSYNC_MARK = "(finsync)"  # ends the one line of an invoice's notes finsync writes and replaces
_FINSYNC_LINE = re.compile(r"^M3 order .*\(finsync\)$", re.MULTILINE)


def each_action(
    lane: FreshBooksLane, actions: Sequence[Action], one: Callable[[Action], tuple[list[Call], Outcome]]
) -> Results:
    """Run ``one`` for every action (a few at once), record its calls, and collect the outcomes."""
    results, live = split_refused(actions)

    def run(action: Action) -> tuple[Action, list[Call], Outcome]:
        calls, outcome = one(action)
        return action, calls, outcome

    finished: list[tuple[Action, list[Call], Outcome]] = []
    with ThreadPoolExecutor(max_workers=IN_FLIGHT, thread_name_prefix="freshbooks-push") as pool:
        for start in range(0, len(live), RENEW_EVERY):
            # Claims renewed a few seconds' worth at a time (one commit), just before their writes;
            # those that changed hands are the new holder's.
            finished += pool.map(run, lane.held(live[start : start + RENEW_EVERY]))
    lane.record([(action, calls, None) for action, calls, _ in finished])
    return results + [(action, outcome) for action, _, outcome in finished]


def timed_call(
    lane: FreshBooksLane, label: str, step: str, fn: Callable[[], Any], *, write_for: Action | None = None
) -> tuple[Any, Call]:
    """Run one request; its audit entry says whether it applied, failed for sure, or may have applied.

    A write (``write_for``: the action it is for) is not sent once that action's claim may have lapsed.
    """
    if write_for is not None and not lane.may_send(write_for):
        error = RequestNotSentError(f"{label} not sent: the claim may have lapsed (the worker was stalled)",
                                    system="freshbooks")  # fmt: skip
        raise WriteFailed(error, Call(label, "failed", step=step, error=str(error)))
    with lane.timed() as elapsed:
        try:
            value = fn()
        except ApiError as error:
            maybe = isinstance(error, OutcomeUnknownError) or (
                isinstance(error, UnavailableError) and not isinstance(error, SAFE_TO_RESEND)
            )
            call = Call(label, "in_doubt" if maybe else "refused", step=step, error=str(error)[:500],
                        latency_ms=elapsed())  # fmt: skip
            raise WriteFailed(error, call) from error
    return value, Call(label, "applied", step=step, latency_ms=elapsed())


class WriteFailed(Exception):
    def __init__(self, error: ApiError, call: Call) -> None:
        super().__init__(str(error))
        self.error = error
        self.call = call


# -- clients -------------------------------------------------------------------------------------------


def push_client_creates(lane: FreshBooksLane, actions: Sequence[Action]) -> Results:
    def one(action: Action) -> tuple[list[Call], Outcome]:
        calls: list[Call] = []
        payload = sendable(action.payload)
        try:
            if action.resumed:
                found, call = timed_call(
                    lane, "GET clients?note_like", "lookup", lambda: _client_by_stamp(lane, action)
                )
                if found is not None:
                    client_id = str(found.get("id") or found.get("userid"))
                    calls.append(
                        Call(
                            call.call, "found", step="create", target_id=client_id, latency_ms=call.latency_ms
                        )
                    )
                    return calls, Outcome.done(client_id, Link("customers", client_id, action.source_id))
                calls.append(Call(call.call, "absent", step="lookup", latency_ms=call.latency_ms))
            created, call = timed_call(
                lane,
                "POST clients",
                "create",
                lambda: lane.client.create("clients", payload),
                write_for=action,
            )
        except WriteFailed as failed:
            return [*calls, failed.call], lane.failed(
                action, failed.error, {"call": "POST clients", "body": payload}
            )
        client_id = str(created.get("id") or created.get("userid"))
        calls.append(
            Call(call.call, "applied", step="create", target_id=client_id, latency_ms=call.latency_ms)
        )
        return calls, Outcome.done(client_id, Link("customers", client_id, action.source_id))

    return each_action(lane, actions, one)


def _client_by_stamp(lane: FreshBooksLane, action: Action) -> dict[str, Any] | None:
    """The client an earlier attempt created, found by the stamp in its note (exactly, not as a prefix)."""
    stamp = action.stamp or ""
    found = [
        client
        for page in lane.client.iter_pages("clients", search={"note_like": stamp})
        for client in page
        if stamp in (client.get("note") or "").splitlines()
    ]
    if len(found) > 1:
        ids = ", ".join(str(c.get("id")) for c in found)
        raise OutcomeUnknownError(
            f"{len(found)} FreshBooks clients carry {stamp!r} ({ids}); keep one, then retry",
            system="freshbooks",
        )
    return found[0] if found else None


def push_client_updates(lane: FreshBooksLane, actions: Sequence[Action]) -> Results:
    def one(action: Action) -> tuple[list[Call], Outcome]:
        client_id = str(action.payload["clientid"])
        fields = action.payload["fields"]
        label = f"PUT clients/{client_id}"
        try:
            _value, call = timed_call(
                lane,
                label,
                "update",
                lambda: lane.client.update("clients", client_id, fields),
                write_for=action,
            )
        except WriteFailed as failed:
            return [failed.call], lane.failed(action, failed.error, {"call": label, "body": fields})
        return [
            Call(call.call, "applied", step="update", target_id=client_id, latency_ms=call.latency_ms)
        ], Outcome.done(client_id)

    return each_action(lane, actions, one)


# -- invoices ------------------------------------------------------------------------------------------


def push_invoice_marks(lane: FreshBooksLane, actions: Sequence[Action]) -> Results:
    """Mark the invoice sent (if it is still a draft) and write M3's numbers into its notes.

    Two PUTs, because FreshBooks applies only the first phase of a body (an action drops the fields beside
    it, contract 3.5). Both set absolute values, so a resend after a lost answer changes nothing more.
    """

    def one(action: Action) -> tuple[list[Call], Outcome]:
        invoice_id = str(action.payload["invoiceid"])
        calls: list[Call] = []
        try:
            current, call = timed_call(
                lane, f"GET invoices/{invoice_id}", "read", lambda: lane.client.get("invoices", invoice_id)
            )
            calls.append(call)
            if str(current.get("v3_status") or "") == "draft" or current.get("status") in (1, "1"):
                _v, call = timed_call(lane, f"PUT invoices/{invoice_id} action_mark_as_sent", "mark_sent",
                                       lambda: lane.client.update("invoices", invoice_id, {"action_mark_as_sent": True}),
                                       write_for=action)  # fmt: skip
                calls.append(
                    Call(
                        call.call,
                        "applied",
                        step="mark_sent",
                        target_id=invoice_id,
                        latency_ms=call.latency_ms,
                    )
                )
            line = _m3_line(lane, action)
            notes = with_finsync_line(current.get("notes") or "", line)
            if notes != (current.get("notes") or ""):
                _v, call = timed_call(lane, f"PUT invoices/{invoice_id} notes", "notes",
                                       lambda: lane.client.update("invoices", invoice_id, {"notes": notes}),
                                       write_for=action)  # fmt: skip
                calls.append(
                    Call(call.call, "applied", step="notes", target_id=invoice_id, latency_ms=call.latency_ms)
                )
        except WriteFailed as failed:
            return [*calls, failed.call], lane.failed(action, failed.error, {"invoiceid": invoice_id})
        return calls, Outcome.done(invoice_id)

    return each_action(lane, actions, one)


def _m3_line(lane: FreshBooksLane, action: Action) -> str:
    """The mapping's line (M3's order number) with the deliveries and AR invoices M3 has for the order."""
    base = str(action.payload["note_line"]).removesuffix(FINSYNC_MARK).rstrip()
    invoices = (
        order_invoices(lane.peer("infor"), str(action.payload["order_number"]))
        if "infor" in lane.peers
        else []
    )
    deliveries = sorted({i["DLIX"] for i in invoices if i["DLIX"]})
    numbers = sorted({i["CINO"] for i in invoices if i["CINO"]})
    parts = [base]
    if deliveries:
        parts.append(f"delivery {', '.join(deliveries)}")
    if numbers:
        parts.append(f"M3 invoice {', '.join(numbers)}")
    return f"{', '.join(parts)} {FINSYNC_MARK}"


def with_finsync_line(notes: str, line: str) -> str:
    """``notes`` with finsync's line replaced (or added at the end); the rest of the text untouched."""
    kept = _FINSYNC_LINE.sub("", notes).rstrip("\n")
    return f"{kept}\n{line}" if kept else line


HANDLERS: dict[str, Callable[[FreshBooksLane, Sequence[Action]], Results]] = {
    "freshbooks.client.create": push_client_creates,
    "freshbooks.client.update": push_client_updates,
    "freshbooks.invoice.mark_sent": push_invoice_marks,
}
