"""Customers: FreshBooks clients against M3 customers, from the surest evidence to the loosest.

1. the id crosswalk (pairs finsync itself created or a person confirmed), when one is given;
2. exact keys: e-mail, then VAT number (each only where it is unique on both sides);
3. normalized name with postcode;
4. fuzzy name and address similarity (rapidfuzz), within blocks that share a name word or the postcode,
   so 100,000 x 100,000 customers compare only plausible candidates.

A fuzzy score at or above ``fuzzy_accept`` (with no close second candidate) is a match; from
``fuzzy_review`` up it is ``ambiguous`` with ``suggestion`` set: a pairing for a person to confirm, not
taken as fact. Paired customers are compared field by field, ignoring case, punctuation and legal forms;
M3 truncates names (36 characters) and towns (20), so a truncated value is not a difference.
"""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from finsync_dagster.core import TABLES as CORE_TABLES
from finsync_dagster.recon.model import DEFAULT_TOLERANCES, Status, Tolerances
from finsync_dagster.recon.sources import relation
from finsync_dagster.recon.text import compact, email_key, folded, name_key

_COLUMNS = (
    "source_id", "name", "email", "phone", "address_line1", "city", "postal_code", "country_code",
    "currency_code", "vat_number",
)  # fmt: skip
_CONFIDENCE = {"crosswalk": 1.0, "email": 0.99, "vat_number": 0.98, "name_and_postcode": 0.95}
# Fields compared on paired customers, with M3's field length where M3 truncates.
_COMPARED = {
    "name": 36, "email": None, "address_line1": 36, "city": 20, "postal_code": 10, "country_code": None,
    "currency_code": None, "vat_number": None,
}  # fmt: skip
# How each compared field is normalized: "Acme Ltd" and "ACME Limited" are the same name.
_NORMAL = {"name": name_key, "postal_code": compact, "vat_number": compact}
_MAX_BLOCK = 2_000  # a name word shared by more customers than this says nothing (e.g. "services")
_CLOSE_SECOND = 0.03
_UNRELATED_ADDRESS = 50  # rapidfuzz token-set score (0-100) of two addresses with nothing in common


def read_side(con: duckdb.DuckDBPyConnection, source: str) -> pd.DataFrame:
    table = relation(con, CORE_TABLES["customers"])
    frame: pd.DataFrame = con.sql(
        f"SELECT {', '.join(_COLUMNS)} FROM {table} WHERE source = $source ORDER BY source_id",
        params={"source": source},
    ).df()
    return frame


def match_customers(
    con: duckdb.DuckDBPyConnection,
    tolerances: Tolerances = DEFAULT_TOLERANCES,
    *,
    crosswalk: pd.DataFrame | None = None,
) -> pa.Table:
    """``recon.customer_matches`` rows for ``core.customers`` in ``con``."""
    return match_customer_frames(read_side(con, "freshbooks"), read_side(con, "infor"), tolerances, crosswalk)


def match_customer_frames(
    freshbooks: pd.DataFrame,
    infor: pd.DataFrame,
    tolerances: Tolerances = DEFAULT_TOLERANCES,
    crosswalk: pd.DataFrame | None = None,
) -> pa.Table:
    fb, inf = _keyed(freshbooks), _keyed(infor)
    found: list[pd.DataFrame] = []
    if crosswalk is not None and len(crosswalk):
        known = crosswalk[["freshbooks_id", "infor_id"]].astype("string")
        known = known[known.freshbooks_id.isin(fb.source_id) & known.infor_id.isin(inf.source_id)]
        found.append(known.assign(rule="crosswalk", confidence=1.0, status=""))
    for rule, key in (("email", "k_email"), ("vat_number", "k_vat"), ("name_and_postcode", "k_name_pc")):
        fb_left, inf_left = _unpaired(fb, inf, found)
        found.append(_exact(fb_left, inf_left, key, rule))
    fb_left, inf_left = _unpaired(fb, inf, found)
    found.append(fuzzy_pairs(fb_left, inf_left, tolerances))
    pairs = pd.concat(found, ignore_index=True)
    return _result(fb, inf, pairs)


