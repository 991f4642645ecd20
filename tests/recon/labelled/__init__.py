"""A labelled reconciliation data set: cases drawn from a seed, seeded through both sandboxes' public APIs,
reconciled by the real read side, and scored against the truth recorded beside each case.

- :mod:`.cases`: pure, deterministic draws of FreshBooks and M3 records with the expected outcome;
- :mod:`.seeding`: the draw written through the FreshBooks REST API and M3's MI transactions;
- :mod:`.scoring`: ``recon.*`` tables against the truth: pair precision and recall, status accuracy;
- :mod:`.run`: empty sandboxes, seed, ``run_read_side`` (the path of ``finsync sync``), score.

Used by ``tests/recon/test_labelled.py`` (a small draw) and ``benchmarks/recon_accuracy.py`` (the full one).
"""

from tests.recon.labelled.cases import Draw, Expected, draw
from tests.recon.labelled.run import measure
from tests.recon.labelled.scoring import EntityScore, Score

__all__ = ["Draw", "EntityScore", "Expected", "Score", "draw", "measure"]
