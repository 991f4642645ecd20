"""Small pure pieces of the FreshBooks client: the quota limiter, the pasted-redirect parser, Eastern
time at the boundary, identity parsing, and the package's public surface."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import pytest

import finsync_dagster.resources.freshbooks as freshbooks
from finsync_dagster.errors import AuthenticationError, ValidationError
from finsync_dagster.resources.freshbooks import accounting_time_to_utc, oauth
from finsync_dagster.resources.freshbooks.identity import parse_identity
from finsync_dagster.resources.http_policy import HttpPolicy, QuotaLimiter, RateLimiter, quota_limiter


class _ShortWindow(QuotaLimiter):
    WINDOW = 0.5  # the same rule over half a second, so the test is quick


def test_quota_limiter_sends_the_whole_quota_at_once_then_never_more_in_any_window() -> None:
    limiter = _ShortWindow(40)
    sent = []
    started = time.monotonic()
    for _ in range(100):
        limiter.acquire()
        sent.append(time.monotonic())
    assert sent[39] - started < 0.1  # the first 40 go at once (a short listing at full concurrency)
    for index in range(40, 100):  # and no window of 0.5 s ever holds more than 40
        assert sent[index] - sent[index - 40] >= _ShortWindow.WINDOW - 0.005
    assert sent[-1] - started < 3 * _ShortWindow.WINDOW  # a long run goes at the quota itself


def test_a_429_pauses_the_quota_limiter_once() -> None:
    limiter = quota_limiter(1000)
    for _ in range(4):
        limiter.penalize(0.3)
    started = time.monotonic()
    limiter.acquire()
    assert 0.3 <= time.monotonic() - started < 0.5


def test_no_quota_means_no_pacing() -> None:
    limiter = quota_limiter(None)
    started = time.monotonic()
    for _ in range(1000):
        limiter.acquire()
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize(
    ("pasted", "code"),
    [
        ("https://localhost/cb?code=abc123&state=S1", "abc123"),
        ("  abc123  ", "abc123"),
    ],
    ids=["redirect-url", "bare-code"],
)
def test_code_is_taken_from_a_pasted_redirect_or_code(pasted: str, code: str) -> None:
    assert oauth.code_from_redirect(pasted, state="S1") == code


def test_redirect_from_another_attempt_is_refused() -> None:
    with pytest.raises(AuthenticationError, match="state does not match"):
        oauth.code_from_redirect("https://localhost/cb?code=abc&state=OTHER", state="S1")


def test_refused_authorization_says_so() -> None:
    with pytest.raises(AuthenticationError, match="access_denied"):
        oauth.code_from_redirect("https://localhost/cb?error=access_denied&state=S1", state="S1")


def test_empty_paste_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="nothing was pasted"):
        oauth.code_from_redirect("   ", state="S1")


@pytest.mark.parametrize(
    ("eastern", "utc"),
    [
        ("2019-11-14 11:27:45", datetime(2019, 11, 14, 16, 27, 45, tzinfo=UTC)),  # EST, UTC-5
        ("2022-08-16 14:11:07", datetime(2022, 8, 16, 18, 11, 7, tzinfo=UTC)),  # EDT, UTC-4
    ],
    ids=["winter", "summer"],
)
def test_accounting_times_are_eastern_wall_clock(eastern: str, utc: datetime) -> None:
    assert accounting_time_to_utc(eastern) == utc


def test_identity_takes_the_account_from_roles_when_the_business_lacks_it() -> None:
    payload = {
        "id": 9,
        "identity_id": 9,
        "email": "owner@example.com",
        "business_memberships": [
            {
                "role": "owner",
                "business": {"id": 55, "business_uuid": "u-55", "name": "Acme", "account_id": None},
            }
        ],
        "roles": [{"role": "admin", "accountid": "ZZ9", "systemid": 1}],
    }
    identity = parse_identity(payload)
    business = identity.business_for("ZZ9")
    assert business is not None and (business.business_id, business.role) == (55, "owner")


def test_public_surface_is_pinned() -> None:
    assert sorted(freshbooks.__all__) == [
        "Business",
        "Callback",
        "ClientStats",
        "FreshBooksClient",
        "FreshBooksResource",
        "Identity",
        "OAuthApp",
        "RESOURCES",
        "ResourceSpec",
        "TokenKeeper",
        "TokenSet",
        "accounting_time_to_utc",
    ]


def test_429s_refused_together_pause_the_limiter_once() -> None:
    limiter = RateLimiter(10, burst=4)  # four requests in flight, all refused with Retry-After: 0.3
    for _ in range(4):
        limiter.penalize(0.3)
    started = time.monotonic()
    limiter.acquire()
    waited = time.monotonic() - started
    assert 0.3 <= waited < 0.6  # one pause (plus one token's 0.1 s), not four


def test_a_code_spent_by_an_attempt_whose_answer_was_lost_says_to_authorize_again() -> None:
    answers = iter([httpx.ReadError("connection reset"), None])

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        error = next(answers)
        if error is not None:
            raise error
        return httpx.Response(400, json={"error": "invalid_grant", "error_description": "code already used"})

    app = oauth.OAuthApp(client_id="id", client_secret="secret", redirect_uri="https://localhost/cb")
    fast = HttpPolicy(backoff_initial=0.01, backoff_max=0.02)
    with pytest.raises(AuthenticationError, match=r"answer was lost.*finsync connect freshbooks"):
        oauth.exchange_code(app, "code-1", policy=fast, transport=httpx.MockTransport(token_endpoint))
