"""Registration decisions with a FreshBooks stand-in (what exists, what is recorded, what is resent), and
the per-pair endpoint settings, the shop section included."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from finsync_dagster.ledger import Ledger
from finsync_dagster.resources.freshbooks import Callback
from finsync_dagster.settings import PairConfig, ShopPairConfig
from finsync_dagster.webhooks import ShopEndpoint, endpoint_url, register
from finsync_dagster.webhooks.endpoints import shop_endpoint

URL = "https://hooks.example.com/webhooks/freshbooks/acme"


@dataclass
class FakeApi:
    callbacks: list[Callback] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)

    def list_callbacks(self, *, event: str | None = None) -> list[Callback]:
        return list(self.callbacks)

    def create_callback(self, event: str, uri: str) -> Callback:
        made = Callback(callback_id=100 + len(self.callbacks), event=event, uri=uri, verified=False)
        self.callbacks.append(made)
        return made

    def resend_verification(self, callback_id: int | str) -> Callback:
        self.resent.append(str(callback_id))
        return next(c for c in self.callbacks if str(c.callback_id) == str(callback_id))


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    store = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", token_key=Fernet.generate_key().decode())
    store.migrate()
    return store


def test_existing_callbacks_are_kept_and_recorded_missing_ones_created(ledger: Ledger) -> None:
    api = FakeApi(
        [Callback(7, "invoice.create", URL, True), Callback(8, "invoice.update", "https://old", True)]
    )
    ledger.record_callback(pair="acme", system="freshbooks", callback_id="99", event="client.create", url=URL)

    rows = register(api, ledger, "acme", URL, events=("invoice.create", "invoice.update"), wait=0)

    assert [(r.event, r.callback_id, r.created) for r in rows] == [
        ("invoice.create", "7", False),
        ("invoice.update", "102", True),  # the one for another URL does not count
    ]
    recorded = {c.callback_id for c in ledger.webhook_callbacks(pair="acme")}
    assert recorded == {"7", "102"}  # 99 is gone from FreshBooks, so from the ledger too

    again = register(api, ledger, "acme", URL, events=("invoice.create", "invoice.update"), wait=0)
    assert [r.created for r in again] == [False, False]
    assert len(api.callbacks) == 3


def test_unverified_callbacks_get_their_verifier_resent_until_verified(ledger: Ledger) -> None:
    api = FakeApi()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(api.resent) == 1:  # the receiver completes the handshake after the resend
            ledger.mark_callback_verified(pair="acme", system="freshbooks", callback_id="100", secret="v")

    rows = register(
        api, ledger, "acme", URL, events=("payment.create",), wait=30, resend_every=0.0, sleep=sleep
    )

    assert api.resent == ["100"]
    assert [(r.callback_id, r.verified) for r in rows] == [("100", True)]


def test_endpoint_url_appends_the_pair_path_once() -> None:
    assert endpoint_url("https://hooks.example.com/", "acme") == URL
    assert endpoint_url(URL, "acme") == URL


def shop_pair(**section: Any) -> PairConfig:
    shop = ShopPairConfig(shop_domain="acme.myshopify.com", **section)
    return PairConfig(name="acme", sandbox_dir="x", shop=shop)


def test_the_shop_secret_comes_from_the_variable_the_section_names(caplog: pytest.LogCaptureFixture) -> None:
    env = {"ACME_SHOP_SECRET": "s3cret", "ACME_SHOP_OLD": "old"}
    endpoint = shop_endpoint(shop_pair(webhook_secret_env="ACME_SHOP_SECRET, ACME_SHOP_OLD"), env)
    assert endpoint == ShopEndpoint(secrets=("s3cret", "old"), shop_domain="acme.myshopify.com")
    assert "s3cret" not in repr(endpoint)
    assert shop_endpoint(PairConfig(name="acme", sandbox_dir="x"), env) is None  # no shop
    assert shop_endpoint(shop_pair(webhook_secret_env="UNSET_VARIABLE"), env) is None
    assert "UNSET_VARIABLE is not set" in caplog.text


def test_verifiers_are_cached_and_reread_at_most_so_often(ledger: Ledger) -> None:
    from finsync_dagster.webhooks.verifiers import Verifiers

    now = [100.0]
    verifiers = Verifiers(ledger, max_age=5.0, min_reload=0.5, clock=lambda: now[0])
    assert verifiers.lookup("acme", "invoice.create") is None  # nothing loaded yet
    verifiers.load("acme")
    assert verifiers.lookup("acme", "invoice.create") == []

    # `finsync webhooks register` and a handshake, in another process.
    ledger.record_callback(pair="acme", system="freshbooks", callback_id="1", event="invoice", url=URL)
    ledger.mark_callback_verified(pair="acme", system="freshbooks", callback_id="1", secret="k1")
    verifiers.load("acme")  # asked again at once (a bad signature): not reread
    assert verifiers.lookup("acme", "invoice.create") == []
    now[0] += 1.0
    verifiers.load("acme")
    assert verifiers.lookup("acme", "invoice.create") == ["k1"]  # a parent-name callback signs its events
    assert verifiers.lookup("acme", "payment.create") == []
    now[0] += 6.0
    assert verifiers.lookup("acme", "invoice.create") is None  # stale: the caller reloads
