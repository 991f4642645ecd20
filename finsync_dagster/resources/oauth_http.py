"""The one place finsync imports authlib's httpx integration.

authlib 1.9 deprecates its plain-httpx fallback in favour of ``httpx2`` and says so on import
(``AuthlibDeprecationWarning``). finsync cannot move yet (README, "FreshBooks client": authlib's clients
would become ``httpx2.Client``s that refuse the ``httpx`` transports finsync injects), and the warning asks
nothing of a user, so this import, and only this warning, is silenced here; every other warning, in tests
and on screen, stays as it is. When the move comes, it is this import and nothing else.
"""

from __future__ import annotations

import warnings

from authlib.deprecate import AuthlibDeprecationWarning

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="The httpx module is deprecated", category=AuthlibDeprecationWarning
    )
    from authlib.integrations.httpx_client import OAuth2Client, OAuthError
from authlib.oauth2.rfc6749 import OAuth2Token

__all__ = ["OAuth2Client", "OAuth2Token", "OAuthError"]
