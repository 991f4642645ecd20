"""Dead letters, the way Celigo shows errors: grouped by pattern, each with its request and response
(secrets masked), the payload editable before a retry, resolve with a reason, and both for a whole group.

Retrying and resolving go through the ledger (``retry_dead``, ``resolve_dead``), which audits them under
the reviewer's name and gives a letter retried twice one effect.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from finsync_dagster.console.auth import action, page
from finsync_dagster.console.masking import masked, unmasked
from finsync_dagster.console.web import console_of, current, flash, render, see_other
from finsync_dagster.ledger import Ledger, Role
from finsync_dagster.ledger.engine import aware


@dataclass(frozen=True)
class Letter:
    id: int
    pair: str
    action: str
    target: str
    action_key: str
    error_class: str
    error_code: str | None
    message: str
    created_at: datetime | None
    request: str
    response: str
    payload: str
    resolution: str | None
    reason: str | None
    resolved_by: str | None


@dataclass(frozen=True)
class Group:
    pattern: str
    letters: list[Letter]


def _pretty(value: Any) -> str:
    return json.dumps(masked(value), indent=2, sort_keys=True, ensure_ascii=False, default=str)


def _loaded(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def groups(ledger: Ledger, *, pair: str | None, resolved: bool) -> list[Group]:
    rows = ledger.dead_letters(pair=pair, include_resolved=resolved)
    if resolved:
        rows = [r for r in rows if r["resolved_at"] is not None]
    by_pattern: dict[str, list[Letter]] = defaultdict(list)
    for row in rows:
        action_row = ledger.action(row["action_key"])
        by_pattern[row["pattern"]].append(
            Letter(
                id=row["id"],
                pair=row["pair"],
                action=row["action"],
                target=row["target"],
                action_key=row["action_key"],
                error_class=row["error_class"],
                error_code=row["error_code"],
                message=str(masked(row["message"])),
                created_at=aware(row["created_at"]),
                request=_pretty(_loaded(row["request"])) if row["request"] else "",
                response=_pretty(_loaded(row["response"])) if row["response"] else "",
                payload=_pretty(action_row.payload) if action_row else "",
                resolution=row["resolution"],
                reason=row["reason"],
                resolved_by=row["resolved_by"],
            )
        )
    return [
        Group(p, letters) for p, letters in sorted(by_pattern.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]


def _pair_filter(request: Request) -> str | None:
    wanted = request.query_params.get("pair")
    return wanted if wanted in console_of(request).settings.pair_names else None


@page()
async def dead_letters(request: Request) -> Response:
    console = console_of(request)
    pair = _pair_filter(request)
    show = "resolved" if request.query_params.get("show") == "resolved" else "open"
    found = await run_in_threadpool(lambda: groups(console.ledger, pair=pair, resolved=show == "resolved"))
    query = {"show": show, **({"pair": pair} if pair else {})}
    return render(
        request,
        "dead_letters.html.j2",
        active="dead_letters",
        groups=found,
        show=show,
        pair=pair,
        back=f"/dead-letters?{urlencode(query)}",
        can_act=current(request).user.role.allows(Role.REVIEWER),
    )


def _back(value: Any) -> str:
    text = value if isinstance(value, str) else ""
    return text if text.startswith("/dead-letters") and not text.startswith("//") else "/dead-letters"


class PayloadError(ValueError):
    """The edited payload is not a JSON object."""


def edited_payload(text: str, original: Any) -> dict[str, Any] | None:
    """The payload to retry with: None when unchanged, else the edit with masked values restored."""
    try:
        edited = json.loads(text)
    except ValueError as exc:
        raise PayloadError(f"the payload is not valid JSON ({exc})") from None
    if not isinstance(edited, dict):
        raise PayloadError("the payload must be a JSON object ({...})")
    if edited == masked(original):
        return None
    restored: dict[str, Any] = unmasked(edited, original)
    return restored


def _retry(ledger: Ledger, letter_id: int, by: str, payload_text: str | None) -> str:
    letter = ledger.dead_letter(letter_id)
    if letter is None:
        return "unknown"
    payload = None
    if payload_text is not None and payload_text.strip():
        original = ledger.action(letter["action_key"])
        payload = edited_payload(payload_text, original.payload if original else {})
    return ledger.retry_dead(letter_id, by=by, payload=payload)


@action(Role.REVIEWER)
async def retry(request: Request, form: FormData) -> Response:
    try:
        letter_id = int(str(form.get("id")))
    except ValueError:
        return PlainTextResponse("retry needs a dead letter id", 400)
    payload = form.get("payload")
    ledger, user = console_of(request).ledger, current(request).user.name
    try:
        outcome = await run_in_threadpool(
            _retry, ledger, letter_id, user, payload if isinstance(payload, str) else None
        )
    except PayloadError as exc:
        flash(request, "error", f"Dead letter {letter_id} not retried: {exc}.")
        return see_other(_back(form.get("back")))
    flash(request, "ok" if outcome == "retried" else "info", f"Dead letter {letter_id}: {outcome}.")
    return see_other(_back(form.get("back")))


@action(Role.REVIEWER)
async def resolve(request: Request, form: FormData) -> Response:
    try:
        letter_id = int(str(form.get("id")))
    except ValueError:
        return PlainTextResponse("resolve needs a dead letter id", 400)
    reason = str(form.get("reason") or "").strip()
    if not reason:
        flash(request, "error", "Say why the dead letter is resolved without a retry.")
        return see_other(_back(form.get("back")))
    ledger, user = console_of(request).ledger, current(request).user.name
    outcome = await run_in_threadpool(lambda: ledger.resolve_dead(letter_id, reason=reason[:1000], by=user))
    flash(request, "ok" if outcome == "resolved" else "info", f"Dead letter {letter_id}: {outcome}.")
    return see_other(_back(form.get("back")))


def _group_ids(ledger: Ledger, pattern: str, pair: str | None) -> list[int]:
    return [int(r["id"]) for r in ledger.dead_letters(pair=pair) if r["pattern"] == pattern]


@action(Role.REVIEWER)
async def group_action(request: Request, form: FormData) -> Response:
    """Retry, or resolve with one reason, every open letter of a pattern (of one pair, if filtered)."""
    console = console_of(request)
    pattern = str(form.get("pattern") or "")
    chosen = form.get("pair")
    pair = chosen if isinstance(chosen, str) and chosen in console.settings.pair_names else None
    what = form.get("do")
    reason = str(form.get("reason") or "").strip()
    if what not in ("retry", "resolve") or not pattern:
        return PlainTextResponse("a group action is retry or resolve, for a pattern", 400)
    if what == "resolve" and not reason:
        flash(request, "error", "Say why the group is resolved without a retry.")
        return see_other(_back(form.get("back")))
    ledger, user = console.ledger, current(request).user.name

    def apply() -> dict[str, int]:
        outcomes: dict[str, int] = defaultdict(int)
        for letter_id in _group_ids(ledger, pattern, pair):
            if what == "retry":
                outcomes[ledger.retry_dead(letter_id, by=user)] += 1
            else:
                outcomes[ledger.resolve_dead(letter_id, reason=reason[:1000], by=user)] += 1
        return dict(outcomes)

    outcomes = await run_in_threadpool(apply)
    said = (
        ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())) or "nothing open in that group"
    )
    flash(request, "ok", f"Group {what}: {said}.")
    return see_other(_back(form.get("back")))
