"""The webhook inbox and the registered callbacks, on SQLite and PostgreSQL.

What the inbox sensor will rely on: ids that only grow, duplicates stored once, FreshBooks prompts folded
only while the first still waits, and verifiers that are sealed at rest and kept only for callbacks
finsync registered.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from finsync_dagster.errors import LedgerError
from finsync_dagster.ledger import Delivery, Ledger, durability, freshbooks_key, make_engine, shop_key
from finsync_dagster.ledger import migrations as ledger_migrations
from finsync_dagster.ledger.schema import (
    LATEST_VERSION,
    MIGRATIONS,
    VERSIONS,
    ledger_schema,
    webhook_callbacks,
)

T0 = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


def fb(object_id: str, name: str = "invoice.update", *, user: str = "1", pair: str = "acme") -> Delivery:
    fields = {
        "name": name,
        "object_id": object_id,
        "account_id": "ACME1",
        "business_id": "77",
        "identity_id": "9",
        "user_id": user,
    }
    return Delivery(
        pair=pair,
        system="freshbooks",
        event=name,
        object_id=object_id,
        account_id="ACME1",
        business_id="77",
        dedupe_key=freshbooks_key(fields),
        body="&".join(f"{k}={v}" for k, v in fields.items()),
        received_at=T0,
    )


def shop(event_id: str, topic: str = "orders/create") -> Delivery:
    return Delivery(
        pair="acme",
        system="shop",
        event=topic,
        object_id="6123",
        account_id="acme.myshopify.com",
        business_id=None,
        dedupe_key=shop_key(topic, event_id),
        body='{"id":6123}',
        received_at=T0,
    )


def test_deliveries_are_stored_once_and_read_back_in_id_order(ledger: Ledger) -> None:
    assert ledger.add_to_inbox([fb("1"), fb("2"), fb("1"), shop("e-1")]) == [True, True, False, True]
    assert ledger.add_to_inbox([fb("2"), shop("e-1"), shop("e-2")]) == [False, False, True]

    rows = ledger.inbox_after(0)
    assert [(r.system, r.object_id) for r in rows] == [
        ("freshbooks", "1"),
        ("freshbooks", "2"),
        ("shop", "6123"),
        ("shop", "6123"),
    ]
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    assert rows[0].received_at == T0 and rows[0].processed_at is None
    assert rows[0].body.startswith("name=invoice.update&object_id=1")
    assert ledger.inbox_after(rows[1].id) == rows[2:]
    assert ledger.inbox_after(0, limit=1) == rows[:1]
    assert ledger.inbox_after(0, pair="other") == []


def test_a_different_user_or_event_is_a_different_prompt(ledger: Ledger) -> None:
    stored = ledger.add_to_inbox([fb("1"), fb("1", user="2"), fb("1", name="invoice.create")])
    assert stored == [True, True, True]


def test_a_processed_freshbooks_prompt_no_longer_swallows_a_new_one(ledger: Ledger) -> None:
    ledger.add_to_inbox([fb("1"), shop("e-1")])
    first, order = ledger.inbox_after(0)
    assert ledger.add_to_inbox([fb("1")]) == [False]  # the first still waits: one re-fetch covers both

    assert ledger.mark_inbox_processed([first.id, order.id], run="inbox:2") == 2
    assert ledger.mark_inbox_processed([first.id], run="again") == 0  # already taken

    # A change after the run was planned is a new prompt; a Shopify retry of the same event never is.
    assert ledger.add_to_inbox([fb("1"), shop("e-1")]) == [True, False]
    rows = ledger.inbox_after(0)
    assert [r.processed_run for r in rows] == ["inbox:2", "inbox:2", None]
    assert rows[0].processed_at is not None and rows[0].processed_at.tzinfo is not None


def test_backlog_counts_what_waits(ledger: Ledger) -> None:
    assert ledger.inbox_backlog().pending == 0
    later = Delivery(**{**fb("2").__dict__, "received_at": T0 + timedelta(minutes=5)})
    ledger.add_to_inbox([later, fb("1")])
    backlog = ledger.inbox_backlog(pair="acme")
    assert (backlog.pending, backlog.oldest_received_at) == (2, T0)
    ledger.mark_inbox_processed([r.id for r in ledger.inbox_after(0)], run="r")
    assert ledger.inbox_backlog().pending == 0


def test_callbacks_are_recorded_once_and_verified_only_when_recorded_and_unverified(ledger: Ledger) -> None:
    recorded = ledger.record_callback(
        pair="acme", system="freshbooks", callback_id="2001", event="invoice.create", url="https://x/h"
    )
    assert recorded is not None and not recorded.verified
    again = ledger.record_callback(
        pair="acme", system="freshbooks", callback_id="2001", event="invoice.create", url="https://x/h"
    )
    assert again is None

    assert not ledger.mark_callback_verified(pair="acme", system="freshbooks", callback_id="9", secret="s")
    assert ledger.mark_callback_verified(
        pair="acme", system="freshbooks", callback_id="2001", secret="the-verifier"
    )
    assert not ledger.mark_callback_verified(
        pair="acme", system="freshbooks", callback_id="2001", secret="another"
    )
    found = ledger.webhook_callback("acme", "freshbooks", "2001")
    assert found is not None and found.verified and found.secret == "the-verifier"
    assert found.verified_at is not None and "the-verifier" not in repr(found)
    with ledger.engine.connect() as connection:
        raw = connection.execute(sa.select(webhook_callbacks.c.secret)).scalar()
    assert raw is not None and "the-verifier" not in raw  # sealed at rest

    # A new URL is a new subscription to FreshBooks: it needs a new handshake.
    moved = ledger.record_callback(
        pair="acme", system="freshbooks", callback_id="2001", event="invoice.create", url="https://y/h"
    )
    assert moved is not None
    reread = ledger.webhook_callback("acme", "freshbooks", "2001")
    assert reread is not None and not reread.verified and reread.secret is None

    assert [c.callback_id for c in ledger.webhook_callbacks(pair="acme")] == ["2001"]
    ledger.forget_callback(pair="acme", system="freshbooks", callback_id="2001")
    assert ledger.webhook_callbacks() == []


def without_version_4(monkeypatch: pytest.MonkeyPatch) -> None:
    """The code before the inbox's version 4 landed: it knew 1-3, 5 and 6."""
    known = [m for m in MIGRATIONS if m[0] != 4]
    monkeypatch.setattr(ledger_migrations, "MIGRATIONS", known)
    monkeypatch.setattr(ledger_migrations, "VERSIONS", frozenset(v for v, _, _ in known))


