"""The wire formats, on the contracts' own vectors: the FreshBooks re-serialised-form HMAC (contract §5.4)
and the Shopify raw-body HMAC (shop contract §6.4), and how a FreshBooks form is read."""

from __future__ import annotations

import pytest

from finsync_dagster.webhooks import Reason, Refused, freshbooks, shop

CONTRACT_BODY = (
    b"name=invoice.create&object_id=1234567&account_id=6BApk&business_id=6543&identity_id=1234&user_id=1"
)
CONTRACT_SIGNATURE = "xZJX+xO+LjYfVDYfVCIAK9Xk1gy1TLgKAOyGqibyyfQ="
SHOP_SECRET = "hush-this-is-a-made-up-client-secret"
SHOP_BODY = b'{"id":6123456789012,"name":"#1001","total_price":"67.52"}'


def test_freshbooks_signature_of_the_contract_vector() -> None:
    fields = freshbooks.parse_form(CONTRACT_BODY)
    assert freshbooks.signature("test-verifier", fields) == CONTRACT_SIGNATURE
    assert freshbooks.signed_by(["another", "test-verifier"], fields, CONTRACT_SIGNATURE)
    assert not freshbooks.signed_by(["another"], fields, CONTRACT_SIGNATURE)
    assert not freshbooks.signed_by([], fields, CONTRACT_SIGNATURE)


def test_freshbooks_field_order_is_part_of_the_signature() -> None:
    fields = freshbooks.parse_form(CONTRACT_BODY)
    assert not freshbooks.signed_by(["test-verifier"], list(reversed(fields)), CONTRACT_SIGNATURE)


def test_non_ascii_values_are_escaped_as_python_json_does() -> None:
    fields = [("name", "client.update"), ("object_id", "1"), ("account_id", "Zürich")]
    body = b"name=client.update&object_id=1&account_id=Z%C3%BCrich"
    assert freshbooks.parse_form(body) == fields
    assert freshbooks.signature("k", fields) == freshbooks.signature(
        "k", [*fields[:2], ("account_id", "Z\u00fcrich")]
    )


@pytest.mark.parametrize(
    "body",
    [
        b"name=invoice.create&name=invoice.delete&object_id=1&account_id=A",  # which name would count?
        b"name=invoice.create&object_id=1&account_id=\xff",  # not UTF-8
        b"name",  # not a form
    ],
    ids=["field-twice", "not-utf8", "not-a-form"],
)
def test_malformed_forms_are_refused(body: bytes) -> None:
    with pytest.raises(Refused) as refused:
        freshbooks.parse_form(body)
    assert refused.value.reason is Reason.MALFORMED


def test_shopify_signature_of_the_contract_vector() -> None:
    assert shop.signature(SHOP_SECRET, SHOP_BODY) == "yGfTjkjlZf0qAlBAJdwswFq2AY03Ul0t0Cvsm25mqHY="
    assert shop.signed_by(["old", SHOP_SECRET], SHOP_BODY, "yGfTjkjlZf0qAlBAJdwswFq2AY03Ul0t0Cvsm25mqHY=")
    tampered = SHOP_BODY.replace(b"67.52", b"67.53")
    assert shop.signature(SHOP_SECRET, tampered) == "FHY1M1pVZUZ+0WNPPIjw38g6I3BzNcXuf73LIHlwXvk="
    assert not shop.signed_by([SHOP_SECRET], tampered, "yGfTjkjlZf0qAlBAJdwswFq2AY03Ul0t0Cvsm25mqHY=")
    hex_digest = "c867d38e48e565fd2a02504025dc2cc05ab6018d37525d2dd02bec9b6e66a876"
    assert not shop.signed_by([SHOP_SECRET], SHOP_BODY, hex_digest)  # hex is what a wrong sender sends
