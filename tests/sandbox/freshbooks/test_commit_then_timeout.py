"""``commit_then_timeout`` on FreshBooks: the write is applied in full and then its answer is lost.

Through the production client: a create whose answer is lost is reported as "outcome unknown" unless the
caller names a lookup, with which it finds the record instead of creating a second one; an update or a
delete is visible afterwards although the client saw only failures; reads never get the fault.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from finsync_dagster.errors import OutcomeUnknownError, UnavailableError
from finsync_dagster.resources.freshbooks import FreshBooksClient
from tests.fixtures.freshbooks import FreshBooksSandboxHandle, _quiet
from tests.sandbox.freshbooks.fb import FAST, fb_client, set_faults

DROP = {"rate": 1.0, "kinds": ["commit_then_timeout"], "ctt": "drop"}
DELAY = {"rate": 1.0, "kinds": ["commit_then_timeout"], "ctt": "delay", "slow_ms": 1500}


@pytest.fixture
def fb(freshbooks_empty_sandbox: FreshBooksSandboxHandle, tmp_path: Path) -> Iterator[FreshBooksClient]:
    with fb_client(freshbooks_empty_sandbox, tmp_path, replace(FAST, read_timeout=0.5)) as client:
        yield client
    _quiet(freshbooks_empty_sandbox.state)


def _emails(fb: FreshBooksClient, email: str) -> list[int]:
    return [c["id"] for c in fb.iter_records("clients", search={"email": email})]


def test_a_create_whose_answer_is_dropped_is_applied_and_reported_in_doubt(
    freshbooks_empty_sandbox: FreshBooksSandboxHandle, fb: FreshBooksClient
) -> None:
    set_faults(freshbooks_empty_sandbox, DROP)

    with pytest.raises(OutcomeUnknownError, match="may have been applied"):
        fb.create("clients", {"organization": "Dropped Ltd", "email": "dropped@ctt.example"})

    set_faults(freshbooks_empty_sandbox, {})
    assert len(_emails(fb, "dropped@ctt.example")) == 1


def test_a_create_with_a_lookup_finds_what_it_created_instead_of_duplicating(
    freshbooks_empty_sandbox: FreshBooksSandboxHandle, fb: FreshBooksClient
) -> None:
    set_faults(freshbooks_empty_sandbox, DELAY)

    created = fb.create(
        "clients",
        {"organization": "Delayed Ltd", "email": "delayed@ctt.example"},
        lookup={"email": "delayed@ctt.example"},
    )

    set_faults(freshbooks_empty_sandbox, {})
    assert _emails(fb, "delayed@ctt.example") == [created["id"]]


def test_an_update_whose_answer_is_lost_is_applied(
    freshbooks_empty_sandbox: FreshBooksSandboxHandle, fb: FreshBooksClient
) -> None:
    client = fb.create("clients", {"organization": "Before Ltd"})
    set_faults(freshbooks_empty_sandbox, DELAY)

    with pytest.raises(UnavailableError, match="timed out"):
        fb.update("clients", client["id"], {"organization": "After Ltd"})

    set_faults(freshbooks_empty_sandbox, {})
    assert fb.get("clients", client["id"])["organization"] == "After Ltd"


def test_a_delete_whose_answer_is_lost_is_applied(
    freshbooks_empty_sandbox: FreshBooksSandboxHandle, fb: FreshBooksClient
) -> None:
    client = fb.create("clients", {"organization": "Doomed Ltd"})
    set_faults(freshbooks_empty_sandbox, DROP)

    with pytest.raises(UnavailableError):
        fb.delete("clients", client["id"])

    set_faults(freshbooks_empty_sandbox, {})
    assert fb.get("clients", client["id"])["vis_state"] == 1


def test_reads_never_get_commit_then_timeout(
    freshbooks_empty_sandbox: FreshBooksSandboxHandle, fb: FreshBooksClient
) -> None:
    set_faults(freshbooks_empty_sandbox, DROP)
    injected = freshbooks_empty_sandbox.state.faults.injected

    list(fb.iter_records("clients"))
    fb.me()

    assert freshbooks_empty_sandbox.state.faults.injected == injected
