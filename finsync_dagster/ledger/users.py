"""The console's people: users with a role, their sign-in sessions, and the sign-in attempts that limit guessing.

Passwords are hashed with argon2id (``argon2-cffi``, its default, OWASP-recommended parameters); the hash
carries its own parameters, so raising them later re-hashes a user's password at their next sign-in.
A session is a random token in an HttpOnly cookie; the ledger keeps only its SHA-256, so a copy of the
ledger (a backup, a read replica) cannot be used to sign in as anyone. Each session has its own CSRF token.

The roles are ordered: a ``reviewer`` may do all a ``viewer`` may, an ``admin`` all a ``reviewer`` may.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from finsync_dagster.errors import ConfigError
from finsync_dagster.ledger.engine import aware, utcnow
from finsync_dagster.ledger.schema import console_logins, console_sessions, console_users


class Role(StrEnum):
    VIEWER = "viewer"  # reads every page
    REVIEWER = "reviewer"  # a finance reviewer: decides matches, exceptions, dead letters and approvals
    ADMIN = "admin"  # also saves mapping specs

    def allows(self, needed: Role) -> bool:
        return _RANK[self] >= _RANK[needed]


_RANK = {Role.VIEWER: 0, Role.REVIEWER: 1, Role.ADMIN: 2}
MIN_PASSWORD_LENGTH = 12
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
# argon2-cffi's defaults (RFC 9106's low-memory profile: 64 MiB, 3 passes). Tests swap in a cheap one.
HASHER = PasswordHasher()
_DUMMIES: dict[int, str] = {}


def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a wrong name costs as long as a wrong password;
    made on first use, not at import (it takes as long as a sign-in)."""
    key = id(HASHER)
    if key not in _DUMMIES:
        _DUMMIES[key] = HASHER.hash(secrets.token_hex(16))
    return _DUMMIES[key]


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    created_at: datetime
    created_by: str | None


@dataclass(frozen=True)
class Session:
    """A signed-in session as the console sees it; ``ref`` names it in review decisions (undo)."""

    user: User
    csrf_token: str
    ref: str
    expires_at: datetime


def check_user_name(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(
            f"{name!r} is not a user name: 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return password


def _user(row: sa.Row[tuple[object, ...]] | None) -> User | None:
    if row is None:
        return None
    mapping = row._mapping
    return User(
        name=mapping["name"],
        role=Role(mapping["role"]),
        created_at=aware(mapping["created_at"]) or utcnow(),
        created_by=mapping["created_by"],
    )


def add_user(engine: sa.Engine, name: str, role: Role, password: str, *, by: str | None) -> User:
    """Create a user; refuses a name that exists (remove it first, or set its password)."""
    check_user_name(name)
    check_password(password)
    now = utcnow()
    with engine.begin() as connection:
        if connection.execute(sa.select(console_users.c.name).where(console_users.c.name == name)).first():
            raise ConfigError(f"user {name!r} exists; `finsync users remove {name}` first to replace it")
        connection.execute(
            console_users.insert().values(
                name=name,
                role=Role(role),
                password_hash=HASHER.hash(password),
                created_at=now,
                created_by=by,
                password_changed_at=now,
            )
        )
    return User(name, Role(role), now, by)


def remove_user(engine: sa.Engine, name: str) -> bool:
    """Delete the user and end every session of theirs at once."""
    with engine.begin() as connection:
        connection.execute(console_sessions.delete().where(console_sessions.c.user_name == name))
        return bool(connection.execute(console_users.delete().where(console_users.c.name == name)).rowcount)


def list_users(engine: sa.Engine) -> list[User]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(console_users).order_by(console_users.c.name)).all()
    return [user for user in map(_user, rows) if user is not None]


def get_user(engine: sa.Engine, name: str) -> User | None:
    with engine.connect() as connection:
        return _user(connection.execute(sa.select(console_users).where(console_users.c.name == name)).first())


def verify_password(engine: sa.Engine, name: str, password: str) -> User | None:
    """The user if ``password`` is theirs, else None; the same work is done for an unknown name."""
    with engine.connect() as connection:
        row = connection.execute(sa.select(console_users).where(console_users.c.name == name)).first()
    stored = row._mapping["password_hash"] if row is not None else _dummy_hash()
    try:
        HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    if HASHER.check_needs_rehash(stored):
        with engine.begin() as connection:
            connection.execute(
                console_users.update()
                .where(console_users.c.name == name)
                .values(password_hash=HASHER.hash(password))
            )
    return _user(row)


# -- sessions --------------------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    engine: sa.Engine, user: User, *, ip: str | None, lifetime: timedelta
) -> tuple[str, Session]:
    """A new session for ``user``: returns the cookie's token (shown once, stored hashed) and the session."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + lifetime
    with engine.begin() as connection:
        connection.execute(console_sessions.delete().where(console_sessions.c.expires_at < now))
        connection.execute(
            console_sessions.insert().values(
                token_hash=_digest(token),
                user_name=user.name,
                csrf_token=csrf,
                ip=(ip or "")[:64],
                created_at=now,
                expires_at=expires,
            )
        )
    return token, Session(user, csrf, _digest(token)[:16], expires)


def session(engine: sa.Engine, token: str) -> Session | None:
    """The live session the cookie names, with its user as of now (a removed user has none)."""
    query = (
        sa.select(console_sessions, console_users.c.role, console_users.c.created_at.label("user_created_at"))
        .join(console_users, console_users.c.name == console_sessions.c.user_name)
        .where(console_sessions.c.token_hash == _digest(token))
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        return None
    expires = aware(row.expires_at)
    if expires is None or expires <= utcnow():
        return None
    user = User(row.user_name, Role(row.role), aware(row.user_created_at) or utcnow(), None)
    return Session(user, row.csrf_token, row.token_hash[:16], expires)


def close_session(engine: sa.Engine, token: str) -> None:
    with engine.begin() as connection:
        connection.execute(console_sessions.delete().where(console_sessions.c.token_hash == _digest(token)))


# -- sign-in attempts ------------------------------------------------------------------------------------


def record_login(engine: sa.Engine, *, name: str, ip: str, ok: bool) -> None:
    with engine.begin() as connection:
        connection.execute(
            console_logins.insert().values(at=utcnow(), user_name=name[:64], ip=ip[:64], ok=ok)
        )


def recent_failures(
    engine: sa.Engine, *, name: str | None = None, ip: str | None = None, window: timedelta
) -> int:
    """Failed sign-ins within ``window``: for a name, those since its last success; for an address, all
    (a success from an address must not wipe the guesses made from it at other names)."""
    start = utcnow() - window
    column = console_logins.c.user_name if name is not None else console_logins.c.ip
    value = (name if name is not None else ip or "")[:64]
    with engine.connect() as connection:
        if name is not None:
            last_ok = connection.execute(
                sa.select(sa.func.max(console_logins.c.at)).where(
                    column == value, console_logins.c.ok.is_(True)
                )
            ).scalar()
            start = max(start, aware(last_ok) or start)
        return int(
            connection.execute(
                sa.select(sa.func.count()).where(
                    column == value, console_logins.c.ok.is_(False), console_logins.c.at > start
                )
            ).scalar()
            or 0
        )
