"""Business rules of writes: request data (and the old record) -> the new internal record.

One builder per resource validates the body the way the API does (422 with errno 1001 for a missing
field, 1004 for an invalid value, 7012 for a nameless client, 1018 for a bad percentage) and computes what
the API computes (invoice and bill totals from their lines, invoice numbers, overpayment credits).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from finsync_dagster.sandbox.freshbooks.errors import AccountingError, invalid_value, required_field
from finsync_dagster.sandbox.freshbooks.values import (
    BillLine,
    Line,
    Record,
    cents_text,
    decimal_text,
    invoice_totals,
    make_line,
    parse_bool,
    parse_cents,
    parse_date,
    parse_int,
    percent_of,
    text_or_none,
)

if TYPE_CHECKING:
    from finsync_dagster.sandbox.freshbooks.models import Account


PAYMENT_TYPES = (
    "Check",
    "Credit",
    "Cash",
    "Bank Transfer",
    "Credit Card",
    "Debit",
    "PayPal",
    "2Checkout",
    "VISA",
    "MASTERCARD",
    "DISCOVER",
    "AMEX",
    "DINERS",
    "JCB",
    "ACH",
    "Other",
)
CLIENT_TEXT_FIELDS = (
    "fname",
    "lname",
    "organization",
    "email",
    "username",
    "currency_code",
    "language",
    "p_street",
    "p_street2",
    "p_city",
    "p_province",
    "p_code",
    "p_country",
    "s_street",
    "s_street2",
    "s_city",
    "s_province",
    "s_code",
    "s_country",
    "bus_phone",
    "home_phone",
    "mob_phone",
    "fax",
    "note",
    "vat_name",
    "vat_number",
    "company_industry",
    "company_size",
)
INVOICE_TEXT_FIELDS = (
    "po_number",
    "notes",
    "terms",
    "language",
    "discount_description",
    "address",
    "street",
    "street2",
    "city",
    "province",
    "code",
    "country",
    "fname",
    "lname",
    "organization",
    "email",
    "vat_name",
    "vat_number",
)
CREDIT_NOTE_TEXT_FIELDS = ("notes", "terms", "language", "description")
BILL_VENDOR_TEXT_FIELDS = (
    "vendor_name",
    "currency_code",
    "language",
    "primary_contact_email",
    "primary_contact_first_name",
    "primary_contact_last_name",
    "street",
    "street2",
    "city",
    "province",
    "postal_code",
    "country",
    "phone",
    "website",
    "account_number",
    "note",
)


# -- builders: request data (+ the old record) -> the new internal record ---------------------------


def _required(data: dict[str, Any], old: Record | None, object: str, name: str) -> Any:
    if name in data and data[name] not in (None, ""):
        return data[name]
    if old is not None and name not in data:
        return old[name]
    raise required_field(object, name)


def _copy_text(rec: Record, data: dict[str, Any], names: Iterable[str]) -> None:
    for name in names:
        if name in data:
            rec[name] = text_or_none(data[name])


def _build_client(account: Account, data: dict[str, Any], old: Record | None) -> Record:
    rec: Record = (
        dict(old)
        if old
        else {
            "currency_code": account.business.currency_code,
            "language": "en",
            "signup": account.clock.time(),
        }
    )
    _copy_text(rec, data, CLIENT_TEXT_FIELDS)
    if not any(rec.get(name) for name in ("fname", "lname", "email", "organization")):
        raise AccountingError(
            422,
            7012,
            "At least one field among fname, lname, email and organization is required.",
            object="client",
            value="",
        )
    email = rec.get("email")
    if email and ("@" not in email or " " in email.strip()):
        raise invalid_value("client", "email", email, "Invalid email address.")
    return rec


def _client_or_error(account: Account, raw: Any, object: str, name: str) -> Record:
    client = account.tables["clients"].get(parse_int(raw, object=object, field=name))
    if client is None:
        raise invalid_value(object, name, raw, f"{name} does not refer to a client.")
    return client


def _invoice_lines(raw: Any, code: str, discount: str, object: str = "invoice") -> tuple[Line, ...]:
    if not isinstance(raw, list):
        raise invalid_value(object, "lines", raw, "lines must be a list.")
    lines = []
    for item in raw:
        if not isinstance(item, dict):
            raise invalid_value(object, "lines", item, "Each line must be an object.")
        unit = item.get("unit_cost", {"amount": "0"})
        if isinstance(unit, dict) and unit.get("code") not in (None, code):
            raise invalid_value(
                "line", "unit_cost", unit.get("code"), f"Line currency must match the {object}."
            )
        tax1, tax2 = item.get("taxName1") or None, item.get("taxName2") or None
        lines.append(
            make_line(
                str(item.get("name") or ""),
                str(item.get("description") or ""),
                decimal_text(item.get("qty", 1), object="line", field="qty"),
                parse_cents(unit, object="line", field="unit_cost"),
                tax1,
                decimal_text(item.get("taxAmount1", 0), object="line", field="taxAmount1") if tax1 else "0",
                tax2,
                decimal_text(item.get("taxAmount2", 0), object="line", field="taxAmount2") if tax2 else "0",
                discount,
            )
        )
    return tuple(lines)


def _build_invoice(account: Account, data: dict[str, Any], old: Record | None) -> Record:
    rec: Record = dict(old) if old else {"paid": 0, "date_paid": None, "sent": "draft", "lines": ()}
    if old is None or "customerid" in data:
        client = _client_or_error(
            account, _required(data, old, "invoice", "customerid"), "invoice", "customerid"
        )
        rec["customerid"] = client["id"]
        if old is None:
            for name in ("fname", "lname", "organization", "email", "vat_name", "vat_number"):
                rec[name] = client.get(name)
            for api, src in (
                ("street", "p_street"),
                ("street2", "p_street2"),
                ("city", "p_city"),
                ("province", "p_province"),
                ("code", "p_code"),
                ("country", "p_country"),
            ):
                rec[api] = client.get(src)
            rec["currency_code"] = client.get("currency_code") or account.business.currency_code
    rec["create_date"] = parse_date(
        _required(data, old, "invoice", "create_date"), object="invoice", field="create_date"
    )
    if "due_offset_days" in data or old is None:
        rec["due_offset_days"] = parse_int(
            data.get("due_offset_days", 0), object="invoice", field="due_offset_days"
        )
    if "currency_code" in data:
        rec["currency_code"] = str(data["currency_code"])
    if "discount_value" in data or old is None:
        rec["discount_value"] = decimal_text(
            data.get("discount_value", 0), object="invoice", field="discount_value"
        )
    _copy_text(rec, data, INVOICE_TEXT_FIELDS)
    rec.setdefault("language", "en")
    if "invoice_number" in data and data["invoice_number"] not in (None, ""):
        rec["invoice_number"] = str(data["invoice_number"])
        if old is None:
            account.last_invoice_number = rec["invoice_number"]
    elif old is None:
        rec["invoice_number"] = account.next_invoice_number()
    if "status" in data and old is None and parse_int(data["status"], object="invoice", field="status") == 2:
        rec["sent"] = "sent"  # creating an invoice already marked as sent
    if "lines" in data:
        rec["lines"] = _invoice_lines(data["lines"], rec["currency_code"], rec["discount_value"])
    elif old is not None and "discount_value" in data:
        rec["lines"] = _invoice_lines(
            _lines_as_data(rec["lines"]), rec["currency_code"], rec["discount_value"]
        )
    rec["discount"], rec["tax"], rec["amount"] = invoice_totals(rec["lines"], rec["discount_value"])
    return rec


def _build_credit_note(account: Account, data: dict[str, Any], old: Record | None) -> Record:
    """A credit note (a refund to a client): lines like an invoice's, no discount, a number of its own."""
    rec: Record = dict(old) if old else {"sent": "draft", "lines": ()}
    if old is None or "clientid" in data:
        client = _client_or_error(
            account, _required(data, old, "credit_note", "clientid"), "credit_note", "clientid"
        )
        rec["clientid"] = client["id"]
        if old is None:
            for name in ("fname", "lname", "organization", "email"):
                rec[name] = client.get(name)
            rec["currency_code"] = client.get("currency_code") or account.business.currency_code
    rec["create_date"] = parse_date(
        _required(data, old, "credit_note", "create_date"), object="credit_note", field="create_date"
    )
    if "currency_code" in data:
        rec["currency_code"] = str(data["currency_code"])
    _copy_text(rec, data, CREDIT_NOTE_TEXT_FIELDS)
    rec.setdefault("language", "en")
    if data.get("credit_number") not in (None, ""):
        rec["credit_number"] = str(data["credit_number"])
        if old is None:
            account.last_credit_number = rec["credit_number"]
    elif old is None:
        rec["credit_number"] = account.next_credit_number()
    if old is None or "lines" in data:
        raw_lines = _required(data, old, "credit_note", "lines")
        rec["lines"] = _invoice_lines(raw_lines, rec["currency_code"], "0", object="credit_note")
    _, rec["tax"], rec["amount"] = invoice_totals(rec["lines"], "0")
    if rec["amount"] <= 0:
        raise invalid_value(
            "credit_note", "lines", cents_text(rec["amount"]), "A credit note's amount must be positive."
        )
    return rec


