"""``auth:login`` ``{username, password}`` -> ``auth:login`` ``{token, expiresIn, role}`` (the seed's
``/api/auth/login``). Open to connections without a token; on success the connection takes that
identity, so a script can log in and work on the same socket, or reconnect later with ``?token=``.

The password check (scrypt) runs in a worker thread; unknown users cost the same as wrong passwords, and
the per-address ``auth:login`` rate limit slows guessing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ..auth import TokenIssuer
from ..protocol import Context, ErrorCode, GatewayError, Handler, Registry, Reply, Request
from ..users import UserStore

if TYPE_CHECKING:
    from . import Services

log = logging.getLogger(__name__)

TYPE = "auth:login"


def make_handler(users: UserStore, tokens: TokenIssuer) -> Handler:
    async def login(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        name = request.text("username", max_length=64)
        password = request.text("password", max_length=1024)
        user = await asyncio.to_thread(users.verify, name, password)
        if user is None:
            log.info("failed login for %r from %s", name, ctx.peer)
            raise GatewayError(ErrorCode.BAD_CREDENTIALS, "unknown user or wrong password")
        issued = tokens.issue(user.name, user.role)
        ctx.authenticate(issued.identity)
        log.info("%s logged in from %s", user.name, ctx.peer)
        yield Reply(TYPE, {"token": issued.token, "expiresIn": issued.expires_in, "role": user.role.label})

    return login


def register(registry: Registry, services: Services) -> None:
    registry.register(TYPE, make_handler(services.users, services.tokens), min_role=None)
