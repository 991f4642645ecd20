"""The writes to M3, each a handler that takes a batch of claimed actions and says how each ended.

Every step goes out in bulk (up to 100 transactions a POST), and M3 itself keeps most of them from
applying twice, because the caller chooses the key: a customer number (``CUNO``), a payment batch
(``PBID``) and a GL batch (``KEY1``) derived from the action; a second ``Add`` of one is refused as
existing and taken as done. The one key M3 assigns is the batch order's temporary number, so a customer
order in doubt is first looked up by its customer reference (``CUOR``, the FreshBooks invoice number):
confirmed in ``OOHEAD``, or still a batch head, with the lines it already has. An order resumes at its
first unfinished step: head, each line, confirm.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from finsync_dagster.errors import (
    SAFE_TO_RESEND,
    ApiError,
    MappingError,
    RequestNotSentError,
    UnavailableError,
)
from finsync_dagster.ledger import Action, Call, Link, Outcome, State
from finsync_dagster.push.lane import Entry, Lane, Results
from finsync_dagster.push.outcomes import refused, sendable, split_refused, waiting
from finsync_dagster.resources.infor.client import M3Client
from finsync_dagster.resources.infor.models import MiCall, MiOutcome
from finsync_dagster.writeback.actions import m3_number

M3Lane = Lane[M3Client]

# M3's answers to a key the caller chose and a step already done (the sandbox's codes, and the words M3
# uses for them); any of them after a resend means "done before".
_EXISTS_CODES = frozenset(
    {"WCU0201", "WSU0201", "WPB0201", "WPB0211", "GL84006", "GL84007", "AP45003", "AP45013"}
)
_DONE_CODES = frozenset({"WPB0204", "GL84005", "OI10003"})


def refused_as_existing(error: ApiError | None) -> bool:
    return error is not None and (error.code in _EXISTS_CODES or "already exists" in error.message.lower())


def _already_done(error: ApiError | None) -> bool:
    return error is not None and (
        error.code in _DONE_CODES
        or "already updated" in error.message.lower()
        or "closed for batch entry" in error.message.lower()
    )


@dataclass
class MiStep:
    """One transaction for one action, sent in a bulk POST with others; ``outcome`` once it was sent."""

    action: Action
    call: MiCall
    step: str
    outcome: MiOutcome = field(default_factory=lambda: MiOutcome(index=-1, transaction=""))
    latency_ms: int | None = None


def send_steps(
    lane: M3Lane, program: str, steps: Sequence[MiStep], *, idempotent: bool = False
) -> list[MiOutcome]:
    """Send the steps whose claims certainly still hold in one bulk call; the others are not sent."""
    lapsed = [s for s in steps if not lane.may_send(s.action)]
    for step in lapsed:
        step.outcome = MiOutcome(index=-1, transaction=step.call.transaction, error=_lapsed(program, step))
    sending = [s for s in steps if s not in lapsed]
    if not sending:
        return [s.outcome for s in steps]
    with lane.timed() as elapsed:
        outcomes = lane.client.execute_bulk(
            program=program, calls=[s.call for s in sending], idempotent=idempotent
        )
    latency = elapsed()
    for step, outcome in zip(sending, outcomes, strict=True):
        step.latency_ms = latency
        step.outcome = outcome
    return [s.outcome for s in steps]


def _lapsed(program: str, step: MiStep) -> RequestNotSentError:
    return RequestNotSentError(
        f"{program}/{step.call.transaction} not sent: the claim may have lapsed (the worker was stalled)",
        system="infor",
    )


def audit_call(
    program: str, step: MiStep, outcome: MiOutcome, *, result: str | None = None, target_id: str | None = None
) -> Call:
    """The audit entry of one transaction: applied, or how it failed (``result`` overrides)."""
    if result is None:
        result = "applied" if outcome.ok else ("in_doubt" if _maybe_applied(outcome.error) else "refused")
    return Call(
        call=f"{program}/{step.call.transaction}",
        outcome=result,
        step=step.step,
        target_id=target_id,
        error=None if outcome.error is None else str(outcome.error)[:500],
        latency_ms=step.latency_ms,
    )


def _maybe_applied(error: ApiError | None) -> bool:
    return isinstance(error, UnavailableError) and not isinstance(error, SAFE_TO_RESEND)


def request_of(program: str, call: MiCall) -> dict[str, Any]:
    return {"call": f"{program}/{call.transaction}", "record": dict(call.record)}


# -- customers ---------------------------------------------------------------------------------------


def push_customer_adds(lane: M3Lane, actions: Sequence[Action]) -> Results:
    """CRS610MI/Add with the customer number the plan chose; "already exists" is the earlier attempt."""
    return single_step(
        lane, actions, "CRS610MI", "Add", link=lambda a, cuno: Link("customers", a.source_id, cuno)
    )


def push_customer_changes(lane: M3Lane, actions: Sequence[Action]) -> Results:
    """CRS610MI/ChgBasicData: absolute values, so a resend of one in doubt changes nothing more."""
    return single_step(lane, actions, "CRS610MI", "ChgBasicData", link=None)


def single_step(
    lane: M3Lane,
    actions: Sequence[Action],
    program: str,
    transaction: str,
    *,
    link: Callable[[Action, str], Link] | None,
    key: str = "CUNO",
) -> Results:
    """One transaction per action, keyed by the number the caller chose (``key``: CUNO, SUNO)."""
    results, ready = split_refused(actions)
    steps = [MiStep(a, MiCall(transaction, sendable(a.payload)), transaction) for a in lane.held(ready)]
    send_steps(lane, program, steps)
    entries: list[Entry] = []
    for step in steps:
        outcome = step.outcome
        action = step.action
        cuno = str(action.payload.get(key) or action.stamp or "")
        if outcome.ok or refused_as_existing(outcome.error):
            entries.append(
                (
                    action,
                    [
                        audit_call(
                            program, step, outcome, result=None if outcome.ok else "found", target_id=cuno
                        )
                    ],
                    None,
                )
            )
            links = (link(action, cuno),) if link is not None else ()
            results.append((action, Outcome.done(cuno, *links)))
        else:
            entries.append((action, [audit_call(program, step, outcome)], None))
            assert outcome.error is not None
            results.append((action, lane.failed(action, outcome.error, request_of(program, step.call))))
    lane.record(entries)
    return results


# -- customer orders: head, lines, confirm -----------------------------------------------------------


def push_order_adds(lane: M3Lane, actions: Sequence[Action]) -> Results:
    """OIS100MI batch entry, each order resumed at its first unfinished step."""
    results, live = split_refused(actions)
    progress = {a.key: dict(a.progress) for a in live}
    finished: dict[str, Outcome] = {}

    # An order in doubt is looked up first: confirmed already, or a batch head with some lines.
    resumed = [a for a in live if a.resumed]
    if resumed:
        _resume_orders(lane, resumed, progress, finished)

    def open_steps(stage: str) -> list[Action]:
        return [a for a in live if a.key not in finished and _stage(a, progress[a.key]) == stage]

    # Heads.
    steps = [
        MiStep(a, MiCall("AddBatchHead", a.payload["head"]), "head") for a in lane.held(open_steps("head"))
    ]
    send_steps(lane, "OIS100MI", steps)
    entries: list[Entry] = []
    for step in steps:
        outcome = step.outcome
        temporary = str(outcome.record.get("ORNO") or "") if outcome.ok else ""
        if outcome.ok and temporary:
            progress[step.action.key] = {"temporary": temporary, "lines": 0}
            entries.append(
                (
                    step.action,
                    [audit_call("OIS100MI", step, outcome, target_id=temporary)],
                    progress[step.action.key],
                )
            )
        else:
            entries.append((step.action, [audit_call("OIS100MI", step, outcome)], None))
            finished[step.action.key] = lane.failed(step.action, outcome.error or _no_output("AddBatchHead"),
                                                    request_of("OIS100MI", step.call))  # fmt: skip
    lane.record(entries)

    # Lines, in order; an order stops at its first refused line.
    line_steps = []
    for action in lane.held(open_steps("lines")):
        state = progress[action.key]
        for number, record in enumerate(action.payload["lines"][state["lines"] :], start=state["lines"] + 1):
            line_steps.append(
                MiStep(
                    action, MiCall("AddBatchLine", {**record, "ORNO": state["temporary"]}), f"line {number}"
                )
            )
    send_steps(lane, "OIS100MI", line_steps)
    by_action: dict[str, list[MiStep]] = {}
    for step in line_steps:
        by_action.setdefault(step.action.key, []).append(step)
    entries = []
    for key, steps in by_action.items():
        action = steps[0].action
        calls = []
        for step in steps:
            outcome = step.outcome
            calls.append(audit_call("OIS100MI", step, outcome, target_id=progress[key]["temporary"]))
            if outcome.error is not None:
                finished[key] = lane.failed(action, outcome.error, request_of("OIS100MI", step.call))
                break
            progress[key]["lines"] += 1
        entries.append((action, calls, progress[key]))
    lane.record(entries)

    # Confirm: M3 gives the order its real number.
    steps = [
        MiStep(a, MiCall("Confirm", {"ORNO": progress[a.key]["temporary"]}), "confirm")
        for a in lane.held(open_steps("confirm"))
    ]
    send_steps(lane, "OIS100MI", steps)
    entries = []
    for step in steps:
        outcome = step.outcome
        action = step.action
        if outcome.ok and outcome.record.get("ORNO"):
            order_number = str(outcome.record["ORNO"])
            progress[action.key]["order"] = order_number
            entries.append(
                (
                    action,
                    [audit_call("OIS100MI", step, outcome, target_id=order_number)],
                    progress[action.key],
                )
            )
            finished[action.key] = Outcome.done(
                order_number, Link("invoices", action.source_id, order_number)
            )
        elif _already_done(outcome.error):
            # Confirmed by an attempt whose answer was lost: M3 names the order; look it up to be sure.
            found = _confirmed_order(lane, action)
            entries.append(
                (
                    action,
                    [
                        audit_call(
                            "OIS100MI", step, outcome, result="found" if found else "refused", target_id=found
                        )
                    ],
                    None,
                )
            )
            finished[action.key] = (
                Outcome.done(found, Link("invoices", action.source_id, found))
                if found
                else lane.failed(
                    action, outcome.error or _no_output("Confirm"), request_of("OIS100MI", step.call)
                )
            )
        else:
            entries.append((action, [audit_call("OIS100MI", step, outcome)], None))
            finished[action.key] = lane.failed(
                action, outcome.error or _no_output("Confirm"), request_of("OIS100MI", step.call)
            )
    lane.record(entries)
    for action in live:
        if action.key in finished:
            results.append((action, finished[action.key]))
    return results


def _stage(action: Action, state: Mapping[str, Any]) -> str:
    if "temporary" not in state:
        return "head"
    if state["lines"] < len(action.payload["lines"]):
        return "lines"
    return "confirm"


def _no_output(transaction: str) -> ApiError:
    return UnavailableError(f"OIS100MI/{transaction} answered without an order number", system="infor")


def _resume_orders(
    lane: M3Lane, actions: Sequence[Action], progress: dict[str, dict[str, Any]], finished: dict[str, Outcome]
) -> None:
    """Find out how far each order got before its answer was lost, and record it."""
    entries: list[Entry] = []
    for action in actions:
        state = progress[action.key]
        try:
            confirmed = _confirmed_order(lane, action)
            if confirmed:
                entries.append(
                    (
                        action,
                        [Call("EXPORTMI/Select OOHEAD", "found", step="confirm", target_id=confirmed)],
                        None,
                    )
                )
                finished[action.key] = Outcome.done(confirmed, Link("invoices", action.source_id, confirmed))
                continue
            heads = _batch_heads(lane, action)
            if len(heads) > 1:
                finished[action.key] = Outcome(
                    State.DEAD,
                    error=f"M3 has {len(heads)} batch orders with customer reference {action.stamp!r} "
                    f"({', '.join(heads)}); delete all but one in M3, then retry",
                    error_class="DuplicateInTarget",
                )
                continue
            if heads and state.get("temporary") != heads[0]:
                state.clear()
                state.update({"temporary": heads[0], "lines": 0})
            if heads:
                state["lines"] = _lines_present(lane, heads[0], len(action.payload["lines"]))
                entries.append(
                    (
                        action,
                        [Call("EXPORTMI/Select batch order", "found", step="head", target_id=heads[0])],
                        state,
                    )
                )
            else:
                state.clear()
                entries.append((action, [Call("EXPORTMI/Select batch order", "absent", step="head")], state))
        except ApiError as error:
            finished[action.key] = lane.failed(action, error)
    lane.record(entries)


def _confirmed_order(lane: M3Lane, action: Action) -> str | None:
    """The real order number of a confirmed order carrying this action's customer reference, if any.

    OOHEAD holds confirmed orders only (it has no batch status), so any row of the customer is one.
    """
    orders = orders_by_reference(lane.client, str(action.payload["head"]["CUNO"]), action.stamp or "")
    return orders[0] if orders else None


def _batch_heads(lane: M3Lane, action: Action) -> list[str]:
    """Temporary numbers of batch orders (not confirmed yet) carrying this action's customer reference."""
    cuno = str(action.payload["head"]["CUNO"])
    return [
        str(row["OAORNO"]).strip()
        for batch in lane.client.iter_export(
            table=BATCH_HEAD_TABLE,
            columns=["OAORNO", "OACUNO", "OACUOR", "OASTAT"],
            where=[("OACUOR", "=", action.stamp or "")],
        )
        for row in batch
        if str(row.get("OACUNO", "")).strip() == cuno and str(row.get("OASTAT", "")).strip() == BATCH_OPEN
    ]