def _lines_as_data(lines: Sequence[Line]) -> list[dict[str, Any]]:
    return [
        {
            "name": ln.name,
            "description": ln.description,
            "qty": ln.qty,
            "unit_cost": cents_text(ln.unit_cost),
            "taxName1": ln.tax_name1,
            "taxAmount1": ln.tax_amount1,
            "taxName2": ln.tax_name2,
            "taxAmount2": ln.tax_amount2,
        }
        for ln in lines
    ]


def _build_payment(account: Account, data: dict[str, Any], old: Record | None) -> Record:
    rec: Record = (
        dict(old) if old else {"type": "Check", "note": "", "overpaymentid": None, "from_credit": False}
    )
    raw_invoice = _required(data, old, "payment", "invoiceid")
    invoice = account.tables["invoices"].get(parse_int(raw_invoice, object="payment", field="invoiceid"))
    if invoice is None or invoice.get("vis_state", 0) == 1:
        raise invalid_value("payment", "invoiceid", raw_invoice, "invoiceid does not refer to an invoice.")
    rec["invoiceid"], rec["clientid"], rec["code"] = (
        invoice["id"],
        invoice["customerid"],
        invoice["currency_code"],
    )
    raw_amount = _required(data, old, "payment", "amount")
    if isinstance(raw_amount, dict) and raw_amount.get("code") not in (None, invoice["currency_code"]):
        raise invalid_value(
            "payment", "amount", raw_amount.get("code"), "Payment currency must match the invoice currency."
        )
    amount = parse_cents(raw_amount, object="payment", field="amount") if "amount" in data else old["amount"]  # type: ignore[index]
    if amount <= 0:
        raise invalid_value("payment", "amount", cents_text(amount), "Payment amount must be positive.")
    rec["date"] = parse_date(_required(data, old, "payment", "date"), object="payment", field="date")
    if "type" in data:
        if data["type"] not in PAYMENT_TYPES:
            raise invalid_value("payment", "type", data["type"], "Invalid payment type.")
        rec["type"] = data["type"]
    for name in ("note", "transactionid", "orderid"):
        if name in data:
            rec[name] = text_or_none(data[name])
    # An amount above what is outstanding is applied up to the balance; the excess becomes a credit
    # (the docs' example shows overpaymentid set; contract 4.3).
    already = invoice["paid"] - (
        old["amount"]
        if old is not None and old.get("vis_state", 0) != 1 and old["invoiceid"] == invoice["id"]
        else 0
    )
    outstanding = max(invoice["amount"] - already, 0)
    if amount > outstanding:
        rec["overpaymentid"] = account.next_credit_id
        account.next_credit_id += 1
        amount = outstanding
    rec["amount"] = amount
    return rec


