"""The company configuration every seed starts from, and the row builders the seeds share.

The customer template, order type, warehouse, payment batch type, posting accounts and one stocked item,
so the Add transactions in ``sandbox.json``'s ``defaults`` work in every seed. The demo and scale seeds
build on it; ``seed.py`` picks among them. Keeping it apart from ``seed.py`` is what lets both seeds
import it without an import loop.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from finsync_dagster.sandbox.infor.models import Company, InforState, Settings

COMPANY = "100"
DIVISION = "AAA"
DEFAULTS = {"CUTM": "TMPL01", "ORTP": "A01", "WHLO": "W01", "BOPE": "BT1"}
DEFAULT_ITEM = "SBX-ITEM-001"
MAPPED_TEMPLATES = ("TSTD", "TSMB", "TKEY")
_CONFIG_STAMP = datetime(2026, 1, 1, tzinfo=UTC)
_BASE_ACCOUNTS = [
    ("1100", "Cash at bank"),
    ("1200", "Accounts receivable"),
    ("2100", "Sales tax payable"),
    ("2200", "Accounts payable"),
    ("4000", "Product revenue"),
]


def configure(state: InforState) -> Company:
    settings = Settings(currency="USD")
    settings.customer_templates[DEFAULTS["CUTM"]] = {
        "STAT": "20",
        "CUTP": "0",
        "LNCD": "GB",
        "CUCD": "USD",
        "CSCD": "US",
        "VTCD": "00",
        "TEPY": "30",
        "ORTP": DEFAULTS["ORTP"],
        "WHLO": DEFAULTS["WHLO"],
        "CUCL": "",
        "CUNM": "",
        "CUA1": "",
        "CUA2": "",
        "CUA3": "",
        "CUA4": "",
        "PONO": "",
        "TOWN": "",
        "ECAR": "",
        "PHNO": "",
        "MAIL": "",
        "VRNO": "",
        "ALCU": "",
        "YREF": "",
    }
    # The templates the shipped mapping picks by CRM segment (freshbooks_to_core/customers.yaml), so a
    # FreshBooks client can become an M3 customer in every seed.
    for template in MAPPED_TEMPLATES:
        settings.customer_templates[template] = dict(settings.customer_templates[DEFAULTS["CUTM"]])
    settings.order_types.add(DEFAULTS["ORTP"])
    settings.warehouses.add(DEFAULTS["WHLO"])
    settings.payment_batch_types.add(DEFAULTS["BOPE"])
    company = state.add_company(COMPANY, DIVISION, settings)
    for code, name in _BASE_ACCOUNTS:
        add_account(company, code, name)
    add_item(company, DEFAULT_ITEM, "Sandbox stocked item", Decimal("10.00"), Decimal("1000"))
    return company


def add_account(company: Company, code: str, name: str, stamp: datetime = _CONFIG_STAMP) -> None:
    row = {
        "CONO": company.cono,
        "DIVI": company.divi,
        "AITP": 1,
        "AITM": code,
        "TX40": name[:40],
        "TX15": name[:15],
        "AICL": "",
    }
    company.table("FCHACC").insert(company.touch(row, new=True, when=stamp))


def add_item(
    company: Company, itno: str, name: str, price: Decimal, on_hand: Decimal, stamp: datetime = _CONFIG_STAMP
) -> None:
    item = {
        "CONO": company.cono,
        "ITNO": itno,
        "ITDS": name[:60],
        "FUDS": name,
        "STAT": "20",
        "RESP": "FINSYNC",
        "UNMS": "EA",
        "ITTY": "FG",
        "MABU": "2",
        "PRVG": "",
        "ITGR": "",
        "ITCL": "",
        "SAPR": price,
        "CUCD": company.settings.currency,
    }
    company.table("MITMAS").insert(company.touch(item, new=True, when=stamp))
    for whlo in sorted(company.settings.warehouses):
        balance = {
            "CONO": company.cono,
            "WHLO": whlo,
            "ITNO": itno,
            "FACI": company.settings.facility,
            "STQT": on_hand,
            "ALQT": Decimal(0),
            "AV01": on_hand,
            "IDDT": stamp.date(),
            "ODDT": None,
        }
        company.table("MITBAL").insert(company.touch(balance, new=True, when=stamp))
