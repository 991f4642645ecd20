"""Derive the sandbox's catalog from the shared M3 MI catalog: only what the sandbox implements.

Run from the repository root after changing ``IMPLEMENTED``::

    .venv/bin/python -m finsync_dagster.sandbox.infor.build_catalog ../shared/contracts/infor-m3-mi-catalog.json

Each field keeps its name, description, length and (for inputs) required flag and type; output fields that
hold dates are marked ``"type": "date"`` so the sandbox can apply ``dateformat`` to them.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

IMPLEMENTED: dict[str, list[str]] = {
    "CRS610MI": ["Add", "ChgBasicData", "GetBasicData", "LstByNumber", "Delete"],
    "OIS100MI": [
        "AddBatchHead",
        "AddBatchLine",
        "Confirm",
        "DelBatchHead",
        "GetBatchHead",
        "GetHead",
        "GetOrderNo",
        "LstBatchHead",
        "LstBatchLine",
        "LstHead",
        "LstLine",
    ],
    "CRS620MI": [
        "AddSupplier",
        "UpdSupplier",
        "GetBasicData",
        "LstByNumber",
        "LstSuppliers",
        "DelSupplier",
        "AddAddress",
        "GetAddress",
        "LstAddresses",
    ],
    "APS450MI": [
        "AddHead",
        "AddLine",
        "ApproveInvoice",
        "RejectInvoice",
        "GetHead",
        "LstLines",
        "LstInvBySupInv",
        "LstInvBatchNo",
    ],
    "OIS350MI": ["LstInvHead", "GetInvHead", "LstInvLine", "LstInvHeadByCo"],
    "ARS200MI": ["LstInvoices", "GetInvoice", "LstInvoiceTrans"],
    "ARS040MI": ["AddBatchHead", "AddBatchLine", "ControlBatch"],
    "CRS630MI": ["AddAccountID", "GetAccountID", "LstAccountID"],
    "GLS840MI": ["AddBatchHead", "AddBatchLine", "AddBatchLineFld", "CtrlBatch", "UpdBatch"],
    "GLS200MI": ["GetVoucherHead", "LstVoucherLines", "LstVouchersByDt"],
    "MMS200MI": ["AddItmBasic", "GetItmBasic", "LstItmByChgDate", "GetItmWhsBal"],
    "EXPORTMI": ["Select", "SelectPad", "LstFields"],
}
TARGET = Path(__file__).with_name("catalog.json")
_DATE = re.compile(r"\bdate\b", re.IGNORECASE)
_NOT_DATE = re.compile(r"update|number|type|method|code", re.IGNORECASE)


def _is_date(field: dict[str, Any]) -> bool:
    description = field.get("description", "")
    return (
        bool(_DATE.search(description)) and not _NOT_DATE.search(description) and field["length"] in (8, 10)
    )


def derive(shared: dict[str, Any]) -> dict[str, Any]:
    catalog: dict[str, Any] = {}
    for program, names in IMPLEMENTED.items():
        source = shared[program]
        transactions = {}
        for name in names:
            spec = source["transactions"][name]
            transactions[name] = {
                "summary": spec["summary"],
                "inputs": [
                    {
                        "name": f["name"],
                        "description": f["description"],
                        "length": f["length"],
                        "required": f["required"],
                        "type": "date" if _is_date(f) and f["type"] == "string" else f["type"],
                    }
                    for f in spec["inputs"]
                ],
                "outputs": [
                    {
                        "name": f["name"],
                        "description": f["description"],
                        "length": f["length"],
                        **({"type": "date"} if _is_date(f) else {}),
                    }
                    for f in spec["outputs"]
                ],
            }
        catalog[program] = {
            "title": source["title"],
            "version": source["version"],
            "transactions": transactions,
        }
    return catalog


def main(argv: list[str]) -> None:
    source = Path(argv[0] if argv else "../shared/contracts/infor-m3-mi-catalog.json")
    catalog = derive(json.loads(source.read_text(encoding="utf-8")))
    TARGET.write_text(json.dumps(catalog, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {TARGET} ({sum(len(p['transactions']) for p in catalog.values())} transactions)")


if __name__ == "__main__":
    main(sys.argv[1:])
