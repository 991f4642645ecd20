"""The sandbox's M3 data: one :class:`Company` per tenant and company, held as M3's own tables.

Rows are stored under M3's real table names (``OCUSMA``, ``OOHEAD``, ``OOLINE``, ``FSLEDG``, ``FGLEDG``,
``MITBAL``, ...) keyed like M3 keys them, with column names *without* the table's two-letter prefix (the MI
field names); EXPORTMI adds the prefix back (``OKCUNO``). Values are typed the way M3 stores them: ``str``
for alpha fields, ``Decimal`` for amounts and quantities, ``int`` for counters and ``LMTS``, ``date`` for
dates. Every insert and change goes through :meth:`Company.touch`, which keeps ``RGDT``, ``LMDT``, ``LMTS``
and ``CHNO`` from the injectable clock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from finsync_dagster.sandbox.clock import SandboxClock, lmts_of

Row = dict[str, Any]
CENT = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class TableSpec:
    name: str
    prefix: str
    key: tuple[str, ...]
    columns: dict[str, int]  # column -> length (EXPORTMI pads flat replies to it)
    indexes: tuple[str, ...] = ()  # columns looked up often; they never change after insert


def _spec(
    name: str, prefix: str, key: tuple[str, ...], columns: str, indexes: tuple[str, ...] = ()
) -> TableSpec:
    parsed = {}
    for part in columns.split():
        column, _, length = part.partition(":")
        parsed[column] = int(length)
    return TableSpec(name, prefix, key, parsed, indexes)


_STAMPS = " RGDT:8 RGTM:6 LMDT:8 CHNO:3 CHID:10 LMTS:18"
TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            "OCUSMA",
            "OK",
            ("CONO", "CUNO"),
            "CONO:3 DIVI:3 CUNO:10 CUNM:36 CUA1:36 CUA2:36 CUA3:36 CUA4:36 PONO:10 TOWN:20 CSCD:3 ECAR:2"
            " PHNO:16 MAIL:50 CUTP:1 CUCL:3 STAT:2 LNCD:2 CUCD:3 VTCD:2 VRNO:16 TEPY:3 ORTP:3 WHLO:3"
            " ALCU:10 YREF:30 PYNO:10" + _STAMPS,
        ),
        _spec(
            "OOHEAD",
            "OA",
            ("CONO", "ORNO"),
            "CONO:3 DIVI:3 ORNO:10 ORTP:3 FACI:3 WHLO:3 CUNO:10 PYNO:10 CUOR:20 ORDT:8 RLDT:8 CUCD:3"
            " TEPY:3 YREF:30 ORSL:2 ORST:2 NTAM:17 VTAM:17 BRAM:17" + _STAMPS,
        ),
        _spec(
            "OOLINE",
            "OB",
            ("CONO", "ORNO", "PONR", "POSX"),
            "CONO:3 DIVI:3 ORNO:10 PONR:5 POSX:2 ITNO:15 ITDS:30 WHLO:3 ORQT:15 ALQT:15 DLQT:15 IVQT:15"
            " SAPR:17 NLAM:17 VTCD:2 VTP1:5 CUCD:3 DWDT:8 ORST:2 DLIX:11" + _STAMPS,
            indexes=("ORNO",),
        ),
        # Batch order entry (OIS100MI AddBatchHead/AddBatchLine) before and after Confirm. M3's batch
        # files share OOHEAD's and OOLINE's record formats, so their columns carry the same prefixes
        # (UNCONFIRMED). STAT 05 = entered, 90 = confirmed into ORNR.
        _spec(
            "OXHEAD",
            "OA",
            ("CONO", "ORNO"),
            "CONO:3 DIVI:3 ORNO:10 ORTP:3 FACI:3 WHLO:3 CUNO:10 PYNO:10 CUOR:20 ORDT:8 RLDT:8 CUCD:3"
            " TEPY:3 YREF:30 STAT:2 ORNR:10 ORSL:2 ORST:2 NTAM:17 VTAM:17 BRAM:17" + _STAMPS,
            indexes=("CUNO",),
        ),
        _spec(
            "OXLINE",
            "OB",
            ("CONO", "ORNO", "PONR", "POSX"),
            "CONO:3 DIVI:3 ORNO:10 PONR:5 POSX:2 ITNO:15 ITDS:30 WHLO:3 ORQT:15 ALQT:15 DLQT:15 IVQT:15"
            " SAPR:17 NLAM:17 VTCD:2 VTP1:5 CUCD:3 DWDT:8 ORST:2" + _STAMPS,
            indexes=("ORNO",),
        ),
        _spec(
            "OINVOH",
            "UH",
            ("CONO", "DIVI", "YEA4", "IVNO"),
            "CONO:3 DIVI:3 YEA4:4 IVNO:9 ORNO:10 CUNO:10 PYNO:10 CUNM:36 IDAT:8 DUDT:8 ACDT:8 CUCD:3"
            " IVAM:17 VTAM:17 RAFC:17 VONO:8 TEPY:3 INST:1" + _STAMPS,
            indexes=("IVNO",),
        ),
        _spec(
            "OINVOL",
            "ON",
            ("CONO", "DIVI", "YEA4", "IVNO", "ORNO", "PONR"),
            "CONO:3 DIVI:3 YEA4:4 IVNO:9 ORNO:10 PONR:5 ITNO:15 IVQT:15 WHLO:3 DLIX:11 NLAM:17 VTAM:17"
            " VTCD:2 VTP1:5 CUCD:3" + _STAMPS,
            indexes=("IVNO",),
        ),
        _spec(
            "FSLEDG",
            "ES",
            ("CONO", "DIVI", "YEA4", "JRNO", "JSNO"),
            "CONO:3 DIVI:3 YEA4:4 JRNO:7 JSNO:7 CUNO:10 PYNO:10 CINO:15 INYR:4 TRCD:2 CUCD:3 CUAM:17"
            " VTAM:17 IVDT:8 DUDT:8 ACDT:8 RECO:1 REDE:8 VSER:3 VONO:8 TEPY:3 TDSC:40 CKNO:15 PBID:10"
            + _STAMPS,
            indexes=("CINO", "CUNO"),
        ),
        _spec(
            "FCHACC",
            "EA",
            ("CONO", "DIVI", "AITP", "AITM"),
            "CONO:3 DIVI:3 AITP:1 AITM:10 TX40:40 TX15:15 AICL:8" + _STAMPS,
        ),
        _spec(
            "FGLEDG",
            "EG",
            ("CONO", "DIVI", "YEA4", "JRNO", "JSNO"),
            "CONO:3 DIVI:3 YEA4:4 JRNO:7 JSNO:7 VSER:3 VONO:8 ACDT:8 AIT1:10 AIT2:10 AIT3:10 CUCD:3 CUAM:17"
            " ACAM:17 DBCR:1 TRCD:2 VTXT:40 VDSC:40" + _STAMPS,
        ),
        # Procure to pay: suppliers (CRS620MI), supplier invoice batches (APS450MI) and the AP ledger. M3
        # keeps supplier financial data in CIDVEN; the sandbox keeps it on CIDMAS. Prefixes of CIDADR,
        # FAPIBH and FAPIBL are UNCONFIRMED.
        _spec(
            "CIDMAS",
            "ID",
            ("CONO", "SUNO"),
            "CONO:3 SUNO:10 SUNM:36 SUTY:1 ALSU:10 STAT:2 CSCD:3 ECAR:2 LNCD:2 DTFM:3 ORTY:3 DT4T:1 DTCD:1"
            " CUCD:3 CRTP:2 ATPR:1 TEPY:3 PYME:3 VTCD:2 TXAP:1 PHNO:16 PHN2:16 TFNO:16 VRNO:16 CORG:11"
            " COR2:11 SUCL:3 SUCO:10 SUAL:3 SUCM:20 TINO:15 PRSU:10" + _STAMPS,
        ),
        _spec(
            "CIDADR",
            "SA",
            ("CONO", "SUNO", "ADTE", "ADID", "STDT"),
            "CONO:3 SUNO:10 ADTE:2 ADID:6 STDT:8 SUNM:36 ADR1:36 ADR2:36 ADR3:36 ADR4:36 TOWN:20 ECAR:2"
            " PONO:10 CSCD:3 PNOD:15 PRIA:1" + _STAMPS,
            indexes=("SUNO",),
        ),
        _spec(
            "FAPIBH",
            "E5",
            ("CONO", "DIVI", "INBN"),
            "CONO:3 DIVI:3 INBN:10 SUNO:10 SPYN:10 SINO:24 IBTP:2 SUPA:2 IVDT:8 ACDT:8 DUDT:8 CUCD:3 CUAM:17"
            " VTAM:17 TEPY:3 PYME:3 APCD:10 YEA4:4 VONO:8" + _STAMPS,
            indexes=("SUNO",),
        ),
        _spec(
            "FAPIBL",
            "E6",
            ("CONO", "DIVI", "INBN", "TRNO"),
            "CONO:3 DIVI:3 INBN:10 TRNO:7 RDTP:2 NLAM:17 VTA1:17 VTA2:17 VTCD:2 CUCD:3 AO01:20 AO02:10"
            " AO03:10 AO04:10 AO05:10 AO06:10 AO07:10 CHGT:30 ITNO:15 PUNO:10" + _STAMPS,
            indexes=("INBN",),
        ),
        _spec(
            "FPLEDG",
            "EP",
            ("CONO", "DIVI", "YEA4", "JRNO", "JSNO"),
            "CONO:3 DIVI:3 YEA4:4 JRNO:7 JSNO:7 SUNO:10 SPYN:10 SINO:24 INYR:4 TRCD:2 CUCD:3 CUAM:17 VTAM:17"
            " IVDT:8 DUDT:8 ACDT:8 VSER:3 VONO:8 RECO:1" + _STAMPS,
            indexes=("SINO",),
        ),
        _spec(
            "MITMAS",
            "MM",
            ("CONO", "ITNO"),
            "CONO:3 ITNO:15 ITDS:60 FUDS:120 STAT:2 RESP:10 UNMS:3 ITTY:3 MABU:1 PRVG:2 ITGR:8 ITCL:5"
            " SAPR:17 CUCD:3" + _STAMPS,
        ),
        _spec(
            "MITBAL",
            "MB",
            ("CONO", "WHLO", "ITNO"),
            "CONO:3 WHLO:3 ITNO:15 FACI:3 STQT:15 ALQT:15 AV01:15 IDDT:8 ODDT:8" + _STAMPS,
        ),
    )
}


class Table:
    """Rows of one M3 table keyed by its primary key, listed in key order like a DB2 index scan."""

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        self.rows: dict[tuple[Any, ...], Row] = {}
        self._order: list[tuple[Any, ...]] | None = None
        self._indexes: dict[str, dict[Any, dict[tuple[Any, ...], Row]]] = {c: {} for c in spec.indexes}

    def key_of(self, row: Row) -> tuple[Any, ...]:
        return tuple(row[k] for k in self.spec.key)

    def get(self, *key: Any) -> Row | None:
        return self.rows.get(tuple(key))

    def insert(self, row: Row) -> Row:
        key = self.key_of(row)
        self.rows[key] = row
        for column, index in self._indexes.items():
            index.setdefault(row[column], {})[key] = row
        self._order = None
        return row

    def delete(self, row: Row) -> None:
        key = self.key_of(row)
        del self.rows[key]
        for column, index in self._indexes.items():
            index.get(row[column], {}).pop(key, None)
        self._order = None

    def where(self, column: str, value: Any) -> list[Row]:
        """Rows whose indexed ``column`` equals ``value``, in key order."""
        matches = self._indexes[column].get(value, {})
        return [matches[key] for key in sorted(matches)]

    def scan(self) -> Iterator[Row]:
        if self._order is None:
            self._order = sorted(self.rows)
        for key in self._order:
            row = self.rows.get(key)
            if row is not None:
                yield row

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class PaymentBatch:
    pbid: str
    bope: str
    acdt: date | None
    lines: dict[str, Row] = field(default_factory=dict)  # TRNO -> line
    controlled: bool = False


@dataclass
class GLBatch:
    key1: str
    intn: str
    desc: str
    lines: dict[int, Row] = field(default_factory=dict)  # LINE -> parsed PARM
    voucher: int | None = None  # set by UpdBatch: the batch is posted


@dataclass
class Settings:
    """The company's configuration data: what a caller's Add transactions may refer to."""

    currency: str = "USD"
    facility: str = "F01"
    customer_templates: dict[str, Row] = field(default_factory=dict)
    order_types: set[str] = field(default_factory=set)
    warehouses: set[str] = field(default_factory=set)
    payment_batch_types: set[str] = field(default_factory=set)
    vat_codes: dict[str, Decimal] = field(default_factory=lambda: {"00": Decimal("0")})
    payment_terms_days: dict[str, int] = field(default_factory=lambda: {"30": 30})
    ar_account: str = "1200"
    ap_account: str = "2200"
    bank_account: str = "1100"
    revenue_account: str = "4000"
    vat_account: str = "2100"
    default_item: str | None = None


class Company:
    """One M3 company and division: its tables, configuration, batches and number series."""

    def __init__(self, cono: str, divi: str, clock: SandboxClock, settings: Settings | None = None) -> None:
        self.cono = cono
        self.divi = divi
        self.clock = clock
        self.settings = settings or Settings()
        self.tables = {name: Table(spec) for name, spec in TABLES.items()}
        self.payment_batches: dict[str, PaymentBatch] = {}
        self.gl_batches: dict[str, GLBatch] = {}
        self._series: dict[str, int] = {
            "CUNO": 20000,
            "ORNO_TEMP": 9000000000,
            "ORNO": 1000000000,
            "IVNO": 100000,
            "JRNO": 0,
            "VONO": 0,
            "DLIX": 0,
            "INBN": 5000000,
        }

    def table(self, name: str) -> Table:
        return self.tables[name]

    def next_number(self, series: str) -> int:
        self._series[series] += 1
        return self._series[series]

    def reserve(self, series: str, at_least: int) -> None:
        """Seeds pick their own numbers; keep the series past them."""
        self._series[series] = max(self._series[series], at_least)

    def touch(self, row: Row, *, new: bool = False, when: datetime | None = None) -> Row:
        """Stamp a row as M3 does on every change; ``when`` lets seeds stamp history deterministically."""
        if when is None:
            now, lmts = self.clock.stamp()
        else:
            now, lmts = when, lmts_of(when)
            self.clock.observe(lmts)
        if new:
            row["RGDT"] = now.date()
            row["RGTM"] = int(now.strftime("%H%M%S"))
            row["CHNO"] = 0
        row["CHNO"] = int(row.get("CHNO", 0)) + (0 if new else 1)
        row["LMDT"] = now.date()
        row["LMTS"] = lmts
        row["CHID"] = "FINSYNC"
        return row

    def today(self) -> date:
        return self.clock.now().date()


class InforState:
    """Everything one sandbox holds, keyed by tenant and company like moto's ``BackendDict``."""

    def __init__(self, tenant: str, clock: SandboxClock | None = None) -> None:
        self.tenant = tenant
        self.clock = clock or SandboxClock()
        self.companies: dict[str, Company] = {}
        self.default_company = "100"
        self.truth: dict[str, Any] | None = None
        self.default_item = ""
        self.lock = threading.RLock()

    def add_company(self, cono: str, divi: str, settings: Settings | None = None) -> Company:
        company = Company(cono, divi, self.clock, settings)
        self.companies[cono] = company
        return company

    def company(self, cono: str | None = None) -> Company | None:
        return self.companies.get(cono or self.default_company)
