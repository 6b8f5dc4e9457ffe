"""The gateway speaks the shared WebSocket protocol of ``nexus.services.wire`` (kept importable here)."""

from nexus.services.wire import (
    ConnectionGone,
    Context,
    Dispatcher,
    ErrorCode,
    GatewayError,
    Handler,
    Identity,
    Limiter,
    Observer,
    Outbox,
    Registry,
    Reply,
    Request,
    RequestId,
    Role,
    Route,
    Session,
    SessionLimits,
    Transport,
    encode_error,
    encode_reply,
    parse_request,
)

__all__ = [
    "ConnectionGone", "Context", "Dispatcher", "ErrorCode", "GatewayError", "Handler", "Identity", "Limiter",
    "Observer", "Outbox", "Registry", "Reply", "Request", "RequestId", "Role", "Route", "Session",
    "SessionLimits", "Transport", "encode_error", "encode_reply", "parse_request",
]
