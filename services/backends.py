"""What the operations of one workspace run over: its index and context store, the AI providers and the
assistant, the code executor, and how live kernel variables are read.

A face builds one :class:`Backends` per workspace root at start-up (the gateway for ``--root``, the
Jupyter extension for ``root_dir``, the language server per workspace folder, the CLI per command) and
closes it at shutdown. Parts that are absent or could not start are ``None`` with a ``*_problem`` saying
why, and the operations that need them answer ``unavailable`` with that reason.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from nexus.engine.config import Settings
from nexus.engine.errors import ConfigError

from .errors import ErrorCode, OperationError
from .workspace import WorkspaceHandle

if TYPE_CHECKING:
    from nexus.engine.assistant import Assistant
    from nexus.engine.providers import ProviderRouter, Usage

log = logging.getLogger(__name__)

VariablesReader = Callable[[str, float], Awaitable[dict[str, Any]]]
"""(kernel id, timeout in seconds) -> ``{kernelId, language, variables: [...], total}`` (the Jupyter
extension reads its notebooks' kernels)."""


class UsageObserver(Protocol):
    def __call__(self, usage: Usage | None) -> None: ...


@dataclasses.dataclass(slots=True)
class Backends:
    root: Path
    settings: Settings
    workspace: WorkspaceHandle
    providers: ProviderRouter | None = None
    providers_problem: str | None = None
    executor: Any = None  # an ``Executor`` (nexus.services.ops.execute)
    kernels_problem: str | None = None
    variables: VariablesReader | None = None
    on_usage: UsageObserver | None = None
    collab: Any = None  # the live-session ``Rooms`` (nexus.services.collab) where a face hosts them
    _assistant: Assistant | None = None

    @classmethod
    def open(cls, root: Path, settings: Settings, *, providers: bool = True, **parts: Any) -> Backends:
        """The backends of ``root``; providers from ``settings`` unless ``providers`` is false. Invalid
        provider settings do not stop anything: the AI operations answer ``unavailable`` with the reason."""
        backends = cls(root, settings, WorkspaceHandle(root, settings), **parts)
        if providers and backends.providers is None:
            from nexus.engine.providers import ProviderRouter

            try:
                backends.providers = ProviderRouter.from_settings(settings, root=root)
            except ConfigError as exc:
                log.error("Nexus AI is off: %s", exc)
                backends.providers_problem = f"AI is not available: the provider settings are invalid ({exc})"
        return backends

    def require_providers(self, feature: str) -> ProviderRouter:
        if self.providers is None:
            raise OperationError(ErrorCode.UNAVAILABLE, self.providers_problem
                                 or f"{feature} is not available: no AI provider is configured")
        return self.providers

    def assistant(self) -> Assistant:
        """The grounded assistant over this workspace's providers (made on first use)."""
        if self._assistant is None:
            from nexus.engine.assistant import Assistant, assistant_settings

            router = self.require_providers("AI chat")
            self._assistant = Assistant(router, assistant_settings(self.settings))
        return self._assistant

    def require_executor(self) -> Any:
        if self.executor is None:
            raise OperationError(ErrorCode.UNAVAILABLE, self.kernels_problem
                                 or "code execution is not available in this server")
        return self.executor

    async def aclose(self) -> None:
        if self.providers is not None:
            await self.providers.aclose()
        close = getattr(self.executor, "close", None)
        if close is not None:
            await close()
        self.workspace.close()