def _build_expense(account: Account, data: dict[str, Any], old: Record | None) -> Record:
    rec: Record = (
        dict(old)
        if old
        else {
            "staffid": 1,
            "clientid": 0,
            "projectid": 0,
            "invoiceid": None,
            "vendor": None,
            "notes": "",
            "markup_percent": "0",
            "tax_name1": None,
            "tax_amount1": None,
            "tax_name2": None,
            "tax_amount2": None,
            "code": account.business.currency_code,
        }
    )
    raw_category = _required(data, old, "expense", "categoryid")
    category = account.tables["categories"].get(parse_int(raw_category, object="expense", field="categoryid"))
    if category is None:
        raise invalid_value("expense", "categoryid", raw_category, "categoryid does not refer to a category.")
    rec["categoryid"] = category["id"]
    raw_amount = _required(data, old, "expense", "amount")
    if "amount" in data:
        rec["amount"] = parse_cents(raw_amount, object="expense", field="amount")
        if isinstance(raw_amount, dict) and raw_amount.get("code"):
            rec["code"] = str(raw_amount["code"])
    rec["date"] = parse_date(_required(data, old, "expense", "date"), object="expense", field="date")
    for name in ("staffid", "clientid", "projectid"):
        if name in data:
            rec[name] = parse_int(data[name] or 0, object="expense", field=name)
    if rec["clientid"] and account.tables["clients"].get(rec["clientid"]) is None:
        raise invalid_value("expense", "clientid", rec["clientid"], "clientid does not refer to a client.")
    _copy_text(rec, data, ("vendor", "notes", "markup_percent"))
    for n in ("1", "2"):
        if f"taxName{n}" in data:
            rec[f"tax_name{n}"] = text_or_none(data[f"taxName{n}"])
        if data.get(f"taxAmount{n}") not in (None, ""):
            rec[f"tax_amount{n}"] = parse_cents(
                data[f"taxAmount{n}"], object="expense", field=f"taxAmount{n}"
            )
    return rec