def _lines_present(lane: M3Lane, temporary: str, wanted: int) -> int:
    """How many of the order's lines the batch already holds (they were sent in order)."""
    count = sum(
        len(batch)
        for batch in lane.client.iter_export(
            table=BATCH_LINE_TABLE, columns=["OBORNO", "OBPONR"], where=[("OBORNO", "=", temporary)]
        )
    )
    return min(count, wanted)


# Where M3 keeps batch orders (OIS100MI's batch entry tables); a batch still open has status 05 (90 once
# confirmed, with the real order number in ORNR).
BATCH_HEAD_TABLE = "OXHEAD"
BATCH_LINE_TABLE = "OXLINE"
BATCH_OPEN = "05"


# -- cash receipts: ARS040MI ---------------------------------------------------------------------------


def push_payment_adds(lane: M3Lane, actions: Sequence[Action]) -> Results:
    """One ARS040MI batch per payment (head, line, control), its number derived from the action key.

    The payment applies to the M3 AR invoice of the order that carries the FreshBooks invoice number; until
    M3 has invoiced that order the action waits (blocked, rechecked later), it is not an error. Finding
    that invoice takes two reads per payment, so each claim is renewed before its reads: a batch of 100
    at a SaaS round trip outlasts a lease.
    """
    results: Results = []
    ready: list[tuple[Action, dict[str, Any]]] = []
    for action in actions:
        dead = refused(action)
        if dead is not None:
            results.append((action, dead))
            continue
        if not lane.held([action]):
            continue  # taken over while the ones before it were looked up: the new holder carries on
        try:
            invoice = _ar_invoice(lane, action)
        except ApiError as error:
            results.append((action, lane.failed(action, error)))
            continue
        if invoice is None:
            reference = action.payload.get("invoice_reference")
            results.append((action, waiting(f"M3 has not invoiced the order for FreshBooks invoice {reference} yet",
                                            recheck_minutes=lane.config.recheck_minutes)))  # fmt: skip
            continue
        ready.append((action, invoice))
    batches = {a.key: m3_number(a.key, 10) for a, _ in ready}
    done_steps = {a.key: set(a.progress.get("steps", [])) for a, _ in ready}
    postings = lane.config.m3

    def head(action: Action, invoice: Mapping[str, Any]) -> MiCall:
        return MiCall("AddBatchHead", {"PBID": batches[action.key], "BOPE": postings.payment_batch_type,
                                       "ACDT": action.payload["line"].get("LPDT", "")})  # fmt: skip

    def line(action: Action, invoice: Mapping[str, Any]) -> MiCall:
        record = {**action.payload["line"], "PBID": batches[action.key], "TRNO": "1",
                  "CINO": invoice["CINO"], "INYR": invoice["INYR"], "CKNO": action.stamp or ""}  # fmt: skip
        return MiCall("AddBatchLine", {k: v for k, v in record.items() if v not in (None, "")})

    def control(action: Action, invoice: Mapping[str, Any]) -> MiCall:
        return MiCall("ControlBatch", {"PBID": batches[action.key]})

    return results + _batch_steps(
        lane, "ARS040MI", ready, [("head", head), ("line", line), ("control", control)], done_steps,
        target_id=lambda a: batches[a.key],
        link=lambda a: Link("payments", a.source_id, a.stamp or batches[a.key]),
    )  # fmt: skip


