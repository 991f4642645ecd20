"""The one HTTP policy both API clients share: timeouts, retries with backoff, rate limiting.

Transient failures (429, 5xx, timeouts, dropped connections) are retried with exponential backoff and
full jitter, honouring ``Retry-After``; permanent ones surface at once. The retry decision tests the
exception class from :mod:`finsync_dagster.errors`, never a status code, and transport failures become
those classes here, in :func:`translate_transport_error`, for both clients. The policy does not know which
requests are writes: a caller that writes passes ``retry_on=SAFE_TO_RESEND`` (errors after which the
request certainly was not applied); what to do after any other failure (read back, or give up) is the
caller's.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx
import tenacity

from finsync_dagster.errors import (
    ApiError,
    RateLimitedError,
    RequestNotSentError,
    TransientApiError,
    UnavailableError,
)

T = TypeVar("T")


@dataclass(frozen=True)
class HttpPolicy:
    """Named defaults; a client takes one of these, never literals at call sites."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 6
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 120.0
    requests_per_minute: int | None = None
    max_concurrency: int = 8

    @property
    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.read_timeout, connect=self.connect_timeout)

    @property
    def limits(self) -> httpx.Limits:
        return httpx.Limits(
            max_connections=self.max_concurrency * 2, max_keepalive_connections=self.max_concurrency
        )


DEFAULT_POLICY = HttpPolicy()


@dataclass
class ClientStats:
    """What a client has seen, for run metadata and benchmarks (never tokens)."""

    requests: int = 0
    rate_limited: int = 0
    transient_errors: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def count(self, *, error: Exception | None = None) -> None:
        with self._lock:
            self.requests += 1
            if isinstance(error, RateLimitedError):
                self.rate_limited += 1
            if isinstance(error, TransientApiError):
                self.transient_errors += 1


class RateLimiter:
    """A thread-safe token bucket: at most ``rate`` requests a second, bursts up to ``burst``."""

    def __init__(self, rate: float | None, burst: int | None = None) -> None:
        self.rate = rate
        self.capacity = float(burst or max(1, int(rate or 1)))
        self._tokens = self.capacity
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self.rate:
            return
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self.rate
            time.sleep(wait)

    def penalize(self, seconds: float) -> None:
        """After a 429, hold every caller back for the pause the server asked for.

        Several requests in flight are often refused together; their pauses overlap rather than add up.
        """
        if not self.rate:
            return
        with self._lock:
            now = time.monotonic()
            tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
            self._tokens = min(tokens, -seconds * self.rate)
            self._updated = now


class QuotaLimiter(RateLimiter):
    """Never more than ``per_minute`` requests in any 60 s window, and nothing held back below that.

    A sliding window of send times, as the FreshBooks sandbox counts (and as a per-minute quota is best
    read): a short listing goes at full concurrency, a long push runs at the quota itself. A token bucket
    can promise the first or the second, not both. The window is a little longer than a minute so that
    requests which reach the server later than they left (a slow connection) still fit.
    """

    WINDOW = 60.5

    def __init__(self, per_minute: int) -> None:
        super().__init__(None)
        self.per_minute = per_minute
        self._sent: deque[float] = deque()
        self._paused_until = 0.0

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                while self._sent and now - self._sent[0] >= self.WINDOW:
                    self._sent.popleft()
                wait = self._paused_until - now
                if wait <= 0 and len(self._sent) < self.per_minute:
                    self._sent.append(now)
                    return
                if wait <= 0:
                    wait = self._sent[0] + self.WINDOW - now
            time.sleep(max(wait, 0.001))

    def penalize(self, seconds: float) -> None:
        """After a 429, hold every caller back for the pause the server asked for (pauses overlap)."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)


def quota_limiter(per_minute: int | None) -> RateLimiter:
    """A client-side limiter that never sends more than ``per_minute`` requests in any 60 s window."""
    if not per_minute:
        return RateLimiter(None)
    return QuotaLimiter(per_minute)


def _wait(policy: HttpPolicy) -> Callable[[tenacity.RetryCallState], float]:
    jitter = tenacity.wait_random_exponential(multiplier=policy.backoff_initial, max=policy.backoff_max)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            # Honour the server's pause, plus a little jitter so parallel callers do not stampede.
            return min(exc.retry_after, policy.retry_after_max) + random.uniform(0, policy.backoff_initial)
        return jitter(state)

    return wait


def call_with_retries(
    fn: Callable[[], T],
    policy: HttpPolicy = DEFAULT_POLICY,
    *,
    retry_on: tuple[type[BaseException], ...] = (TransientApiError,),
    before_retry: Callable[[BaseException], None] | None = None,
) -> T:
    """Call ``fn`` until it succeeds, a permanent error surfaces, or attempts run out.

    ``before_retry`` sees each error that will be retried, before the pause (e.g. to note that a delete
    may already have been applied).
    """

    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if before_retry is not None and exc is not None:
            before_retry(exc)

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(retry_on),
        stop=tenacity.stop_after_attempt(policy.max_attempts),
        wait=_wait(policy),
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(fn)


# No connection was opened, or none was free in the pool: the request reached nobody.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def translate_transport_error(exc: httpx.TransportError, *, system: str, request: str) -> ApiError:
    """An httpx transport failure as a finsync error, for both clients: all of them are worth a retry,
    and :class:`RequestNotSentError` says that even a write may be resent."""
    if isinstance(exc, _NOT_SENT):
        return RequestNotSentError(f"could not connect: {type(exc).__name__}", system=system, request=request)
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "connection failed"
    return UnavailableError(f"{kind}: {type(exc).__name__}", system=system, request=request)


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def new_http_client(
    base_url: str = "",
    policy: HttpPolicy = DEFAULT_POLICY,
    *,
    transport: httpx.BaseTransport | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Client:
    """A pooled client with the policy's timeouts; tests inject ``transport``."""
    return httpx.Client(
        base_url=base_url,
        timeout=policy.timeout,
        limits=policy.limits,
        transport=transport,
        headers={"User-Agent": "finsync/0.1", **(headers or {})},
    )
