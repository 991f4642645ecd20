"""Reconciliation accuracy on a labelled draw: how often finsync pairs the right records, per entity and rule.

The cases of ``tests/recon/labelled`` (a few thousand per entity by default: legal forms, typos, reordered
words, transliterations, shared e-mails, look-alike companies, cent and larger differences, currencies,
drafts, duplicate references, partial and combined payments) are seeded into empty sandboxes through
their public APIs (FreshBooks REST, M3 MI bulk), reconciled by the read side ``finsync sync`` runs, and
scored against the truth recorded beside each case. Prints, per entity, pair precision and recall and
status accuracy; per match rule, how many pairs it made and how many were right; then the misclassified
cases, counted by kind, with examples.

Run: ``.venv/bin/python benchmarks/recon_accuracy.py [--per-entity 2500] [--seed 20261201] [--examples 5]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the labelled cases live in tests/

from tests.recon.labelled import measure


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-entity", type=int, default=2500, help="cases per entity")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--examples", type=int, default=5, help="misclassified examples shown per kind")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="finsync-bench-labels-") as tmp:
        os.environ["FINSYNC_HOME"] = str(Path(tmp) / "home")
        os.environ.pop("FINSYNC_LEDGER_URL", None)
        os.environ.pop("FINSYNC_CONFIG", None)
        started = time.perf_counter()
        draw, score = measure(args.seed, args.per_entity, Path(tmp))
        total = time.perf_counter() - started

    records = sum(len(getattr(side, e)) for side in (draw.freshbooks, draw.infor) for e in vars(side))
    print(
        f"Labelled draw: seed {args.seed}, {args.per_entity} cases per entity, {records} records seeded "
        f"through the APIs in {score.seconds['seeding']:.1f} s; read side (finsync sync) "
        f"{score.seconds['sync']:.1f} s; {total:.1f} s in all, {os.cpu_count()} CPUs"
    )
    print()
    print(score.table())
    print()
    print(score.rules())
    for entity, result in score.entities.items():
        if not result.wrong:
            continue
        kinds = Counter(line[line.index("[") + 1 : line.index("]")] for line in result.wrong)
        print(f"\n{entity}: {len(result.wrong)} misclassifications")
        for kind, count in kinds.most_common():
            print(f"  {kind}: {count}")
            lines = sorted(
                (w for w in result.wrong if f"[{kind}]" in w), key=lambda w: not w.startswith("wrong")
            )
            for line in lines[: args.examples]:
                print(f"      {line}")


if __name__ == "__main__":
    main()
