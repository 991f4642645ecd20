"""Console users, sessions and review decisions in the ledger (SQLite and PostgreSQL): passwords stored as
argon2id hashes only, sessions found by a token the ledger never stores, decisions undone once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from finsync_dagster.errors import ConfigError
from finsync_dagster.ledger import Decision, Ledger, Role
from finsync_dagster.ledger.schema import console_sessions, console_users

PASSWORD = "correct horse battery staple"


def test_a_password_is_kept_only_as_an_argon2id_hash(ledger: Ledger) -> None:
    ledger.add_user("ada", Role.ADMIN, PASSWORD)
    with ledger.engine.connect() as connection:
        stored = connection.execute(sa.select(console_users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert ledger.verify_password("ada", PASSWORD) is not None
    assert ledger.verify_password("ada", PASSWORD + "!") is None
    assert ledger.verify_password("nobody", PASSWORD) is None


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [
        ("ada smith", PASSWORD, "not a user name"),
        ("ada", "short", "at least 12"),
        ("../x", PASSWORD, "not a user name"),
    ],
)
def test_bad_names_and_short_passwords_are_refused(
    ledger: Ledger, name: str, password: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        ledger.add_user(name, Role.VIEWER, password)


def test_a_name_is_added_once(ledger: Ledger) -> None:
    ledger.add_user("ada", Role.ADMIN, PASSWORD)
    with pytest.raises(ConfigError, match="exists"):
        ledger.add_user("ada", Role.VIEWER, PASSWORD)


def test_roles_are_ordered() -> None:
    assert Role.ADMIN.allows(Role.REVIEWER) and Role.REVIEWER.allows(Role.VIEWER)
    assert not Role.VIEWER.allows(Role.REVIEWER) and not Role.REVIEWER.allows(Role.ADMIN)


def test_a_session_is_found_by_its_token_which_the_ledger_does_not_keep(ledger: Ledger) -> None:
    user = ledger.add_user("rita", Role.REVIEWER, PASSWORD)
    token, session = ledger.open_session(user, ip="127.0.0.1", lifetime=timedelta(hours=1))
    with ledger.engine.connect() as connection:
        stored = connection.execute(sa.select(console_sessions)).one()._mapping
    assert token not in stored.values()
    found = ledger.session(token)
    assert found is not None and found.user.name == "rita" and found.csrf_token == session.csrf_token
    assert ledger.session(token + "x") is None
    ledger.close_session(token)
    assert ledger.session(token) is None


def test_an_expired_session_and_a_removed_users_sessions_are_gone(ledger: Ledger) -> None:
    user = ledger.add_user("rita", Role.REVIEWER, PASSWORD)
    old, _ = ledger.open_session(user, ip=None, lifetime=timedelta(seconds=-1))
    assert ledger.session(old) is None
    live, _ = ledger.open_session(user, ip=None, lifetime=timedelta(hours=1))
    assert ledger.remove_user("rita")
    assert ledger.session(live) is None
    assert not ledger.remove_user("rita")


def test_failed_sign_ins_count_per_name_since_the_last_success_and_per_address(ledger: Ledger) -> None:
    window = timedelta(minutes=15)
    for _ in range(3):
        ledger.record_login(name="ada", ip="10.0.0.1", ok=False)
    assert ledger.recent_login_failures(name="ada", window=window) == 3
    ledger.record_login(name="ada", ip="10.0.0.1", ok=True)
    assert ledger.recent_login_failures(name="ada", window=window) == 0
    assert ledger.recent_login_failures(ip="10.0.0.1", window=window) == 3  # a success does not wipe them
    assert ledger.recent_login_failures(ip="10.0.0.2", window=window) == 0


def test_decisions_are_listed_per_session_and_undone_once(ledger: Ledger) -> None:
    first = ledger.decide(
        pair="acme", entity="customers", freshbooks_id="11", infor_id="C11", decision=Decision.REJECTED,
        actor="rita", session="s1",
    )  # fmt: skip
    ledger.decide(
        pair="acme", entity="invoices", freshbooks_id="7", infor_id=None, decision=Decision.IGNORED,
        actor="rita", session="s2", reason="test invoice",
    )  # fmt: skip
    assert [d.id for d in ledger.decisions("acme", session="s1")] == [first]
    ignored = ledger.decisions("acme", kinds=(Decision.IGNORED,))
    assert [(d.freshbooks_id, d.infor_id, d.reason) for d in ignored] == [("7", None, "test invoice")]
    assert ledger.undo_decision(first, by="rita")
    assert not ledger.undo_decision(first, by="rita")
    assert [d.id for d in ledger.decisions("acme", session="s1")] == []
    assert [d.id for d in ledger.decisions("acme", session="s1", include_undone=True)] == [first]


def test_a_migration_merged_after_a_later_one_still_runs(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version below the ledger's highest that lands late must still run (as 4, the webhook inbox, did
    after 5 and 6; every version up to 6 is now taken, so 0 stands for such a late one here)."""
    from finsync_dagster.ledger import migrations, schema

    applied: list[int] = []
    late = (0, "a migration merged late", lambda connection: applied.append(0))
    monkeypatch.setattr(migrations, "MIGRATIONS", sorted([*schema.MIGRATIONS, late], key=lambda m: m[0]))
    monkeypatch.setattr(migrations, "VERSIONS", frozenset([*schema.VERSIONS, 0]))
    ledger.migrate()
    ledger.migrate()
    assert applied == [0]
    with ledger.engine.connect() as connection:
        versions = connection.execute(sa.select(schema.ledger_schema.c.version)).scalars().all()
    assert 0 in versions and 5 in versions
