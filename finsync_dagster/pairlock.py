"""One sync per integration pair at a time, across processes: an OS file lock under ``$FINSYNC_HOME/locks``.

A pair's DuckDB file takes one writer, so two syncs of one pair (two CLIs, or ``dagster dev`` and a CLI)
would both fail on DuckDB's lock. The CLI holds the pair's lock for its whole run of that pair, and a
Dagster run takes it in its executor (:mod:`finsync_dagster.automation.jobs`). The lock is ``flock`` on
an open file, so the kernel drops it when its holder dies, ``kill -9`` included: a dead holder never
leaves a pair locked. While held, the file names its holder (pid, host, since, what), so a second caller
can say who has the pair. POSIX only (``fcntl``), as the rest of finsync's process handling.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from finsync_dagster.errors import FinsyncError

__all__ = ["PairBusyError", "PairHolder", "hold_lock_file", "hold_pair", "lock_path"]

_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class PairHolder:
    """Who holds a pair: enough for a person to find the process."""

    pid: int
    host: str
    since: str  # ISO 8601, UTC
    what: str

    def describe(self) -> str:
        return f"{self.what} (pid {self.pid} on {self.host}, since {self.since})"


class PairBusyError(FinsyncError):
    """Another process holds the pair (or other lock) and did not let go within the wait."""

    def __init__(self, subject: str, holder: PairHolder | None, waited: float) -> None:
        who = holder.describe() if holder else "another process"
        super().__init__(
            f"{subject} is held by {who}; waited {waited:.0f} s. "
            "Try again when it finishes, or wait longer with --wait SECONDS."
        )
        self.subject = subject
        self.holder = holder


def lock_path(home: Path, pair: str) -> Path:
    if not pair or Path(pair).name != pair or pair.startswith("."):  # never a path out of locks/
        raise ValueError(f"not a pair name: {pair!r}")
    return home / "locks" / f"{pair}.lock"


@contextmanager
def hold_pair(
    home: Path,
    pair: str,
    *,
    what: str,
    wait_seconds: float,
    on_wait: Callable[[PairHolder | None], None] | None = None,
) -> Iterator[None]:
    """Hold the pair's lock for the block; wait up to ``wait_seconds`` for a holder to finish.

    ``on_wait`` is called once, with the current holder, when the pair is busy at first try.

    Raises:
        PairBusyError: the pair was still held after ``wait_seconds``; it names the holder.
    """
    path = lock_path(home, pair)
    with hold_lock_file(path, f"pair {pair!r}", what=what, wait_seconds=wait_seconds, on_wait=on_wait):
        yield


@contextmanager
def hold_lock_file(
    path: Path,
    subject: str,
    *,
    what: str,
    wait_seconds: float,
    on_wait: Callable[[PairHolder | None], None] | None = None,
) -> Iterator[None]:
    """:func:`hold_pair` for any lock file; ``subject`` is what the busy error calls it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # No O_TRUNC: opening must not wipe the holder's name before the lock is ours.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _acquire(fd, path, subject, wait_seconds, on_wait)
        holder = PairHolder(
            pid=os.getpid(),
            host=socket.gethostname(),
            since=datetime.now(UTC).isoformat(timespec="seconds"),
            what=what,
        )
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder.__dict__).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(
    fd: int,
    path: Path,
    subject: str,
    wait_seconds: float,
    on_wait: Callable[[PairHolder | None], None] | None,
) -> None:
    began = time.monotonic()
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        waited = time.monotonic() - began
        if waited >= wait_seconds:
            raise PairBusyError(subject, _read_holder(path), waited)
        if not told and on_wait is not None:
            on_wait(_read_holder(path))
            told = True
        time.sleep(min(_POLL_SECONDS, max(wait_seconds - waited, 0.0)))


def _read_holder(path: Path) -> PairHolder | None:
    try:
        return PairHolder(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):  # the holder has not written its name yet
        return None
