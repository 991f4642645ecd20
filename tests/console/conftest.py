"""A console over a small, hand-made reconciliation: one pair, three users, a report written by the real
report writer from core and match tables that hold proposed pairings, exceptions and hostile text."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from finsync_dagster.console import ConsoleConfig, create_app
from finsync_dagster.console.server import running_console
from finsync_dagster.ledger import Ledger, Role
from finsync_dagster.mapping.registry import SPECS_DIR
from finsync_dagster.reports import write_report
from finsync_dagster.settings import Settings, load_settings
from tests.recon.core_db import core_db

PAIR = "acme"
PASSWORD = "correct horse battery staple"
HOSTILE = '<script>alert("owned")</script> & Co'
USERS = {"ada": Role.ADMIN, "rita": Role.REVIEWER, "vic": Role.VIEWER}


@dataclass
class ConsoleWorld:
    home: Path
    settings: Settings
    ledger: Ledger
    specs_dir: Path


def _core_rows() -> dict[str, list[dict[str, Any]]]:
    customers = [
        {"source": "freshbooks", "source_id": "11", "name": "Nordlys Fisk AS", "email": "post@nordlys.example", "city": "Bergen", "currency_code": "NOK"},
        {"source": "infor", "source_id": "C11", "name": "Nordlys Fisk", "email": "ap@nordlys.example", "city": "Bergen", "currency_code": "NOK"},
        {"source": "freshbooks", "source_id": "12", "name": HOSTILE, "email": "x@hostile.example", "city": "Oslo", "currency_code": "NOK"},
    ]  # fmt: skip
    payments = []
    for n in range(1, 6):
        payments.append({"source": "freshbooks", "source_id": f"P{n}", "invoice_number": f"FS-{n:04d}", "amount": Decimal(f"{100 + n}.00") - Decimal("0.01"), "currency_code": "USD", "reference": f"chq {n}", "payment_date": date(2026, 10, n)})  # fmt: skip
        payments.append({"source": "infor", "source_id": f"R{n}", "invoice_number": f"FS-{n:04d}", "amount": Decimal(f"{100 + n}.00"), "currency_code": "USD", "reference": f"P{n:04d}", "payment_date": date(2026, 10, n)})  # fmt: skip
    payments.append({"source": "infor", "source_id": "R99", "invoice_number": "FS-0099", "amount": Decimal("55.00"), "currency_code": "USD", "reference": "stray", "payment_date": date(2026, 10, 9)})  # fmt: skip
    return {"customers": customers, "payments": payments}


def _match_tables(con: Any) -> None:
    con.execute("CREATE SCHEMA recon")
    columns = (
        "freshbooks_id, infor_id, status, confidence, rule, suggestion, differences, reference, customer, "
        "currency_code, freshbooks_amount, infor_amount, amount_at_stake, item_date, note"
    )
    con.execute(
        f"""CREATE TABLE recon.customer_matches AS SELECT * FROM (VALUES
          ('11', 'C11', 'ambiguous', 0.81, 'fuzzy_name_address', true,
           '[{{"field":"name","freshbooks":"Nordlys Fisk AS","infor":"Nordlys Fisk"}}]', 'Nordlys Fisk AS',
           'Nordlys Fisk AS', 'NOK', NULL::DECIMAL(18,2), NULL::DECIMAL(18,2), NULL::DECIMAL(19,2), NULL::DATE,
           'Similar name and address; please confirm.'),
          ('12', NULL, 'missing_in_infor', 1.0, NULL, false, '[]', $hostile, $hostile, 'NOK',
           NULL, NULL, NULL, NULL, 'No M3 customer for this client.')
        ) AS t({columns})""",
        {"hostile": HOSTILE},
    )
    rows = [
        f"('P{n}', 'R{n}', 'matched_with_differences', 0.6, 'same_group', true, "
        f'\'[{{"field":"amount","freshbooks":"{100 + n - 1}.99","infor":"{100 + n}.00","difference":"0.01","currency":"USD"}}]\', '
        f"'chq {n} on FS-{n:04d}', 'Customer {n}', 'USD', {100 + n - 1}.99, {100 + n}.00, 0.01, DATE '2026-10-0{n}', "
        "'Closest payment on the same invoice; please confirm.')"
        for n in range(1, 6)
    ]
    rows.append(
        "(NULL, 'R99', 'missing_in_freshbooks', 1.0, NULL, false, '[]', 'stray on FS-0099', 'Customer 99', "
        "'USD', NULL, 55.00, 55.00, DATE '2026-10-09', 'No FreshBooks payment for this M3 receipt.')"
    )
    con.execute(
        f"CREATE TABLE recon.payment_matches AS SELECT freshbooks_id, infor_id, status, confidence, rule, "
        f"suggestion, differences, reference, customer, currency_code, CAST(freshbooks_amount AS DECIMAL(18,2)) "
        f"AS freshbooks_amount, CAST(infor_amount AS DECIMAL(18,2)) AS infor_amount, "
        f"CAST(amount_at_stake AS DECIMAL(19,2)) AS amount_at_stake, item_date, note FROM (VALUES {', '.join(rows)}) AS t({columns})"
    )


def write_acme_report(settings: Settings, ledger: Ledger | None = None, run_id: str = "run-0001") -> Path:
    ignored = {}
    if ledger is not None:
        from finsync_dagster.ledger import Decision

        ignored = {
            (d.entity, d.freshbooks_id, d.infor_id): f"{d.reason} ({d.actor})"
            for d in ledger.decisions(PAIR, kinds=(Decision.IGNORED,))
        }
    with core_db(**_core_rows()) as con:
        _match_tables(con)
        _, paths = write_report(
            con, settings.reports_dir(PAIR), pair=PAIR, run_id=run_id, now=datetime.now(UTC), ignored=ignored
        )
    return Path(paths.directory)


@pytest.fixture(scope="session")
def acme_reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The acme report written once by the real writer; each world gets a copy."""
    root = tmp_path_factory.mktemp("acme_template")
    settings = _settings(root)
    write_acme_report(settings)
    return settings.reports_dir(PAIR)


