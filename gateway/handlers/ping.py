"""``ping`` -> ``pong``: the cheapest authenticated round trip (liveness checks, the benchmark)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ..protocol import Context, Registry, Reply, Request, Role

if TYPE_CHECKING:
    from . import Services

TYPE = "ping"
PONG = Reply("pong", {})


async def ping(request: Request, ctx: Context) -> AsyncIterator[Reply]:
    yield PONG


def register(registry: Registry, services: Services) -> None:
    registry.register(TYPE, ping, min_role=Role.VIEWER)
