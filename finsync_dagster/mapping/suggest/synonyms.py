"""What field names and descriptions mean, for the suggestion engine: abbreviations and concept groups.

Both APIs abbreviate (FreshBooks ``fname``, ``p_code``, ``qty``; M3 describes ``CUA1`` as "Customer address
1"), so words are first expanded, then folded into concepts: "e-mail", "mail" and "email" are one idea,
as are "telephone" and "phone", "town" and "city", "client" and "customer".
"""

from __future__ import annotations

import re

ABBREVIATIONS: dict[str, str] = {
    "fname": "first name",
    "lname": "last name",
    "qty": "quantity",
    "amt": "amount",
    "addr": "address",
    "desc": "description",
    "org": "organization",
    "no": "number",
    "num": "number",
    "nr": "number",
    "id": "identifier",
    "ids": "identifier",
    "po": "purchase order",
    "bus": "business",
    "mob": "mobile",
    "tel": "telephone",
    "cur": "currency",
    "curr": "currency",
    "zip": "postal",
    "salesprice": "sales price",
    "referens": "reference",
    "e": "",
}

# FreshBooks prefixes: p_ is the billing (primary) address, s_ the shipping one.
PREFIXES: dict[str, str] = {"p": "billing", "s": "shipping"}

CONCEPTS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "customer": ("customer", "client", "payer"),
    "organization": ("organization", "organisation"),
    "user": ("user", "login", "username"),
    "email": ("email", "mail", "e-mail"),
    "phone": ("phone", "telephone"),
    "fax": ("fax", "facsimile"),
    "address": ("address", "street"),
    "city": ("city", "town"),
    "postal": ("postal", "postcode", "zip"),
    "region": ("state", "province", "area", "region"),
    "country": ("country",),
    "currency": ("currency",),
    "date": ("date",),
    "invoice": ("invoice", "bill"),
    "order": ("order", "purchase"),
    "amount": ("amount", "total", "sum"),
    "price": ("price", "cost", "rate"),
    "quantity": ("quantity",),
    "item": ("item", "product", "sku", "article"),
    "description": ("description", "notes", "note", "text"),
    "number": ("number", "identifier", "code"),
    "payment": ("payment", "paid", "pay"),
    "type": ("type", "method", "kind"),
    "reference": ("reference", "check", "cheque", "transaction"),
    "vat": ("vat", "tax", "registration"),
    "first": ("first", "given"),
    "last": ("last", "surname", "family"),
    "language": ("language",),
    "line": ("line",),
    "year": ("year",),
}
_CONCEPT_OF = {word: concept for concept, words in CONCEPTS.items() for word in words}
# A client record's organisation is the customer's name.
_ALSO = {"organization": ("name", "customer"), "organisation": ("name", "customer")}
# Concepts so common that sharing them says little.
WEIGHTS = {"number": 0.3, "type": 0.5, "line": 0.5, "customer": 0.7, "description": 0.8}
UNKNOWN_WEIGHT = 0.4
_SECONDARY = {"mobile", "home", "alternate", "secondary", "shipping", "fax"}
_VOCABULARY = {w for words in CONCEPTS.values() for w in words} | {
    "id",
    "user",
    "name",
    "log",
    "line",
    "expense",
    "category",
}
_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")
_STOP = {"of", "the", "a", "an", "for", "at", "to", "in", "on", "if", "by", "and", "or", "is", "its"}


def words(text: str, *, field_name: bool = False) -> list[str]:
    """Lower-case words of a field name or description, abbreviations expanded."""
    parts = [p for p in _SPLIT.split(text) if p]
    if field_name and len(parts) > 1 and parts[0].lower() in PREFIXES:
        parts = [PREFIXES[parts[0].lower()], *parts[1:]]
    result: list[str] = []
    for part in parts:
        for piece in _compound(part.lower()):
            expanded = ABBREVIATIONS.get(piece, piece)
            result.extend(w for w in expanded.split() if w and w not in _STOP)
    return result


def _compound(word: str) -> list[str]:
    """``customerid`` -> customer, id; ``username`` -> user, name: API names glue words together."""
    if word in _VOCABULARY or word in ABBREVIATIONS:
        return [word]
    for cut in range(len(word) - 2, 2, -1):
        head, tail = word[:cut], word[cut:]
        if head in _VOCABULARY and (tail in _VOCABULARY or tail in ABBREVIATIONS):
            return [head, tail]
    return [word]


def concepts(tokens: list[str]) -> dict[str, float]:
    """Concepts with their weights; a word no concept knows stands for itself, weakly."""
    found: dict[str, float] = {}
    for token in tokens:
        if token.isdigit():
            continue
        concept = _CONCEPT_OF.get(token) or _CONCEPT_OF.get(token.rstrip("s"))
        if concept:
            found[concept] = WEIGHTS.get(concept, 1.0)
            for extra in _ALSO.get(token, ()):
                found[extra] = WEIGHTS.get(extra, 1.0)
        else:
            found.setdefault(token, UNKNOWN_WEIGHT)
    return found


def overlap(a: dict[str, float], b: dict[str, float]) -> float:
    """Weighted Dice coefficient of two concept sets, 0..1."""
    total = sum(a.values()) + sum(b.values())
    shared = sum(a[c] + b[c] for c in a.keys() & b.keys())
    return shared / total if total else 0.0


def ordinal(tokens: list[str], *, implied: bool = False) -> int | None:
    """The position in "address 2", "telephone number 1", "street2"; with ``implied``, an unnumbered
    field is the first unless it says it is a secondary one (mobile, home, shipping)."""
    numbers = [int(t) for t in tokens if t.isdigit()]
    if numbers:
        return numbers[-1]
    if implied:
        return 2 if _SECONDARY & set(tokens) else 1
    return None
