"""Which handler answers which message type, and who may send it.

Subsystems plug in here without the gateway knowing them::

    async def execute(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        async for chunk in kernels.run(request.text("code")):
            yield Reply("ide:output", {"stream": chunk.stream, "text": chunk.text})
        yield Reply("ide:result", {...})

    registry.register("ide:execute", execute, min_role=Role.DEVELOPER)

A handler is an async generator: a plain request yields one reply, a streaming one yields as many as it
likes (``ide:output``* then ``ide:result``), and cancelling the request closes the generator so its
``finally`` blocks run. A type whose subsystem is not in this build is registered as unavailable, so a
client learns "not available yet" rather than "unknown type".
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Protocol

from .messages import RESERVED_TYPES, TYPE_PATTERN, ErrorCode, GatewayError, Identity, Reply, Request, Role


class Context(Protocol):
    """What a handler may know about and do to its connection."""

    @property
    def identity(self) -> Identity | None: ...

    @property
    def peer(self) -> str: ...

    def authenticate(self, identity: Identity) -> None:
        """Make ``identity`` the connection's identity (after auth:login / auth:refresh)."""


Handler = Callable[[Request, Context], AsyncIterator[Reply]]


@dataclasses.dataclass(frozen=True, slots=True)
class Route:
    type: str
    handler: Handler
    min_role: Role | None  # None: no identity needed (auth:login)
    unavailable: str | None = None  # why the type cannot be served in this build
    rate_limited: bool = True


class Registry:
    """Message type -> Route. Built once at start-up, read on every message."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}

    def register(self, type_: str, handler: Handler, *, min_role: Role | None = Role.VIEWER,
                 rate_limited: bool = True, replace: bool = False) -> None:
        """Route ``type_`` to ``handler``; ``min_role=None`` lets connections without an identity send it.

        Raises ValueError for a malformed or reserved type, or one already registered (unless
        ``replace``, which is how a real handler takes over from an unavailable one).
        """
        self._check_new(type_, replace)
        self._routes[type_] = Route(type_, handler, min_role, None, rate_limited)

    def register_unavailable(self, type_: str, feature: str, *, min_role: Role | None = Role.VIEWER,
                             reason: str | None = None) -> None:
        """Answer ``type_`` with an ``unavailable`` error naming ``feature`` (e.g. "code execution
        (nexus.kernels)") or, when given, ``reason`` (e.g. why a present subsystem could not start).
        Role checks still apply, so a viewer learns they may not, not that it is missing.
        """
        self._check_new(type_, replace=False)
        reason = reason or f"{type_} is not available yet: {feature} is not part of this build"
        self._routes[type_] = Route(type_, _unavailable(type_, reason), min_role, reason, False)

    def get(self, type_: str) -> Route | None:
        return self._routes.get(type_)

    def __contains__(self, type_: object) -> bool:
        return type_ in self._routes

    def __iter__(self) -> Iterator[Route]:
        return iter(sorted(self._routes.values(), key=lambda r: r.type))

    def types(self) -> list[str]:
        return sorted(self._routes)

    def _check_new(self, type_: str, replace: bool) -> None:
        if TYPE_PATTERN.match(type_) is None:
            raise ValueError(f"message type {type_!r} is not like 'area:verb'")
        if type_ in RESERVED_TYPES:
            raise ValueError(f"message type {type_!r} is reserved by the protocol")
        if type_ in self._routes and not replace:
            raise ValueError(f"message type {type_!r} is already registered")


def _unavailable(type_: str, reason: str) -> Handler:
    async def handler(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        raise GatewayError(ErrorCode.UNAVAILABLE, reason, request_id=request.id)
        yield  # pragma: no cover - makes this an async generator like every handler

    handler.__name__ = f"unavailable_{type_.replace(':', '_')}"
    return handler
