"""One-to-one pairing of booked amounts (payments, expenses) in passes, from the surest rule to the loosest.

Each side is a relation with the columns of :data:`SIDE_COLUMNS`. ``grp`` is what both records must belong
to (the invoice a payment settles, the GL account an expense posts to), ``party`` who paid or was paid.
Within a group, identical records pair by rank (oldest first), so N identical instalments on both sides
pair N to N in one vectorized join; what is left pairs by closeness (see ``_NEAREST_PASS``):

1. ``reference``: same group, currency, amount and reference token (a cheque number, 'P0008');
2. ``amount_and_date``: same group, currency and amount, booked within ``payment_date_tolerance_days``:
   by rank, then the rest by the nearest date;
3. ``split``: one record on one side equals the sum of the group's remaining records on the other
   (a payment entered once in one system and in instalments in the other);
4. ``covers_several``: one record equals the sum of the other side's remaining records for the same party
   and day across groups (one payment covering several invoices);
5. ``same_group``: what is left in the same group and currency within ``payment_date_tolerance_days``
   pairs with the closest record (smallest amount difference, then nearest date), never by position, and is
   ``matched_with_differences`` with the difference shown; a suggestion for review. A group can be wide
   (a GL account), so strangers stay apart: the two records need the same party or amounts within half of
   each other (with ``parties_must_agree``, as for expenses: the same party when both name one, amounts
   within half only when one does not, where the same party means the words of one appear, in order, in
   the other: "staples" and "staples inc"); and a record that is a duplicate twin (below) takes no part.

What stays unpaired is a ``duplicate_suspected`` when the same side already has a paired record with the
same group, amount and (nearly) the same date; otherwise it is missing in the other system.
"""

from __future__ import annotations

import uuid

import duckdb
import pyarrow as pa

from finsync_dagster.recon.model import AT_STAKE_SQL, Tolerances
from finsync_dagster.recon.sources import fill
from finsync_dagster.recon.sqlparts import date_difference, difference_list, money_difference, text_difference

SIDE_COLUMNS = ("id", "grp", "party", "currency_code", "amount", "on_date", "ref", "label", "customer")

_RANKED = """(
    SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY on_date, id) AS rn
    FROM {side} WHERE id NOT IN (SELECT {own} FROM {pairs} WHERE {own} IS NOT NULL)
    AND {not_null}
)"""

_RANK_PASS = """
INSERT INTO {pairs}
SELECT f.id, i.id, '{rule}', {confidence}
FROM {fb_ranked} f JOIN {inf_ranked} i ON {on} AND f.rn = i.rn
WHERE {date_check}
"""

_SPLIT_PASS = """
INSERT INTO {pairs}
WITH one AS (
    SELECT {keys}, any_value(id) AS id, sum(amount) AS amount, count(*) AS n FROM {one_left} GROUP BY {keys}
), many AS (
    SELECT {keys}, sum(amount) AS amount, count(*) AS n FROM {many_left} GROUP BY {keys}
)
SELECT {one_col}, {many_col}, '{rule}', {confidence}
FROM one JOIN many USING ({keys}) JOIN {many_left} m USING ({keys})
WHERE one.n = 1 AND many.n >= 2 AND one.amount = many.amount
"""

_LEFT = "(SELECT * FROM {side} WHERE id NOT IN (SELECT {own} FROM {pairs} WHERE {own} IS NOT NULL))"

# One round of closest-first pairing: each candidate pair's cost is (amount gap, days apart), ties broken by
# ids; a pair is taken when each record is the other's best. The cheapest pair overall always is, so every
# round pairs at least one and the loop ends; a group of a few leftovers takes one or two rounds.
_NEAREST_PASS = """
INSERT INTO {pairs}
WITH f AS {fb_left}, i AS {inf_left},
candidates AS (
    SELECT f.id AS fid, i.id AS iid, abs(f.amount - i.amount) AS gap,
           abs(date_diff('day', f.on_date, i.on_date)) AS apart
    FROM f JOIN i ON {on}
    WHERE abs(date_diff('day', f.on_date, i.on_date)) <= $payment_date_tolerance_days
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY fid ORDER BY gap, apart, iid) AS f_rank,
              row_number() OVER (PARTITION BY iid ORDER BY gap, apart, fid) AS i_rank
    FROM candidates
)
SELECT fid, iid, '{rule}', {confidence} FROM ranked WHERE f_rank = 1 AND i_rank = 1
"""

