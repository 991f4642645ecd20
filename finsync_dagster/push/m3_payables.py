"""The procure-to-pay writes to M3: suppliers (CRS620MI) and supplier invoices (APS450MI).

A supplier is keyed by the number finsync chooses (``SUNO``), so a resend is refused as existing and
taken as done. A supplier invoice is one APS450MI batch: head, cost lines, approve. M3 numbers the batch
(``INBN``), so a bill in doubt is first looked up by what finsync stamped on it, the supplier and the
supplier's invoice number (``LstInvBySupInv``: ``SPYN`` + ``SUNO`` + ``SINO``); each line carries the
caller's ``TRNO``, so a resent line is refused as existing; approving posts the invoice whole or not at
all, and only when its gross equals the lines plus VAT. A bill resumes at its first unfinished step, and
no batch is left entered-but-unapproved by a crash: the next push finishes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from finsync_dagster.errors import ApiError, UnavailableError
from finsync_dagster.ledger import Action, Call, Link, Outcome, State
from finsync_dagster.push.lane import Entry, Results
from finsync_dagster.push.m3 import (
    M3Lane,
    MiStep,
    audit_call,
    refused_as_existing,
    request_of,
    send_steps,
    single_step,
)
from finsync_dagster.push.outcomes import split_refused
from finsync_dagster.resources.infor.models import MiCall

PROGRAM = "APS450MI"
ENTERED, REJECTED, POSTED = "10", "80", "90"


def push_supplier_adds(lane: M3Lane, actions: Sequence[Action]) -> Results:
    """CRS620MI/AddSupplier with the supplier number the plan chose; "already exists" is the earlier attempt."""
    return single_step(
        lane,
        actions,
        "CRS620MI",
        "AddSupplier",
        link=lambda a, suno: Link("suppliers", a.source_id, suno),
        key="SUNO",
    )


def push_supplier_invoice_adds(lane: M3Lane, actions: Sequence[Action]) -> Results:
    """APS450MI batches, each resumed at its first unfinished step: head, each line, approve."""
    results, live = split_refused(actions)
    progress = {a.key: dict(a.progress) for a in live}
    finished: dict[str, Outcome] = {}
    # A bill in doubt (or whose head M3 says exists) is looked up first: approved already, or a batch
    # with some of its lines.
    _resume(lane, [a for a in live if a.resumed and "inbn" not in progress[a.key]], progress, finished)

    def open_at(stage: str) -> list[Action]:
        return [a for a in live if a.key not in finished and _stage(a, progress[a.key]) == stage]

    _heads(lane, open_at("head"), progress, finished)
    _lines(lane, open_at("lines"), progress, finished)
    _approve(lane, open_at("approve"), progress, finished)
    for action in live:
        if action.key in finished:
            results.append((action, finished[action.key]))
    return results


def _stage(action: Action, state: Mapping[str, Any]) -> str:
    if "inbn" not in state:
        return "head"
    if len(state.get("lines", [])) < len(action.payload["lines"]):
        return "lines"
    return "approve"


def _done(lane: M3Lane, action: Action, inbn: str) -> Outcome:
    """Done: the crosswalk links the bill to its AP ledger entry, the record reconciliation reads."""
    try:
        entry = ledger_entry(lane, action.payload["head"])
    except ApiError:
        entry = None  # posted all the same; reconciliation pairs it by supplier and number
    links = (Link("bills", action.source_id, entry),) if entry else ()
    return Outcome.done(inbn, *links)


def ledger_entry(lane: M3Lane, head: Mapping[str, Any]) -> str | None:
    """The AP ledger (FPLEDG) id ``YEA4-JRNO-JSNO`` of the posted supplier invoice, as staging names it."""
    rows = [
        row
        for batch in lane.client.iter_export(
            table="FPLEDG",
            columns=["EPYEA4", "EPJRNO", "EPJSNO", "EPSUNO", "EPSINO", "EPTRCD"],
            where=[("EPSINO", "=", str(head["SINO"]))],
        )
        for row in batch
        if str(row.get("EPSUNO", "")).strip() == str(head["SUNO"])
        and str(row.get("EPTRCD", "")).strip() == "40"
    ]
    if len(rows) != 1:
        return None
    return "-".join(str(rows[0][name]).strip() for name in ("EPYEA4", "EPJRNO", "EPJSNO"))


def _heads(
    lane: M3Lane, actions: Sequence[Action], progress: dict[str, dict[str, Any]], finished: dict[str, Outcome]
) -> None:
    steps = [MiStep(a, MiCall("AddHead", a.payload["head"]), "head") for a in lane.held(actions)]
    send_steps(lane, PROGRAM, steps)
    entries: list[Entry] = []
    found_later: list[Action] = []
    for step in steps:
        outcome, action = step.outcome, step.action
        inbn = str(outcome.record.get("INBN") or "") if outcome.ok else ""
        if inbn:
            progress[action.key] = {"inbn": inbn, "lines": []}
            entries.append(
                (action, [audit_call(PROGRAM, step, outcome, target_id=inbn)], progress[action.key])
            )
        elif refused_as_existing(outcome.error):
            # An earlier attempt entered it and its answer was lost: find that batch.
            entries.append((action, [audit_call(PROGRAM, step, outcome, result="found")], None))
            found_later.append(action)
        else:
            entries.append((action, [audit_call(PROGRAM, step, outcome)], None))
            error = outcome.error or UnavailableError(
                "APS450MI/AddHead answered without INBN", system="infor"
            )
            finished[action.key] = lane.failed(action, error, request_of(PROGRAM, step.call))
    lane.record(entries)
    _resume(lane, found_later, progress, finished)


def _lines(
    lane: M3Lane, actions: Sequence[Action], progress: dict[str, dict[str, Any]], finished: dict[str, Outcome]
) -> None:
    steps = []
    for action in lane.held(actions):
        state = progress[action.key]
        sent = set(state.get("lines", []))
        for record in action.payload["lines"]:
            if str(record["TRNO"]) not in sent:
                call = MiCall("AddLine", {**record, "INBN": state["inbn"]})
                steps.append(MiStep(action, call, f"line {record['TRNO']}"))
    send_steps(lane, PROGRAM, steps)
    by_action: dict[str, list[MiStep]] = {}
    for step in steps:
        by_action.setdefault(step.action.key, []).append(step)
    entries: list[Entry] = []
    for key, action_steps in by_action.items():
        action, state = action_steps[0].action, progress[key]
        calls = []
        for step in action_steps:
            outcome = step.outcome
            if outcome.ok or refused_as_existing(outcome.error):
                result = "applied" if outcome.ok else "found"
                calls.append(audit_call(PROGRAM, step, outcome, result=result, target_id=state["inbn"]))
                state["lines"] = sorted({*state.get("lines", []), str(step.call.record["TRNO"])})
            else:
                calls.append(audit_call(PROGRAM, step, outcome))
                assert outcome.error is not None
                finished[key] = lane.failed(action, outcome.error, request_of(PROGRAM, step.call))
                break
        entries.append((action, calls, state))
    lane.record(entries)


def _approve(
    lane: M3Lane, actions: Sequence[Action], progress: dict[str, dict[str, Any]], finished: dict[str, Outcome]
) -> None:
    steps = [
        MiStep(a, MiCall("ApproveInvoice", {"INBN": progress[a.key]["inbn"]}), "approve")
        for a in lane.held(actions)
    ]
    send_steps(lane, PROGRAM, steps)
    entries: list[Entry] = []
    for step in steps:
        outcome, action = step.outcome, step.action
        inbn = progress[action.key]["inbn"]
        if outcome.ok:
            entries.append(
                (action, [audit_call(PROGRAM, step, outcome, target_id=inbn)], progress[action.key])
            )
            finished[action.key] = _done(lane, action, inbn)
            continue
        status = None
        if outcome.error is not None and outcome.error.code == "AP45002":
            # Approved (or rejected) by an attempt whose answer was lost: ask M3 which.
            try:
                status = _status(lane, inbn)
            except ApiError as error:
                finished[action.key] = lane.failed(action, error)
                entries.append((action, [audit_call(PROGRAM, step, outcome)], None))
                continue
        if status == POSTED:
            entries.append(
                (action, [audit_call(PROGRAM, step, outcome, result="found", target_id=inbn)], None)
            )
            finished[action.key] = _done(lane, action, inbn)
        else:
            entries.append((action, [audit_call(PROGRAM, step, outcome)], None))
            assert outcome.error is not None
            finished[action.key] = lane.failed(action, outcome.error, request_of(PROGRAM, step.call))
    lane.record(entries)


def _status(lane: M3Lane, inbn: str) -> str:
    [head] = lane.client.execute(program=PROGRAM, transaction="GetHead", params={"INBN": inbn})
    return str(head.get("SUPA", "")).strip()


def batches_of(lane: M3Lane, head: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The batches M3 holds for this supplier invoice (``SPYN`` + ``SUNO`` + ``SINO``), rejected ones left out."""
    rows = lane.client.execute(
        program=PROGRAM,
        transaction="LstInvBySupInv",
        params={"SPYN": head.get("SPYN") or head["SUNO"], "SUNO": head["SUNO"], "SINO": head["SINO"]},
        maxrecs=0,
    )
    return [row for row in rows if str(row.get("SUPA", "")).strip() != REJECTED]


