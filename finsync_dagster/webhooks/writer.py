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
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from finsync_dagster.ledger import Delivery
from finsync_dagster.webhooks.metrics import ReceiverMetrics

log = logging.getLogger("finsync.webhooks")

Store = Callable[[Sequence[Delivery]], list[bool]]
_STOP = object()


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
        future: Future[bool] = Future()
        self._queue.put((delivery, future))
        return await asyncio.wrap_future(future)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[tuple[Delivery, Future[bool]]] = []
            item = self._queue.get()
            while True:
                if item is _STOP:
                    stopping = True
                else:
                    batch.append(item)  # type: ignore[arg-type]
                if len(batch) >= self._max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._commit(batch)

    def _commit(self, batch: list[tuple[Delivery, Future[bool]]]) -> None:
        started = time.perf_counter()
        try:
            stored = self._store([delivery for delivery, _ in batch])
        except Exception as exc:
            log.error("inbox commit of %d deliveries failed: %s", len(batch), type(exc).__name__)
            for _, future in batch:
                future.set_exception(exc)
            return
        self._metrics.commit_seconds.observe(time.perf_counter() - started)
        self._metrics.batch_size.observe(len(batch))
        for (_, future), outcome in zip(batch, stored, strict=True):
            future.set_result(outcome)
