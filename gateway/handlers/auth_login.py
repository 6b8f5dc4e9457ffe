"""``auth:login`` ``{username, password}`` -> ``auth:login`` ``{token, expiresIn, role}`` (the seed's
``/api/auth/login``). Open to connections without a token; on success the connection takes that
identity, so a script can log in and work on the same socket, or reconnect later with ``?token=``.

The password check (scrypt) runs in a worker thread; unknown users cost the same scrypt as wrong
passwords, and the answer is the same. Guessing is limited by :class:`~..ratelimit.LoginLimiter`: per
client address (the one behind a trusted proxy) and per user name, so one attacker's flood locks out
neither other users nor the targeted user on an address they have logged in from before. The limit is
checked before the password, so a refused attempt costs no scrypt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ..auth import TokenIssuer
from ..clientaddr import address_key
from ..protocol import Context, ErrorCode, GatewayError, Handler, Registry, Reply, Request
from ..ratelimit import LoginLimiter
from ..users import UserStore

if TYPE_CHECKING:
    from . import Services

log = logging.getLogger(__name__)

TYPE = "auth:login"


def make_handler(users: UserStore, tokens: TokenIssuer, limiter: LoginLimiter | None = None) -> Handler:
    async def login(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        name = request.text("username", max_length=64)
        password = request.text("password", max_length=1024)
        address = address_key(ctx.peer)
        if limiter is not None:
            retry = limiter.acquire(name, address)
            if retry is not None:
                log.warning("login for %r from %s refused: too many attempts", name, ctx.peer)
                raise GatewayError(ErrorCode.RATE_LIMITED, f"too many login attempts; retry in {retry:.1f} s",
                                   retryAfter=round(retry, 3))
        user = await asyncio.to_thread(users.verify, name, password)
        if user is None:
            log.info("failed login for %r from %s", name, ctx.peer)
            raise GatewayError(ErrorCode.BAD_CREDENTIALS, "unknown user or wrong password")
        if limiter is not None:
            limiter.succeeded(name, address)
        issued = tokens.issue(user.name, user.role)
        ctx.authenticate(issued.identity)
        log.info("%s logged in from %s", user.name, ctx.peer)
        yield Reply(TYPE, {"token": issued.token, "expiresIn": issued.expires_in, "role": user.role.label})

    return login


def register(registry: Registry, services: Services) -> None:
    # Not the dispatcher's per-connection limit: the login limiter counts per address and user name.
    registry.register(TYPE, make_handler(services.users, services.tokens, services.login_limiter), min_role=None,
                      rate_limited=False)
