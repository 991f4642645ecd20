"""The receiver against the shop sandbox: its subscriptions deliver signed orders to the pair's shop endpoint,
every delivery is answered 200, and each (topic, event) is stored once although the sandbox sends every
delivery twice."""

from __future__ import annotations

from pathlib import Path

from finsync_dagster.settings import load_settings
from finsync_dagster.webhooks import build_receiver, open_durable_ledger
from tests.fixtures.shop import ShopSandboxHandle
from tests.webhooks.helpers import served

PAIR = "shopdemo"
BUYER = {
    "email": "priya.raman@example.net",
    "lines": [{"sku": "WIDGET-A", "quantity": 2}],
    "address": {"first_name": "Priya", "last_name": "Raman", "address1": "41 Cedar Lane", "city": "Austin",
                "province_code": "TX", "country_code": "US", "zip": "78704"},
}  # fmt: skip


def test_shop_deliveries_land_once_each(shop_empty: ShopSandboxHandle, tmp_path: Path) -> None:
    config = tmp_path / "finsync.yaml"
    config.write_text(
        f"version: 1\npairs:\n  - name: {PAIR}\n    sandbox_dir: {shop_empty.dir}\n", encoding="utf-8"
    )
    settings = load_settings(config, env={"FINSYNC_HOME": str(tmp_path / "home")})
    ledger, described = open_durable_ledger(settings.ledger_url)
    receiver = build_receiver(settings, ledger, described, verify_at_provider=lambda *_: None)
    endpoint = receiver.endpoints[PAIR].shop
    assert endpoint is not None and endpoint.shop_domain == shop_empty.info["shop_domain"]

    shop_empty.control("/settings", {"webhooks": {"duplicate_rate": 1, "seed": 3}}, method="PUT")
    with served(receiver) as running:
        with shop_empty.api() as api:
            for topic in ("orders/create", "orders/paid"):
                address = f"{running.url}/webhooks/shop/{PAIR}"
                created = api.post("/webhooks.json", json={"webhook": {"topic": topic, "address": address}})
                assert created.status_code == 201, created.text
        orders = [shop_empty.control("/orders", BUYER).json()["order"] for _ in range(3)]
        assert shop_empty.state.webhooks.wait_idle(30)

    deliveries = shop_empty.state.webhooks.deliveries
    assert len(deliveries) == 12 and all(d["status"] == 200 for d in deliveries)  # 3 orders x 2 topics x 2
    rows = ledger.inbox_after(0, pair=PAIR)
    assert sorted((r.event, r.object_id) for r in rows) == sorted(
        (topic, str(order["id"])) for order in orders for topic in ("orders/create", "orders/paid")
    )
    assert {r.account_id for r in rows} == {shop_empty.info["shop_domain"]}
    ledger.engine.dispose()