def _resume(
    lane: M3Lane, actions: Sequence[Action], progress: dict[str, dict[str, Any]], finished: dict[str, Outcome]
) -> None:
    """Find out how far each bill got before its answer was lost, and record it."""
    entries: list[Entry] = []
    for action in actions:
        state = progress[action.key]
        try:
            found = batches_of(lane, action.payload["head"])
            if len(found) > 1:
                numbers = ", ".join(str(row["INBN"]) for row in found)
                finished[action.key] = Outcome(
                    State.DEAD,
                    error=f"M3 has {len(found)} supplier invoice batches for {action.stamp!r} ({numbers}); "
                    "reject all but one in M3, then retry",
                    error_class="DuplicateInTarget",
                )
                continue
            if not found:
                state.clear()
                entries.append((action, [Call("APS450MI/LstInvBySupInv", "absent", step="head")], state))
                continue
            inbn = str(found[0]["INBN"]).strip()
            if str(found[0].get("SUPA", "")).strip() == POSTED:
                entries.append(
                    (action, [Call("APS450MI/LstInvBySupInv", "found", step="approve", target_id=inbn)], None)
                )
                finished[action.key] = _done(lane, action, inbn)
                continue
            present = lane.client.execute(
                program=PROGRAM, transaction="LstLines", params={"INBN": inbn}, maxrecs=0
            )
            state.clear()
            state.update(inbn=inbn, lines=sorted({str(row["TRNO"]).strip() for row in present}))
            entries.append(
                (action, [Call("APS450MI/LstInvBySupInv", "found", step="head", target_id=inbn)], state)
            )
        except ApiError as error:
            finished[action.key] = lane.failed(action, error)
    lane.record(entries)


HANDLERS: dict[str, Callable[[M3Lane, Sequence[Action]], Results]] = {
    "m3.supplier.add": push_supplier_adds,
    "m3.supplier_invoice.add": push_supplier_invoice_adds,
}
