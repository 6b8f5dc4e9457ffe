"""The WebSocket message protocol every socket face speaks, transport-agnostic (no WebSocket library
imported here): the gateway's ``websockets`` server and the Jupyter extension's tornado handler both
drive it, and both route every operation through :func:`register_operations`.

    registry = Registry()
    register_operations(registry, Operations.default(), backends)
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
from .operations import operation_handler, ping, register_operations
from .outbox import Outbox, Transport
from .registry import Context, Handler, Registry, Route
from .session import Dispatcher, Limiter, Observer, Session, SessionLimits

__all__ = [
    "ConnectionGone", "Context", "Dispatcher", "ErrorCode", "GatewayError", "Handler", "Identity", "Limiter",
    "Observer", "Outbox", "Registry", "Reply", "Request", "RequestId", "Role", "Route", "Session",
    "SessionLimits", "Transport", "encode_error", "encode_reply", "operation_handler", "parse_request", "ping",
    "register_operations",
]
