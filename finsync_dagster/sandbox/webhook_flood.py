"""A flood of signed webhook deliveries, as a provider under load would send them (tests and benchmarks).

The requests are built once, as raw HTTP/1.1 bytes, and sent over ``concurrency`` keep-alive
connections by asyncio workers that each wait for their answer before sending the next: concurrency 50
means at most 50 requests in flight, like ``wrk -c50``. A full HTTP client (httpx) costs more CPU per
request than the receiver under test, so it would measure itself; this sender only writes bytes and reads
a status line, headers and a ``Content-Length`` body.

With ``retry=True`` a delivery whose connection failed (the receiver was killed, or is restarting) goes
back in the queue, as a provider retries: a delivery can then be committed, lose its answer to a kill,
and arrive again, which is what the inbox's dedupe is for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from finsync_dagster.sandbox.freshbooks.webhooks import SIGNATURE_HEADER, sign


def freshbooks_request(
    host: str, port: int, path: str, fields: Sequence[tuple[str, str]], verifier: str
) -> bytes:
    """One FreshBooks delivery as it goes on the wire, signed with ``verifier``."""
    return raw_request(
        host,
        port,
        path,
        urlencode(list(fields)).encode("ascii"),
        {"Content-Type": "application/x-www-form-urlencoded", SIGNATURE_HEADER: sign(verifier, list(fields))},
    )


def raw_request(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class FloodResult:
    """Per request: its last status (None if never answered); latencies of answered attempts, seconds."""

    statuses: list[int | None]
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    connection_failures: int = 0

    @property
    def acknowledged(self) -> list[int]:
        """Indices of the requests answered 200."""
        return [i for i, status in enumerate(self.statuses) if status == 200]

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


async def flood(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    concurrency: int = 50,
    retry: bool = False,
    timeout: float = 30.0,
) -> FloodResult:
    """Send every request once (or, with ``retry``, until it is answered); return what came back."""
    result = FloodResult(statuses=[None] * len(requests))
    pending: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(requests)):
        pending.put_nowait(index)
    started = time.perf_counter()
    workers = [
        asyncio.create_task(_worker(host, port, requests, pending, result, retry, timeout))
        for _ in range(concurrency)
    ]
    await asyncio.gather(*workers)
    result.elapsed = time.perf_counter() - started
    return result


async def _worker(
    host: str,
    port: int,
    requests: Sequence[bytes],
    pending: asyncio.Queue[int],
    result: FloodResult,
    retry: bool,
    timeout: float,
) -> None:
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    while True:
        try:
            index = pending.get_nowait()
        except asyncio.QueueEmpty:
            break
        try:
            if connection is None:
                connection = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            reader, writer = connection
            sent = time.perf_counter()
            writer.write(requests[index])
            status, keep_alive = await asyncio.wait_for(_read_answer(reader), timeout)
            result.latencies.append(time.perf_counter() - sent)
            result.statuses[index] = status
            if not keep_alive:
                writer.close()
                connection = None
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            result.connection_failures += 1
            if connection is not None:
                connection[1].close()
                connection = None
            if not retry:
                continue
            pending.put_nowait(index)
            await asyncio.sleep(0.02)  # the receiver is down: knock again shortly
    if connection is not None:
        connection[1].close()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    keep_alive = True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
        elif name.strip().lower() == "connection" and value.strip().lower() == "close":
            keep_alive = False
    if length:
        await reader.readexactly(length)
    return status, keep_alive
