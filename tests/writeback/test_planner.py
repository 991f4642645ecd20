"""The planner: which reconciliation outcomes become writes, with which payload, in which order.

Each test builds small ``core.*`` tables, runs the real matchers, and plans: the rules are checked on
what reconciliation really says, not on hand-made match rows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finsync_dagster.ledger import Action, State
from finsync_dagster.mapping import load_specs
from finsync_dagster.recon import (
    DEFAULT_TOLERANCES,
    match_customers,
    match_expenses,
    match_invoices,
    match_payments,
    replace_match_table,
)
from finsync_dagster.writeback import Context, Plan, Rules, WriteBackConfig, creates_for, plan
from tests.recon.core_db import core_db

SPECS = {spec.name: spec for spec in load_specs()}
STAMP = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
MATCHERS = (
    ("customers", match_customers),
    ("invoices", match_invoices),
    ("payments", match_payments),
    ("expenses", match_expenses),
)


def fb_customer(source_id: str, name: str, email: str, **extra: Any) -> dict[str, Any]:
    return {"source": "freshbooks", "source_id": source_id, "name": name, "email": email,
            "address_line1": "1 Harbour St", "city": "Bergen", "postal_code": "5003", "country_code": "NO",
            "currency_code": "USD", "customer_template": "TSTD", "updated_at": STAMP, **extra}  # fmt: skip


def m3_customer(source_id: str, name: str, email: str, **extra: Any) -> dict[str, Any]:
    return {**fb_customer(source_id, name, email, **extra), "source": "infor", "customer_template": None}


def fb_invoice(source_id: str, number: str, customer: str, total: str, **extra: Any) -> dict[str, Any]:
    return {"source": "freshbooks", "source_id": source_id, "invoice_number": number,
            "customer_source_id": customer, "issue_date": date(2026, 11, 2), "currency_code": "USD",
            "total_amount": Decimal(total), "status": "sent", "updated_at": STAMP, **extra}  # fmt: skip


def fb_line(source_id: str, invoice: str, number: int, amount: str) -> dict[str, Any]:
    return {"source": "freshbooks", "source_id": source_id, "invoice_source_id": invoice, "line_number": number,
            "item_code": "WIDGET-A", "description": "Widget", "quantity": Decimal("1"),
            "unit_price": Decimal(amount), "line_amount": Decimal(amount), "currency_code": "USD"}  # fmt: skip


def reconciled(**tables: list[dict[str, Any]]) -> duckdb.DuckDBPyConnection:
    con = core_db(**tables)
    for entity, matcher in MATCHERS:
        replace_match_table(con, entity, matcher(con, DEFAULT_TOLERANCES))
    return con


def planned(con: duckdb.DuckDBPyConnection, config: WriteBackConfig | None = None, **context: Any) -> Plan:
    return plan(
        con, Context(pair="acme", config=config or WriteBackConfig(), specs=SPECS, company="100", **context)
    )


def test_a_freshbooks_client_missing_in_m3_becomes_one_crs610mi_add() -> None:
    con = reconciled(customers=[fb_customer("101", "Bjørnstad Sjømat AS", "post@bjornstad.example")])
    [action] = planned(con).actions
    assert (action.action, action.target, action.source_id, action.stamp) == (
        "m3.customer.add",
        "infor",
        "101",
        "FB101",
    )
    assert action.payload["CUNM"] == "Bjørnstad Sjømat AS" and action.payload["CUTM"] == "TSTD"
    assert action.source_version == str(STAMP.replace(tzinfo=None)) or action.source_version.startswith(
        "2026-11-02"
    )


def test_an_invoice_waits_for_the_customer_finsync_creates_and_is_entered_under_it() -> None:
    con = reconciled(
        customers=[fb_customer("101", "Fjord Fisk AS", "a@fjord.example")],
        invoices=[fb_invoice("7", "FS-0007", "101", "250.00")],
        invoice_lines=[fb_line("71", "7", 1, "200.00"), fb_line("72", "7", 2, "50.00")],
    )
    customer, order = planned(con).actions
    assert order.action == "m3.order.add" and order.depends_on == customer.key
    assert order.stamp == "FS-0007" and order.payload["head"]["CUNO"] == "FB101"
    assert [line["SAPR"] for line in order.payload["lines"]] == ["200.00", "50.00"]


def test_an_invoice_of_a_matched_customer_is_entered_under_the_m3_customer() -> None:
    con = reconciled(
        customers=[
            fb_customer("101", "Fjord Fisk AS", "a@fjord.example"),
            m3_customer("C0042", "FJORD FISK AS", "a@fjord.example"),
        ],
        invoices=[fb_invoice("7", "FS-0007", "101", "50.00")],
        invoice_lines=[fb_line("71", "7", 1, "50.00")],
    )
    [order] = planned(con).actions
    assert order.payload["head"]["CUNO"] == "C0042" and order.depends_on is None


def test_an_invoice_whose_client_nobody_is_creating_is_left_for_people() -> None:
    con = reconciled(
        customers=[fb_customer("101", "Fjord Fisk AS", "a@fjord.example")],
        invoices=[fb_invoice("7", "FS-0007", "101", "50.00")],
        invoice_lines=[fb_line("71", "7", 1, "50.00")],
    )
    result = planned(con, WriteBackConfig(rules=Rules(customers_to_m3="off")))
    assert result.actions == []
    [left] = result.left
    assert left.action == "m3.order.add" and "review the customer first" in left.reason


def test_a_rule_set_to_review_plans_nothing_and_says_what_it_would_do() -> None:
    con = reconciled(customers=[fb_customer("101", "Fjord Fisk AS", "a@fjord.example")])
    result = planned(con, WriteBackConfig(rules=Rules(customers_to_m3="review")))
    assert result.actions == []
    assert [(left.action, left.source_id) for left in result.left] == [("m3.customer.add", "101")]


def test_money_differences_are_never_written() -> None:
    con = reconciled(
        customers=[
            fb_customer("101", "Fjord Fisk AS", "a@fjord.example"),
            m3_customer("C0042", "Fjord Fisk AS", "a@fjord.example"),
        ],
        invoices=[fb_invoice("7", "FS-0007", "101", "50.00")],
        invoice_lines=[fb_line("71", "7", 1, "50.00")],
        orders=[
            {
                "source": "infor",
                "source_id": "1000001",
                "order_number": "1000001",
                "customer_source_id": "C0042",
                "customer_reference": "FS-0007",
                "order_date": date(2026, 11, 2),
                "currency_code": "USD",
                "total_amount": Decimal("50.01"),
                "status": "confirmed",
            }
        ],
    )
    statuses = dict(con.sql("SELECT freshbooks_id, status FROM recon.invoice_matches").fetchall())
    assert statuses == {"7": "matched_with_differences"}
    assert planned(con).actions == []


def test_an_owned_field_that_differs_is_set_in_the_other_system_and_nothing_else() -> None:
    con = reconciled(
        customers=[
            fb_customer("101", "Fjord Fisk AS", "a@fjord.example", city="Bergen"),
            m3_customer("C0042", "Fjord Fisk AS", "a@fjord.example", city="Oslo"),
        ],
    )
    [change] = planned(con).actions
    assert change.action == "m3.customer.change" and change.payload == {"CUNO": "C0042", "TOWN": "Bergen"}
    # the owner decides the direction; a field without an owner is never written
    owners = WriteBackConfig(owners={"customers": {"city": "infor"}})
    [update] = planned(con, owners).actions
    assert update.action == "freshbooks.client.update" and update.payload == {
        "clientid": "101",
        "fields": {"p_city": "Oslo"},
    }
    assert planned(con, WriteBackConfig(owners={"customers": {}})).actions == []


def test_an_m3_customer_finsync_created_from_a_gone_client_is_not_copied_back() -> None:
    con = reconciled(customers=[m3_customer("FB101", "Fjord Fisk AS", "a@fjord.example"),
                                m3_customer("C0042", "Nordlys AS", "b@nordlys.example")])  # fmt: skip
    result = planned(con)
    assert [(a.action, a.source_id) for a in result.actions] == [("freshbooks.client.create", "C0042")]
    assert result.actions[0].payload["note"].endswith("finsync M3 customer C0042")
    assert [(left.source_id, left.action) for left in result.left] == [("FB101", "freshbooks.client.create")]


def test_a_refused_mapping_is_planned_to_reach_the_dead_letters() -> None:
    # CRS610MI/Add requires an address line: a client without one cannot be created, and says why.
    con = reconciled(customers=[fb_customer("101", "Fjord Fisk AS", "a@fjord.example", address_line1=None)])
    [action] = planned(con).actions
    assert "_refused" in action.payload and "CUA1" in action.payload["_refused"]


def test_an_expense_becomes_a_balanced_gl_batch_on_the_mapped_account() -> None:
    con = reconciled(
        expenses=[{"source": "freshbooks", "source_id": "55", "expense_date": date(2026, 11, 3), "vendor": "SAS",
                   "category": "Travel", "gl_account": "6100", "amount": Decimal("1713.77"), "currency_code": "NOK"}],
    )  # fmt: skip
    [action] = planned(con).actions
    assert action.action == "m3.gl.add" and action.stamp == "FBE55"
    assert action.payload["debit"] == "AIT1=6100;ACDT=20261103;CUAM=1713.77;CUCD=NOK;VTXT=SAS"
    assert action.payload["offset_account"] == "1100"


def test_what_finsync_already_created_is_not_planned_again() -> None:
    con = reconciled(customers=[fb_customer("101", "Fjord Fisk AS", "a@fjord.example")])
    assert planned(con).actions  # without the crosswalk it would be created
    links = [{"entity": "customers", "freshbooks_id": "101", "infor_id": "FB101"}]
    assert planned(con, links=links).actions == []


_names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=60)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    clients=st.lists(st.tuples(_names, st.emails()), min_size=0, max_size=8, unique_by=lambda t: t[1]),
    in_m3=st.sets(st.integers(min_value=0, max_value=7)),
)
def test_planning_is_deterministic_and_acts_once_per_clear_absence(clients, in_m3) -> None:
    fb = [fb_customer(str(100 + n), name, email) for n, (name, email) in enumerate(clients)]
    m3 = [m3_customer(f"C{n}", name, email) for n, (name, email) in enumerate(clients) if n in in_m3]
    con = reconciled(customers=fb + m3)
    first, second = planned(con), planned(con)
    assert [a.key for a in first.actions] == [a.key for a in second.actions]
    missing = {
        fid for fid, status, suggestion in con.sql(
            "SELECT freshbooks_id, status, suggestion FROM recon.customer_matches WHERE freshbooks_id IS NOT NULL"
        ).fetchall()
        if status == "missing_in_infor" and not suggestion
    }  # fmt: skip
    adds = [a.source_id for a in first.actions if a.action == "m3.customer.add"]
    assert sorted(adds) == sorted(missing) and len(set(adds)) == len(adds)
    assert all(a.action in ("m3.customer.add", "m3.customer.change") for a in first.actions)


def test_an_order_planned_earlier_and_not_done_still_holds_back_its_payment() -> None:
    con = reconciled(
        customers=[
            fb_customer("101", "Fjord Fisk AS", "a@fjord.example"),
            m3_customer("C0042", "Fjord Fisk AS", "a@fjord.example"),
        ],
        invoices=[fb_invoice("7", "FS-0007", "101", "50.00")],
        invoice_lines=[fb_line("71", "7", 1, "50.00")],
        payments=[
            {
                "source": "freshbooks",
                "source_id": "900",
                "invoice_source_id": "7",
                "invoice_number": "FS-0007",
                "customer_source_id": "101",
                "payment_date": date(2026, 11, 9),
                "amount": Decimal("50.00"),
                "currency_code": "USD",
                "reference": "chq 12",
            }
        ],
    )
    order, payment = planned(con).actions
    assert (order.action, payment.action) == ("m3.order.add", "m3.payment.add")
    assert payment.depends_on == order.key and payment.payload["invoice_reference"] == "FS-0007"
    earlier = _action_from(order, State.SENDING)
    [payment_again] = [
        a
        for a in planned(con, creates={("m3.order.add", "7"): earlier}).actions
        if a.action == "m3.payment.add"
    ]
    assert payment_again.depends_on == order.key


def _action_from(planned_action: Any, state: State) -> Action:
    return Action(
        id=1, key=planned_action.key, pair="acme", action=planned_action.action, target="infor",
        entity=planned_action.entity, source_system="freshbooks", source_id=planned_action.source_id,
        source_version="v1", stamp=planned_action.stamp, payload=planned_action.payload, depends_on=None,
        state=state, attempts=0, fence=1, progress={}, target_id=None, last_error=None, last_error_class=None,
        next_attempt_at=None, lease_owner=None, planned_at=STAMP, updated_at=STAMP, done_at=None,
    )  # fmt: skip


@pytest.mark.parametrize("status", ["draft"])
def test_a_draft_m3_has_delivered_is_marked_sent_with_m3s_numbers(status: str) -> None:
    con = reconciled(
        customers=[
            fb_customer("101", "Fjord Fisk AS", "a@fjord.example"),
            m3_customer("C0042", "Fjord Fisk AS", "a@fjord.example"),
        ],
        invoices=[fb_invoice("7", "FS-0007", "101", "50.00", status=status)],
        invoice_lines=[fb_line("71", "7", 1, "50.00")],
        orders=[
            {
                "source": "infor",
                "source_id": "1000001",
                "order_number": "1000001",
                "customer_source_id": "C0042",
                "customer_reference": "FS-0007",
                "order_date": date(2026, 11, 2),
                "currency_code": "USD",
                "total_amount": Decimal("50.00"),
                "status": "delivered",
                "updated_at": STAMP,
            }
        ],
    )
    [mark] = [a for a in planned(con).actions if a.action == "freshbooks.invoice.mark_sent"]
    assert mark.payload["invoiceid"] == "7" and mark.payload["note_line"] == "M3 order 1000001 (finsync)"


def test_a_person_can_ask_to_create_a_record_left_to_them() -> None:
    con = reconciled(customers=[fb_customer("101", "Fjord Fisk AS", "a@fjord.example")])
    review = WriteBackConfig(rules=Rules(customers_to_m3="review"))
    assert planned(con, review).actions == []  # left for a person
    context = Context(pair="acme", config=review, specs=SPECS, company="100")
    [action] = creates_for(con, context, "customers", "freshbooks", ["101"]).actions
    assert (action.action, action.source_id, action.payload["CUNO"]) == ("m3.customer.add", "101", "FB101")
    [left] = creates_for(con, context, "gl_accounts", "freshbooks", ["6100"]).left
    assert "does not create gl_accounts" in left.reason
