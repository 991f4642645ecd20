"""The backend of one running FreshBooks sandbox: every piece of its state, and its control-plane hooks.

As a moto backend, it is what handlers and the shared ``/sandbox`` control plane (``../control.py``) act on.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from finsync_dagster.sandbox.clock import SandboxClock
from finsync_dagster.sandbox.faults import FaultInjector, FaultPlan
from finsync_dagster.sandbox.freshbooks import seed as seeding
from finsync_dagster.sandbox.freshbooks.errors import AccountingError, for_status, revoked
from finsync_dagster.sandbox.freshbooks.models import Account, RateLimiter
from finsync_dagster.sandbox.freshbooks.oauth import DEFAULT_SCOPES, AccessToken, OAuthApp, TokenStore
from finsync_dagster.sandbox.freshbooks.webhooks import Webhooks

# Matches FreshBooksPairConfig's default in settings.py, so a sandbox pair needs no redirect setting.
REDIRECT_URI = "https://localhost/finsync/callback"
DEFAULT_RATE_LIMIT = 1200  # requests per minute; FreshBooks publishes none (contract 6, UNCONFIRMED)


def _stable_hex(label: str) -> str:
    return hashlib.sha256(f"finsync-freshbooks-sandbox:{label}".encode()).hexdigest()


@dataclass(frozen=True)
class Identity:
    identity_id: int = 4815162
    first_name: str = "Morgan"
    last_name: str = "Ellery"
    email: str = "owner@northwind-demo.example"
    user_id: int = 1

    @property
    def identity_uuid(self) -> str:
        h = _stable_hex("identity")
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


class FreshBooksSandbox:
    """Everything one sandbox holds: accounts, OAuth, webhooks, clock, limits and faults."""

    def __init__(
        self,
        *,
        base_url: str,
        seed: str = "demo",
        scale: int | None = None,
        faults: FaultPlan | None = None,
        rate_limit: int = DEFAULT_RATE_LIMIT,
        access_token_lifetime: int = 43200,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.lock = threading.RLock()
        self.clock = SandboxClock()
        self.identity = Identity()
        self.oauth_app = OAuthApp(_stable_hex("client_id"), _stable_hex("client_secret"), REDIRECT_URI)
        self.default_scopes = DEFAULT_SCOPES
        self.tokens = TokenStore(self.oauth_app, self.clock, access_token_lifetime)
        self.limiter = RateLimiter(rate_limit)
        self.faults = FaultInjector(faults or FaultPlan())
        self.webhooks = Webhooks(self.clock, self._webhook_context)
        self.accounts: dict[str, Account] = {}
        self.seed_name = seed
        self.scale = scale
        self.truth: dict[str, Any] | None = None
        self.reset(seed, scale)

    # -- data

    def reset(self, seed: str | None = None, scale: int | None = None) -> None:
        """Rebuild every account from the seed (default: the one given at start); callbacks are dropped."""
        seed = seed or self.seed_name
        with self.lock:
            seeded = seeding.build(seed, scale, self.clock, self.webhooks.emit)
            self.accounts = {account.account_id: account for account in seeded.accounts}
            self.truth = seeded.truth
            self.seed_name, self.scale = seed, scale
            self.webhooks.clear()

    @property
    def account(self) -> Account:
        """The sandbox owner's (first) account."""
        return next(iter(self.accounts.values()))

    def get_account(self, account_id: str) -> Account:
        account = self.accounts.get(account_id)
        if account is None:
            raise AccountingError(
                404, 1012, "Account not found.", field="account_id", object="account", value=account_id
            )
        return account

    # -- request guards

    def check_rate_limit(self, request: Request) -> None:
        retry_after = self.limiter.check()
        if retry_after is not None:
            raise for_status(request.url.path, 429, retry_after=retry_after)

    def bearer(self, request: Request) -> AccessToken | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        with self.lock:
            return self.tokens.check(token.strip())

    def authenticate(self, request: Request) -> None:
        """Rate limit, then a live bearer token; raises the path family's error otherwise."""
        self.check_rate_limit(request)
        if self.bearer(request) is None:
            raise revoked(request.url.path)

    # -- identity and connection details

    def identity_document(self) -> dict[str, Any]:
        ident = self.identity
        memberships, roles, groups = [], [], []
        for n, account in enumerate(self.accounts.values(), start=1):
            biz = account.business
            memberships.append(
                {
                    "id": 90000 + n,
                    "role": "owner",
                    "unacknowledged_change": False,
                    "fasttrack_token": None,
                    "business": {
                        "id": biz.business_id,
                        "business_uuid": biz.business_uuid,
                        "name": biz.name,
                        "account_id": biz.account_id,
                        "date_format": biz.date_format,
                        "address": biz.address,
                        "phone_number": None,
                        "business_clients": [],
                    },
                }
            )
            roles.append(
                {
                    "id": 80000 + n,
                    "role": "admin",
                    "systemid": 70000 + n,
                    "userid": ident.user_id,
                    "created_at": "2020-01-06T15:02:11Z",
                    "links": {},
                    "accountid": biz.account_id,
                }
            )
            groups.append(
                {
                    "id": 60000 + n,
                    "group_id": 50000 + n,
                    "role": "owner",
                    "identity_id": ident.identity_id,
                    "business_id": biz.business_id,
                    "active": True,
                }
            )
        return {
            "id": ident.identity_id,
            "identity_id": ident.identity_id,
            "identity_uuid": ident.identity_uuid,
            "first_name": ident.first_name,
            "last_name": ident.last_name,
            "email": ident.email,
            "language": "en",
            "confirmed_at": "2020-01-06T15:01:48Z",
            "created_at": "2020-01-06T15:01:30Z",
            "unconfirmed_email": None,
            "setup_complete": True,
            "phone_numbers": [],
            "addresses": [],
            "profile": {"setup_complete": True},
            "profession": {},
            "links": {},
            "permissions": {a.account_id: {"admin": True} for a in self.accounts.values()},
            "groups": groups,
            "subscription_statuses": {a.account_id: "active" for a in self.accounts.values()},
            "integrations": {},
            "business_memberships": memberships,
            "roles": roles,
        }

    def info(self) -> dict[str, Any]:
        """The ``"freshbooks"`` section of sandbox.json."""
        account = self.account
        return {
            "api_url": self.base_url,
            "auth_url": self.base_url,
            "authorize_url": f"{self.base_url}/oauth/authorize",
            "token_url": f"{self.base_url}/auth/oauth/token",
            "control_url": f"{self.base_url}/sandbox",
            "client_id": self.oauth_app.client_id,
            "client_secret": self.oauth_app.client_secret,
            "redirect_uri": self.oauth_app.redirect_uri,
            "account_id": account.account_id,
            "business_id": account.business.business_id,
            "business_uuid": account.business.business_uuid,
            "identity_id": self.identity.identity_id,
            "seed": self.seed_name,
            "scale": self.scale,
        }

    # -- control-plane hooks (``../control.py``)

    def describe(self) -> dict[str, Any]:
        with self.lock:
            counts = {name: len(table) for name, table in self.account.tables.items()}
        # The app's secret stays in sandbox.json (0600): the control plane may be reachable by others.
        public = {key: value for key, value in self.info().items() if key != "client_secret"}
        return {**public, "counts": counts}

    def expire_tokens(self) -> int:
        with self.lock:
            return self.tokens.expire_all()

    def settings(self) -> dict[str, Any]:
        return {
            "rate_limit_per_minute": self.limiter.per_minute,
            "rate_limited": self.limiter.refused,
            "access_token_lifetime": self.tokens.lifetime,
            "webhooks": self.webhooks.settings.to_dict(),
        }

    def update_settings(self, values: dict[str, Any]) -> None:
        """``rate_limit_per_minute``, ``access_token_lifetime``, ``webhooks``; other names are ignored."""
        with self.lock:
            if "rate_limit_per_minute" in values:
                self.limiter.per_minute = int(values["rate_limit_per_minute"])
                self.limiter.reset()
            if "access_token_lifetime" in values:
                self.tokens.lifetime = int(values["access_token_lifetime"])
            delivery = self.webhooks.settings
            for key, value in (values.get("webhooks") or {}).items():
                if key in delivery.to_dict():
                    setattr(delivery, key, type(getattr(delivery, key))(value))

    def _webhook_context(self, account_id: str) -> list[tuple[str, str]]:
        account = self.accounts.get(account_id)
        business_id = account.business.business_id if account else 0
        return [
            ("account_id", account_id),
            ("business_id", str(business_id)),
            ("identity_id", str(self.identity.identity_id)),
            ("user_id", str(self.identity.user_id)),
        ]
