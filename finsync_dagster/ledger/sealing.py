"""Tokens encrypted at rest: Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with a key kept
outside the ledger.

The key comes from ``FINSYNC_TOKEN_KEY`` (one or more Fernet keys, comma-separated: the first encrypts,
all decrypt, so a key can be rotated). Without it, a SQLite ledger file gets a key file beside it,
``token.key`` (mode 0600, generated once; for the default ledger that is ``$FINSYNC_HOME/token.key``). A
ledger on a server (PostgreSQL) has no such place, so there the variable is required.

A sealed value is ``fernet:`` followed by the Fernet token; anything else is a plaintext token written by
a finsync older than issue 13, which :meth:`Ledger.migrate` seals in place.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import make_url

from finsync_dagster.errors import LedgerError

KEY_ENV = "FINSYNC_TOKEN_KEY"
KEY_FILE = "token.key"
PREFIX = "fernet:"
_NEW_KEY_HINT = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'


class TokenCipher:
    """Seals and opens token strings; the key is read (or the key file created) at first use."""

    def __init__(self, *, keys: str | None = None, key_file: Path | None = None) -> None:
        self._keys = keys
        self._key_file = key_file
        self._fernet: MultiFernet | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_ledger(cls, url: str, *, keys: str | None = None) -> TokenCipher:
        """The cipher of the ledger at ``url``: ``keys``, else ``$FINSYNC_TOKEN_KEY``, else the key file."""
        keys = keys or os.environ.get(KEY_ENV) or None
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite":
            return cls(keys=keys)
        database = parsed.database
        if not database or database == ":memory:":
            return cls(keys=keys or Fernet.generate_key().decode())  # an in-memory ledger dies with its key
        return cls(keys=keys, key_file=Path(database).parent / KEY_FILE)

    @property
    def source(self) -> str:
        """Where the key comes from, for error messages (never the key)."""
        if self._keys is not None:
            return KEY_ENV
        return str(self._key_file) if self._key_file else KEY_ENV

    def seal(self, value: str | None) -> str | None:
        if value is None:
            return None
        return PREFIX + self._cipher(create=True).encrypt(value.encode()).decode()

    def open(self, value: str | None, *, what: str) -> str | None:
        """The plaintext of a sealed value (a legacy plaintext value passes through); ``what`` names it."""
        if value is None or not value.startswith(PREFIX):
            return value
        try:
            return self._cipher(create=False, what=what).decrypt(value[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise LedgerError(
                f"{what} cannot be decrypted with the key from {self.source}: it was saved with another "
                f"key. Set {KEY_ENV} to that key (or restore its key file), or connect again"
            ) from None

    @staticmethod
    def is_sealed(value: str | None) -> bool:
        return value is None or value.startswith(PREFIX)

    def _cipher(self, *, create: bool, what: str = "the stored token") -> MultiFernet:
        with self._lock:
            if self._fernet is None:
                self._fernet = _multi(self._load_keys(create=create, what=what))
            return self._fernet

    def _load_keys(self, *, create: bool, what: str) -> str:
        if self._keys is not None:
            return self._keys
        if self._key_file is None:
            raise LedgerError(
                f"set {KEY_ENV} to encrypt tokens in a ledger on a server (generate a key with {_NEW_KEY_HINT})"
            )
        try:
            return self._key_file.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            if not create:
                raise LedgerError(
                    f"{what} is encrypted, but its key file {self._key_file} is missing and {KEY_ENV} is "
                    "not set: restore the key file or set the variable, or connect again"
                ) from None
        return _create_key_file(self._key_file)


def _multi(keys: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()])
    except (ValueError, TypeError):
        raise LedgerError(
            f"the token key is not a Fernet key (32 url-safe base64-encoded bytes); generate one with "
            f"{_NEW_KEY_HINT}"
        ) from None


def _create_key_file(path: Path) -> str:
    """Write a new key to ``path`` (0600) unless another process just did; return the key in force."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".token-key-")  # mkstemp: 0600
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(key + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)  # atomic, and never replaces a key another process wrote
    finally:
        os.unlink(temporary)
    return path.read_text(encoding="ascii").strip()