# A twin: another record on the same side with the same group, currency and amount, (nearly) the same date,
# that is already paired. An unpaired twin is a duplicate_suspected, never a same_group suggestion.
_HAS_PAIRED_TWIN = """EXISTS (
    SELECT 1 FROM {side} t JOIN {pairs} p ON p.{own} = t.id
    WHERE t.grp = {rec}.grp AND t.currency_code = {rec}.currency_code AND t.amount = {rec}.amount
      AND t.id <> {rec}.id AND abs(date_diff('day', t.on_date, {rec}.on_date)) <= $payment_date_tolerance_days
)"""

_WITHIN_HALF = "abs(f.amount - i.amount) <= greatest(abs(f.amount), abs(i.amount)) / 2"
_SAME_PARTY = "(contains(' ' || f.party || ' ', ' ' || i.party || ' ') OR contains(' ' || i.party || ' ', ' ' || f.party || ' '))"
# Related: the same party, or either not named, or neither amount more than twice the other.
_RELATED = f"(f.party = i.party OR f.party IS NULL OR i.party IS NULL OR {_WITHIN_HALF})"
# Strictly related: the same party when both name one; otherwise neither amount more than twice the other.
_STRICTLY_RELATED = (
    f"(CASE WHEN f.party IS NULL OR i.party IS NULL THEN {_WITHIN_HALF} ELSE {_SAME_PARTY} END)"
)

_RESULT = """
WITH pairs AS (SELECT * FROM __PAIRS__),
paired AS (
    SELECT p.rule, p.confidence, f.*, i.* EXCLUDE (id), i.id AS infor_id,
        __DIFFERENCES__ AS diffs
    FROM pairs p
    JOIN __FB__ f ON f.id = p.freshbooks_id
    JOIN (SELECT id, grp AS i_grp, party AS i_party, currency_code AS i_currency, amount AS i_amount,
                 on_date AS i_date, ref AS i_ref, label AS i_label, customer AS i_customer FROM __INF__) i
        ON i.id = p.infor_id
),
fb_left AS (SELECT * FROM __FB__ WHERE id NOT IN (SELECT freshbooks_id FROM pairs)),
inf_left AS (SELECT * FROM __INF__ WHERE id NOT IN (SELECT infor_id FROM pairs)),
fb_twins AS (
    SELECT l.id, min(p.infor_id) AS infor_id FROM fb_left l
    JOIN __FB__ t ON t.grp = l.grp AND t.currency_code = l.currency_code AND t.amount = l.amount AND t.id <> l.id
         AND abs(date_diff('day', t.on_date, l.on_date)) <= $payment_date_tolerance_days
    JOIN pairs p ON p.freshbooks_id = t.id
    GROUP BY l.id
),
inf_twins AS (
    SELECT l.id, min(p.freshbooks_id) AS freshbooks_id FROM inf_left l
    JOIN __INF__ t ON t.grp = l.grp AND t.currency_code = l.currency_code AND t.amount = l.amount AND t.id <> l.id
         AND abs(date_diff('day', t.on_date, l.on_date)) <= $payment_date_tolerance_days
    JOIN pairs p ON p.infor_id = t.id
    GROUP BY l.id
)
SELECT id AS freshbooks_id, infor_id,
    CASE WHEN rule IN ('split', 'covers_several') OR len(diffs) = 0 THEN 'matched'
         ELSE 'matched_with_differences' END AS status,
    CAST(confidence AS DOUBLE) AS confidence, rule,
    rule = 'same_group' AS suggestion,
    CASE WHEN rule IN ('split', 'covers_several') THEN '[]' ELSE to_json(diffs) END AS differences,
    coalesce(label, i_label) AS reference, coalesce(customer, i_customer) AS customer, currency_code,
    amount AS freshbooks_amount, i_amount AS infor_amount,
    CAST(CASE WHEN rule IN ('split', 'covers_several') OR len(diffs) = 0 THEN 0
              WHEN currency_code <> i_currency THEN abs(amount)
              ELSE abs(amount - i_amount) END AS __AT_STAKE__) AS amount_at_stake,
    on_date AS item_date,
    CASE rule
        WHEN 'split' THEN 'Entered as one amount in one system and in several in the other; the sums agree.'
        WHEN 'covers_several' THEN 'One payment covers several documents in the other system; the sums agree.'
        WHEN 'same_group' THEN 'Paired by document and date only: the amounts disagree; please confirm.'
        ELSE CASE WHEN len(diffs) > 0
            THEN 'Differs in ' || array_to_string(list_transform(diffs, lambda d: d.field), ', ') || '.' END
    END AS note,
    grp AS group_key
FROM paired
UNION ALL
SELECT l.id, t.infor_id,
    CASE WHEN t.id IS NOT NULL THEN 'duplicate_suspected' ELSE 'missing_in_infor' END,
    CAST(CASE WHEN t.id IS NOT NULL THEN 0.9 ELSE 1.0 END AS DOUBLE), NULL, false, '[]',
    l.label, l.customer, l.currency_code, l.amount, NULL, CAST(abs(l.amount) AS __AT_STAKE__), l.on_date,
    CASE WHEN t.id IS NOT NULL THEN 'Recorded twice in FreshBooks: same document, amount and date as another entry.'
         ELSE 'Not found in Infor.' END,
    l.grp
FROM fb_left l LEFT JOIN fb_twins t ON t.id = l.id
UNION ALL
SELECT t.freshbooks_id, l.id,
    CASE WHEN t.id IS NOT NULL THEN 'duplicate_suspected' ELSE 'missing_in_freshbooks' END,
    CAST(CASE WHEN t.id IS NOT NULL THEN 0.9 ELSE 1.0 END AS DOUBLE), NULL, false, '[]',
    l.label, l.customer, l.currency_code, NULL, l.amount, CAST(abs(l.amount) AS __AT_STAKE__), l.on_date,
    CASE WHEN t.id IS NOT NULL THEN 'Recorded twice in Infor: same document, amount and date as another entry.'
         ELSE 'Not found in FreshBooks.' END,
    l.grp
FROM inf_left l LEFT JOIN inf_twins t ON t.id = l.id
ORDER BY reference, freshbooks_id, infor_id
"""


