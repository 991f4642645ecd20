"""Score ``recon.*`` match tables against the truth of a draw.

- A *pair* is a row with both ids and a status of ``matched`` or ``matched_with_differences``: that is what
  reconciliation asserts. Precision = asserted pairs that are true / asserted pairs; recall = true pairs
  asserted / true pairs. Ambiguous suggestions are not asserted pairs (a person decides them).
- *Status accuracy* is per record: each FreshBooks and each M3 record in the truth must appear in rows of
  exactly its expected status (a record of a split payment appears in two rows, both ``matched``). A
  ``duplicate_suspected`` row may also name the twin's counterpart; that counts for the duplicate only.
- Rows about records that are not in the truth (none are expected: the sandboxes start empty) count as
  wrong pairs when they pair, so they cost precision.

Rules: for each rule that asserted pairs, how many it made and how many were right.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import duckdb

from finsync_dagster.recon import MATCH_TABLES
from tests.recon.labelled.cases import DUPLICATE, ENTITIES, PAIRED, Draw, Expected


@dataclass
class EntityScore:
    entity: str
    true_pairs: int
    asserted_pairs: int
    right_pairs: int
    records: int
    right_statuses: int
    by_rule: dict[str, tuple[int, int]]  # rule -> (pairs made, pairs right)
    wrong: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.right_pairs / self.asserted_pairs if self.asserted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.right_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def status_accuracy(self) -> float:
        return self.right_statuses / self.records if self.records else 1.0


@dataclass
class Score:
    entities: dict[str, EntityScore]
    seconds: dict[str, float] = field(default_factory=dict)  # seeding, sync

    def table(self) -> str:
        lines = [
            f"{'entity':<10} {'records':>8} {'true pairs':>10} {'precision':>10} {'recall':>8} {'status acc.':>12}"
        ]
        for s in self.entities.values():
            lines.append(
                f"{s.entity:<10} {s.records:>8} {s.true_pairs:>10} {s.precision:>10.4f} {s.recall:>8.4f} "
                f"{s.status_accuracy:>12.4f}"
            )
        return "\n".join(lines)

    def rules(self) -> str:
        lines = [f"{'entity':<10} {'rule':<22} {'pairs':>7} {'right':>7} {'precision':>10}"]
        for s in self.entities.values():
            for rule, (made, right) in sorted(s.by_rule.items()):
                lines.append(f"{s.entity:<10} {rule:<22} {made:>7} {right:>7} {right / made:>10.4f}")
        return "\n".join(lines)


Row = tuple[str | None, str | None, str, str | None]  # freshbooks_id, infor_id, status, rule


def score(
    draw: Draw, con: duckdb.DuckDBPyConnection, fb_ids: dict[str, str], infor_ids: dict[str, str]
) -> Score:
    """``fb_ids``/``infor_ids``: record key -> the source_id the match tables use."""
    entities = {}
    for entity in ENTITIES:
        rows: list[Row] = con.sql(
            f"SELECT freshbooks_id, infor_id, status, rule FROM {MATCH_TABLES[entity]}"
        ).fetchall()
        truth = [t for t in draw.truth if t.entity == entity]
        entities[entity] = score_entity(entity, truth, rows, fb_ids, infor_ids)
    return Score(entities)


def score_entity(
    entity: str, truth: list[Expected], rows: list[Row], fb_ids: dict[str, str], infor_ids: dict[str, str]
) -> EntityScore:
    fb_key = {v: k for k, v in fb_ids.items()}
    infor_key = {v: k for k, v in infor_ids.items()}
    true_pairs = {(t.freshbooks, t.infor): t for t in truth if t.status in PAIRED}
    expected: dict[tuple[str, str], Expected] = {}
    for t in truth:
        if t.freshbooks:
            expected[("fb", t.freshbooks)] = t
        if t.infor:
            expected[("m3", t.infor)] = t
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    asserted: Counter[tuple[str | None, str | None]] = Counter()
    by_rule: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    wrong: list[str] = []
    keyed = [
        (fb_key.get(fb_id, f"?{fb_id}") if fb_id else None,
         infor_key.get(infor_id, f"?{infor_id}") if infor_id else None, status, rule)
        for fb_id, infor_id, status, rule in rows
    ]  # fmt: skip
    in_pairs = {
        (side, key) for a, b, status, _ in keyed if status in PAIRED for side, key in (("fb", a), ("m3", b))
    }
    for a, b, status, rule in keyed:
        for side, key in (("fb", a), ("m3", b)):
            # A duplicate's row names the twin's counterpart too; that record's own status is its pair's.
            if key and not (status == DUPLICATE and (side, key) in in_pairs):
                seen[(side, key)].add(status)
        if a and b and status in PAIRED:
            asserted[(a, b)] += 1
            right = (a, b) in true_pairs and asserted[(a, b)] == 1
            tally = by_rule[rule or "?"]
            tally[0] += 1
            tally[1] += int(right)
            if not right:
                truth_row = expected.get(("fb", a)) or expected.get(("m3", b))
                kind = truth_row.kind if truth_row else "?"
                wrong.append(f"wrong pair ({rule}, {status}): {a} + {b} [{kind}]")
    right_pairs = sum(1 for pair in true_pairs if asserted[pair])
    for pair, t in true_pairs.items():
        if not asserted[pair]:
            statuses = sorted(seen.get(("fb", pair[0] or ""), set()) | seen.get(("m3", pair[1] or ""), set()))
            wrong.append(
                f"pair not made [{t.kind}]: {pair[0]} + {pair[1]}, got {', '.join(statuses) or 'nothing'}"
            )
    right_statuses = 0
    for (side, key), t in expected.items():
        got = seen.get((side, key), set())
        if got == {t.status}:
            right_statuses += 1
        else:
            wrong.append(
                f"status [{t.kind}]: {key} expected {t.status}, got {', '.join(sorted(got)) or 'no row'}"
            )
    return EntityScore(
        entity=entity,
        true_pairs=len(true_pairs),
        asserted_pairs=sum(asserted.values()),
        right_pairs=right_pairs,
        records=len(expected),
        right_statuses=right_statuses,
        by_rule={rule: (made, right) for rule, (made, right) in by_rule.items()},
        wrong=sorted(set(wrong)),
    )