def _build_item(account: Account, data: dict[str, Any], old: Record | None) -> Record:
    rec: Record = (
        dict(old)
        if old
        else {
            "description": "",
            "qty": "1",
            "inventory": None,
            "sku": None,
            "unit_cost": 0,
            "tax1": 0,
            "tax2": 0,
            "code": account.business.currency_code,
        }
    )
    rec["name"] = str(_required(data, old, "item", "name"))
    _copy_text(rec, data, ("description", "sku"))
    for name in ("qty", "inventory"):
        if data.get(name) is not None:
            rec[name] = decimal_text(data[name], object="item", field=name)
    if "unit_cost" in data:
        rec["unit_cost"] = parse_cents(data["unit_cost"], object="item", field="unit_cost")
        if isinstance(data["unit_cost"], dict) and data["unit_cost"].get("code"):
            rec["code"] = str(data["unit_cost"]["code"])
    for name in ("tax1", "tax2"):
        if name in data:
            rec[name] = parse_int(data[name] or 0, object="item", field=name)
    return rec


def _build_tax(account: Account, data: dict[str, Any], old: Record | None) -> Record:
    rec: Record = dict(old) if old else {"number": None, "amount": "0", "compound": False}
    rec["name"] = str(_required(data, old, "tax", "name"))
    if "amount" in data:
        percent = decimal_text(data["amount"], object="tax", field="amount")
        if not 0 <= Decimal(percent) <= 100:
            raise AccountingError(
                422,
                1018,
                "Percent value must be between 0 and 100.",
                field="amount",
                object="tax",
                value=data["amount"],
            )
        rec["amount"] = percent
    if "number" in data:
        rec["number"] = text_or_none(data["number"])
    if "compound" in data:
        rec["compound"] = parse_bool(data["compound"])
    return rec