def test_a_migration_that_lands_after_a_higher_one_is_still_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Version 4 (the inbox) landed after 5 and 6: a ledger already at 6 gets it on the next start."""
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", token_key=Fernet.generate_key().decode())
    with monkeypatch.context() as patched:
        without_version_4(patched)
        assert ledger.migrate() == LATEST_VERSION
    assert "inbox" not in sa.inspect(ledger.engine).get_table_names()

    assert ledger.migrate() == LATEST_VERSION
    assert {"outbox", "inbox", "webhook_callbacks"} <= set(sa.inspect(ledger.engine).get_table_names())
    with ledger.engine.connect() as connection:
        versions = connection.execute(sa.select(ledger_schema.c.version)).scalars().all()
    assert sorted(versions) == sorted(VERSIONS)


def test_a_version_this_code_does_not_know_is_refused(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_version_4(monkeypatch)  # this ledger has 4: it was migrated by a newer finsync
    with pytest.raises(LedgerError, match="newer than this finsync"):
        ledger.migrate()


def test_durability_is_checked_not_assumed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    assert durability(make_engine(url, synchronous="FULL")) == "sqlite synchronous=FULL, journal_mode=wal"
    with pytest.raises(LedgerError, match="not durable"):
        durability(make_engine(url, synchronous="NORMAL"))


@pytest.mark.postgres
def test_postgres_default_commit_is_durable(postgres_database: dict[str, str]) -> None:
    assert durability(make_engine(postgres_database["url"])) == "postgresql synchronous_commit=on"
