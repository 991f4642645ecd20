"""Internal records -> the JSON objects the FreshBooks API answers with (contract section 4).

Each renderer merges a record's own fields into a constant template of the fields the sandbox does not
model (they keep the keys and types of the SDK fixtures), so a page of 100 invoices costs 100 small
dict merges. Money is ``{"amount": "<str>", "code": ...}``; accounting timestamps are US/Eastern
wall-clock text, except the UTC fields the SDKs name (client ``signup_date``, bill and bill vendor
``created_at``/``updated_at``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from finsync_dagster.sandbox.freshbooks.models import Account
from finsync_dagster.sandbox.freshbooks.rules import BILL_VENDOR_TEXT_FIELDS, CLIENT_TEXT_FIELDS
from finsync_dagster.sandbox.freshbooks.values import (
    INVOICE_STATUS_CODES,
    Record,
    add_days,
    bill_status,
    eastern_text,
    invoice_payment_status,
    invoice_v3_status,
    money,
    today_eastern,
    utc_text,
)

_CLIENT_TEMPLATE: dict[str, Any] = {
    "role": "client",
    "level": 0,
    "has_retainer": False,
    "retainer_id": None,
    "last_activity": None,
    "last_login": None,
    "num_logins": 0,
    "notified": False,
    "pref_email": True,
    "pref_gmail": False,
    "allow_late_fees": True,
    "allow_late_notifications": True,
    "allow_email_include_pdf": False,
    "subdomain": None,
    "statement_token": None,
    "direct_link_token": None,
    "uuid": None,
}
_INVOICE_TEMPLATE: dict[str, Any] = {
    "deposit_amount": None,
    "deposit_percentage": None,
    "deposit_status": "none",
    "autobill_status": None,
    "auto_bill": False,
    "dispute_status": None,
    "template": "clean-grouped",
    "ownerid": 1,
    "parent": 0,
    "estimateid": 0,
    "sentid": 1,
    "ext_archive": 0,
    "basecampid": 0,
    "generation_date": None,
    "fulfillment_date": None,
    "last_order_status": None,
    "payment_details": "",
    "return_uri": None,
    "show_attachments": True,
    "gmail": False,
    "current_organization": None,
}
_EXPENSE_TEMPLATE: dict[str, Any] = {
    "accountid": None,
    "account_name": None,
    "bank_name": None,
    "taxPercent1": None,
    "taxPercent2": None,
    "compounded_tax": False,
    "has_receipt": False,
    "include_receipt": False,
    "isduplicate": False,
    "is_cogs": False,
    "from_bulk_import": False,
    "billable": False,
    "profileid": None,
    "transactionid": None,
    "ext_invoiceid": 0,
    "ext_systemid": 0,
    "ext_accountid": None,
    "background_jobid": None,
    "converse_projectid": None,
    "modern_projectid": None,
    "potential_bill_payment": False,
    "bill_matches": [],
}


def render_client(account: Account, rec: Record, includes: frozenset[str]) -> dict[str, Any]:
    out = {**_CLIENT_TEMPLATE, **{k: rec.get(k) for k in CLIENT_TEXT_FIELDS}}
    out.update(
        id=rec["id"],
        userid=rec["id"],
        accounting_systemid=account.account_id,
        vis_state=rec["vis_state"],
        updated=eastern_text(rec["updated"]),
        signup_date=utc_text(rec["signup"]),
        username=rec.get("username") or rec.get("email") or f"client{rec['id']}",
    )
    if "outstanding_balance" in includes:
        out["outstanding_balance"] = _outstanding_balance(account, rec)
    return out


def _outstanding_balance(account: Account, client: Record) -> list[dict[str, Any]]:
    invoices = account.tables["invoices"]
    totals: dict[str, int] = {}
    for invoice_id in invoices.index["customerid"].get(str(client["id"]), ()):
        invoice = invoices.rows[invoice_id]
        if invoice["vis_state"] != 1 and invoice["sent"] != "draft":
            code = invoice["currency_code"]
            totals[code] = totals.get(code, 0) + max(invoice["amount"] - invoice["paid"], 0)
    return [{"amount": money(cents, code)} for code, cents in sorted(totals.items()) if cents]


def render_invoice(account: Account, rec: Record, includes: frozenset[str]) -> dict[str, Any]:
    code = rec["currency_code"]
    today = today_eastern(account.clock)
    v3_status = invoice_v3_status(rec, today)
    outstanding = max(rec["amount"] - rec["paid"], 0)
    out = {**_INVOICE_TEMPLATE}
    out.update(
        id=rec["id"],
        invoiceid=rec["id"],
        accountid=account.account_id,
        accounting_systemid=account.account_id,
        customerid=rec["customerid"],
        invoice_number=rec["invoice_number"],
        create_date=rec["create_date"],
        due_date=add_days(rec["create_date"], rec["due_offset_days"]),
        due_offset_days=rec["due_offset_days"],
        date_paid=rec["date_paid"],
        created_at=eastern_text(rec["created"]),
        updated=eastern_text(rec["updated"]),
        currency_code=code,
        language=rec["language"],
        amount=money(rec["amount"], code),
        outstanding=money(outstanding, code),
        paid=money(rec["paid"], code),
        discount_total=money(-rec["discount"], code),
        net_paid_amount=money(rec["paid"], code),
        discount_value=rec["discount_value"],
        discount_description=rec.get("discount_description"),
        status=INVOICE_STATUS_CODES[v3_status],
        v3_status=v3_status,
        display_status="draft" if rec["sent"] == "draft" else rec["sent"],
        payment_status=invoice_payment_status(rec),
        fname=rec.get("fname"),
        lname=rec.get("lname"),
        organization=rec.get("organization"),
        email=rec.get("email"),
        address=rec.get("address"),
        street=rec.get("street"),
        street2=rec.get("street2"),
        city=rec.get("city"),
        province=rec.get("province"),
        code=rec.get("code"),
        country=rec.get("country"),
        vat_name=rec.get("vat_name"),
        vat_number=rec.get("vat_number"),
        notes=rec.get("notes"),
        terms=rec.get("terms"),
        po_number=rec.get("po_number"),
        uuid=f"{account.business.business_uuid[:24]}{rec['id']:012x}",
        version=eastern_text(rec["updated"]),
        vis_state=rec["vis_state"],
    )
    if "lines" in includes:
        updated = out["updated"]
        out["lines"] = [
            {
                "lineid": n,
                "invoiceid": rec["id"],
                "name": line.name,
                "description": line.description,
                "qty": line.qty,
                "unit_cost": money(line.unit_cost, code),
                "amount": money(line.amount, code),
                "type": 0,
                "taxName1": line.tax_name1,
                "taxAmount1": line.tax_amount1,
                "taxName2": line.tax_name2,
                "taxAmount2": line.tax_amount2,
                "taxNumber1": None,
                "taxNumber2": None,
                "compounded_tax": False,
                "expenseid": 0,
                "date": None,
                "updated": updated,
                "taskno": n,
                "retainer_id": None,
                "retainer_period_id": None,
                "basecampid": 0,
                "modern_project_id": None,
                "modern_time_entries": [],
            }
            for n, line in enumerate(rec["lines"], start=1)
        ]
    return out


def render_credit_note(account: Account, rec: Record, includes: frozenset[str]) -> dict[str, Any]:
    """The most plausible shape (the contract names only the path): an invoice's client and line keys."""
    code = rec["currency_code"]
    status = "created" if rec["sent"] == "draft" else rec["sent"]
    out: dict[str, Any] = {
        "id": rec["id"],
        "creditid": rec["id"],
        "accounting_systemid": account.account_id,
        "clientid": rec["clientid"],
        "credit_number": rec["credit_number"],
        "create_date": rec["create_date"],
        "currency_code": code,
        "language": rec["language"],
        "amount": money(rec["amount"], code),
        "tax_amount": money(rec["tax"], code),
        "status": status,
        "display_status": status,
        "fname": rec.get("fname"),
        "lname": rec.get("lname"),
        "organization": rec.get("organization"),
        "email": rec.get("email"),
        "notes": rec.get("notes"),
        "terms": rec.get("terms"),
        "description": rec.get("description"),
        "created_at": eastern_text(rec["created"]),
        "updated": eastern_text(rec["updated"]),
        "vis_state": rec["vis_state"],
    }
    if "lines" in includes:
        out["lines"] = [
            {
                "lineid": n,
                "creditid": rec["id"],
                "name": line.name,
                "description": line.description,
                "qty": line.qty,
                "unit_cost": money(line.unit_cost, code),
                "amount": money(line.amount, code),
                "taxName1": line.tax_name1,
                "taxAmount1": line.tax_amount1,
                "taxName2": line.tax_name2,
                "taxAmount2": line.tax_amount2,
            }
            for n, line in enumerate(rec["lines"], start=1)
        ]
    return out


