"""Benchmark: stage 200,000 FreshBooks invoices with their lines from the sandbox into DuckDB.

finsync's staging asset (run through Dagster, as in production) against dlt's ``rest_api`` source into
DuckDB, the baseline, in the same run and against the same sandbox. Each side runs in its own process so
that its peak RSS is its own. Prints rows per second, peak memory and the ratio.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/stage_freshbooks_invoices.py [--invoices 200000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]


def start_sandbox(directory: Path, invoices: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "finsync_dagster.cli",
            "sandbox",
            "--only",
            "freshbooks",
            "--dir",
            str(directory),
            "--scale",
            str(invoices),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600
    while not (directory / "sandbox.json").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the sandbox did not start")
        time.sleep(0.2)
    info = json.loads((directory / "sandbox.json").read_text())["freshbooks"]
    # Neither side is being measured against FreshBooks' throttling here.
    httpx.put(f"{info['control_url']}/settings", json={"rate_limit_per_minute": 0}).raise_for_status()
    return process


def child(side: str, work: Path) -> None:
    started = time.perf_counter()
    if side == "finsync":
        invoices, lines = run_finsync(work)
    else:
        invoices, lines = run_dlt(work)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "invoices": invoices, "lines": lines, "peak_rss_mb": peak_mb}))


def run_finsync(work: Path) -> tuple[int, int]:
    import dagster as dg
    import duckdb
    from click.testing import CliRunner

    from finsync_dagster.cli import cli
    from finsync_dagster.definitions import build_definitions
    from finsync_dagster.settings import load_settings

    config = work / "finsync.yaml"
    config.write_text(
        "pairs:\n  - name: bench\n    sandbox_dir: " + str(work / "sandbox") + "\n"
        "    freshbooks_limits: {requests_per_minute: 60000, max_concurrency: 8}\n"
    )
    os.environ["FINSYNC_HOME"] = str(work / "home")
    sandbox = str(work / "sandbox")
    result = CliRunner().invoke(cli, ["connect", "freshbooks", "--pair", "bench", "--sandbox", sandbox])
    assert result.exit_code == 0, result.output
    settings = load_settings(config)
    # Staging alone: the validation checks of these tables are measured by validate_invoices.py.
    tables = [
        dg.AssetKey(["staging", "freshbooks_invoices"]),
        dg.AssetKey(["staging", "freshbooks_invoice_lines"]),
    ]
    stage_only = dg.define_asset_job(
        "stage_invoices", selection=dg.AssetSelection.assets(*tables).without_checks()
    )
    definitions = dg.Definitions.merge(build_definitions(settings), dg.Definitions(jobs=[stage_only]))
    outcome = definitions.resolve_job_def("stage_invoices").execute_in_process(
        partition_key="bench",
        instance=dg.DagsterInstance.ephemeral(),
        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
    )
    assert outcome.success
    with duckdb.connect(str(settings.warehouse_path("bench")), read_only=True) as connection:
        invoices = connection.execute("SELECT count(*) FROM staging.freshbooks_invoices").fetchone()[0]
        lines = connection.execute("SELECT count(*) FROM staging.freshbooks_invoice_lines").fetchone()[0]
    return invoices, lines


def run_dlt(work: Path) -> tuple[int, int]:
    import dlt
    import duckdb
    from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator
    from dlt.sources.rest_api import rest_api_source

    info = json.loads((work / "sandbox" / "sandbox.json").read_text())["freshbooks"]
    token = access_token(info)
    source = rest_api_source(
        {
            "client": {
                "base_url": f"{info['api_url']}/accounting/account/{info['account_id']}/",
                "auth": {"type": "bearer", "token": token},
                "paginator": PageNumberPaginator(
                    base_page=1, page_param="page", total_path="response.result.pages"
                ),
            },
            "resources": [
                {
                    "name": "invoices",
                    "endpoint": {
                        "path": "invoices/invoices",
                        "params": {"per_page": 100, "include[]": "lines"},
                        "data_selector": "response.result.invoices",
                    },
                    "primary_key": "id",
                    "write_disposition": "merge",
                }
            ],
        }
    )
    database = work / "dlt.duckdb"
    pipeline = dlt.pipeline(
        pipeline_name="freshbooks_bench",
        destination=dlt.destinations.duckdb(str(database)),
        dataset_name="staging",
        pipelines_dir=str(work / "dlt_pipelines"),
    )
    pipeline.run(source)
    with duckdb.connect(str(database), read_only=True) as connection:
        invoices = connection.execute("SELECT count(*) FROM staging.invoices").fetchone()[0]
        lines = connection.execute("SELECT count(*) FROM staging.invoices__lines").fetchone()[0]
    return invoices, lines


def access_token(info: dict) -> str:
    """The sandbox's authorization-code flow, as any OAuth client would run it."""
    from urllib.parse import parse_qs, urlsplit

    response = httpx.get(
        info["authorize_url"],
        params={
            "client_id": info["client_id"],
            "response_type": "code",
            "redirect_uri": info["redirect_uri"],
        },
    )
    code = parse_qs(urlsplit(response.headers["location"]).query)["code"][0]
    tokens = httpx.post(
        info["token_url"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "redirect_uri": info["redirect_uri"],
        },
    ).json()
    return tokens["access_token"]


def measure(side: str, work: Path) -> dict:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    output = subprocess.run(
        [sys.executable, str(HERE), "--child", side, "--work", str(work)],
        capture_output=True,
        text=True,
        env=env,
    )
    if output.returncode != 0:
        raise SystemExit(f"{side} failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=200_000)
    parser.add_argument("--child", choices=["finsync", "dlt"])
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.work)
        return
    with tempfile.TemporaryDirectory(prefix="finsync-bench-") as tmp:
        work = Path(tmp)
        print(f"generating {args.invoices:,} invoices in the FreshBooks sandbox ...", flush=True)
        sandbox = start_sandbox(work / "sandbox", args.invoices)
        try:
            results = {side: measure(side, work) for side in ("finsync", "dlt")}
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=30)
    print(f"\nstage {args.invoices:,} FreshBooks invoices with lines (machine: {os.cpu_count()} cores)")
    for side, figures in results.items():
        rows = figures["invoices"] + figures["lines"]
        print(
            f"  {side:<8} {figures['seconds']:8.1f} s  {rows / figures['seconds']:9,.0f} rows/s  "
            f"peak RSS {figures['peak_rss_mb']:6.0f} MB  ({figures['invoices']:,} invoices, {figures['lines']:,} lines)"
        )
    ratio = results["dlt"]["seconds"] / results["finsync"]["seconds"]
    target = "met" if results["finsync"]["peak_rss_mb"] <= 512 else "NOT met"
    print(f"  finsync is {ratio:.2f}x the speed of dlt rest_api; peak RSS target (<= 512 MB) {target}")


if __name__ == "__main__":
    main()
