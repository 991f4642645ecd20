"""Both clients turn a transport failure into the same error class, and that class alone tells the outbox
whether a write may be resent: a connection that never opened is safe to resend, a timeout is in doubt."""

from __future__ import annotations

import httpx
import pytest

from finsync_dagster.errors import SAFE_TO_RESEND, RequestNotSentError, UnavailableError
from finsync_dagster.resources.http_policy import HttpPolicy
from tests.clients.infor.fakes import FakeGateway, make_client

ONE_TRY = HttpPolicy(max_attempts=1)


@pytest.mark.parametrize(
    ("failure", "resendable"),
    [
        (httpx.ConnectError("refused"), True),
        (httpx.ConnectTimeout("no answer to SYN"), True),
        (httpx.PoolTimeout("no free connection"), True),
        (httpx.ReadTimeout("sent, no answer"), False),
        (httpx.RemoteProtocolError("dropped mid-answer"), False),
    ],
    ids=["refused", "connect-timeout", "pool-timeout", "read-timeout", "dropped"],
)
def test_a_write_is_resendable_only_when_nothing_was_sent(failure: Exception, resendable: bool) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure

    m3 = make_client(FakeGateway(api=fail), policy=ONE_TRY)
    with pytest.raises(UnavailableError) as caught:
        m3.execute(program="CRS610MI", transaction="Add", params={"CUNO": "C1"})
    assert isinstance(caught.value, RequestNotSentError) is resendable
    assert isinstance(caught.value, SAFE_TO_RESEND) is resendable
