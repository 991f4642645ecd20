"""What is still open for people: the latest reconciliation less what they have decided since.

Pure: a snapshot's exception rows, the crosswalk and the review decisions in, the two lists out.
- *For review*: pairings a matcher proposed (suggestions, ambiguous matches), not rejected, and neither
  record already paired in the crosswalk (accepted here, or created by write-back).
- *Exceptions*: everything else that needs a person (missing on one side, duplicates, differences), not
  ignored, and a missing record not since paired by hand; a rejected suggestion comes back here, so its
  records can be matched again or created.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from finsync_dagster.console.snapshots import ReviewItem
from finsync_dagster.ledger import Decision, ReviewDecision

Key = tuple[str, str | None, str | None]


def key_of(item: ReviewItem) -> Key:
    return (item.entity, item.freshbooks_id, item.infor_id)


@dataclass
class Queue:
    to_review: list[ReviewItem] = field(default_factory=list)
    exceptions: list[ReviewItem] = field(default_factory=list)
    rejected: set[Key] = field(default_factory=set)

    def at_stake(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for item in [*self.to_review, *self.exceptions]:
            if item.amount_at_stake is not None and item.currency_code:
                totals[item.currency_code] += item.amount_at_stake
        return dict(sorted(totals.items()))

    @property
    def open(self) -> int:
        return len(self.to_review) + len(self.exceptions)


def build_queue(
    items: Iterable[ReviewItem], links: Iterable[Mapping[str, Any]], decisions: Iterable[ReviewDecision]
) -> Queue:
    linked_fb: dict[str, set[str]] = defaultdict(set)
    linked_infor: dict[str, set[str]] = defaultdict(set)
    for link in links:
        linked_fb[link["entity"]].add(str(link["freshbooks_id"]))
        linked_infor[link["entity"]].add(str(link["infor_id"]))
    rejected: set[Key] = set()
    ignored: set[Key] = set()
    for decision in decisions:
        if decision.undone_at is not None:
            continue
        key = (decision.entity, decision.freshbooks_id, decision.infor_id)
        if decision.decision == Decision.REJECTED:
            rejected.add(key)
        elif decision.decision == Decision.IGNORED:
            ignored.add(key)
    queue = Queue(rejected=rejected)
    for item in items:
        key = key_of(item)
        fb_linked = item.freshbooks_id is not None and item.freshbooks_id in linked_fb[item.entity]
        infor_linked = item.infor_id is not None and item.infor_id in linked_infor[item.entity]
        if item.is_suggestion:
            if fb_linked or infor_linked:
                continue  # accepted, or one side paired with another record since
            if key in rejected:
                if key not in ignored:
                    queue.exceptions.append(item)
                continue
            queue.to_review.append(item)
            continue
        if key in ignored:
            continue
        if (item.only_in == "freshbooks" and fb_linked) or (item.only_in == "infor" and infor_linked):
            continue  # re-matched by hand to a record the reconciliation had not paired
        queue.exceptions.append(item)
    return queue
