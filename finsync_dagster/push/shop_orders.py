"""The FreshBooks writes of a shop order: its buyer's client, then its invoice.

A client is found by its e-mail address before anything is created (an existing client is reused and
only its empty fields are filled in), so a resend after a lost answer finds what the first attempt made.
An invoice carries the shop order's name in ``po_number``: a create whose answer was lost is looked up by
it (``search[po_number]``) before it is sent again, and an action resumed from in doubt looks first. The
crosswalk pairing is written with the action's ``done``, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from finsync_dagster.errors import OutcomeUnknownError
from finsync_dagster.ledger import Action, Call, Outcome
from finsync_dagster.push.freshbooks import FreshBooksLane, WriteFailed, each_action, timed_call
from finsync_dagster.push.lane import Results
from finsync_dagster.push.outcomes import sendable, waiting
from finsync_dagster.writeback.shop_orders import CLIENT, INVOICE, client_link, order_link

# Fields of a found client that finsync fills in from the shop, only when FreshBooks has them empty: the
# contact's names. Nothing else is touched: the organization names the client in reconciliation, and the
# address and country are fields FreshBooks owns towards M3 (``write_back.owners``).
FILLABLE = ("fname", "lname")


def push_shop_clients(lane: FreshBooksLane, actions: Sequence[Action]) -> Results:
    def one(action: Action) -> tuple[list[Call], Outcome]:
        email = str(action.payload["email"])
        body = sendable(action.payload["body"])
        calls: list[Call] = []
        try:
            found, call = timed_call(
                lane, "GET clients?email", "lookup", lambda: client_by_email(lane, email)
            )
            if found is not None:
                client_id = str(found["id"])
                calls.append(
                    Call(call.call, "found", step="lookup", target_id=client_id, latency_ms=call.latency_ms)
                )
                blanks = {k: body[k] for k in FILLABLE if body.get(k) and not found.get(k)}
                if blanks:
                    label = f"PUT clients/{client_id}"
                    _v, put = timed_call(
                        lane, label, "update", lambda: lane.client.update("clients", client_id, blanks)
                    )
                    calls.append(
                        Call(label, "applied", step="update", target_id=client_id, latency_ms=put.latency_ms)
                    )
                return calls, Outcome.done(client_id, client_link(client_id, email))
            calls.append(Call(call.call, "absent", step="lookup", latency_ms=call.latency_ms))
            created, call = timed_call(
                lane,
                "POST clients",
                "create",
                lambda: lane.client.create("clients", body, lookup={"email": email}),
            )
        except WriteFailed as failed:
            return [*calls, failed.call], lane.failed(
                action, failed.error, {"call": failed.call.call, "body": body}
            )
        client_id = str(created["id"])
        calls.append(
            Call(call.call, "applied", step="create", target_id=client_id, latency_ms=call.latency_ms)
        )
        return calls, Outcome.done(client_id, client_link(client_id, email))

    return each_action(lane, actions, one)


def client_by_email(lane: FreshBooksLane, email: str) -> dict[str, Any] | None:
    """The FreshBooks client with this e-mail address (the oldest, if several share it)."""
    found = [
        client
        for page in lane.client.iter_pages("clients", search={"email": email})
        for client in page
        if str(client.get("email") or "").strip().lower() == email
    ]
    return min(found, key=lambda c: int(c["id"])) if found else None


def push_shop_invoices(lane: FreshBooksLane, actions: Sequence[Action]) -> Results:
    def one(action: Action) -> tuple[list[Call], Outcome]:
        name = str(action.stamp)
        calls: list[Call] = []
        body = dict(sendable(action.payload["body"]))
        try:
            if action.resumed:
                found, call = timed_call(
                    lane, "GET invoices?po_number", "lookup", lambda: invoice_by_name(lane, name)
                )
                if found is not None:
                    invoice_id = str(found["id"])
                    calls.append(
                        Call(
                            call.call,
                            "found",
                            step="create",
                            target_id=invoice_id,
                            latency_ms=call.latency_ms,
                        )
                    )
                    return calls, Outcome.done(invoice_id, order_link(invoice_id, action.source_id))
                calls.append(Call(call.call, "absent", step="lookup", latency_ms=call.latency_ms))
            customerid = _customerid(lane, action)
            if customerid is None:
                return calls, waiting(
                    "its FreshBooks client is not found or created yet",
                    recheck_minutes=lane.config.recheck_minutes,
                )
            body["customerid"] = int(customerid)
            created, call = timed_call(
                lane, "POST invoices", "create",
                lambda: lane.client.create("invoices", body, lookup={"po_number": name}),
            )  # fmt: skip
        except WriteFailed as failed:
            return [*calls, failed.call], lane.failed(
                action, failed.error, {"call": failed.call.call, "body": body}
            )
        invoice_id = str(created["id"])
        calls.append(
            Call(call.call, "applied", step="create", target_id=invoice_id, latency_ms=call.latency_ms)
        )
        return calls, Outcome.done(invoice_id, order_link(invoice_id, action.source_id))

    return each_action(lane, actions, one)


def invoice_by_name(lane: FreshBooksLane, name: str) -> dict[str, Any] | None:
    """The invoice carrying the shop order's name in its po_number; more than one is for a person."""
    found = [
        invoice
        for page in lane.client.iter_pages("invoices", search={"po_number": name})
        for invoice in page
        if invoice.get("po_number") == name
    ]
    if len(found) > 1:
        ids = ", ".join(str(i.get("id")) for i in found)
        raise OutcomeUnknownError(
            f"{len(found)} FreshBooks invoices carry shop order {name!r} ({ids}); keep one, then retry",
            system="freshbooks",
        )
    return found[0] if found else None


def _customerid(lane: FreshBooksLane, action: Action) -> str | None:
    """The client the plan knew, else the one its client action found or created."""
    known = action.payload.get("customerid")
    if known:
        return str(known)
    key = action.payload.get("client_action")
    client_action = lane.ledger.action(str(key)) if key else None
    return client_action.target_id if client_action is not None else None


HANDLERS: dict[str, Callable[[FreshBooksLane, Sequence[Action]], Results]] = {
    CLIENT: push_shop_clients,
    INVOICE: push_shop_invoices,
}
