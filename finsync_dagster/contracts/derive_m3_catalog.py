"""Derive the package's M3 catalog subset from the shared contract catalog.

Production code must not read the sandbox's catalog, and the shared contract file is 1.7 MB of programs
we never call, so finsync keeps the transactions it maps to, reads from or writes to here. Re-run after
the contract changes::

    python -m finsync_dagster.contracts.derive_m3_catalog ../shared/contracts/infor-m3-mi-catalog.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("m3_catalog.json")

KEEP: dict[str, tuple[str, ...]] = {
    "CRS610MI": ("Add", "ChgBasicData", "GetBasicData", "GetFinancial", "LstByNumber"),
    "OIS100MI": ("AddBatchHead", "AddBatchLine", "Confirm", "GetHead", "LstHead", "LstLine"),
    "OIS350MI": ("GetInvHead", "LstInvHead", "LstInvLine"),
    "ARS040MI": ("AddBatchHead", "AddBatchLine", "ControlBatch"),
    "ARS200MI": ("GetInvoice", "LstInvoices", "LstInvoiceTrans"),
    "CRS630MI": ("AddAccountID", "LstAccountID"),
    "MMS200MI": ("AddItmBasic", "GetItmBasic", "GetItmWhsBal", "LstItmByItm"),
    "GLS200MI": ("LstVoucherLines",),
    "GLS840MI": ("AddBatchHead", "AddBatchLine", "UpdBatch"),
    "CRS620MI": ("AddSupplier", "GetBasicData", "LstSuppliers"),
    "APS450MI": ("AddHead", "AddLine", "ApproveInvoice", "GetHead", "LstLines", "LstInvBySupInv"),
}


def derive(catalog: dict[str, Any]) -> dict[str, Any]:
    subset: dict[str, Any] = {}
    for program, transactions in KEEP.items():
        source = catalog[program]
        subset[program] = {
            "title": source["title"],
            "version": source.get("version", ""),
            "transactions": {name: source["transactions"][name] for name in transactions},
        }
    return subset


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    catalog = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    OUTPUT.write_text(json.dumps(derive(catalog), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