def _ar_invoice(lane: M3Lane, action: Action) -> dict[str, Any] | None:
    """The AR invoice (CINO, INYR) of the M3 order carrying the payment's FreshBooks invoice number."""
    if action.payload.get("CINO"):
        return {"CINO": action.payload["CINO"], "INYR": action.payload["INYR"]}
    cuno = str(action.payload["line"]["CUNO"])
    for order in orders_by_reference(lane.client, cuno, str(action.payload.get("invoice_reference") or "")):
        invoices = order_invoices(lane.client, order)
        if invoices:
            return {"CINO": invoices[0]["CINO"], "INYR": invoices[0]["INYR"]}
    return None


def orders_by_reference(m3: M3Client, cuno: str, reference: str) -> list[str]:
    """Confirmed orders of customer ``cuno`` whose customer reference (CUOR) is ``reference``."""
    return [
        str(row["OAORNO"]).strip()
        for batch in m3.iter_export(
            table="OOHEAD", columns=["OAORNO", "OACUNO", "OACUOR"], where=[("OACUOR", "=", reference)]
        )
        for row in batch
        if str(row.get("OACUNO", "")).strip() == cuno
    ]


def order_invoices(m3: M3Client, order: str) -> list[dict[str, str]]:
    """The AR invoices of an order, with the delivery each bills (``OIS350MI/LstInvHeadByCo``)."""
    rows = m3.execute(program="OIS350MI", transaction="LstInvHeadByCo", params={"ORNO": order}, maxrecs=0)
    return [
        {
            "CINO": str(row.get("IVNO", "")).strip(),
            "INYR": str(row.get("YEA4", "")).strip(),
            "DLIX": str(row.get("DLIX", "")).strip(),
        }
        for row in rows
        if str(row.get("IVNO", "")).strip()
    ]