def render_payment(account: Account, rec: Record, includes: frozenset[str]) -> dict[str, Any]:
    return {
        "id": rec["id"],
        "logid": rec["id"],
        "invoiceid": rec["invoiceid"],
        "clientid": rec["clientid"],
        "accounting_systemid": account.account_id,
        "amount": money(rec["amount"], rec["code"]),
        "date": rec["date"],
        "type": rec["type"],
        "note": rec.get("note") or "",
        "gateway": None,
        "orderid": rec.get("orderid"),
        "transactionid": rec.get("transactionid"),
        "overpaymentid": rec.get("overpaymentid"),
        "creditid": None,
        "bulk_paymentid": None,
        "from_credit": rec.get("from_credit", False),
        "send_client_notification": None,
        "updated": eastern_text(rec["updated"]),
        "vis_state": rec["vis_state"],
    }


def render_expense(account: Account, rec: Record, includes: frozenset[str]) -> dict[str, Any]:
    code = rec["code"]
    status = 1 if rec["clientid"] and not rec.get("invoiceid") else (2 if rec.get("invoiceid") else 0)
    out = {**_EXPENSE_TEMPLATE}
    out.update(
        id=rec["id"],
        expenseid=rec["id"],
        categoryid=rec["categoryid"],
        amount=money(rec["amount"], code),
        vendor=rec.get("vendor"),
        date=rec["date"],
        notes=rec.get("notes") or "",
        staffid=rec["staffid"],
        clientid=rec["clientid"],
        projectid=rec["projectid"],
        invoiceid=rec.get("invoiceid"),
        status=status,
        accounting_systemid=account.account_id,
        markup_percent=rec.get("markup_percent") or "0",
        taxName1=rec.get("tax_name1"),
        taxName2=rec.get("tax_name2"),
        taxAmount1=None if rec.get("tax_amount1") is None else money(rec["tax_amount1"], code),
        taxAmount2=None if rec.get("tax_amount2") is None else money(rec["tax_amount2"], code),
        updated=eastern_text(rec["updated"]),
        vis_state=rec["vis_state"],
    )
    if "category" in includes:
        category = account.tables["categories"].get(rec["categoryid"])
        out["category"] = None if category is None else render_category(account, category, frozenset())
    return out


