"""The bearer token every HTTP request to ``nexus mcp`` carries (stdio needs none: whoever can write to
the process's stdin started it).

The comparison is constant-time; a missing or wrong token is 401 with ``WWW-Authenticate: Bearer`` and
reaches neither the SDK nor an operation. The token may not ride in the query string, where proxies and
shell histories keep it.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

log = logging.getLogger(__name__)

Scope = dict[str, Any]


class BearerAuth:
    def __init__(self, app: Any, token: str) -> None:
        if len(token) < 16:
            raise ValueError("the MCP token must be at least 16 characters")
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not self._authorised(scope):
            log.warning("MCP request from %s refused: missing or wrong bearer token", _peer(scope))
            body = json.dumps({"error": "unauthorized",
                               "message": "send Authorization: Bearer <token> (the token nexus mcp printed, or "
                                          "NEXUS_MCP_TOKEN)"}).encode()
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

    def _authorised(self, scope: Scope) -> bool:
        found = [value for name, value in scope.get("headers", ()) if name == b"authorization"]
        return len(found) == 1 and hmac.compare_digest(found[0].strip(), self._expected)


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "?"
