"""The outbox, dead-letter, audit and retention commands as an operator (or a script) uses them.

The ``--json`` shapes are a contract for scripts (README, "Outbox, dead letters and audit"): the key sets
are pinned here, so a change to them is a deliberate one. Secrets in a dead letter never reach the screen.
"""

from __future__ import annotations

import csv
import getpass
import json
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from finsync_dagster.cli import main
from finsync_dagster.ledger import Ledger, State, utcnow
from finsync_dagster.ledger.schema import audit_log, dead_letters
from tests.ops.ledger_state import SECRET_VALUES

ACTION_KEYS = {
    "key", "pair", "action", "target", "entity", "source_system", "source_id", "source_version", "state",
    "attempts", "depends_on", "target_id", "next_attempt_at", "last_error", "last_error_class", "planned_at",
    "updated_at", "done_at",
}  # fmt: skip
AUDIT_KEYS = {"id", "at", "pair", "action_key", "action", "target", "call", "step", "target_id", "outcome", "error",
              "latency_ms", "attempt", "actor"}  # fmt: skip
LETTER_KEYS = {"id", "pair", "action_key", "action", "target", "error_class", "error_code", "message", "pattern",
               "group", "request", "response", "created_at", "resolved_at", "resolution", "reason", "resolved_by"}  # fmt: skip


def finsync(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(config), *args])
    out, err = capsys.readouterr()
    return code, out, err


