"""Reconciliation measured on labelled data entered through the two APIs, not on shapes planted for a test.

A small draw of :mod:`tests.recon.labelled` (legal forms, typos, transliterations, shared e-mails, look-alike
companies, cent and larger differences, currencies, drafts, duplicates, partial and combined payments) is
seeded into empty sandboxes and reconciled by the read side ``finsync sync`` runs. Per entity, the pairs
reconciliation asserts must be right (precision >= 0.995) and the true pairs found (recall >= 0.99). The
full draw is ``benchmarks/recon_accuracy.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.recon.labelled import Draw, Score, draw, measure
from tests.recon.labelled.cases import ENTITIES

SEED, PER_ENTITY = 20261201, 60
MIN_PRECISION, MIN_RECALL = 0.995, 0.99


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Draw, Score]]:
    workdir = tmp_path_factory.mktemp("labelled")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FINSYNC_HOME", str(workdir / "home"))
        patch.delenv("FINSYNC_LEDGER_URL", raising=False)
        patch.delenv("FINSYNC_CONFIG", raising=False)
        yield measure(SEED, PER_ENTITY, workdir)


@pytest.mark.parametrize("entity", ENTITIES)
def test_pairs_are_right_and_found(measured: tuple[Draw, Score], entity: str) -> None:
    _, score = measured
    result = score.entities[entity]
    wrong = "\n".join(result.wrong[:40])
    assert result.true_pairs >= PER_ENTITY // 2, "the draw should hold pairs to find"
    precision, recall = result.precision, result.recall
    assert precision >= MIN_PRECISION, f"{entity}: precision {precision:.4f}\n{wrong}"
    assert recall >= MIN_RECALL, f"{entity}: recall {recall:.4f}\n{wrong}"


def test_a_seed_draws_the_same_cases_and_covers_every_variation() -> None:
    first, again, other = draw(SEED, PER_ENTITY), draw(SEED, PER_ENTITY), draw(SEED + 1, PER_ENTITY)
    assert first == again
    assert first.truth != other.truth
    big = draw(SEED, 400)
    assert set(big.kinds("customers")) >= {
        "transliterated", "legal_form", "shared_email", "similar_name_other_company", "name_typo",
    }  # fmt: skip
    assert set(big.kinds("invoices")) >= {"draft", "currency_difference", "duplicate_reference"}
    assert set(big.kinds("payments")) >= {"split_in_m3", "split_in_freshbooks", "instalments"}
    assert set(big.kinds("expenses")) >= {"cent_difference", "entered_twice_in_freshbooks"}
