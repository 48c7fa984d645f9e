"""Who is calling, for counting failed tries: the remote address, or, for the bot's action
server (one address speaking for many residents), the conversation it names.

The action server proves it is the trusted internal caller with the token ``hotline up``
generates (``HOTLINE_INTERNAL_TOKEN``, shared by both processes), sent in
``X-Hotline-Internal-Token`` (or ``X-Hotline-Internal``); only then is ``X-Hotline-Client``
believed.
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

INTERNAL_TOKEN_HEADER = "X-Hotline-Internal-Token"
INTERNAL_TOKEN_ALIAS = "X-Hotline-Internal"  # the same token under a shorter name
CLIENT_HEADER = "X-Hotline-Client"


def is_internal(request: Request) -> bool:
    """True for the trusted internal caller; a wrong token is refused outright (403), since it
    is a misconfiguration or an attack, never a resident."""
    sent = request.headers.get(INTERNAL_TOKEN_HEADER) or request.headers.get(INTERNAL_TOKEN_ALIAS)
    if sent is None:
        return False
    expected = request.app.state.ctx.settings.internal_token
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise HTTPException(403, "内部调用凭据无效")
    return True


def client_key(request: Request) -> str:
    """The key failed tries of this caller are counted under."""
    if is_internal(request):
        named = (request.headers.get(CLIENT_HEADER) or "").strip()
        if named:
            return "conv:" + named[:150]
        return "internal"
    host = request.client.host if request.client else "unknown"
    return "addr:" + host
