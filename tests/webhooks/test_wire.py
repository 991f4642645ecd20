"""The FreshBooks wire format on the contract's own vector: the re-serialised-form HMAC (contract §5.4), and
how a form is read. (The shop's raw-body HMAC is ``resources/shop/webhooks``, tested with the shop sandbox.)"""

from __future__ import annotations

import pytest

from finsync_dagster.webhooks import Reason, Refused, freshbooks

CONTRACT_BODY = (
    b"name=invoice.create&object_id=1234567&account_id=6BApk&business_id=6543&identity_id=1234&user_id=1"
)
CONTRACT_SIGNATURE = "xZJX+xO+LjYfVDYfVCIAK9Xk1gy1TLgKAOyGqibyyfQ="


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
