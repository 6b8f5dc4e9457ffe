"""The gateway's message protocol, transport-agnostic (no WebSocket library imported here): the
``websockets`` server and the Jupyter extension's tornado handler both drive it.

    registry = Registry()
    registry.register("files:read", read_file, min_role=Role.VIEWER)
    dispatcher = Dispatcher(registry, limits=SessionLimits(), limiter=..., observer=...)
    session = dispatcher.open(transport, identity=identity, peer="127.0.0.1")
    await session.receive(frame)     # for each inbound frame
    await session.close()            # when the connection ends
"""

from __future__ import annotations

from .messages import (
    ConnectionGone,
    ErrorCode,
    GatewayError,
    Identity,
    Reply,
    Request,
    RequestId,
    Role,
    encode_error,
    encode_reply,
    parse_request,
)
from .outbox import Outbox, Transport
from .registry import Context, Handler, Registry, Route
from .session import Dispatcher, Limiter, Observer, Session, SessionLimits

__all__ = [
    "ConnectionGone", "Context", "Dispatcher", "ErrorCode", "GatewayError", "Handler", "Identity", "Limiter",
    "Observer", "Outbox", "Registry", "Reply", "Request", "RequestId", "Role", "Route", "Session",
    "SessionLimits", "Transport", "encode_error", "encode_reply", "parse_request",
]
