"""``finsync sandbox --only shop`` serves the shop alone and writes its section of sandbox.json: the URL and
the credentials a pair needs (shop domain, API version, access token, webhook secret)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx


def test_only_the_shop_is_served_and_its_section_is_written(tmp_path: Path) -> None:
    directory = tmp_path / "sandbox"
    process = subprocess.Popen(
        [sys.executable, "-m", "finsync_dagster.cli", "sandbox", "--dir", str(directory), "--only", "shop",
         "--seed", "empty"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (directory / "sandbox.json").exists():
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "sandbox.json was not written"
            time.sleep(0.1)
        sections = json.loads((directory / "sandbox.json").read_text(encoding="utf-8"))
        shop = sections["shop"]
        answer = httpx.get(
            f"{shop['api_url']}/admin/api/{shop['api_version']}/orders/count.json",
            headers={"X-Shopify-Access-Token": shop["access_token"]},
            timeout=10,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=20)
    assert set(sections) == {"shop"}
    assert {"api_url", "shop_domain", "api_version", "access_token", "webhook_secret", "control_url"} <= set(
        shop
    )
    assert shop["shop_domain"].endswith(".myshopify.com") and shop["access_token"].startswith("shpat_")
    assert answer.status_code == 200 and answer.json() == {"count": 0}
    assert f"shop       {shop['api_url']}" in stdout