def render_category(account: Account, rec: Record, includes: frozenset[str]) -> dict[str, Any]:
    return {
        "id": rec["id"],
        "categoryid": rec["id"],
        "category": rec["category"],
        "parentid": rec.get("parentid"),
        "is_cogs": rec.get("is_cogs", False),
        "is_editable": rec.get("is_editable", False),
        "transaction_posted": False,
        "created_at": eastern_text(rec["created"]),
        "updated_at": eastern_text(rec["updated"]),
        "vis_state": rec["vis_state"],
    }


def render_item(account: Account, rec: Record, includes: frozenset[str]) -> dict[str, Any]:
    return {
        "id": rec["id"],
        "itemid": rec["id"],
        "accounting_systemid": account.account_id,
        "name": rec["name"],
        "description": rec.get("description") or "",
        "qty": rec["qty"],
        "inventory": rec.get("inventory"),
        "sku": rec.get("sku"),
        "unit_cost": money(rec["unit_cost"], rec["code"]),
        "tax1": rec["tax1"],
        "tax2": rec["tax2"],
        "updated": eastern_text(rec["updated"]),
        "vis_state": rec["vis_state"],
    }


def render_tax(account: Account, rec: Record, includes: frozenset[str]) -> dict[str, Any]:
    return {
        "id": rec["id"],
        "taxid": rec["id"],
        "accounting_systemid": account.account_id,
        "name": rec["name"],
        "number": rec.get("number"),
        "amount": rec["amount"],
        "compound": rec["compound"],
        "updated": eastern_text(rec["updated"]),
    }


