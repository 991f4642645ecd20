"""Who a FreshBooks token belongs to, and the businesses (with their three ids) it can reach."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Business:
    """A business membership: ``account_id`` keys accounting paths, ``business_id`` projects and time."""

    account_id: str | None
    business_id: int
    business_uuid: str | None
    name: str
    role: str


@dataclass(frozen=True)
class Identity:
    identity_id: int
    email: str
    first_name: str
    last_name: str
    businesses: tuple[Business, ...]

    def business_for(self, account_id: str) -> Business | None:
        return next((b for b in self.businesses if b.account_id == account_id), None)


def parse_identity(payload: dict[str, Any]) -> Identity:
    """``GET /auth/api/v1/users/me`` → ``response`` (contract §1.3)."""
    role_accounts = {r.get("accountid") for r in payload.get("roles") or [] if r.get("accountid")}
    # Seen live: account_id null while roles[].accountid holds the usable one (contract §1.3); only
    # trust that when it is unambiguous.
    fallback = next(iter(role_accounts)) if len(role_accounts) == 1 else None
    businesses = []
    for membership in payload.get("business_memberships") or []:
        business = membership.get("business") or {}
        account_id = business.get("account_id") or fallback
        businesses.append(
            Business(
                account_id=account_id,
                business_id=int(business["id"]),
                business_uuid=business.get("business_uuid"),
                name=business.get("name") or "",
                role=membership.get("role") or "",
            )
        )
    return Identity(
        identity_id=int(payload.get("identity_id") or payload["id"]),
        email=payload.get("email") or "",
        first_name=payload.get("first_name") or "",
        last_name=payload.get("last_name") or "",
        businesses=tuple(businesses),
    )
