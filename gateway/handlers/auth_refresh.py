"""``auth:refresh`` -> ``auth:refresh`` ``{token, expiresIn, role}``: a new token for the connection's
user before the current one expires (an expired session must ``auth:login`` again). The role comes from
the users file as it is now, never from the old token, so a demotion takes effect at the next refresh,
and a removed user cannot refresh at all. The new token keeps the original login's time, so refreshing
cannot keep a session alive beyond ``gateway.session_max_age``: then the password is asked again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ..auth import TokenError, TokenIssuer
from ..protocol import Context, ErrorCode, GatewayError, Handler, Registry, Reply, Request, Role
from ..users import UserStore

if TYPE_CHECKING:
    from . import Services

TYPE = "auth:refresh"


def make_handler(users: UserStore, tokens: TokenIssuer) -> Handler:
    async def refresh(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        identity = ctx.identity
        assert identity is not None  # min_role=VIEWER: the dispatcher admitted an identified session
        user = users.get(identity.user)
        if user is None:
            raise GatewayError(ErrorCode.UNAUTHENTICATED, f"user {identity.user} no longer exists")
        try:
            issued = tokens.issue(user.name, user.role, authenticated_at=identity.authenticated_at)
        except TokenError as exc:
            raise GatewayError(ErrorCode.TOKEN_EXPIRED, str(exc)) from exc
        ctx.authenticate(issued.identity)
        yield Reply(TYPE, {"token": issued.token, "expiresIn": issued.expires_in, "role": user.role.label})

    return refresh


def register(registry: Registry, services: Services) -> None:
    registry.register(TYPE, make_handler(services.users, services.tokens), min_role=Role.VIEWER)
