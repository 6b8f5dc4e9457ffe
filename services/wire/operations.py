"""Every operation as a message type on a WebSocket face: one generic handler, no per-type code.

The socket's ``{type, id, payload}`` names the operation by its message type (``search:query``); the
payload is the operation's parameters; each item the operation yields becomes one reply (``ai:delta``
... ``ai:done``). Roles are checked by the dispatcher from the operation's declaration and again by the
registry, so a REST call that skips the dispatcher is checked too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping

from ..backends import Backends
from ..call import Call
from ..errors import ErrorCode
from ..operation import Operation
from ..registry import Registry as Operations
from .messages import GatewayError, Reply, Request
from .registry import Context, Handler, Registry

PONG = Reply("pong", {})


async def ping(request: Request, ctx: Context) -> AsyncIterator[Reply]:
    """``ping`` -> ``pong``: the cheapest authenticated round trip (liveness checks, the benchmark)."""
    yield PONG


def operation_handler(operations: Operations, op: Operation, backends: Backends) -> Handler:
    async def handle(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        if ctx.identity is None:
            raise GatewayError(ErrorCode.UNAUTHENTICATED, f"{op.message} needs a signed-in user",
                               request_id=request.id)
        items = operations.call(op.name, dict(request.payload), Call(backends, ctx.identity, ctx.peer))
        try:
            async for item in items:
                yield Reply(item.kind, item.data)
        finally:
            await items.aclose()  # type: ignore[attr-defined]

    handle.__name__ = op.name.replace(".", "_")
    return handle


def register_operations(registry: Registry, operations: Operations, backends: Backends,
                        wrap: Mapping[str, Callable[[Handler], Handler]] | None = None) -> None:
    """Route every operation's message type to it; ``wrap`` decorates named ones (by operation name)."""
    for op in operations:
        handler = operation_handler(operations, op, backends)
        if wrap and op.name in wrap:
            handler = wrap[op.name](handler)
        registry.register(op.message, handler, min_role=op.role, rate_limited=op.rate != "none")
