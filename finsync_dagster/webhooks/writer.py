"""Group commit: one thread writes the inbox, batching the deliveries of concurrent requests.

Each request hands its delivery to :meth:`GroupCommitWriter.submit` and waits. The writer thread takes
whatever has queued up (at most ``max_batch``) and stores it in one transaction; every request of the
batch is answered only after that commit, so a 200 always means "durably in the inbox". With the durable
setting each commit costs an fsync: shared by a batch, it no longer caps throughput at the disk's sync
rate. Nothing waits to fill a batch: a lone request is committed at once, and batches grow by themselves
while a commit is in flight. ``max_batch=1`` is one commit per request (the benchmark's baseline).

If a commit fails, every request of that batch gets the error (and answers 503): none is claimed stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from finsync_dagster.ledger import Delivery
from finsync_dagster.webhooks.metrics import ReceiverMetrics

log = logging.getLogger("finsync.webhooks")

Store = Callable[[Sequence[Delivery]], list[bool]]
_STOP = object()


@dataclass(frozen=True)
class _Waiting:
    delivery: Delivery
    future: asyncio.Future[bool]
    loop: asyncio.AbstractEventLoop


class GroupCommitWriter:
    def __init__(self, store: Store, metrics: ReceiverMetrics, *, max_batch: int = 500) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._store = store
        self._metrics = metrics
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then end the thread."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)

    async def submit(self, delivery: Delivery) -> bool:
        """Wait until ``delivery`` is committed: True if stored, False if a duplicate of a stored one."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._queue.put(_Waiting(delivery, future, loop))
        return await future

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[_Waiting] = []
            item = self._queue.get()
            while True:
                if item is _STOP:
                    stopping = True
                elif isinstance(item, _Waiting):
                    batch.append(item)
                if len(batch) >= self._max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._commit(batch)

    def _commit(self, batch: list[_Waiting]) -> None:
        started = time.perf_counter()
        try:
            stored: list[bool | BaseException] = list(self._store([waiting.delivery for waiting in batch]))
        except Exception as exc:
            log.error("inbox commit of %d deliveries failed: %s", len(batch), type(exc).__name__)
            stored = [exc] * len(batch)
        else:
            self._metrics.commit_seconds.observe(time.perf_counter() - started)
            self._metrics.batch_size.observe(len(batch))
        # One wake-up of each event loop per batch, not one per request.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], bool | BaseException]]] = {}
        for waiting, outcome in zip(batch, stored, strict=True):
            by_loop.setdefault(waiting.loop, []).append((waiting.future, outcome))
        for loop, settled in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits any more
                loop.call_soon_threadsafe(_settle, settled)


def _settle(settled: list[tuple[asyncio.Future[bool], bool | BaseException]]) -> None:
    for future, outcome in settled:
        if future.done():  # the request went away (its client disconnected)
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
