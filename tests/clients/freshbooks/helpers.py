"""Helpers of the FreshBooks client tests: constants, a stored token, and a sandbox account to connect."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from finsync_dagster.ledger import Ledger, StoredToken
from finsync_dagster.resources.freshbooks import FreshBooksClient, FreshBooksResource, OAuthApp, oauth
from finsync_dagster.resources.http_policy import HttpPolicy

ACCOUNT = "ACC123"
PAIR = "acme"
API_URL = "https://api.example.test"
CLIENT_SECRET = "app-secret-s3cr3t"
ACCESS_TOKEN = "access-token-a1"
REFRESH_TOKEN = "refresh-token-r1"
# Fast backoff so retry tests take milliseconds; no client-side rate limit unless a test sets one.
FAST = HttpPolicy(backoff_initial=0.01, backoff_max=0.05, max_attempts=4, max_concurrency=4)
# Short backoff and more attempts: injected faults are frequent in the loopback tests, and each should
# cost little time; 429s still wait for the sandbox's Retry-After.
LOOPBACK = HttpPolicy(backoff_initial=0.05, backoff_max=0.5, max_attempts=10, max_concurrency=4)


def store_token(ledger: Ledger, *, expires_in: float = 3600, access: str = ACCESS_TOKEN) -> None:
    ledger.save_token(
        "freshbooks",
        PAIR,
        access_token=access,
        refresh_token=REFRESH_TOKEN,
        expires_at=datetime.now(UTC) + timedelta(seconds=expires_in),
    )


@dataclass
class SandboxAccount:
    """A sandbox account's resource and the ledger its tokens live in. A :meth:`twin` opens the same
    ledger anew, as a second process would."""

    resource: FreshBooksResource
    ledger_url: str
    ledger: Ledger = field(init=False)

    def __post_init__(self) -> None:
        self.ledger = Ledger(self.ledger_url)
        self.ledger.migrate()

    @property
    def token_key(self) -> str:
        return self.resource.token_key

    def oauth_app(self) -> OAuthApp:
        return self.resource.oauth_app()

    def twin(self) -> SandboxAccount:
        return SandboxAccount(self.resource, self.ledger_url)


def connect(account: SandboxAccount) -> StoredToken:
    """The authorization-code flow as `finsync connect freshbooks --sandbox` runs it."""
    app = account.oauth_app()
    state = oauth.new_state()
    code = oauth.code_from_redirect(
        oauth.follow_authorize(oauth.authorization_url(app, state=state)), state=state
    )
    return account.resource.token_keeper(account.ledger).store(oauth.exchange_code(app, code))


def loopback_client(account: SandboxAccount, policy: HttpPolicy = LOOPBACK) -> FreshBooksClient:
    return FreshBooksClient(
        api_url=account.resource.api_url,
        account_id=account.resource.account_id,
        tokens=account.resource.token_keeper(account.ledger),
        policy=policy,
    )