def render_bill_vendor(account: Account, rec: Record, includes: frozenset[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rec["id"], "vendorid": rec["id"]}
    for name in BILL_VENDOR_TEXT_FIELDS:
        out[name] = rec.get(name)
    out.update(
        is_1099=rec.get("is_1099", False),
        tax_defaults=[],
        outstanding_balance=[],
        overdue_balance=[],
        created_at=utc_text(rec["created"]),
        updated_at=utc_text(rec["updated"]),
        vis_state=rec["vis_state"],
    )
    return out


def render_bill(account: Account, rec: Record, includes: frozenset[str]) -> dict[str, Any]:
    code = rec["currency_code"]
    return {
        "id": rec["id"],
        "vendorid": rec["vendorid"],
        "bill_number": rec.get("bill_number"),
        "issue_date": rec["issue_date"],
        "due_date": add_days(rec["issue_date"], rec["due_offset_days"]),
        "due_offset_days": rec["due_offset_days"],
        "currency_code": code,
        "language": rec.get("language"),
        "lines": [
            {
                "id": n,
                "categoryid": line.categoryid,
                "description": line.description,
                "quantity": line.quantity,
                "unit_cost": money(line.unit_cost, code),
                "amount": money(line.amount, code),
                "tax_name1": line.tax_name1,
                "tax_percent1": line.tax_percent1,
                "tax_amount1": money(line.tax, code) if line.tax_name1 else None,
                "tax_name2": line.tax_name2,
                "tax_percent2": line.tax_percent2,
                "tax_amount2": None,
                "total_amount": money(line.amount + line.tax, code),
            }
            for n, line in enumerate(rec["lines"], start=1)
        ],
        "amount": money(rec["amount"] - rec["tax"], code),
        "tax_amount": money(rec["tax"], code),
        "total_amount": money(rec["amount"], code),
        "paid": money(rec["paid"], code),
        "outstanding": money(max(rec["amount"] - rec["paid"], 0), code),
        "status": bill_status(rec, today_eastern(account.clock)),
        "overall_category": rec.get("overall_category"),
        "overall_description": rec.get("overall_description"),
        "attachment": None,
        "created_at": utc_text(rec["created"]),
        "updated_at": utc_text(rec["updated"]),
        "vis_state": rec["vis_state"],
    }


RENDERERS: dict[str, Callable[[Account, Record, frozenset[str]], dict[str, Any]]] = {
    "clients": render_client,
    "invoices": render_invoice,
    "credit_notes": render_credit_note,
    "payments": render_payment,
    "expenses": render_expense,
    "categories": render_category,
    "items": render_item,
    "taxes": render_tax,
    "bill_vendors": render_bill_vendor,
    "bills": render_bill,
}
