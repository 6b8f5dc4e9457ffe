"""The WebSocket gateway for non-editor clients (``nexus gateway``): JWT auth, roles, rate limits,
streaming replies. The message protocol itself is :mod:`nexus.services.wire` (transport-agnostic,
reused by the Jupyter extension)."""

from __future__ import annotations

from .auth import IssuedToken, TokenError, TokenIssuer, load_secret
from .handlers import Services, build_registry
from .metrics import GatewayMetrics
from .protocol import ErrorCode, GatewayError, Identity, Registry, Reply, Request, Role
from .ratelimit import Rate, RateLimiter, build_limiter
from .server import Gateway
from .settings import GatewaySettings
from .users import User, UserError, UserStore

__all__ = [
    "ErrorCode", "Gateway", "GatewayError", "GatewayMetrics", "GatewaySettings", "Identity", "IssuedToken", "Rate",
    "RateLimiter", "Registry", "Reply", "Request", "Role", "Services", "TokenError", "TokenIssuer", "User",
    "UserError", "UserStore", "build_limiter", "build_registry", "load_secret",
]
