"""One masking function for every place a secret could be shown: by key, and by what a value looks like."""

from __future__ import annotations

import json

from hypothesis import assume, given
from hypothesis import strategies as st

from finsync_dagster.masking import MASK, mask_secrets, mask_text


def test_secret_keys_are_masked_at_any_depth_and_the_rest_is_kept() -> None:
    masked = mask_secrets(
        {
            "headers": {"Authorization": "Bearer abcdef123456", "X-FreshBooks-Hmac-SHA256": "sig"},
            "body": [{"client_secret": "cs", "refresh_token": "rt", "name": "Bjørnstad", "CUNO": "FB1"}],
            "password": None,
        }
    )
    assert masked == {
        "headers": {"Authorization": MASK, "X-FreshBooks-Hmac-SHA256": MASK},
        "body": [{"client_secret": MASK, "refresh_token": MASK, "name": "Bjørnstad", "CUNO": "FB1"}],
        "password": None,
    }


def test_credentials_inside_text_are_masked() -> None:
    text = (
        "retry with Bearer abc.def-123456 failed; url postgresql://finsync:pa55word@db/finsync "
        "https://api.example.com/cb?code=XYZ123&state=1 token eyJhbGciOi.eyJzdWIiOjEyMw.c2lnbmF0dXJl"
    )
    masked = mask_text(text)
    for secret in ("abc.def-123456", "pa55word", "XYZ123", "eyJhbGciOi"):
        assert secret not in masked
    assert "state=1" in masked and "postgresql://finsync:***@db/finsync" in masked


def test_json_text_is_masked_as_its_structure() -> None:
    masked = mask_secrets(json.dumps({"access_token": "at-1", "amount": "12.50"}))
    assert json.loads(masked) == {"access_token": MASK, "amount": "12.50"}


@given(
    secret=st.text(alphabet=st.characters(categories=["L", "N"]), min_size=8, max_size=40),
    key=st.sampled_from(
        ["token", "access_token", "Authorization", "clientSecret", "PASSWORD", "api_key", "sask"]
    ),
    noise=st.dictionaries(st.sampled_from(["name", "CUNO", "amount"]), st.text(max_size=10)),
)
def test_no_secret_under_a_secret_key_survives(secret: str, key: str, noise: dict[str, str]) -> None:
    assume(all(secret not in value for value in noise.values()))
    document = {"request": {**noise, key: secret}, "list": [{key: secret}]}
    assert secret not in json.dumps(mask_secrets(document), ensure_ascii=False)
