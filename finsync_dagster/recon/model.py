"""What a match table row says: the statuses, the tolerances, and the columns every match table shares."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Status(StrEnum):
    MATCHED = "matched"
    MATCHED_WITH_DIFFERENCES = "matched_with_differences"
    MISSING_IN_INFOR = "missing_in_infor"
    MISSING_IN_FRESHBOOKS = "missing_in_freshbooks"
    AMBIGUOUS = "ambiguous"
    DUPLICATE_SUSPECTED = "duplicate_suspected"
    # No counterpart, and none is due yet: a FreshBooks draft not sent (when configured so), a void invoice.
    UNMATCHED_EXPECTED = "unmatched_expected"


STATUSES = tuple(s.value for s in Status)
# Everything but a clean match, or an absence that is expected, needs a person to look at it.
EXCEPTION_STATUSES = tuple(s for s in STATUSES if s not in (Status.MATCHED, Status.UNMATCHED_EXPECTED))

# entity -> table in the pair's warehouse (the acceptance checks read these names).
MATCH_TABLES = {
    "customers": "recon.customer_matches",
    "invoices": "recon.invoice_matches",
    "payments": "recon.payment_matches",
    "expenses": "recon.expense_matches",
    "suppliers": "recon.supplier_matches",
    "bills": "recon.bill_matches",
}


@dataclass(frozen=True)
class Tolerances:
    """How far the two systems may disagree before it counts as a difference.

    The names and defaults are those of ``finsync.yaml``'s ``reconciliation`` section, which reads them
    from here. ``amount_tolerance`` is in the document's currency (Decimal: "0.00" means to the cent).
    ``date_tolerance_days`` applies to document dates (invoice and due dates),
    ``payment_date_tolerance_days`` to when a payment or expense was booked, which the two systems often
    record a day or two apart. ``draft_without_order_is_exception``: whether a FreshBooks draft that no M3
    order carries yet is ``missing_in_infor`` (true) or ``unmatched_expected`` (false: drafts are work in
    progress, and order-to-cash creates the order when the invoice is sent).
    """

    amount_tolerance: Decimal = Decimal("0.00")
    date_tolerance_days: int = 0
    payment_date_tolerance_days: int = 3
    fuzzy_accept: float = 0.92
    fuzzy_review: float = 0.75
    draft_without_order_is_exception: bool = False


# Columns every match table has, in order; matchers may add their own after these.
MATCH_COLUMNS = (
    "freshbooks_id",  # the record's id in FreshBooks (NULL when missing there)
    "infor_id",  # the record's id in Infor (NULL when missing there)
    "status",  # one of STATUSES
    "confidence",  # 0-1: how sure the pairing is
    "rule",  # which rule paired them: crosswalk, email, invoice_number, reference, amount_and_date, ...
    "suggestion",  # true when a person should confirm the pairing before anyone acts on it
    "differences",  # JSON list of {field, freshbooks, infor[, difference, currency]}
    "reference",  # what a person would call it: customer name, invoice number, payment reference
    "customer",  # the customer's name, where there is one
    "currency_code",
    "freshbooks_amount",
    "infor_amount",
    "amount_at_stake",  # the money a person should care about: the difference, or the whole amount if missing
    "item_date",  # the document's date, for ageing
    "note",  # a sentence for the reader
)


DEFAULT_TOLERANCES = Tolerances()

# Money at stake is an absolute exposure, never netted; the difference of two DECIMAL(18,2) core amounts
# can need one more digit, hence 19.
AT_STAKE_SQL = "DECIMAL(19,2)"