def _build_bill_vendor(account: Account, data: dict[str, Any], old: Record | None) -> Record:
    rec: Record = (
        dict(old)
        if old
        else {"currency_code": account.business.currency_code, "language": "en", "is_1099": False}
    )
    _copy_text(rec, data, BILL_VENDOR_TEXT_FIELDS)
    if not rec.get("vendor_name"):
        raise required_field("bill_vendor", "vendor_name")
    if "is_1099" in data:
        rec["is_1099"] = parse_bool(data["is_1099"])
    return rec


def _build_bill(account: Account, data: dict[str, Any], old: Record | None) -> Record:
    rec: Record = (
        dict(old)
        if old
        else {
            "paid": 0,
            "language": "en",
            "overall_category": None,
            "overall_description": None,
            "bill_number": None,
        }
    )
    raw_vendor = _required(data, old, "bill", "vendorid")
    vendor = account.tables["bill_vendors"].get(parse_int(raw_vendor, object="bill", field="vendorid"))
    if vendor is None:
        raise invalid_value("bill", "vendorid", raw_vendor, "vendorid does not refer to a bill vendor.")
    rec["vendorid"] = vendor["id"]
    rec["issue_date"] = parse_date(
        _required(data, old, "bill", "issue_date"), object="bill", field="issue_date"
    )
    rec["due_offset_days"] = parse_int(
        data.get("due_offset_days", rec.get("due_offset_days", 0)), object="bill", field="due_offset_days"
    )
    rec["currency_code"] = str(
        data.get("currency_code") or rec.get("currency_code") or vendor["currency_code"]
    )
    _copy_text(rec, data, ("bill_number", "language", "overall_category", "overall_description"))
    if old is None or "lines" in data:
        raw_lines = _required(data, old, "bill", "lines")
        if not isinstance(raw_lines, list) or not raw_lines:
            raise invalid_value("bill", "lines", raw_lines, "A bill needs at least one line.")
        rec["lines"] = tuple(_bill_line(account, item) for item in raw_lines)
    rec["tax"] = sum(line.tax for line in rec["lines"])
    rec["amount"] = sum(line.amount for line in rec["lines"]) + rec["tax"]
    return rec


def _bill_line(account: Account, item: Any) -> BillLine:
    if not isinstance(item, dict):
        raise invalid_value("bill", "lines", item, "Each line must be an object.")
    raw_category = item.get("categoryid")
    if raw_category in (None, ""):
        raise required_field("bill_line", "categoryid")
    if (
        account.tables["categories"].get(parse_int(raw_category, object="bill_line", field="categoryid"))
        is None
    ):
        raise invalid_value(
            "bill_line", "categoryid", raw_category, "categoryid does not refer to a category."
        )
    quantity = decimal_text(item.get("quantity", 1), object="bill_line", field="quantity")
    unit_cost = parse_cents(item.get("unit_cost", 0), object="bill_line", field="unit_cost")
    amount = int((Decimal(quantity) * unit_cost).quantize(Decimal(1), ROUND_HALF_UP))
    taxes = []
    for n in ("1", "2"):
        name = item.get(f"tax_name{n}") or None
        percent = (
            decimal_text(item.get(f"tax_percent{n}", 0), object="bill_line", field=f"tax_percent{n}")
            if name
            else "0"
        )
        taxes.append((name, percent))
    tax = sum(percent_of(amount, percent) for name, percent in taxes if name)
    return BillLine(
        int(raw_category),
        str(item.get("description") or ""),
        quantity,
        unit_cost,
        taxes[0][0],
        taxes[0][1],
        taxes[1][0],
        taxes[1][1],
        amount,
        tax,
    )


def _read_only(account: Account, data: dict[str, Any], old: Record | None) -> Record:
    raise AccountingError(405, 1006, "This resource is read-only through the API.")


BUILDERS: dict[str, Callable[[Account, dict[str, Any], Record | None], Record]] = {
    "clients": _build_client,
    "invoices": _build_invoice,
    "credit_notes": _build_credit_note,
    "payments": _build_payment,
    "expenses": _build_expense,
    "categories": _read_only,
    "items": _build_item,
    "taxes": _build_tax,
    "bill_vendors": _build_bill_vendor,
    "bills": _build_bill,
}
