"""The message types the gateway serves, one module per type.

Each module has ``register(registry, services)``. The types whose subsystem is not in this build yet
register themselves as unavailable (the client gets ``unavailable`` naming the missing feature); wiring a
subsystem in is a change to that one module: write the handler and call ``registry.register``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from ..auth import TokenIssuer
from ..metrics import GatewayMetrics
from ..protocol import Registry
from ..ratelimit import LoginLimiter
from ..users import UserStore
from ..workspace import WorkspaceHandle
from . import (
    ai_chat,
    auth_login,
    auth_refresh,
    context_create,
    context_stream,
    files_read,
    ide_execute,
    ping,
    processor_chain,
    search_query,
)

if TYPE_CHECKING:
    from nexus.engine.providers import ProviderRouter

    from .ide_execute import Executor


@dataclasses.dataclass(frozen=True, slots=True)
class Services:
    """What handlers are built from; subsystems add their service objects here as they land. ``None``
    for a subsystem not in this build (``*_problem`` says why when it is there but could not start)."""

    root: Path
    users: UserStore
    tokens: TokenIssuer
    metrics: GatewayMetrics
    workspace: WorkspaceHandle | None = None
    providers: ProviderRouter | None = None
    providers_problem: str | None = None
    kernels: Executor | None = None
    kernels_problem: str | None = None
    login_limiter: LoginLimiter | None = None

    async def aclose(self) -> None:
        if self.providers is not None:
            await self.providers.aclose()
        close = getattr(self.kernels, "close", None)
        if close is not None:
            await close()
        if self.workspace is not None:
            self.workspace.close()


MODULES = (ping, auth_login, auth_refresh, files_read, search_query, ide_execute, context_create, context_stream,
           ai_chat, processor_chain)


def build_registry(services: Services) -> Registry:
    registry = Registry()
    for module in MODULES:
        module.register(registry, services)
    return registry


__all__ = ["MODULES", "Services", "build_registry"]
