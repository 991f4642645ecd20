"""The FreshBooks verification handshake, from the receiver's side (contract §5.2).

FreshBooks POSTs a ``verifier`` for a new callback; finsync PUTs it back, and that verifier then signs
every delivery of the callback. A handshake is completed only for a callback finsync recorded when it
registered it (``finsync webhooks register``) and that is still unverified, and the verifier is kept only
once FreshBooks accepted it: anyone else who knows the URL can neither plant a key nor make finsync send
FreshBooks anything but a verify call for its own callback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from finsync_dagster.errors import ApiError, ValidationError
from finsync_dagster.ledger import Ledger
from finsync_dagster.webhooks.refusals import Reason, Refused
from finsync_dagster.webhooks.verifiers import Verifiers

SYSTEM = "freshbooks"
log = logging.getLogger("finsync.webhooks")

# (pair, callback id, verifier): send the verifier back to FreshBooks; raises an ApiError if refused.
VerifyAtProvider = Callable[[str, str, str], None]


class Handshakes:
    def __init__(self, ledger: Ledger, verify_at_provider: VerifyAtProvider, verifiers: Verifiers) -> None:
        self._ledger = ledger
        self._verify_at_provider = verify_at_provider
        self._verifiers = verifiers

    def complete(self, pair: str, callback_id: str, verifier: str) -> None:
        """Verify a recorded, unverified callback (blocking: call it off the event loop)."""
        callback = self._ledger.webhook_callback(pair, SYSTEM, callback_id)
        if callback is None:
            raise Refused(Reason.UNKNOWN_CALLBACK)
        if callback.verified:
            raise Refused(Reason.ALREADY_VERIFIED)
        try:
            self._verify_at_provider(pair, callback_id, verifier)
        except ValidationError:
            log.warning("pair %s: FreshBooks refused the verifier posted for callback %s", pair, callback_id)
            raise Refused(Reason.VERIFIER_REFUSED) from None
        except ApiError as exc:
            log.warning("pair %s: verifying callback %s failed: %s", pair, callback_id, exc)
            raise Refused(Reason.PROVIDER_UNAVAILABLE) from None
        self._ledger.mark_callback_verified(
            pair=pair, system=SYSTEM, callback_id=callback_id, secret=verifier
        )
        self._verifiers.forget(pair)
        log.info("pair %s: callback %s (%s) verified", pair, callback_id, callback.event)
