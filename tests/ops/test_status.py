"""`finsync status`: every pair at a glance, in a terminal and as JSON for scripts (a pinned shape).

The figures come from the ledger (outbox, dead letters, audit, tokens, and the webhook inbox where the
ledger has one), the latest report's files and the Dagster instance's runs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from finsync_dagster.cli import main
from finsync_dagster.ledger import utcnow
from finsync_dagster.ledger.operations import TokenHealth
from finsync_dagster.ledger.schema import outbox
from finsync_dagster.status import percentile, token_status

PAIR_KEYS = {
    "pair", "declared", "last_sync_at", "lag_seconds", "last_run", "exceptions", "at_stake", "report", "outbox",
    "dead", "in_doubt", "oldest_in_doubt_at", "oldest_in_doubt_age_seconds", "dead_letters_open",
    "dead_letters_last_hour", "pushes_last_hour", "inbox", "tokens",
}  # fmt: skip
INBOX_KEYS = {"available", "backlog", "oldest_age_seconds", "last_webhook_at", "latency_p50_seconds",
              "latency_p95_seconds"}  # fmt: skip


def status_json(config: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["--config", str(config), "status", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def write_report(home: Path, pair: str, written: datetime, rows: list[tuple[str, str]]) -> None:
    folder = home / "reports" / pair / f"{written.strftime('%Y%m%dT%H%M%SZ')}-abcdef12"
    folder.mkdir(parents=True)
    lines = ["entity,status,currency_code,amount_at_stake"] + [
        f"invoices,missing_in_infor,{c},{a}" for c, a in rows
    ]
    (folder / "exceptions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    pointer = {"directory": str(folder), "html": str(folder / "report.html"), "xlsx": "", "csvs": [], "summary": "",
               "sheets": []}  # fmt: skip
    (home / "reports" / pair / "latest.json").write_text(json.dumps(pointer), encoding="utf-8")


def test_status_json_gives_every_figure_of_a_pair(filled, config, finsync_home, capsys) -> None:
    written = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    write_report(
        finsync_home, "acme", written, [("USD", "1500.10"), ("USD", "0.20"), ("EUR", "99.99"), ("", "")]
    )
    document = status_json(config, capsys)
    assert set(document) == {
        "generated_at",
        "config",
        "home",
        "ledger",
        "dagster_runs",
        "webhook_inbox",
        "pairs",
    }
    assert document["ledger"]["schema_version"] == document["ledger"]["latest_version"]
    assert document["webhook_inbox"] is True and document["dagster_runs"] is False
    (pair,) = document["pairs"]
    assert set(pair) == PAIR_KEYS and set(pair["inbox"]) == INBOX_KEYS
    assert pair["last_sync_at"] == written.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert 7100 < pair["lag_seconds"] < 7300
    assert pair["exceptions"] == 4 and pair["at_stake"] == {
        "EUR": "99.99",
        "USD": "1500.30",
    }  # exact, per currency
    assert pair["outbox"] == {"dead": 3, "done": 2, "in_doubt": 1, "planned": 1}
    assert (pair["dead"], pair["in_doubt"], pair["dead_letters_open"], pair["pushes_last_hour"]) == (
        3,
        1,
        3,
        2,
    )
    assert pair["oldest_in_doubt_age_seconds"] is not None and pair["oldest_in_doubt_age_seconds"] < 120
    assert pair["inbox"]["available"] is True and pair["inbox"]["backlog"] == 0  # an empty inbox


def test_status_table_says_what_is_not_available(filled, config, capsys) -> None:
    assert main(["--config", str(config), "status"]) == 0
    out = capsys.readouterr().out
    assert "schema v" in out and "pairs:    acme" in out
    assert "no data yet" in out and "no report yet" in out


def test_inbox_backlog_and_webhook_to_target_latency_when_the_ledger_has_an_inbox(
    filled, config, capsys
) -> None:
    ledger, keys = filled
    now = utcnow()
    with ledger.engine.begin() as connection:
        for n, seconds in enumerate([2, 4, 6, 8, 30]):
            received = now - timedelta(minutes=10, seconds=seconds)
            connection.execute(
                sa.text("INSERT INTO inbox (pair, system, event, dedupe_key, body, received_at, processed_at, "
                        "processed_run) VALUES ('acme', 'freshbooks', 'invoice.update', :k, '', :r, :p, :run)"),
                {"k": f"done-{n}", "r": received, "p": now - timedelta(minutes=10), "run": f"run-{n}"},
            )  # fmt: skip
            if n < 2:  # the runs of the first two deliveries each planned an action, done ten minutes ago
                connection.execute(
                    outbox.update()
                    .where(outbox.c.key == keys[str(n + 1)])
                    .values(planned_by=f"run-{n}", done_at=now - timedelta(minutes=10))
                )
        for n in range(3):
            connection.execute(
                sa.text("INSERT INTO inbox (pair, system, event, dedupe_key, body, received_at) "
                        "VALUES ('acme', 'freshbooks', 'x', :k, '', :r)"),
                {"k": f"waiting-{n}", "r": now - timedelta(minutes=5)},
            )  # fmt: skip
    inbox = status_json(config, capsys)["pairs"][0]["inbox"]
    assert inbox["available"] is True and inbox["backlog"] == 3
    assert 290 <= inbox["oldest_age_seconds"] <= 400
    # Two deliveries led to writes (2 s and 4 s after arrival); the others have no done write yet.
    assert (inbox["latency_p50_seconds"], inbox["latency_p95_seconds"]) == (2.0, 4.0)


def test_token_health() -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    day = timedelta(hours=24)

    def health(**token: object) -> str:
        values = {"provider": "freshbooks", "account": "acme", "expires_at": None, "has_refresh_token": False,
                  "reconnect_reason": None, **token}  # fmt: skip
        return token_status(TokenHealth(**values), now, expiring_within=day).health  # type: ignore[arg-type]

    assert health(expires_at=now + timedelta(hours=2), has_refresh_token=True) == "ok"  # it renews itself
    assert health(expires_at=now + timedelta(hours=2)) == "expiring"
    assert health(expires_at=now + timedelta(days=3)) == "ok"
    assert health(expires_at=now - timedelta(seconds=1)) == "expired"
    assert health(has_refresh_token=True, reconnect_reason="refresh token refused") == "reconnect_needed"


def test_percentiles_are_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.95) == 5.0
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95)) == (50.0, 95.0)
