"""The message types the gateway serves: its own (``ping``, ``auth:login``, ``auth:refresh``), and every
operation of ``nexus.services`` under its message type (``files:read``, ``search:query``, ``ide:execute``,
``ai:chat``, ...), routed by one generic handler. A new operation appears here without gateway code.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nexus.services import Backends, WorkspaceHandle
from nexus.services import Registry as Operations
from nexus.services.wire import register_operations

from ..auth import TokenIssuer
from ..metrics import GatewayMetrics
from ..protocol import Registry
from ..ratelimit import LoginLimiter
from ..users import UserStore
from . import auth_login, auth_refresh, ping

if TYPE_CHECKING:
    from nexus.engine.providers import ProviderRouter, Usage


@dataclasses.dataclass(frozen=True, slots=True)
class Services:
    """What the gateway's handlers are built from. ``None`` for a part that is absent (``*_problem`` says
    why when it is there but could not start); the operations answer ``unavailable`` with that reason."""

    root: Path
    users: UserStore
    tokens: TokenIssuer
    metrics: GatewayMetrics
    workspace: WorkspaceHandle | None = None
    providers: ProviderRouter | None = None
    providers_problem: str | None = None
    kernels: Any = None  # an ``Executor`` (nexus.services.ops.execute)
    kernels_problem: str | None = None
    login_limiter: LoginLimiter | None = None
    backends: Backends = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        from nexus.engine.config import load_settings

        workspace = self.workspace or WorkspaceHandle(self.root, load_settings(self.root))
        object.__setattr__(self, "backends", Backends(
            self.root, workspace.settings, workspace, providers=self.providers,
            providers_problem=self.providers_problem, executor=self.kernels, kernels_problem=self.kernels_problem,
            on_usage=functools.partial(count_tokens, self.metrics)))

    async def aclose(self) -> None:
        await self.backends.aclose()


def count_tokens(metrics: GatewayMetrics, usage: Usage | None) -> None:
    """Model usage into ``nexus_ai_tokens_total``."""
    if usage is None:
        return
    if usage.input_tokens:
        metrics.tokens_used.inc(usage.provider, "input", amount=usage.input_tokens)
    if usage.output_tokens:
        metrics.tokens_used.inc(usage.provider, "output", amount=usage.output_tokens)


MODULES = (ping, auth_login, auth_refresh)


def build_registry(services: Services) -> Registry:
    registry = Registry()
    for module in MODULES:
        module.register(registry, services)
    register_operations(registry, Operations.default(), services.backends)
    return registry


__all__ = ["MODULES", "Services", "build_registry", "count_tokens"]