def _settings(root: Path, own_specs: bool = False) -> Settings:
    home = root / "home"
    home.mkdir(exist_ok=True)
    config = root / "finsync.yaml"
    text = f"pairs:\n  - name: {PAIR}\n    sandbox_dir: sandbox\n"
    if own_specs:
        text += "mapping:\n  specs_dir: own-specs\n"
        (root / "own-specs").mkdir(exist_ok=True)
    config.write_text(text, encoding="utf-8")
    return load_settings(config, env={"FINSYNC_HOME": str(home)})


def build_world(root: Path, reports: Path, *, own_specs: bool = False) -> ConsoleWorld:
    settings = _settings(root, own_specs)
    ledger = Ledger(settings.ledger_url)
    ledger.migrate()
    for name, role in USERS.items():
        ledger.add_user(name, role, PASSWORD)
    target = settings.reports_dir(PAIR)
    shutil.copytree(reports, target, symlinks=True)
    pointer = json.loads((target / "latest.json").read_text(encoding="utf-8"))
    moved = {k: v.replace(str(reports), str(target)) if isinstance(v, str) else v for k, v in pointer.items()}
    (target / "latest.json").write_text(json.dumps(moved), encoding="utf-8")
    specs_dir = root / "specs"
    shutil.copytree(SPECS_DIR, specs_dir)
    _warehouse(settings.warehouse_path(PAIR))
    return ConsoleWorld(settings.home, settings, ledger, specs_dir)


def _warehouse(path: Path) -> None:
    """The pair's DuckDB file, holding the core tables the reconciliation above was made from."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with core_db(**_core_rows()) as con:
        con.execute("ATTACH ? AS warehouse", [str(path)])
        con.execute("CREATE SCHEMA warehouse.core")
        for table in ("customers", "payments"):
            con.execute(f"CREATE TABLE warehouse.core.{table} AS SELECT * FROM core.{table}")
        con.execute("DETACH warehouse")


@pytest.fixture
def world(tmp_path: Path, acme_reports: Path) -> Iterator[ConsoleWorld]:
    built = build_world(tmp_path, acme_reports)
    yield built
    built.ledger.engine.dispose()


@pytest.fixture
def console_url(world: ConsoleWorld) -> Iterator[str]:
    """The console served on loopback (port 0), as ``finsync console`` serves it."""
    app = create_app(world.settings, world.ledger, ConsoleConfig(specs_dir=world.specs_dir))
    with running_console(app) as running:
        yield running.url


@pytest.fixture
def app_client(console_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=console_url, follow_redirects=False, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory: pytest.TempPathFactory, acme_reports: Path) -> Iterator[ConsoleWorld]:
    """One world for a module's tests that change nothing (refusals)."""
    built = build_world(tmp_path_factory.mktemp("shared"), acme_reports)
    yield built
    built.ledger.engine.dispose()


@pytest.fixture(scope="module")
def shared_url(shared_world: ConsoleWorld) -> Iterator[str]:
    app = create_app(
        shared_world.settings, shared_world.ledger, ConsoleConfig(specs_dir=shared_world.specs_dir)
    )
    with running_console(app) as running:
        yield running.url


@pytest.fixture
def shared_client(shared_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_url, follow_redirects=False, timeout=30) as client:
        yield client


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "the page holds no CSRF token"
    return found.group(1)


def sign_in(client: httpx.Client, name: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    page = client.get("/login", follow_redirects=False)
    response = client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": csrf_of(page.text), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/").text)
