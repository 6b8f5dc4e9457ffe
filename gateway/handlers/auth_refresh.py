"""``auth:refresh`` -> ``auth:refresh`` ``{token, expiresIn, role}``: a new token for the connection's
user before the current one expires (an expired session must ``auth:login`` again). The role comes from
the users file as it is now, so a demotion takes effect at the next refresh, and a removed user cannot
refresh at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ..auth import TokenIssuer
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
        issued = tokens.issue(user.name, user.role)
        ctx.authenticate(issued.identity)
        yield Reply(TYPE, {"token": issued.token, "expiresIn": issued.expires_in, "role": user.role.label})

    return refresh


def register(registry: Registry, services: Services) -> None:
    registry.register(TYPE, make_handler(services.users, services.tokens), min_role=Role.VIEWER)
