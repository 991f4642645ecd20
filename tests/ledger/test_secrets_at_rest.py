"""Secrets at rest (issue 13 item 5): the ledger's files are private, its tokens are sealed with a key kept
outside it, and a wrong or missing key, or an old plaintext ledger, is handled in a way a user can act on."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from finsync_dagster.errors import LedgerError
from finsync_dagster.ledger import Ledger

ACCESS, REFRESH = "access-secret-A1", "refresh-secret-R1"


def _ledger(directory: Path, *, token_key: str | None = None) -> Ledger:
    ledger = Ledger(f"sqlite:///{directory / 'ledger.sqlite'}", token_key=token_key)
    ledger.migrate()
    return ledger


def _save(ledger: Ledger) -> None:
    ledger.save_token("freshbooks", "acme", access_token=ACCESS, refresh_token=REFRESH, expires_at=None)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_ledger_and_its_wal_and_shm_are_created_private(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    _save(ledger)
    with ledger.engine.connect():  # WAL and shm exist while a connection is open
        files = [tmp_path / name for name in ("ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm")]
        assert [_mode(f) for f in files] == [0o600] * 3
    assert _mode(tmp_path / "token.key") == 0o600


def test_an_existing_world_readable_ledger_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    sqlite3.connect(path).close()
    path.chmod(0o644)
    _ledger(tmp_path)
    assert _mode(path) == 0o600


def test_tokens_are_encrypted_in_the_database_file(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    _save(ledger)
    ledger.engine.dispose()  # checkpoint the WAL into the file
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("ledger.sqlite*"))
    assert ACCESS.encode() not in raw and REFRESH.encode() not in raw
    stored = _ledger(tmp_path).get_token("freshbooks", "acme")  # a second process, same key file
    assert stored is not None and (stored.access_token, stored.refresh_token) == (ACCESS, REFRESH)


def test_the_key_from_the_environment_is_used_and_no_key_file_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FINSYNC_TOKEN_KEY", Fernet.generate_key().decode())
    _save(_ledger(tmp_path))
    assert not (tmp_path / "token.key").exists()
    assert _ledger(tmp_path).get_token("freshbooks", "acme") is not None


def test_a_rotated_key_still_reads_tokens_sealed_with_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    _save(_ledger(tmp_path, token_key=old))
    monkeypatch.setenv("FINSYNC_TOKEN_KEY", f"{new},{old}")
    stored = _ledger(tmp_path).get_token("freshbooks", "acme")
    assert stored is not None and stored.refresh_token == REFRESH


def test_a_wrong_key_is_a_clear_error(tmp_path: Path) -> None:
    _save(_ledger(tmp_path, token_key=Fernet.generate_key().decode()))
    with pytest.raises(LedgerError, match=r"freshbooks token of 'acme'.*saved with another key") as caught:
        _ledger(tmp_path, token_key=Fernet.generate_key().decode()).get_token("freshbooks", "acme")
    assert "FINSYNC_TOKEN_KEY" in str(caught.value)


def test_a_missing_key_file_is_a_clear_error(tmp_path: Path) -> None:
    _save(_ledger(tmp_path))
    (tmp_path / "token.key").unlink()
    with pytest.raises(LedgerError, match=r"key file .*token.key is missing"):
        _ledger(tmp_path).get_token("freshbooks", "acme")


def test_a_malformed_key_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match=r"not a Fernet key.*generate_key"):
        _save(_ledger(tmp_path, token_key="hunter2"))


def test_plaintext_tokens_of_an_older_finsync_are_encrypted_on_open(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    _ledger(tmp_path)
    with sqlite3.connect(path) as connection:  # as a finsync before issue 13 wrote it
        connection.execute(
            "INSERT INTO oauth_tokens (provider, account, access_token, refresh_token, generation, updated_at)"
            " VALUES ('freshbooks', 'acme', ?, ?, 1, '2026-01-01 00:00:00')",
            (ACCESS, REFRESH),
        )
    ledger = _ledger(tmp_path)
    with sqlite3.connect(path) as connection:
        raw = connection.execute("SELECT access_token, refresh_token FROM oauth_tokens").fetchone()
    assert all(value.startswith("fernet:") for value in raw)
    stored = ledger.get_token("freshbooks", "acme")
    assert stored is not None and (stored.access_token, stored.refresh_token) == (ACCESS, REFRESH)


def test_a_server_ledger_without_a_key_says_to_set_one() -> None:
    ledger = Ledger("postgresql+psycopg2://finsync@127.0.0.1:1/ledger")
    with pytest.raises(LedgerError, match="set FINSYNC_TOKEN_KEY"):
        ledger.cipher.seal("x")
