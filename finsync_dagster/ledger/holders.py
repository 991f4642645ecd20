"""Who holds a refresh lease, written into the lease so a waiter can tell a dead holder from a busy one.

A lease owner reads ``pid@host/boot/nonce``. A waiter on the same host and boot whose holder's pid is
gone (or a zombie) takes the lease over at once instead of waiting out ``lease_until``; a holder on
another host is trusted until its lease lapses.
"""

from __future__ import annotations

import functools
import os
import socket
import uuid
from pathlib import Path

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


@functools.cache
def _boot_id() -> str:
    try:
        return _BOOT_ID.read_text(encoding="ascii").strip().replace("-", "")[:8]
    except OSError:
        return "noboot"


def _host() -> str:
    return socket.gethostname().replace("/", "_").replace("@", "_")[:24]


def new_owner() -> str:
    """A lease owner naming this process (fits the 64 characters of ``lease_owner``)."""
    return f"{os.getpid()}@{_host()}/{_boot_id()}/{uuid.uuid4().hex[:12]}"


def _parts(owner: str) -> tuple[str, str, str]:
    pid_text, _, rest = owner.partition("@")
    host, _, rest = rest.partition("/")
    boot, _, _nonce = rest.partition("/")
    return pid_text, host, boot


def holder_is_here(owner: str | None) -> bool:
    """True when ``owner`` names a process of this host and boot (alive or not)."""
    if not owner:
        return False
    _pid, host, boot = _parts(owner)
    return host == _host() and boot == _boot_id()


def holder_is_dead(owner: str | None) -> bool:
    """True only when ``owner`` is certainly a process of this host and boot that no longer runs."""
    if not owner:
        return False
    pid_text, host, boot = _parts(owner)
    if not pid_text.isdigit() or host != _host() or boot != _boot_id():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]
