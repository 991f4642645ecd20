"""The processes ``finsync serve`` starts: each in a process group of its own, so that stopping one stops
what it started in turn (the daemon's code servers and runs, the webserver's code server)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

STOP_SECONDS = 20.0


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, size: int = 2000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-size:]
        except OSError:
            return ""


def start_child(name: str, argv: Sequence[str], *, env: Mapping[str, str], logs: Path, cwd: Path) -> Child:
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(argv), env=dict(env), cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Child(name, process, log)


def stop_children(children: Sequence[Child], *, wait_seconds: float = STOP_SECONDS) -> None:
    """SIGTERM every group, wait for them, then SIGKILL any group still there (leaders and members)."""
    for child in children:
        _signal_group(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + wait_seconds
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
    # A group outlives its leader when a member ignored SIGTERM or is still stopping: wait, then kill.
    while time.monotonic() < deadline and any(_group_alive(child.pid) for child in children):
        time.sleep(0.2)
    for child in children:
        _signal_group(child.pid, signal.SIGKILL)
        if child.alive():
            child.process.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True
