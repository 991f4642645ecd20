"""List 20,000 FreshBooks invoices with their lines: the finsync client against the official SDK's loop.

The FreshBooks sandbox runs in its own process (``finsync sandbox --only freshbooks --scale N``) and adds
100 ms to every response, a SaaS round trip rather than loopback's. Both clients list every invoice
with ``include[]=lines``, 100 a page: the official SDK page by page, as its docs show; finsync with its
bounded concurrent paging, under a client-side limiter set to the sandbox's own per-minute limit. Only
the listing is timed (each side's OAuth code exchange happens before its clock starts). The records are
checked to be the same, and the 429s the sandbox answered during each run are reported.

    .venv/bin/python benchmarks/freshbooks_list_invoices.py [--invoices 20000] [--latency-ms 100]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from finsync_dagster.resources.freshbooks import oauth
from finsync_dagster.resources.pair_clients import PairClients
from finsync_dagster.settings import PairConfig, load_settings, read_sandbox_file

Records = list[dict[str, Any]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="fb-bench-") as tmp:
        directory = Path(tmp)
        server = start_sandbox(directory, args.invoices, args.latency_ms)
        try:
            info = read_sandbox_file(directory)["freshbooks"]
            limit = sandbox_settings(info)["rate_limit_per_minute"]
            print(f"sandbox: {args.invoices} invoices, +{args.latency_ms} ms a response, limit {limit}/min")

            sdk_seconds, sdk_records, sdk_429 = run_counting_429s(info, lambda: list_with_sdk(info))
            print(
                f"official SDK, page by page:    {sdk_seconds:7.2f} s  {len(sdk_records):6d} invoices  {sdk_429} 429s"
            )

            fs_seconds, fs_records, fs_429 = run_counting_429s(
                info, lambda: list_with_finsync(directory, limit, args.concurrency)
            )
            print(
                f"finsync, {args.concurrency} pages in flight:  {fs_seconds:7.2f} s  {len(fs_records):6d} invoices"
                f"  {fs_429} 429s"
            )

            check_same(sdk_records, fs_records, args.invoices)
            print(f"same {len(fs_records)} invoices with lines on both sides")
            print(f"ratio (SDK time / finsync time): {sdk_seconds / fs_seconds:.1f}x")
        finally:
            server.terminate()
            server.wait(timeout=30)


def start_sandbox(directory: Path, invoices: int, latency_ms: int) -> subprocess.Popen[bytes]:
    finsync = str(Path(sys.executable).with_name("finsync"))
    command = [finsync, "sandbox", "--only", "freshbooks", "--scale", str(invoices)]
    command += ["--faults", f"latency_ms={latency_ms}", "--dir", str(directory)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not (directory / "sandbox.json").exists():
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise SystemExit("the FreshBooks sandbox did not start")
        time.sleep(0.2)
    return server


def sandbox_settings(info: dict[str, Any]) -> dict[str, Any]:
    """The sandbox's control plane: its rate limit and how many requests it refused so far."""
    response = httpx.get(f"{info['control_url']}/settings", timeout=10)
    response.raise_for_status()
    return response.json()


def run_counting_429s(
    info: dict[str, Any], run: Callable[[], tuple[float, Records]]
) -> tuple[float, Records, int]:
    before = sandbox_settings(info)["rate_limited"]
    seconds, records = run()
    return seconds, records, sandbox_settings(info)["rate_limited"] - before


def authorization_code(info: dict[str, Any]) -> str:
    """The sandbox approves its owner without a person, as ``finsync connect --sandbox`` relies on."""
    app = oauth.OAuthApp(
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        redirect_uri=info["redirect_uri"],
        api_url=info["api_url"],
        auth_url=info["auth_url"],
    )
    state = oauth.new_state()
    redirect = oauth.follow_authorize(oauth.authorization_url(app, state=state))
    return oauth.code_from_redirect(redirect, state=state)


def list_with_sdk(info: dict[str, Any]) -> tuple[float, Records]:
    # The SDK reads its URLs from the environment when a Client is built (contract §7).
    os.environ["FRESHBOOKS_API_URL"] = info["api_url"]
    os.environ["FRESHBOOKS_AUTH_URL"] = info["auth_url"]
    from freshbooks import Client, IncludesBuilder, PaginateBuilder

    client = Client(
        client_id=info["client_id"], client_secret=info["client_secret"], redirect_uri=info["redirect_uri"]
    )
    client.get_access_token(authorization_code(info))
    started = time.perf_counter()
    records: Records = []
    page = 1
    while True:
        result = client.invoices.list(
            info["account_id"], builders=[PaginateBuilder(page, 100), IncludesBuilder().include("lines")]
        )
        records.extend(result.data["invoices"])
        if result.pages is None or result.pages.page >= result.pages.pages:
            break
        page += 1
    return time.perf_counter() - started, records


def list_with_finsync(directory: Path, per_minute: int, concurrency: int) -> tuple[float, Records]:
    settings = load_settings(
        directory / "finsync.yaml", env={"FINSYNC_HOME": str(directory / "home")}, require_file=False
    )
    settings = settings.with_pair(PairConfig(name="bench", sandbox_dir=str(directory)))
    clients = PairClients.of(settings)
    resource = clients.freshbooks_resource(
        "bench", requests_per_minute=per_minute or None, max_concurrency=concurrency
    )
    info = read_sandbox_file(directory)["freshbooks"]
    ledger = clients.get_ledger()
    resource.token_keeper(ledger).store(oauth.exchange_code(resource.oauth_app(), authorization_code(info)))
    with resource.get_client(ledger) as client:
        started = time.perf_counter()
        records = [record for page in client.iter_pages("invoices", include=("lines",)) for record in page]
        return time.perf_counter() - started, records


def check_same(sdk: Records, finsync: Records, expected: int) -> None:
    by_id = {record["id"]: record for record in sdk}
    if not len(sdk) == len(by_id) == len(finsync) >= expected:
        raise SystemExit(f"counts differ: SDK {len(sdk)} ({len(by_id)} distinct), finsync {len(finsync)}")
    for record in finsync:
        if by_id.get(record["id"]) != record:
            raise SystemExit(f"invoice {record['id']} differs between the SDK and finsync")
        if not record.get("lines"):
            raise SystemExit(f"invoice {record['id']} came without lines")


if __name__ == "__main__":
    main()
