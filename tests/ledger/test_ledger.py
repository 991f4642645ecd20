"""The ledger on SQLite and on PostgreSQL: versioned schema creation, cursors, and the token store.

The token store guards single-use refresh tokens, so the lease and compare-and-swap are tested with real
concurrent threads against a real database.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from finsync_dagster.errors import LedgerError
from finsync_dagster.ledger import LATEST_VERSION, Ledger
from finsync_dagster.ledger.schema import VERSIONS, ledger_schema


def test_migrate_creates_the_latest_schema_once(ledger: Ledger) -> None:
    assert ledger.schema_version() == LATEST_VERSION
    assert ledger.migrate() == LATEST_VERSION  # a second start changes nothing
    tables = set(sa.inspect(ledger.engine).get_table_names())
    assert {"ledger_schema", "sync_cursors", "oauth_tokens"} <= tables
    with ledger.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(ledger_schema)).scalar() == len(
            VERSIONS
        )


def test_a_ledger_newer_than_the_code_is_refused(ledger: Ledger) -> None:
    with ledger.engine.begin() as connection:
        connection.execute(
            ledger_schema.insert().values(
                version=LATEST_VERSION + 1, description="future", applied_at=datetime.now(UTC)
            )
        )
    with pytest.raises(LedgerError, match="newer than this finsync"):
        ledger.migrate()


def test_cursor_round_trip(ledger: Ledger) -> None:
    assert ledger.get_cursor("acme", "freshbooks_invoices") is None
    ledger.set_cursor("acme", "freshbooks_invoices", {"updated_min": "2026-11-01", "seen": 3})
    ledger.set_cursor("acme", "freshbooks_invoices", {"updated_min": "2026-11-02", "seen": 5})
    ledger.set_cursor("other", "freshbooks_invoices", {"updated_min": "2020-01-01"})
    assert ledger.get_cursor("acme", "freshbooks_invoices") == {"updated_min": "2026-11-02", "seen": 5}
    ledger.clear_cursors("acme")
    assert ledger.get_cursor("acme", "freshbooks_invoices") is None
    assert ledger.get_cursor("other", "freshbooks_invoices") == {"updated_min": "2020-01-01"}


def test_token_round_trip_keeps_utc_and_hides_secrets(ledger: Ledger) -> None:
    expires = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
    saved = ledger.save_token(
        "freshbooks", "acme", access_token="secret-access", refresh_token="secret-refresh", expires_at=expires
    )
    assert saved is not None and saved.generation == 1
    loaded = ledger.get_token("freshbooks", "acme")
    assert loaded is not None
    assert (loaded.access_token, loaded.refresh_token) == ("secret-access", "secret-refresh")
    assert loaded.expires_at == expires and loaded.expires_at.tzinfo is not None
    assert "secret" not in repr(loaded)


def test_compare_and_swap_refuses_a_stale_writer(ledger: Ledger) -> None:
    first = ledger.save_token("freshbooks", "acme", access_token="a1", refresh_token="r1", expires_at=None)
    assert first is not None
    winner = ledger.save_token(
        "freshbooks", "acme", access_token="a2", refresh_token="r2", expires_at=None, expected_generation=1
    )
    loser = ledger.save_token(
        "freshbooks", "acme", access_token="a3", refresh_token="r3", expires_at=None, expected_generation=1
    )
    assert winner is not None and winner.generation == 2
    assert loser is None
    current = ledger.get_token("freshbooks", "acme")
    assert current is not None and current.refresh_token == "r2"


def test_refresh_lease_lets_one_process_refresh_at_a_time(ledger: Ledger) -> None:
    ledger.save_token("freshbooks", "acme", access_token="a0", refresh_token="r0", expires_at=None)
    used_refresh_tokens: list[str] = []
    inside = 0
    overlap = False
    lock = threading.Lock()

    def refresher() -> None:
        nonlocal inside, overlap
        with ledger.refresh_lease("freshbooks", "acme") as token:
            assert token is not None
            with lock:
                inside += 1
                overlap = overlap or inside > 1
            if token.refresh_token == "r0":  # only the first holder sees the old token
                used_refresh_tokens.append(token.refresh_token)
                time.sleep(0.2)
                ledger.save_token(
                    "freshbooks",
                    "acme",
                    access_token="a1",
                    refresh_token="r1",
                    expires_at=None,
                    expected_generation=token.generation,
                )
            with lock:
                inside -= 1

    threads = [threading.Thread(target=refresher) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not overlap
    assert used_refresh_tokens == ["r0"]  # the single-use token was spent exactly once
    final = ledger.get_token("freshbooks", "acme")
    assert final is not None and final.refresh_token == "r1"


def test_a_crashed_lease_holder_does_not_block_forever(ledger: Ledger) -> None:
    ledger.save_token("freshbooks", "acme", access_token="a0", refresh_token="r0", expires_at=None)
    abandoned = ledger.refresh_lease("freshbooks", "acme", hold_seconds=0.3)
    abandoned.__enter__()  # never exited: the holder "crashed"
    started = time.monotonic()
    with ledger.refresh_lease("freshbooks", "acme", wait_seconds=5) as token:
        assert token is not None
    assert time.monotonic() - started >= 0.2


def test_expires_within(ledger: Ledger) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=30)
    token = ledger.save_token("infor", "acme", access_token="a", refresh_token=None, expires_at=soon)
    assert token is not None
    assert token.expires_within(60)
    assert not token.expires_within(5)


def test_unreachable_database_is_a_clear_error() -> None:
    store = Ledger("postgresql+psycopg2://nobody@127.0.0.1:1/none")
    with pytest.raises(LedgerError, match="unreachable") as info:
        store.migrate()
    assert "nobody@" in str(info.value) or "127.0.0.1" in str(info.value)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_processes_starting_together_migrate_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'fresh.sqlite'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_database")["url"]
    )
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def start() -> None:
        store = Ledger(url)  # its own engine, as a separate process would have
        barrier.wait()
        try:
            store.migrate()
        except BaseException as exc:
            errors.append(exc)
        finally:
            store.engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = Ledger(url)
    with store.engine.connect() as connection:
        versions = connection.execute(sa.select(ledger_schema.c.version)).scalars().all()
    store.engine.dispose()
    assert versions == sorted(VERSIONS)


def test_the_ledger_facade_keeps_its_public_methods() -> None:
    # Resources, assets and the CLI call these; the concerns behind them may move, the names may not.
    public = sorted(name for name in vars(Ledger) if not name.startswith("_"))
    assert public == [
        "action", "actions", "add_to_inbox", "add_user", "alert_states", "audit", "audit_entries",
        "audit_rows", "claim", "clear_cursors", "close_session", "dead_letter", "dead_letter_groups",
        "dead_letters", "dead_letters_since", "decide", "decision", "decisions", "delete_token",
        "due_summary", "event_latencies", "figures", "find_actions", "finish", "finish_many",
        "forget_callback", "get_cursor", "get_token", "inbox_after", "inbox_backlog", "iter_audit", "link",
        "links", "mark_alert_notified", "mark_callback_verified", "mark_inbox_processed", "mark_reconnect",
        "migrate", "oldest_in_doubt", "open_session", "outbox_counts", "plan", "prune",
        "recent_login_failures", "record", "record_callback", "record_login", "record_many",
        "refresh_lease", "refresh_write", "release", "remove_user", "renew", "renew_many", "resolve_dead",
        "retry_dead", "safe_url", "save_alert_states", "save_token", "schema_version", "session",
        "set_cursor", "undo_decision", "unlink", "user", "users", "verify_password", "webhook_callback",
        "webhook_callbacks",
    ]  # fmt: skip