def _keyed(side: pd.DataFrame) -> pd.DataFrame:
    side = side.copy()
    for column in _COLUMNS:
        side[column] = side[column].astype("string")
    side["k_email"] = email_key(side.email)
    side["k_vat"] = compact(side.vat_number)
    side["k_name"] = name_key(side.name).fillna("")
    side["k_postcode"] = compact(side.postal_code)
    side["k_name_pc"] = (side.k_name + "|" + side.k_postcode).where(
        (side.k_name != "") & (side.k_postcode != ""), ""
    )
    side["k_address"] = (
        folded(side.address_line1) + " " + folded(side.city) + " " + side.k_postcode.str.lower()
    )
    return side


def _unpaired(
    fb: pd.DataFrame, inf: pd.DataFrame, found: list[pd.DataFrame]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not found:
        return fb, inf
    pairs = pd.concat(found, ignore_index=True)
    return fb[~fb.source_id.isin(pairs.freshbooks_id)], inf[~inf.source_id.isin(pairs.infor_id)]


def _exact(fb: pd.DataFrame, inf: pd.DataFrame, key: str, rule: str) -> pd.DataFrame:
    """Pairs that share a non-empty key found exactly once on each side."""
    left = fb[fb[key] != ""].drop_duplicates(key, keep=False)
    right = inf[inf[key] != ""].drop_duplicates(key, keep=False)
    joined = left[["source_id", key]].merge(right[["source_id", key]], on=key, suffixes=("_fb", "_inf"))
    return pd.DataFrame(
        {
            "freshbooks_id": joined.source_id_fb,
            "infor_id": joined.source_id_inf,
            "rule": rule,
            "confidence": _CONFIDENCE[rule],
            "status": "",
        }
    )


def _blocks(side: pd.DataFrame) -> pd.DataFrame:
    words = side.k_name.str.split(" ").explode()
    words = words[words.str.len() >= 3]
    by_word = pd.DataFrame(
        {"source_id": side.source_id.loc[words.index].to_numpy(), "block": words.to_numpy()}
    )
    postcodes = side[side.k_postcode != ""]
    by_postcode = pd.DataFrame(
        {"source_id": postcodes.source_id.to_numpy(), "block": "pc:" + postcodes.k_postcode}
    )
    return pd.concat([by_word, by_postcode], ignore_index=True).drop_duplicates()


def fuzzy_pairs(fb: pd.DataFrame, inf: pd.DataFrame, tolerances: Tolerances) -> pd.DataFrame:
    """Best fuzzy candidate per FreshBooks customer, scored only within shared blocks."""
    empty = pd.DataFrame(columns=["freshbooks_id", "infor_id", "rule", "confidence", "status"])
    if fb.empty or inf.empty:
        return empty
    fb_blocks, inf_blocks = _blocks(fb), _blocks(inf)
    sizes = fb_blocks.block.value_counts().mul(inf_blocks.block.value_counts(), fill_value=0)
    useful = sizes[(sizes > 0) & (sizes <= _MAX_BLOCK * _MAX_BLOCK)].index
    candidates = (
        fb_blocks[fb_blocks.block.isin(useful)]
        .merge(inf_blocks[inf_blocks.block.isin(useful)], on="block", suffixes=("_fb", "_inf"))
        [["source_id_fb", "source_id_inf"]]
        .drop_duplicates()
    )  # fmt: skip
    if candidates.empty:
        return empty
    left = fb.set_index("source_id").loc[candidates.source_id_fb]
    right = inf.set_index("source_id").loc[candidates.source_id_inf]
    # Word order usually agrees, so plain similarity catches typos; sorted words catch reordering.
    names = (left.k_name.to_numpy(), right.k_name.to_numpy())
    name_score = np.maximum(
        cpdist(*names, scorer=fuzz.ratio, workers=-1),
        cpdist(*names, scorer=fuzz.token_sort_ratio, workers=-1),
    )
    address_score = cpdist(
        left.k_address.to_numpy(), right.k_address.to_numpy(), scorer=fuzz.token_set_ratio, workers=-1
    )
    has_address = (left.k_address.str.strip() != "").to_numpy() & (
        right.k_address.str.strip() != ""
    ).to_numpy()
    score = np.where(has_address, 0.75 * name_score + 0.25 * address_score, name_score) / 100.0
    # A similar name alone is not evidence when everything else about the two disagrees: "Pinecrest
    # Dental" in Boise is not "Pinecrest Rental" in Tulsa, and is not even worth a suggestion; nor is
    # "Husgrofal Dental" at 216 Mill Lane, 35532 "Husfalsun Dental" at 11 Mill Lane, 31526, however much
    # of the street and town they share. (The same name elsewhere still is: a customer that moved.)
    left_domain = left.k_email.str.partition("@")[2].to_numpy()
    right_domain = right.k_email.str.partition("@")[2].to_numpy()
    contradicted = (
        (has_address & (address_score < _UNRELATED_ADDRESS))
        | ((left_domain != "") & (right_domain != "") & (left_domain != right_domain))
        | _other_postcode(left.k_postcode.to_numpy(dtype=str), right.k_postcode.to_numpy(dtype=str))
    )
    score = np.where(contradicted & (names[0] != names[1]), 0.0, score)
    scored = pd.DataFrame(
        {
            "freshbooks_id": candidates.source_id_fb.to_numpy(),
            "infor_id": candidates.source_id_inf.to_numpy(),
            "score": score.astype(float),
        }
    )
    scored = scored[scored.score >= tolerances.fuzzy_review].sort_values(
        ["score", "freshbooks_id", "infor_id"], ascending=[False, True, True]
    )
    if scored.empty:
        return empty
    second = scored.groupby("freshbooks_id").score.nth(1)
    second_by_fb = pd.Series(
        second.to_numpy(dtype=float), index=scored.loc[second.index, "freshbooks_id"].to_numpy()
    )
    best = scored.drop_duplicates("freshbooks_id").drop_duplicates("infor_id")
    runner_up = best.freshbooks_id.map(second_by_fb).astype(float).fillna(0.0)
    clear = (best.score >= tolerances.fuzzy_accept) & (best.score - runner_up >= _CLOSE_SECOND)
    return pd.DataFrame(
        {
            "freshbooks_id": best.freshbooks_id,
            "infor_id": best.infor_id,
            "rule": "fuzzy_name_address",
            "confidence": best.score.round(4).clip(0.0, 1.0),
            "status": np.where(clear, "", Status.AMBIGUOUS.value),
        }
    )


def _other_postcode(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Both postcodes given and neither the start of the other ("12345" is "12345-6789" written short)."""
    given = (left != "") & (right != "")
    other: np.ndarray = given & ~np.strings.startswith(left, right) & ~np.strings.startswith(right, left)
    return other


def _differences(left: pd.DataFrame, right: pd.DataFrame) -> pd.Series:
    """JSON list of the fields that disagree, per pair (vectorized per field, JSON only for differing rows)."""
    found: dict[int, list[dict[str, str | None]]] = {}
    for field, length in _COMPARED.items():
        a, b = left[field].fillna(""), right[field].fillna("")
        normal = _NORMAL.get(field, folded)
        na, nb = normal(a).fillna(""), normal(b).fillna("")
        differing = na != nb
        if length:
            # Cut where M3 cuts, before and after normalizing: M3 may cut a word ("Consulting" to "Co")
            # that normalizing then reads as something else (a legal form, dropped from names).
            cut = normal(a.str.slice(0, length)).fillna("")
            differing &= (na.str.slice(0, length).str.strip() != nb.str.slice(0, length).str.strip()) & (
                cut != nb
            )
        for position in np.flatnonzero(differing.to_numpy()):
            found.setdefault(int(position), []).append(
                {"field": field, "freshbooks": a.iloc[position] or None, "infor": b.iloc[position] or None}
            )
    out = np.full(len(left), "[]", dtype=object)
    for row, items in found.items():
        out[row] = json.dumps(items)
    return pd.Series(out, index=left.index, dtype="string")


def _result(fb: pd.DataFrame, inf: pd.DataFrame, pairs: pd.DataFrame) -> pa.Table:
    fb_i, inf_i = fb.set_index("source_id"), inf.set_index("source_id")
    left = fb_i.loc[pairs.freshbooks_id].reset_index()
    right = inf_i.loc[pairs.infor_id].reset_index()
    differences = _differences(left, right).reset_index(drop=True)
    pairs = pairs.reset_index(drop=True)
    status = np.where(
        pairs.status != "",
        pairs.status,
        np.where(differences != "[]", Status.MATCHED_WITH_DIFFERENCES.value, Status.MATCHED.value),
    )
    paired = pd.DataFrame(
        {
            "freshbooks_id": pairs.freshbooks_id.to_numpy(),
            "infor_id": pairs.infor_id.to_numpy(),
            "status": status,
            "confidence": pairs.confidence.astype(float).to_numpy(),
            "rule": pairs.rule.to_numpy(),
            "suggestion": status == Status.AMBIGUOUS.value,
            "differences": np.where(status == Status.MATCHED.value, "[]", differences.to_numpy()),
            "reference": left.name.to_numpy(),
            "customer": left.name.to_numpy(),
            "currency_code": left.currency_code.to_numpy(),
            "note": np.where(
                status == Status.AMBIGUOUS.value,
                "Similar name and address, but not certain: please confirm before anyone acts on it.",
                np.array(None, dtype=object),
            ),
            "freshbooks_name": left.name.to_numpy(),
            "infor_name": right.name.to_numpy(),
            "email": left.email.to_numpy(),
        }
    )
    fb_only = fb[~fb.source_id.isin(pairs.freshbooks_id)]
    inf_only = inf[~inf.source_id.isin(pairs.infor_id)]
    missing = [
        pd.DataFrame(
            {
                "freshbooks_id": side.source_id.to_numpy() if is_fb else None,
                "infor_id": None if is_fb else side.source_id.to_numpy(),
                "status": Status.MISSING_IN_INFOR.value if is_fb else Status.MISSING_IN_FRESHBOOKS.value,
                "confidence": 1.0,
                "rule": None,
                "suggestion": False,
                "differences": "[]",
                "reference": side.name.to_numpy(),
                "customer": side.name.to_numpy(),
                "currency_code": side.currency_code.to_numpy(),
                "note": "No customer with this e-mail, VAT number, name or a similar name and address "
                + ("in Infor." if is_fb else "in FreshBooks."),
                "freshbooks_name": side.name.to_numpy() if is_fb else None,
                "infor_name": None if is_fb else side.name.to_numpy(),
                "email": side.email.to_numpy(),
            }
        )
        for side, is_fb in ((fb_only, True), (inf_only, False))
        if len(side)
    ]
    frame = pd.concat([paired, *missing], ignore_index=True).sort_values(
        ["reference", "freshbooks_id"], na_position="last"
    )
    return _as_arrow(frame)


_SCHEMA = pa.schema(
    [
        ("freshbooks_id", pa.string()), ("infor_id", pa.string()), ("status", pa.string()),
        ("confidence", pa.float64()), ("rule", pa.string()), ("suggestion", pa.bool_()),
        ("differences", pa.string()), ("reference", pa.string()), ("customer", pa.string()),
        ("currency_code", pa.string()), ("freshbooks_amount", pa.decimal128(18, 2)),
        ("infor_amount", pa.decimal128(18, 2)), ("amount_at_stake", pa.decimal128(19, 2)),
        ("item_date", pa.date32()), ("note", pa.string()), ("freshbooks_name", pa.string()),
        ("infor_name", pa.string()), ("email", pa.string()),
    ]
)  # fmt: skip


def _as_arrow(frame: pd.DataFrame) -> pa.Table:
    columns = {}
    for field in _SCHEMA:
        if field.name in frame:
            values = frame[field.name].astype(object).where(frame[field.name].notna(), None).tolist()
            columns[field.name] = pa.array(values, type=field.type)
        else:
            columns[field.name] = pa.nulls(len(frame), type=field.type)
    return pa.table(columns, schema=_SCHEMA)


__all__ = ["fuzzy_pairs", "match_customer_frames", "match_customers"]
