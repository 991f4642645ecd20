"""Close the runs a finsync command started and died in, so they do not stay ``STARTED`` for ever.

``finsync sync`` runs in its own process (``execute_in_process``); if that process is killed, nothing is
left to mark its run failed, and the run queue counts it against the pair's one-run limit. Each CLI run
is tagged with its process (pid, host and, where the OS tells, the process's start time), and the next
finsync command marks the tagged runs whose process is gone as failed, through the public instance API,
with an engine event saying why. Runs of another host are left alone: their process cannot be checked
from here. Runs launched by ``dagster dev`` are not tagged; the instance's run monitoring watches them.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

__all__ = ["ClosedRun", "close_dead_runs", "process_tags"]

PID_TAG = "finsync/pid"
HOST_TAG = "finsync/host"
PROCESS_START_TAG = "finsync/process_start"

_LIVE_STATUSES = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.CANCELING]


@dataclass(frozen=True)
class ClosedRun:
    run_id: str
    pair: str
    reason: str


def process_tags() -> dict[str, str]:
    """Tags that tie a run to this process, for :func:`close_dead_runs` in a later command."""
    tags = {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}
    start = _process_start(os.getpid())
    if start is not None:
        tags[PROCESS_START_TAG] = start
    return tags


def close_dead_runs(instance: dg.DagsterInstance, *, pair_tag: str) -> list[ClosedRun]:
    """Mark failed every unfinished run this host's finsync started whose process no longer exists."""
    host = socket.gethostname()
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=_LIVE_STATUSES, tags={HOST_TAG: host}))
    closed = []
    for run in runs:
        pid = int(run.tags[PID_TAG])
        if _is_running(pid, run.tags.get(PROCESS_START_TAG)):
            continue
        reason = (
            f"finsync marked this run failed: the finsync process that ran it (pid {pid} on {host}) "
            "is gone, killed or crashed before the run could finish."
        )
        instance.report_engine_event(reason, run)
        instance.report_run_failed(run, message=reason)
        closed.append(ClosedRun(run_id=run.run_id, pair=run.tags.get(pair_tag, ""), reason=reason))
    return closed


def _is_running(pid: int, recorded_start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, under another user
        return True
    if _is_zombie(pid):
        return False
    # The same pid with another start time is a new process that reused the number.
    return recorded_start is None or _process_start(pid) in (None, recorded_start)


def _proc_stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:  # not Linux, or the process just ended
        return None
    # The command name (field 2) is in parentheses and may hold spaces; fields after it are plain.
    return text[text.rfind(")") + 2 :].split()


def _is_zombie(pid: int) -> bool:
    fields = _proc_stat(pid)
    return fields is not None and fields[0] == "Z"


def _process_start(pid: int) -> str | None:
    fields = _proc_stat(pid)
    # Field 22 of /proc/PID/stat (index 19 after the name): start time in clock ticks since boot.
    return fields[19] if fields is not None else None