# -- GL postings: GLS840MI -----------------------------------------------------------------------------


def push_gl_adds(lane: M3Lane, actions: Sequence[Action]) -> Results:
    """One GLS840MI batch per expense, keyed by the action's stamp: a debit, its balancing credit, post.

    The credit is the debit negated onto the offset account, so every batch balances by construction; M3
    posts a batch whole (UpdBatch) or not at all.
    """
    results: Results = []
    ready: list[tuple[Action, dict[str, Any]]] = []
    for action in actions:
        dead = refused(action)
        if dead is not None:
            results.append((action, dead))
            continue
        try:
            credit = offset_line(action.payload["debit"], action.payload["offset_account"])
        except MappingError as error:
            results.append((action, lane.failed(action, error)))
            continue
        ready.append((action, {"credit": credit}))
    done_steps = {a.key: set(a.progress.get("steps", [])) for a, _ in ready}

    def record(action: Action, **fields: Any) -> dict[str, Any]:
        return {"CONO": action.payload["company"], "KEY1": action.stamp, **fields}

    def head(action: Action, extra: Mapping[str, Any]) -> MiCall:
        return MiCall("AddBatchHead", record(action, INTN=action.payload["interface"],
                                             DESC=f"FreshBooks expense {action.source_id}"[:40]))  # fmt: skip

    def debit(action: Action, extra: Mapping[str, Any]) -> MiCall:
        return MiCall("AddBatchLine", record(action, LINE="1", PARM=action.payload["debit"]))

    def credit_line(action: Action, extra: Mapping[str, Any]) -> MiCall:
        return MiCall("AddBatchLine", record(action, LINE="2", PARM=extra["credit"]))

    def post(action: Action, extra: Mapping[str, Any]) -> MiCall:
        return MiCall("UpdBatch", record(action))

    return results + _batch_steps(
        lane, "GLS840MI", ready, [("head", head), ("debit", debit), ("credit", credit_line), ("post", post)], done_steps,
        target_id=lambda a: a.stamp or "",
        link=lambda a: Link("expenses", a.source_id, a.stamp or ""),
    )  # fmt: skip