def pair_amounts(
    con: duckdb.DuckDBPyConnection,
    freshbooks: str,
    infor: str,
    tolerances: Tolerances,
    *,
    amount_field: str = "amount",
    date_field: str = "date",
    parties_must_agree: bool = False,
) -> pa.Table:
    """Pair the two sides (SQL relations with :data:`SIDE_COLUMNS`) and classify every record.

    ``parties_must_agree``: leftovers of two named, different parties never pair (see rule 5 above).
    """
    tag = uuid.uuid4().hex[:12]
    fb, inf, pairs = f"__fb_{tag}", f"__inf_{tag}", f"__pairs_{tag}"
    con.execute(f"CREATE TEMP TABLE {fb} AS SELECT {', '.join(SIDE_COLUMNS)} FROM {freshbooks}")
    con.execute(f"CREATE TEMP TABLE {inf} AS SELECT {', '.join(SIDE_COLUMNS)} FROM {infor}")
    con.execute(
        f"CREATE TEMP TABLE {pairs} (freshbooks_id VARCHAR, infor_id VARCHAR, rule VARCHAR, confidence DOUBLE)"
    )
    try:
        params = {"payment_date_tolerance_days": tolerances.payment_date_tolerance_days}
        same_amount = ("grp", "currency_code", "amount")
        _rank_pass(con, fb, inf, pairs, ("grp", "currency_code", "amount", "ref"), "reference", 1.0, None)
        _rank_pass(con, fb, inf, pairs, same_amount, "amount_and_date", 0.95, params)
        _nearest_pass(con, fb, inf, pairs, same_amount, "amount_and_date", 0.95, params)
        for keys, rule, confidence in ((("grp", "currency_code"), "split", 0.85),
                                       (("party", "currency_code", "on_date"), "covers_several", 0.8)):  # fmt: skip
            _split_pass(con, fb, inf, pairs, keys, rule, confidence, fb_is_one=True)
            _split_pass(con, fb, inf, pairs, keys, rule, confidence, fb_is_one=False)
        strangers_apart = " AND ".join(
            (
                _STRICTLY_RELATED if parties_must_agree else _RELATED,
                "NOT " + _HAS_PAIRED_TWIN.format(side=fb, pairs=pairs, own="freshbooks_id", rec="f"),
                "NOT " + _HAS_PAIRED_TWIN.format(side=inf, pairs=pairs, own="infor_id", rec="i"),
            )
        )
        _nearest_pass(
            con, fb, inf, pairs, ("grp", "currency_code"), "same_group", 0.6, params, also=strangers_apart
        )
        differences = difference_list(
            text_difference("currency_code", "f.currency_code", "i.i_currency"),
            money_difference(amount_field, "f.amount", "i.i_amount", "f.currency_code"),
            date_difference(date_field, "f.on_date", "i.i_date", "$payment_date_tolerance_days"),
        )
        sql = fill(_RESULT, DIFFERENCES=differences, PAIRS=pairs, FB=fb, INF=inf, AT_STAKE=AT_STAKE_SQL)
        return con.sql(
            sql, params={"amount_tolerance": tolerances.amount_tolerance, **params}
        ).to_arrow_table()
    finally:
        for table in (fb, inf, pairs):
            con.execute(f"DROP TABLE IF EXISTS {table}")


