"""How a failed attempt ends, decided once from the error's class (``errors.py`` draws the tree).

- not applied, certainly (429, an expired token refused, a connection never opened): ``retry_wait``;
- maybe applied (a 5xx, a timeout, a reset, a crash while sending): ``in_doubt``, looked up before any
  resend;
- refused for good (validation, M3's error quartet, a payload the mapping refused): ``dead``, a dead
  letter with the reason, the rest of the batch untouched;
- credentials a person must renew: ``retry_wait`` without counting an attempt, so nothing dies of it.

Retries wait with full-jitter exponential backoff (at least what ``Retry-After`` asked); after
``max_attempts`` a retried action is dead.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from finsync_dagster.errors import (
    SAFE_TO_RESEND,
    ApiError,
    AuthenticationError,
    MappingError,
    OutcomeUnknownError,
    PermanentApiError,
    RateLimitedError,
    TransientApiError,
    UnavailableError,
)
from finsync_dagster.ledger import Action, Outcome, State, utcnow

BACKOFF_BASE = 2.0
BACKOFF_CAP = 900.0


def backoff(attempt: int, *, at_least: float = 0.0) -> float:
    """Seconds to wait before attempt ``attempt + 1``: full jitter, as the HTTP policy waits."""
    return max(at_least, random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)))


def after_error(
    action: Action,
    error: BaseException,
    *,
    max_attempts: int,
    recheck_minutes: int,
    request: dict[str, Any] | None = None,
) -> Outcome:
    """The outcome of an attempt of ``action`` that raised or returned ``error``."""
    text = _describe(error)
    name = type(error).__name__
    code = getattr(error, "code", None)
    attempts = action.attempts + 1
    if isinstance(error, AuthenticationError):
        later = utcnow() + timedelta(minutes=recheck_minutes)
        return Outcome(
            State.RETRY_WAIT, error=text, error_class=name, next_attempt_at=later, counts_as_attempt=False
        )
    if isinstance(error, MappingError) or (
        isinstance(error, PermanentApiError) and not isinstance(error, OutcomeUnknownError)
    ):
        return Outcome(State.DEAD, error=text, error_class=name, error_code=code, request=request,
                       response=_response(error))  # fmt: skip
    maybe_applied = isinstance(error, OutcomeUnknownError) or (
        isinstance(error, UnavailableError) and not isinstance(error, SAFE_TO_RESEND)
    )
    if maybe_applied:
        if attempts >= 2 * max_attempts:
            return Outcome(
                State.DEAD,
                error=f"could not find out whether it was applied after {attempts} attempts; check the target "
                f"before retrying ({text})",
                error_class=name,
                request=request,
            )
        later = utcnow() + timedelta(seconds=backoff(attempts - 1, at_least=1.0))
        return Outcome(State.IN_DOUBT, error=text, error_class=name, next_attempt_at=later)
    if isinstance(error, TransientApiError):
        if attempts >= max_attempts:
            return Outcome(State.DEAD, error=f"gave up after {attempts} attempts: {text}", error_class=name,
                           request=request)  # fmt: skip
        retry_after = error.retry_after if isinstance(error, RateLimitedError) else None
        later = utcnow() + timedelta(seconds=backoff(attempts - 1, at_least=retry_after or 0.0))
        return Outcome(State.RETRY_WAIT, error=text, error_class=name, next_attempt_at=later)
    # Anything else is a bug of ours, not the API's: keep the action, show the error, try again later.
    later = utcnow() + timedelta(minutes=recheck_minutes)
    return Outcome(State.RETRY_WAIT, error=text, error_class=name, next_attempt_at=later)


def split_refused(actions: Sequence[Action]) -> tuple[list[tuple[Action, Outcome]], list[Action]]:
    """The actions whose payload the mapping refused, already dead, and the ones to send."""
    dead: list[tuple[Action, Outcome]] = []
    live: list[Action] = []
    for action in actions:
        outcome = refused(action)
        if outcome is None:
            live.append(action)
        else:
            dead.append((action, outcome))
    return dead, live


def refused(action: Action) -> Outcome | None:
    """A payload the mapping refused at planning: dead at once, with the mapping's reason."""
    reason = action.payload.get("_refused")
    if reason is None:
        return None
    return Outcome(State.DEAD, error=f"the mapping refused it: {reason}", error_class="MappingError",
                   request={"payload": action.payload})  # fmt: skip


def sendable(payload: dict[str, Any]) -> dict[str, Any]:
    """A payload as the target receives it: finsync's own marks (``_refused``, ``_edited_by``) left out."""
    return {key: value for key, value in payload.items() if not key.startswith("_")}


def waiting(reason: str, *, recheck_minutes: int) -> Outcome:
    """A condition in the target not met yet (M3 has not invoiced the order): no attempt, no dead letter."""
    later = utcnow() + timedelta(minutes=recheck_minutes)
    return Outcome(
        State.BLOCKED, error=reason, error_class="Waiting", next_attempt_at=later, counts_as_attempt=False
    )


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__


def _response(error: BaseException) -> dict[str, Any] | None:
    if not isinstance(error, ApiError):
        return None
    return {"status": error.status, "code": error.code, "field": error.field, "message": error.message}
