"""An :class:`~nexus.services.ops.execute.Executor` over the sandboxed ``nexus.kernels`` execution service,
for faces that run code for one local user (``nexus mcp --allow execute``, the agent's tools).

The service starts on first use, so a server that never runs code never starts a kernel. ``sessionId``
names a persistent kernel per user (``user/sessionId``), as on the gateway.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from nexus.engine.config import Settings
from nexus.engine.errors import ConfigError

from .errors import ErrorCode, OperationError

if TYPE_CHECKING:
    from nexus.kernels import ExecutionService, KernelSettings, StreamEvent

    from .ops.execute import ExecuteRequest

log = logging.getLogger(__name__)

MAX_TIMEOUT_SECONDS = 3600.0


class KernelsExecutor:
    def __init__(self, settings: KernelSettings, max_timeout: float = MAX_TIMEOUT_SECONDS) -> None:
        self.settings = settings
        self._max_timeout = max(max_timeout, settings.timeout_seconds)
        self._service: ExecutionService | None = None
        self._starting = asyncio.Lock()
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings, root: Path) -> tuple[KernelsExecutor | None, str | None]:
        """The executor for ``root``, or None and why (invalid ``[kernels]`` settings)."""
        from nexus.kernels import kernel_settings

        try:
            typed = kernel_settings(settings)
        except ConfigError as exc:
            log.error("code execution is off: %s", exc)
            return None, f"code execution is not available: the kernel settings are invalid ({exc})"
        if typed.workspace is None:
            typed = dataclasses.replace(typed, workspace=root)
        return cls(typed), None

    @property
    def max_timeout(self) -> float:
        return self._max_timeout

    async def service(self) -> ExecutionService:
        if self._service is None:
            async with self._starting:
                if self._service is None:
                    from nexus.kernels import ExecutionService

                    if self._closed:
                        raise OperationError(ErrorCode.SHUTTING_DOWN, "the server is shutting down")
                    service = ExecutionService(self.settings)
                    await service.start(prewarm=False)
                    self._service = service
                    log.info("kernels service started (%s backend)", service.backend.name)
        return self._service

    async def stream(self, request: ExecuteRequest) -> AsyncIterator[StreamEvent]:
        from nexus.kernels import ExecutionResult

        if request.kernel_id is not None:
            raise OperationError(ErrorCode.BAD_REQUEST, "payload.kernelId names a Jupyter server's kernel; "
                                 "here use payload.sessionId for a persistent kernel")
        service = await self.service()
        session = f"{request.user}/{request.session_id}" if request.session_id is not None else None
        # Closed explicitly (not left to the garbage collector) so that an abandoned run is interrupted
        # before the session's next request, not at some later collection.
        events = service.stream(request.code, request.language or "python", session_id=session,
                                timeout=request.timeout)
        try:
            async for event in events:
                if isinstance(event, ExecutionResult) and session is not None:
                    event = dataclasses.replace(event, session_id=request.session_id)
                yield event
        finally:
            await events.aclose()  # type: ignore[attr-defined]

    async def close(self) -> None:
        self._closed = True
        async with self._starting:
            if self._service is not None:
                await self._service.close()
                self._service = None