def _ranked(side: str, own: str, pairs: str, keys: tuple[str, ...]) -> str:
    not_null = " AND ".join(f"{k} IS NOT NULL" for k in keys)
    return _RANKED.format(keys=", ".join(keys), side=side, own=own, pairs=pairs, not_null=not_null)


def _rank_pass(
    con: duckdb.DuckDBPyConnection,
    fb: str,
    inf: str,
    pairs: str,
    keys: tuple[str, ...],
    rule: str,
    confidence: float,
    params: dict[str, int] | None,
) -> None:
    check = (
        "abs(date_diff('day', f.on_date, i.on_date)) <= $payment_date_tolerance_days" if params else "true"
    )
    con.execute(
        _RANK_PASS.format(
            pairs=pairs,
            rule=rule,
            confidence=confidence,
            fb_ranked=_ranked(fb, "freshbooks_id", pairs, keys),
            inf_ranked=_ranked(inf, "infor_id", pairs, keys),
            on=" AND ".join(f"f.{k} = i.{k}" for k in keys),
            date_check=check,
        ),
        params or {},
    )


def _nearest_pass(
    con: duckdb.DuckDBPyConnection,
    fb: str,
    inf: str,
    pairs: str,
    keys: tuple[str, ...],
    rule: str,
    confidence: float,
    params: dict[str, int],
    *,
    also: str = "true",
) -> None:
    sql = _NEAREST_PASS.format(
        pairs=pairs,
        fb_left=_LEFT.format(side=fb, own="freshbooks_id", pairs=pairs),
        inf_left=_LEFT.format(side=inf, own="infor_id", pairs=pairs),
        on=" AND ".join([*(f"f.{k} = i.{k}" for k in keys), also]),
        rule=rule,
        confidence=confidence,
    )
    while (inserted := con.execute(sql, params).fetchone()) and inserted[0]:
        pass


def _split_pass(
    con: duckdb.DuckDBPyConnection,
    fb: str,
    inf: str,
    pairs: str,
    keys: tuple[str, ...],
    rule: str,
    confidence: float,
    *,
    fb_is_one: bool,
) -> None:
    fb_left = _LEFT.format(side=fb, own="freshbooks_id", pairs=pairs)
    inf_left = _LEFT.format(side=inf, own="infor_id", pairs=pairs)
    one_left, many_left = (fb_left, inf_left) if fb_is_one else (inf_left, fb_left)
    one_col, many_col = ("one.id", "m.id") if fb_is_one else ("m.id", "one.id")
    con.execute(
        _SPLIT_PASS.format(
            pairs=pairs,
            keys=", ".join(keys),
            one_left=one_left,
            many_left=many_left,
            one_col=one_col,
            many_col=many_col,
            rule=rule,
            confidence=confidence,
        )
    )