def as_json(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> dict:
    code, out, err = finsync(capsys, config, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_outbox_list_json_shape_and_default_states(filled, config, capsys) -> None:
    document = as_json(capsys, config, "outbox", "list")
    assert set(document) == {"actions", "total", "counts"}
    assert document["counts"] == {"done": 2, "in_doubt": 1, "planned": 1, "dead": 3}
    # By default what still needs something: done and cancelled are left out.
    assert sorted(a["state"] for a in document["actions"]) == ["dead", "dead", "dead", "in_doubt", "planned"]
    assert all(set(a) == ACTION_KEYS for a in document["actions"])
    assert all(a["planned_at"].endswith("Z") for a in document["actions"])
    done = as_json(capsys, config, "outbox", "list", "--state", "done", "--pair", "acme")
    assert [a["state"] for a in done["actions"]] == ["done", "done"] and done["total"] == 2


def test_outbox_show_takes_a_key_prefix_and_lists_the_calls(filled, config, capsys) -> None:
    _ledger, keys = filled
    document = as_json(capsys, config, "outbox", "show", keys["10"][:6])
    assert set(document) == ACTION_KEYS | {"stamp", "payload", "progress", "lease_owner", "audit"}
    assert document["key"] == keys["10"] and document["state"] == "dead"
    assert [e["outcome"] for e in document["audit"]] == ["refused"]
    assert all(set(e) == AUDIT_KEYS for e in document["audit"])
    code, _out, err = finsync(capsys, config, "outbox", "show", "zzzzzz")
    assert code == 1 and "no action with a key starting 'zzzzzz'" in err


def test_dlq_list_groups_refusals_by_pattern(filled, config, capsys) -> None:
    document = as_json(capsys, config, "dlq", "list")
    assert document["open"] == 3
    (group,) = document["groups"]
    assert set(group) == {"group", "pattern", "count", "first_seen", "last_seen", "actions", "pairs", "ids"}
    assert group["count"] == 3 and group["actions"] == {"m3.gl.add": 3} and group["pairs"] == ["acme"]
    assert group["pattern"] == "M3ValidationError: field '…': account # does not exist (#)"


@pytest.mark.parametrize("json_flag", [False, True], ids=["table", "json"])
def test_dlq_show_masks_every_secret(filled, config, capsys, json_flag: bool) -> None:
    code, out, err = finsync(capsys, config, "dlq", "show", "1", *(["--json"] if json_flag else []))
    assert code == 0, err
    assert "9999" in out and "GLS840MI/AddBatchLine" in out  # what a person needs to fix it
    assert not [secret for secret in SECRET_VALUES if secret in out]
    if json_flag:
        document = json.loads(out)
        assert set(document) == LETTER_KEYS
        assert document["request"]["headers"]["Authorization"] == "***"


def test_retrying_the_same_letter_twice_has_one_effect(filled, config, capsys) -> None:
    ledger, keys = filled
    first = as_json(capsys, config, "dlq", "retry", "1")
    second = as_json(capsys, config, "dlq", "retry", "1")
    assert first["results"] == [{"id": 1, "action_key": keys["10"], "result": "retried"}]
    assert second["results"][0]["result"] == "already retried"
    action = ledger.action(keys["10"])
    assert action is not None and action.state == State.PLANNED and action.attempts == 0
    retries = [e for e in ledger.audit_entries(action_keys=[keys["10"]]) if e["call"].startswith("dlq retry")]
    assert [(e["outcome"], e["actor"]) for e in retries] == [("requested", getpass.getuser())]
    code, out, _err = finsync(capsys, config, "dlq", "retry", "1")
    assert code == 0 and "already retried" in out


def test_retry_with_an_edited_payload(filled, config, capsys, tmp_path: Path) -> None:
    ledger, keys = filled
    edited = tmp_path / "payload.json"
    edited.write_text(json.dumps({"AIT1": "4000", "CUAM": "12.50"}), encoding="utf-8")
    assert (
        as_json(capsys, config, "dlq", "retry", "2", "--payload-file", str(edited))["results"][0]["result"]
        == "retried"
    )
    action = ledger.action(keys["11"])
    # The ledger marks a payload a person edited, so planning never overwrites it.
    assert action is not None and action.payload == {
        "AIT1": "4000",
        "CUAM": "12.50",
        "_edited_by": getpass.getuser(),
    }
    edited.write_text("[1, 2]", encoding="utf-8")
    code, _out, err = finsync(capsys, config, "dlq", "retry", "3", "--payload-file", str(edited))
    assert code == 1 and "must be a JSON object" in err


def test_retry_a_group_after_a_dry_run(filled, config, capsys) -> None:
    ledger, _keys = filled
    group = as_json(capsys, config, "dlq", "list")["groups"][0]["group"]
    dry = as_json(capsys, config, "dlq", "retry", "--group", group, "--dry-run")
    assert dry["dry_run"] is True and [r["result"] for r in dry["results"]] == ["would retry"] * 3
    assert ledger.outbox_counts("acme")["dead"] == 3  # nothing changed
    done = as_json(capsys, config, "dlq", "retry", "--group", group)
    assert [r["result"] for r in done["results"]] == ["retried"] * 3
    assert "dead" not in ledger.outbox_counts("acme")
    code, _out, err = finsync(capsys, config, "dlq", "retry", "--group", group)
    assert code == 1 and "no open dead letters in group" in err


def test_resolve_cancels_the_action_and_keeps_the_reason(filled, config, capsys) -> None:
    ledger, keys = filled
    result = as_json(capsys, config, "dlq", "resolve", "3", "--reason", "booked by hand in M3")
    assert result["results"][0]["result"] == "resolved"
    action = ledger.action(keys["12"])
    assert action is not None and action.state == State.CANCELLED
    letter = ledger.dead_letter(3)
    assert letter is not None and (letter["reason"], letter["resolved_by"]) == (
        "booked by hand in M3",
        getpass.getuser(),
    )
    audit = as_json(capsys, config, "audit", "--key", keys["12"][:8])
    assert [e["call"] for e in audit["entries"]] == ["GLS840MI/AddBatchLine", "dlq resolve"]
    assert audit["entries"][-1]["error"] == "booked by hand in M3"


def test_audit_since_takes_relative_and_iso_times(filled, config, capsys) -> None:
    ledger, _keys = filled
    with ledger.engine.begin() as connection:
        connection.execute(
            audit_log.update().where(audit_log.c.id == 1).values(at=utcnow() - timedelta(days=3))
        )
    every = as_json(capsys, config, "audit")["entries"]
    assert len(every) == 6 and all(set(e) == AUDIT_KEYS for e in every)
    assert len(as_json(capsys, config, "audit", "--since", "2h")["entries"]) == 5
    assert len(as_json(capsys, config, "audit", "--since", "4d")["entries"]) == 6
    since = (utcnow() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(as_json(capsys, config, "audit", "--since", since, "--pair", "acme")["entries"]) == 5
    assert as_json(capsys, config, "audit", "--limit", "2")["entries"] == every[-2:]
    code, _out, err = finsync(capsys, config, "audit", "--since", "yesterday")
    assert code == 2 and "neither a time ago" in err


def test_exports_are_safe_to_open_in_a_spreadsheet(filled, config, capsys, tmp_path: Path) -> None:
    ledger, _keys = filled
    ledger.audit(
        pair="acme",
        call="dlq resolve",
        outcome="resolved",
        actor="ops",
        error='=HYPERLINK("http://x")\x1b[31m',
    )
    out = tmp_path / "audit.csv"
    code, said, err = finsync(capsys, config, "audit", "export", "--out", str(out))
    assert code == 0, err
    assert "7 audit entries written" in said
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows[-1]["error"] == '\'=HYPERLINK("http://x")\\x1b[31m'
    workbook = tmp_path / "audit.xlsx"
    assert finsync(capsys, config, "audit", "export", "--format", "xlsx", "--out", str(workbook))[0] == 0
    sheet = load_workbook(workbook).active
    cell = sheet.cell(row=sheet.max_row, column=11)
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://x")\\x1b[31m', "s")
    letters = tmp_path / "dead.csv"
    assert finsync(capsys, config, "dlq", "export", "--out", str(letters))[0] == 0
    text = letters.read_text(encoding="utf-8")
    assert text.count("M3ValidationError") >= 3 and not [s for s in SECRET_VALUES if s in text]


def test_retention_prunes_only_what_the_policy_lets_go(filled, config, capsys) -> None:
    ledger, _keys = filled
    config.write_text(
        config.read_text(encoding="utf-8")
        + "retention:\n  audit_days: 30\n  dead_letters_resolved_days: 7\n",
        encoding="utf-8",
    )
    assert (
        as_json(capsys, config, "dlq", "resolve", "1", "--reason", "done by hand")["results"][0]["result"]
        == "resolved"
    )
    old = utcnow() - timedelta(days=60)
    with ledger.engine.begin() as connection:
        connection.execute(audit_log.update().where(audit_log.c.id <= 2).values(at=old))
        connection.execute(
            dead_letters.update().values(created_at=old)
        )  # old, but only letter 1 is resolved...
        connection.execute(dead_letters.update().where(dead_letters.c.id == 1).values(resolved_at=old))
    dry = as_json(capsys, config, "retention", "prune", "--dry-run")
    assert {t: v["rows"] for t, v in dry["tables"].items()} == {"audit_log": 2, "dead_letters": 1, "inbox": 0}
    assert dry["tables"]["inbox"]["before"] is None  # no policy: kept for ever
    assert _count(ledger, audit_log) == 7  # a dry run removes nothing
    done = as_json(capsys, config, "retention", "prune")
    assert done["tables"]["audit_log"]["rows"] == 2 and done["tables"]["dead_letters"]["rows"] == 1
    assert _count(ledger, dead_letters) == 2  # the open letters stay, however old
    pruning = [e for e in ledger.audit_entries() if e["call"].startswith("retention prune")]
    assert [(e["call"], e["outcome"]) for e in pruning] == [
        ("retention prune audit_log", "pruned"), ("retention prune dead_letters", "pruned"),
    ]  # fmt: skip
    assert as_json(capsys, config, "retention", "prune")["tables"]["audit_log"]["rows"] == 0


def _count(ledger: Ledger, table: sa.Table) -> int:
    with ledger.engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0)
