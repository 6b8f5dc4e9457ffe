"""The gateway's :class:`~nexus.services.ops.execute.Executor`: the ``nexus.kernels`` execution
service, started on first use.

Starting the service fills a warm pool of kernels (``kernels.pool``), so a gateway that never runs code
never starts a kernel; the first ``ide:execute`` pays one kernel start (about half a second for Python)
and later one-shot runs take a pre-started kernel. ``sessionId`` names a persistent kernel *per user*:
the service's session id is ``user/sessionId``, so one user can neither read nor reset another's
variables with a guessed id.

Kernels run sandboxed (docs/kernels.md): the workspace is mounted read-only, the gateway's secrets are not
in their environment, and where bubblewrap cannot isolate them the service refuses to run code
(``unavailable``) unless the admin set ``kernels.allow_unsandboxed``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from .protocol import ErrorCode, GatewayError

if TYPE_CHECKING:
    from nexus.kernels import ExecutionService, KernelSettings, StreamEvent

    from .handlers.ide_execute import ExecuteRequest

log = logging.getLogger(__name__)

MAX_TIMEOUT_SECONDS = 3600.0


class KernelsHandle:
    def __init__(self, settings: KernelSettings, max_timeout: float = MAX_TIMEOUT_SECONDS) -> None:
        self.settings = settings
        self._max_timeout = max(max_timeout, settings.timeout_seconds)
        self._service: ExecutionService | None = None
        self._starting = asyncio.Lock()
        self._running = 0
        self._closed = False
        from nexus.kernels.service import warn_if_unsandboxed

        warn_if_unsandboxed(settings)  # at start-up, not at the first ide:execute

    @property
    def max_timeout(self) -> float:
        return self._max_timeout

    async def service(self) -> ExecutionService:
        """The started service. Raises KernelError once the handle is closed."""
        if self._service is None:
            async with self._starting:
                if self._service is None:
                    from nexus.kernels import ExecutionService, KernelError

                    if self._closed:
                        raise KernelError("the gateway is shutting down")
                    # the gateway runs other people's code: refused where kernels cannot be sandboxed
                    service = ExecutionService(self.settings, require_isolation=True)
                    await service.start()
                    self._service = service
                    log.info("kernels service started (%s backend)", service.backend.name)
        return self._service

    async def stream(self, request: ExecuteRequest) -> AsyncIterator[StreamEvent]:
        from nexus.kernels import ExecutionResult

        if request.kernel_id is not None:
            raise GatewayError(ErrorCode.BAD_REQUEST, "ide:execute: payload.kernelId names a Jupyter server's "
                               "kernel; on the gateway use payload.sessionId for a persistent kernel")
        service = await self.service()
        session = f"{request.user}/{request.session_id}" if request.session_id is not None else None
        self._running += 1
        events: AsyncIterator[StreamEvent] | None = None
        try:
            if request.path is not None:  # a program of its own, the workspace read-only, stdin empty
                events = service.stream_file(request.path, request.args, language=request.language,
                                             cwd=request.cwd, timeout=request.timeout)
            else:
                events = service.stream(request.code, request.language or "python", session_id=session,
                                        timeout=request.timeout)
            async for event in events:
                if isinstance(event, ExecutionResult) and session is not None:
                    event = dataclasses.replace(event, session_id=request.session_id)
                yield event
        finally:
            self._running -= 1
            close = getattr(events, "aclose", None)
            if close is not None:  # an abandoned run interrupts its kernel now, not when collected
                await close()

    def active_count(self) -> int:
        """Kernels busy for clients or kept for their sessions (the ``nexus_active_kernels`` gauge)."""
        sessions = len(self._service.sessions()) if self._service is not None else 0
        return self._running + sessions

    async def close(self) -> None:
        self._closed = True
        async with self._starting:
            if self._service is not None:
                await self._service.close()
                self._service = None