def offset_line(debit: str, account: str) -> str:
    """The balancing line of a ``KEY=value;...`` PARM: the same amount negated, on ``account``."""
    parts = dict(part.split("=", 1) for part in debit.split(";") if "=" in part)
    if "CUAM" not in parts or "AIT1" not in parts:
        raise MappingError(f"GL line {debit!r} has no AIT1 or CUAM to balance")
    amount = parts["CUAM"].strip()
    parts["CUAM"] = amount[1:] if amount.startswith("-") else f"-{amount}"
    parts["AIT1"] = account
    return ";".join(f"{key}={value}" for key, value in parts.items())


def _batch_steps(
    lane: M3Lane,
    program: str,
    ready: Sequence[tuple[Action, Mapping[str, Any]]],
    stages: Sequence[tuple[str, Callable[[Action, Mapping[str, Any]], MiCall]]],
    done_steps: dict[str, set[str]],
    *,
    target_id: Callable[[Action], str],
    link: Callable[[Action], Link],
) -> Results:
    """Run a caller-keyed batch program's stages in bulk, skipping stages already done.

    A stage M3 refuses as existing (or, for the last, as already updated) was done by an earlier attempt
    whose answer was lost: that is progress, not an error. Every stage is safe to resend, so an action in
    doubt simply runs its stages again.
    """
    results: Results = []
    live = {action.key: (action, extra) for action, extra in ready}
    last = stages[-1][0]
    for name, build in stages:
        pending = [(a, e) for a, e in live.values() if name not in done_steps[a.key]]
        held = {a.key for a in lane.held([a for a, _ in pending])}
        steps = [MiStep(a, build(a, e), name) for a, e in pending if a.key in held]
        send_steps(lane, program, steps)
        entries: list[Entry] = []
        for step in steps:
            outcome = step.outcome
            action = step.action
            repeated = refused_as_existing(outcome.error) or (name == last and _already_done(outcome.error))
            if outcome.ok or repeated:
                done_steps[action.key].add(name)
                result = "applied" if outcome.ok else "found"
                entries.append((action, [audit_call(program, step, outcome, result=result, target_id=target_id(action))],
                                {"steps": sorted(done_steps[action.key])}))  # fmt: skip
            else:
                entries.append((action, [audit_call(program, step, outcome)], None))
                assert outcome.error is not None
                results.append((action, lane.failed(action, outcome.error, request_of(program, step.call))))
                live.pop(action.key)
        for action, _extra in pending:
            if action.key not in held:
                live.pop(action.key, None)  # changed hands: the new holder carries on
        lane.record(entries)
    for action, _extra in live.values():
        if last in done_steps[action.key]:
            results.append((action, Outcome.done(target_id(action), link(action))))
    return results


HANDLERS: dict[str, Callable[[M3Lane, Sequence[Action]], Results]] = {
    "m3.customer.add": push_customer_adds,
    "m3.customer.change": push_customer_changes,
    "m3.order.add": push_order_adds,
    "m3.payment.add": push_payment_adds,
    "m3.gl.add": push_gl_adds,
}
