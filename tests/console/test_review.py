"""The review queue through its pages: accepting writes the crosswalk and the audit under the reviewer's
name, rejecting is remembered, re-matching pairs with a record found by searching the other system,
batch-accept takes the selected rows, undo unlinks, ignoring is marked in the next report, and "create in
the other system" goes to write-back's planner (or is shown disabled when there is none)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from finsync_dagster.console import ConsoleConfig, create_app
from finsync_dagster.console.server import running_console
from finsync_dagster.ledger import Decision
from tests.console.conftest import PAIR, ConsoleWorld, sign_in, write_acme_report

REVIEW = f"/review?pair={PAIR}"


def _post(client: httpx.Client, path: str, token: str, **data: Any) -> httpx.Response:
    response = client.post(path, data={"csrf_token": token, "pair": PAIR, "back": REVIEW, **data})
    assert response.status_code == 303, response.text
    return response


def _links(world: ConsoleWorld) -> set[tuple[str, str, str, str, str]]:
    return {
        (r["entity"], r["freshbooks_id"], r["infor_id"], r["origin"], r["created_by"])
        for r in world.ledger.links(PAIR)
    }


def test_the_queue_shows_both_records_side_by_side_with_the_differences(
    app_client: httpx.Client,
) -> None:
    sign_in(app_client, "rita")
    page = app_client.get(REVIEW).text
    assert "For review (6)" in page and "Exceptions (2)" in page
    assert "Nordlys Fisk AS" in page and "post@nordlys.example" in page and "ap@nordlys.example" in page
    assert '<tr class="diff" data-field="email">' in page  # the two e-mails differ
    assert '<tr class="diff" data-field="amount">' in page and "100.99" in page and "101.00" in page
    assert 'data-field="city"><td>city</td><td>Bergen</td><td>Bergen</td>' in page.replace('class="" ', "")


def test_accept_writes_the_crosswalk_and_the_audit_and_leaves_the_queue(
    app_client: httpx.Client, world: ConsoleWorld
) -> None:
    token = sign_in(app_client, "rita")
    _post(app_client, "/review/accept", token, entity="customers", freshbooks_id="11", infor_id="C11")
    assert _links(world) == {("customers", "11", "C11", "confirmed", "rita")}
    (row,) = [r for r in world.ledger.audit_rows(pair=PAIR) if r["call"].startswith("review accept")]
    assert row["actor"] == "rita" and row["outcome"] == "accepted"
    page = app_client.get(REVIEW).text
    assert "For review (5)" in page and 'data-freshbooks="11"' not in page
    assert "Paired FreshBooks 11 with M3 C11" in page


def test_a_conflicting_accept_is_refused_with_the_reason(
    app_client: httpx.Client, world: ConsoleWorld
) -> None:
    token = sign_in(app_client, "rita")
    _post(app_client, "/review/accept", token, entity="payments", freshbooks_id="P1", infor_id="R1")
    _post(app_client, "/review/accept", token, entity="payments", freshbooks_id="P2", infor_id="R1")
    assert {(f, i) for _, f, i, _, _ in _links(world)} == {("P1", "R1")}
    assert "Not paired" in app_client.get(REVIEW).text


def test_reject_is_remembered_and_the_records_come_back_as_exceptions(
    app_client: httpx.Client, world: ConsoleWorld
) -> None:
    token = sign_in(app_client, "rita")
    _post(app_client, "/review/reject", token, entity="payments", freshbooks_id="P3", infor_id="R3")
    assert _links(world) == set()
    (decision,) = world.ledger.decisions(PAIR)
    assert (decision.decision, decision.actor) == (Decision.REJECTED, "rita")
    review = app_client.get(REVIEW).text
    assert "For review (5)" in review and 'data-freshbooks="P3"' not in review
    exceptions = app_client.get(f"{REVIEW}&tab=exceptions").text
    assert 'data-freshbooks="P3"' in exceptions and "A reviewer rejected this pairing" in exceptions


def test_rematch_searches_the_other_system_and_pairs_with_the_chosen_record(
    app_client: httpx.Client, world: ConsoleWorld
) -> None:
    token = sign_in(app_client, "rita")
    replaces = json.dumps(["payments", "P4", "R4"])
    page = app_client.get(
        "/review/rematch",
        params={"pair": PAIR, "entity": "payments", "side": "freshbooks", "id": "P4", "q": "stray"},
    ).text
    assert 'data-id="R99"' in page and 'data-id="R4"' not in page
    _post(
        app_client,
        "/review/accept",
        token,
        entity="payments",
        freshbooks_id="P4",
        infor_id="R99",
        replaces=replaces,
    )
    assert _links(world) == {("payments", "P4", "R99", "confirmed", "rita")}
    kinds = {(d.decision, d.freshbooks_id, d.infor_id) for d in world.ledger.decisions(PAIR)}
    assert kinds == {(Decision.ACCEPTED, "P4", "R99"), (Decision.REJECTED, "P4", "R4")}
    exceptions = app_client.get(f"{REVIEW}&tab=exceptions").text
    assert 'data-infor="R99"' not in exceptions  # the missing M3 receipt found its partner


def test_batch_accept_takes_the_selected_rows(app_client: httpx.Client, world: ConsoleWorld) -> None:
    token = sign_in(app_client, "rita")
    keys = [json.dumps(["payments", f"P{n}", f"R{n}"]) for n in (1, 2, 5)]
    response = app_client.post(
        "/review/batch-accept", data={"csrf_token": token, "pair": PAIR, "back": REVIEW, "key": keys}
    )
    assert response.status_code == 303
    assert {(f, i) for _, f, i, _, _ in _links(world)} == {("P1", "R1"), ("P2", "R2"), ("P5", "R5")}
    assert "Accepted 3 of 3 selected pairings" in app_client.get(REVIEW).text


def test_undo_in_the_session_unlinks_and_another_session_cannot(
    app_client: httpx.Client, world: ConsoleWorld, console_url: str
) -> None:
    token = sign_in(app_client, "rita")
    _post(app_client, "/review/accept", token, entity="customers", freshbooks_id="11", infor_id="C11")
    (decision,) = world.ledger.decisions(PAIR)
    with httpx.Client(base_url=console_url, follow_redirects=False) as other:
        other_token = sign_in(other, "ada")
        _post(other, "/review/undo", other_token, decision=str(decision.id))
        assert "only the session that made a decision" in other.get(REVIEW).text
    assert len(_links(world)) == 1
    session_tab = app_client.get(f"{REVIEW}&tab=session").text
    assert f'data-decision="{decision.id}"' in session_tab
    _post(app_client, "/review/undo", token, decision=str(decision.id))
    assert _links(world) == set()
    assert "For review (6)" in app_client.get(REVIEW).text
    calls = [r["call"] for r in world.ledger.audit_rows(pair=PAIR)]
    assert calls[-1].startswith("review undo accepted customers")


def test_ignore_needs_a_reason_and_the_next_report_marks_it(
    app_client: httpx.Client, world: ConsoleWorld
) -> None:
    token = sign_in(app_client, "rita")
    _post(app_client, "/review/ignore", token, entity="payments", infor_id="R99", reason="")
    assert world.ledger.decisions(PAIR) == []
    _post(
        app_client,
        "/review/ignore",
        token,
        entity="payments",
        infor_id="R99",
        reason="bank fee, booked by hand",
    )
    assert 'data-infor="R99"' not in app_client.get(f"{REVIEW}&tab=exceptions").text
    folder = write_acme_report(world.settings, world.ledger, run_id="run-0002")
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "Ignored: bank fee, booked by hand (rita)" in html
    assert "1 of them ignored by a reviewer" in (folder / "summary.md").read_text(encoding="utf-8")


def test_create_is_disabled_in_a_console_built_without_write_back(
    world: ConsoleWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("finsync_dagster.console.app.find_planner", lambda: None)
    app = create_app(world.settings, world.ledger, ConsoleConfig(specs_dir=world.specs_dir))
    with (
        running_console(app) as running,
        httpx.Client(base_url=running.url, follow_redirects=False) as app_client,
    ):
        _create_is_disabled(app_client)


def _create_is_disabled(app_client: httpx.Client) -> None:
    token = sign_in(app_client, "rita")
    page = app_client.get(f"{REVIEW}&tab=exceptions").text
    assert 'class="create" disabled title="write-back not available"' in page
    _post(app_client, "/review/create", token, entity="payments", infor_id="R99", source="infor")
    assert "Write-back is not available" in app_client.get(REVIEW).text


def test_create_calls_the_write_back_planner(
    world: ConsoleWorld, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[Any, ...]] = []

    def plan_for_records(settings: Any, ledger: Any, pair: str, entity: str, source: str, source_ids: list[str],
                         planned_by: str) -> list[str]:  # fmt: skip
        calls.append(
            (settings is world.settings, ledger is world.ledger, pair, entity, source, source_ids, planned_by)
        )
        return ["key1"]

    monkeypatch.setattr("finsync_dagster.console.app.find_planner", lambda: plan_for_records)
    app = create_app(world.settings, world.ledger, ConsoleConfig(specs_dir=world.specs_dir))
    with (
        running_console(app) as running,
        httpx.Client(base_url=running.url, follow_redirects=False) as client,
    ):
        token = sign_in(client, "rita")
        assert 'class="create" disabled' not in client.get(f"{REVIEW}&tab=exceptions").text
        _post(client, "/review/create", token, entity="customers", freshbooks_id="12", source="freshbooks")
        assert "Create in M3: 1 action(s) planned" in client.get(REVIEW).text
    assert calls == [(True, True, PAIR, "customers", "freshbooks", ["12"], "console:rita")]
    (row,) = [r for r in world.ledger.audit_rows(pair=PAIR) if r["call"].startswith("review create")]
    assert (row["actor"], row["outcome"]) == ("rita", "planned")
