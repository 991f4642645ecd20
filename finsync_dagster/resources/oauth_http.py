"""The one place finsync imports authlib's httpx integration.

authlib warns that its httpx integration is deprecated in favour of ``httpx2``
(``AuthlibDeprecationWarning``, a ``DeprecationWarning``). finsync stays on httpx for now and keeps that
warning visible; when the move comes, it is this import and nothing else.
"""

from __future__ import annotations

from authlib.integrations.httpx_client import OAuth2Client, OAuthError
from authlib.oauth2.rfc6749 import OAuth2Token

__all__ = ["OAuth2Client", "OAuth2Token", "OAuthError"]
