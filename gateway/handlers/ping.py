"""``ping`` -> ``pong``: the shared protocol's liveness round trip (``nexus.services.wire.ping``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nexus.services.wire import ping

from ..protocol import Registry, Role

if TYPE_CHECKING:
    from . import Services

TYPE = "ping"


def register(registry: Registry, services: Services) -> None:
    registry.register(TYPE, ping, min_role=Role.VIEWER)
